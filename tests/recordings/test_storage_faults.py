"""The database refusing a write (full, failing, read-only) answers `unavailable` and
changes nothing; a draining server refuses joins with `server_closing`.

The refusal is SQLite's own: `PRAGMA query_only` makes every write fail with
SQLITE_READONLY, one of the storage result codes, as a full disk fails with SQLITE_FULL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from storage.notes import Notes
from storage.catalogue import Catalogue
from storage.faults import StorageUnavailable
from sessions.ids import Identity, RoomId, ScenarioId, SeatId
from sessions.phases import PhaseKind
from sessions.scenarios import builtin_scenarios
from sessions.timeline import Event, EventKind
from signaling.directory import RoomDirectory
from tests.live_server import LiveServer, Participant, seat_participants, start_server
from web.keys import DIRECTORY, FEEDBACK


@contextmanager
def read_only(*stores: Catalogue | AnnotationStore) -> Iterator[None]:
    for store in stores:
        store._db.execute("PRAGMA query_only = 1")  # noqa: SLF001 - the test's lever
    try:
        yield
    finally:
        for store in stores:
            store._db.execute("PRAGMA query_only = 0")  # noqa: SLF001


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    server = await start_server(tmp_path)
    yield server
    await server.stop()


def test_a_refused_write_is_storage_unavailable(tmp_path: Path) -> None:
    catalogue = Catalogue(tmp_path / "db.sqlite3")
    room = catalogue.create_simulation(ScenarioId("boundary-fence"), 0).id
    with read_only(catalogue), pytest.raises(StorageUnavailable) as refused:
        catalogue.append_event(room, Event(0, EventKind.PHASE, None, {"phase": "joint"}))
    assert refused.value.code == "unavailable"
    assert catalogue.events(room) == []
    catalogue.close()


async def test_a_refused_commit_leaves_the_room_as_it_was(tmp_path: Path) -> None:
    catalogue = Catalogue(tmp_path / "db.sqlite3")
    record = catalogue.create_simulation(ScenarioId("boundary-fence"), 0)
    directory = RoomDirectory(catalogue, builtin_scenarios())
    heard: list[object] = []
    directory.observers.append(lambda room, t: heard.append(room))
    live = await directory.open(record.id)
    before = live.room
    changed, _, event = before.join(Identity("someone"), "Someone", SeatId("mediator"), 0)
    with read_only(catalogue), pytest.raises(StorageUnavailable):
        await directory.commit(live, changed, event)
    assert live.room is before and heard == []
    directory.close()
    catalogue.close()


async def test_signalling_answers_unavailable_and_changes_nothing_until_storage_is_back(
    server: LiveServer,
) -> None:
    room = await server.simulation()
    people = await seat_participants(server, room, ["coach", "mediator"])
    coach = people["coach"]
    try:
        with read_only(server.catalogue, server.app[FEEDBACK].store):
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
