"""The recorders' catalogue write queue: in order, never waited for, bounded, and what the
database refused is kept and stored once it takes writes again (both engines)."""

from __future__ import annotations

import asyncio

from recordings.catalogue_writes import CatalogueWrites, Write
from sessions.ids import RoomId, ScenarioId, SeatId
from sessions.timeline import Event, EventKind
from storage.catalogue import Catalogue
from storage.database import Database
from storage.faults import StorageUnavailable
from tests.read_only import read_only


def phase(room: RoomId, t_ms: int) -> Write:
    async def write(catalogue: Catalogue) -> None:
        await catalogue.append_event(room, Event(t_ms, EventKind.PHASE, None, {"phase": "joint"}))

    return write


async def test_writes_run_in_order_and_a_later_one_sees_an_earlier_ones_id(
    database: Database,
) -> None:
    catalogue = Catalogue(database)
    room = (await catalogue.create_simulation(ScenarioId("boundary-fence"), 1)).id
    writes = CatalogueWrites(catalogue)
    opened: list[int] = []

    async def insert(catalogue: Catalogue) -> None:
        opened.append(
            await catalogue.open_segment(
                room, SeatId("mediator"), "audio", "opus", "public", "a", 0
            )
        )

    async def close(catalogue: Catalogue) -> None:
        await catalogue.close_segment(opened[0], 1000, 50, 2048)

    # queued on the loop without awaiting anything: none has run yet
    assert writes.submit(insert) and writes.submit(close)
    for t in range(5):
        writes.submit(phase(room, t))
    assert opened == [] and writes.pending == 7
    await writes.flush()
    (segment,) = await catalogue.segments(room)
    assert (segment.id, segment.status, segment.frames) == (opened[0], "complete", 50)
    assert [e["t_ms"] for e in await catalogue.events(room)] == [0, 1, 2, 3, 4]
    await writes.close()


async def test_refused_writes_are_kept_and_stored_in_order_once_the_database_is_back(
    database: Database,
) -> None:
    catalogue = Catalogue(database)
    room = (await catalogue.create_simulation(ScenarioId("boundary-fence"), 1)).id
    writes = CatalogueWrites(catalogue)
    refused: list[StorageUnavailable] = []

    async def must_not_wait(catalogue: Catalogue) -> None:
        await catalogue.open_segment(room, SeatId("mediator"), "audio", "opus", "public", "a", 0)

    async with read_only(database):
        writes.submit(phase(room, 1))
        writes.submit(phase(room, 2))
        writes.submit(must_not_wait, lambda write, exc: refused.append(exc))
        assert not await writes.retry_deferred()  # still refused
        assert len(writes.deferred) == 2 and len(refused) == 1
        assert refused[0].code == "unavailable"
    writes.submit(phase(room, 3))
    assert await writes.retry_deferred()
    assert writes.deferred == []
    # the refused ones come after what was stored meanwhile, in their own order
    assert [e["t_ms"] for e in await catalogue.events(room)] == [3, 1, 2]
    await writes.close()


async def test_a_full_queue_refuses_at_once(database: Database) -> None:
    catalogue = Catalogue(database)
    room = (await catalogue.create_simulation(ScenarioId("boundary-fence"), 1)).id
    writes = CatalogueWrites(catalogue, max_pending=3)
    refused: list[str] = []
    accepted = [
        writes.submit(phase(room, t), lambda write, exc: refused.append(exc.message))
        for t in range(5)
    ]
    assert accepted == [True, True, True, False, False]
    assert refused == ["the catalogue's write queue is full"] * 2
    await asyncio.wait_for(writes.close(), 10)
    assert [e["t_ms"] for e in await catalogue.events(room)] == [0, 1, 2]
