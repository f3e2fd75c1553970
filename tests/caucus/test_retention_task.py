"""CAUCUS_RETENTION_DAYS in a running server: the pass at start deletes what is older,
and a room live right now is never deleted, however old its simulation."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from caucus.app import RETENTION
from caucus.config import Config
from sessions.ids import RoomId
from storage import audit
from storage.database import Database, default_url
from storage.migrate import upgrade
from storage.schema import simulations
from tests.live_server import seat_participants, start_server
from tests.stored_sessions import DAY_MS, add_session, now_ms
from web.keys import DATABASE


async def test_the_server_deletes_old_recordings_at_start_but_never_a_live_room(
    tmp_path: Path,
) -> None:
    db = Database(default_url(tmp_path))
    await upgrade(db)
    recordings = tmp_path / "recordings"
    old = await add_session(db, recordings, created_ms=now_ms() - 31 * DAY_MS)
    recent = await add_session(db, recordings, created_ms=now_ms() - 29 * DAY_MS)
    await db.close()

    server = await start_server(tmp_path, retention_days=30)
    try:
        await asyncio.wait_for(server.app[RETENTION].first_pass.wait(), 10)
        database = server.app[DATABASE]
        async with database.reading() as conn:
            assert set((await conn.scalars(select(simulations.c.id))).all()) == {recent}
            [entry] = await audit.entries(conn)
        assert (entry["actor"], entry["target"]) == ("retention", old)
        assert not (recordings / old).exists() and (recordings / recent).is_dir()

        # an old simulation someone is in right now
        live = await add_session(
            database, recordings, created_ms=now_ms() - 90 * DAY_MS, seats={}, note_count=1
        )
        people = await seat_participants(server, RoomId(live), ["mediator"])
        assert await server.app[RETENTION].run_once() == []
        async with database.reading() as conn:
            assert set((await conn.scalars(select(simulations.c.id))).all()) == {recent, live}
        for person in people.values():
            await person.close()
    finally:
        await server.stop()


def test_retention_days_come_from_the_environment_and_are_never_negative() -> None:
    assert Config.from_env({}, load_secrets=False).retention_days == 0
    env = {"CAUCUS_RETENTION_DAYS": "90"}
    assert Config.from_env(env, load_secrets=False).retention_days == 90
    with pytest.raises(ValueError, match="RETENTION"):
        Config.from_env({"CAUCUS_RETENTION_DAYS": "-1"}, load_secrets=False)
