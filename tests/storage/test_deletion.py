"""Deleting a recording deletes its files, segments, events, notes and seats, and says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from sessions.people import Role
from storage import audit
from storage.database import Database
from storage.deletion import NoSuchRecording, RecordingInProgress, delete_recording
from storage.people import People
from storage.schema import events, notes, seat_assignments, segments, simulations
from tests.stored_sessions import add_session

TABLES = {
    "simulations": simulations.c.id,
    "events": events.c.simulation_id,
    "segments": segments.c.simulation_id,
    "notes": notes.c.simulation_id,
    "seat_assignments": seat_assignments.c.simulation_id,
}


async def rows_of(db: Database, room_id: str) -> dict[str, int]:
    async with db.reading() as conn:
        return {
            name: int(
                await conn.scalar(
                    select(func.count()).select_from(column.table).where(column == room_id)
                )
                or 0
            )
            for name, column in TABLES.items()
        }


async def test_deleting_removes_files_rows_and_notes_and_writes_one_audit_row(
    database: Database, tmp_path: Path
) -> None:
    recordings = tmp_path / "recordings"
    amara = await People(database).add("amara@example.org", "Amara", Role.TRAINEE)
    room = await add_session(
        database,
        recordings,
        seats={"mediator": amara.id, "party_a": "guest-1"},
        assigned={"mediator": amara.id},
        note_count=3,
    )
    kept = await add_session(database, recordings, note_count=1)
    assert await rows_of(database, room) == {
        "simulations": 1,
        "events": 2,
        "segments": 2,
        "notes": 3,
        "seat_assignments": 1,
    }
    size = sum(p.stat().st_size for p in (recordings / room).iterdir())

    deleted = await delete_recording(database, recordings, room, "admin-1")

    assert (deleted.segments, deleted.notes, deleted.bytes) == (2, 3, size)
    assert await rows_of(database, room) == dict.fromkeys(TABLES, 0)
    assert not (recordings / room).exists()
    # the other session, its notes and its files are untouched
    assert (await rows_of(database, kept))["notes"] == 1
    assert len(list((recordings / kept).iterdir())) == 1
    async with database.reading() as conn:
        [entry] = await audit.entries(conn)
    assert (entry["actor"], entry["action"], entry["target"]) == (
        "admin-1",
        "recording.delete",
        room,
    )
    assert entry["detail"] == {
        "scenario": "boundary-fence",
        "segments": 2,
        "notes": 3,
        "bytes": size,
    }


async def test_a_session_still_recording_or_live_is_refused_and_kept(
    database: Database, tmp_path: Path
) -> None:
    recordings = tmp_path / "recordings"
    recording = await add_session(database, recordings, status="recording")
    with pytest.raises(RecordingInProgress):
        await delete_recording(database, recordings, recording, "admin-1")
    finished = await add_session(database, recordings)
    with pytest.raises(RecordingInProgress):
        await delete_recording(database, recordings, finished, "admin-1", live=lambda r: True)
    with pytest.raises(NoSuchRecording):
        await delete_recording(database, recordings, "nope", "admin-1")
    for room in (recording, finished):
        assert (await rows_of(database, room))["segments"] == 1
        assert (recordings / room).is_dir()
    async with database.reading() as conn:
        assert await audit.entries(conn) == []
