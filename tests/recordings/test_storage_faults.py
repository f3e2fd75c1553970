"""The database refusing a write (full, failing, read-only, gone) answers `unavailable`
and changes nothing; a draining server refuses joins with `server_closing`.

The refusal is the database's own: on SQLite `PRAGMA query_only` makes every write
fail with SQLITE_READONLY, one of the storage result codes, as a full disk fails with
SQLITE_FULL; on PostgreSQL `default_transaction_read_only` fails it with SQLSTATE
25006, as a standby does after a failover. The unit tests run on both engines.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import exc

from rooms.directory import RoomDirectory
from sessions.ids import Identity, RoomId, ScenarioId, SeatId
from sessions.phases import PhaseKind
from sessions.scenarios import builtin_scenarios
from sessions.timeline import Event, EventKind
from storage.catalogue import Catalogue
from storage.database import Database
from storage.faults import StorageUnavailable
from tests.live_server import LiveServer, Participant, seat_participants, start_server
from tests.read_only import read_only
from web.keys import DATABASE, DIRECTORY, FEEDBACK


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    server = await start_server(tmp_path)
    yield server
    await server.stop()


async def test_a_refused_write_is_storage_unavailable(database: Database) -> None:
    catalogue = Catalogue(database)
    room = (await catalogue.create_simulation(ScenarioId("boundary-fence"), 0)).id
    async with read_only(database):
        with pytest.raises(StorageUnavailable) as refused:
            await catalogue.append_event(room, Event(0, EventKind.PHASE, None, {"phase": "joint"}))
    assert refused.value.code == "unavailable"
    assert await catalogue.events(room) == []


async def test_a_database_out_of_reach_is_storage_unavailable(tmp_path: Path) -> None:
    # nothing listens on port 1: the connection is refused
    gone = Database("postgresql+asyncpg://caucus@127.0.0.1:1/caucus")
    try:
        with pytest.raises(StorageUnavailable):
            await Catalogue(gone).simulation("anything")
    finally:
        await gone.close()


async def test_a_wrong_write_is_not_storage_unavailable(database: Database) -> None:
    """A broken constraint is a bug, not the storage failing: it stays an error of its own."""
    catalogue = Catalogue(database)
    with pytest.raises(exc.IntegrityError):
        await catalogue.open_segment(
            RoomId("no-such-room"), SeatId("mediator"), "audio", "opus", "public", "x.webm", 0
        )


async def test_a_refused_commit_leaves_the_room_as_it_was(database: Database) -> None:
    catalogue = Catalogue(database)
    record = await catalogue.create_simulation(ScenarioId("boundary-fence"), 0)
    directory = RoomDirectory(catalogue, builtin_scenarios())
    heard: list[object] = []
    directory.observers.append(lambda room, t: heard.append(room))
    live = await directory.open(record.id)
    before = live.room
    changed, _, event = before.join(Identity("someone"), "Someone", SeatId("mediator"), 0)
    async with read_only(database):
        with pytest.raises(StorageUnavailable):
            await directory.commit(live, changed, event)
    assert live.room is before and heard == []
    directory.close()


async def test_signalling_answers_unavailable_and_changes_nothing_until_storage_is_back(
    server: LiveServer,
) -> None:
    room = await server.simulation()
    people = await seat_participants(server, room, ["coach", "mediator"])
    coach = people["coach"]
    try:
        async with read_only(server.app[DATABASE]):
            reply = await coach.call("phase", {"to": "joint"})
            assert reply == {
                "ok": False,
                "code": "unavailable",
                "message": reply["message"],
            }, reply
            live = server.app[DIRECTORY].peek(room)
            assert live is not None and live.room.phase.kind is PhaseKind.LOBBY
            note = await coach.call("annotate", {"text": "good open question"})
            assert note["ok"] is False and note["code"] == "unavailable", note
        assert [e["kind"] for e in await server.catalogue.events(RoomId(room))] == ["join", "join"]

        assert (await coach.call("phase", {"to": "joint"}))["ok"]
        assert (await coach.call("annotate", {"text": "good open question"}))["ok"]
        kinds = [e["kind"] for e in await server.catalogue.events(RoomId(room))]
        assert kinds == ["join", "join", "phase"]
        assert len(await server.app[FEEDBACK].store.for_session(RoomId(room))) == 1
    finally:
        for person in people.values():
            await person.close()


async def test_a_draining_server_refuses_joins_with_server_closing(server: LiveServer) -> None:
    room = await server.simulation()
    server.app[DIRECTORY].closing = True
    late = Participant("mediator", server.token(room, "mediator"), room)
    await late.connect(server.url)
    try:
        reply = await late.join()
        assert reply["ok"] is False and reply["code"] == "server_closing", reply
        assert await server.catalogue.events(RoomId(room)) == []
    finally:
        await late.close()
