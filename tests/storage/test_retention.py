"""Retention deletes the recordings older than N days, with their notes, and nothing else."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update

from storage import audit
from storage.database import Database
from storage.retention import apply_retention
from storage.schema import notes, simulations
from tests.stored_sessions import DAY_MS, add_session, now_ms


async def test_retention_deletes_what_is_older_and_nothing_else(
    database: Database, tmp_path: Path
) -> None:
    recordings = tmp_path / "recordings"
    now = now_ms()
    old = await add_session(database, recordings, created_ms=now - 40 * DAY_MS)
    never_ran = await add_session(database, recordings, created_ms=now - 31 * DAY_MS)
    async with database.transaction() as conn:
        await conn.execute(
            update(simulations).where(simulations.c.id == never_ran).values(t0_ms=None)
        )
    recent = await add_session(database, recordings, created_ms=now - 29 * DAY_MS)
    # created long ago, but it ran last week: its age runs from then
    ran_later = await add_session(
        database, recordings, created_ms=now - 60 * DAY_MS, t0_ms=now - 7 * DAY_MS
    )
    # created long ago, planned for tomorrow
    scheduled = await add_session(database, recordings, created_ms=now - 45 * DAY_MS)
    async with database.transaction() as conn:
        await conn.execute(
            update(simulations)
            .where(simulations.c.id == scheduled)
            .values(t0_ms=None, scheduled_ms=now + DAY_MS)
        )
    live = await add_session(database, recordings, created_ms=now - 50 * DAY_MS)
    recording = await add_session(
        database, recordings, created_ms=now - 50 * DAY_MS, status="recording"
    )

    deleted = await apply_retention(database, recordings, 30, now, live=lambda r: r == live)

    assert sorted(d.room_id for d in deleted) == sorted([old, never_ran])
    async with database.reading() as conn:
        rooms = set((await conn.scalars(select(simulations.c.id))).all())
        noted = set((await conn.scalars(select(notes.c.simulation_id))).all())
        log = await audit.entries(conn)
    kept = {recent, ran_later, scheduled, live, recording}
    assert rooms == kept and noted == kept
    assert {p.name for p in recordings.iterdir()} == kept
    assert sorted((e["actor"], e["action"], e["target"]) for e in log) == sorted(
        ("retention", "recording.delete", room) for room in (old, never_ran)
    )
    # a second pass finds nothing more; 0 days keeps everything
    assert await apply_retention(database, recordings, 30, now, live=lambda r: r == live) == []
    assert await apply_retention(database, recordings, 0, now + 999 * DAY_MS) == []
