"""Opening a room reads the catalogue (awaited): joins that arrive meanwhile share one
opening, so a room is never live twice."""

from __future__ import annotations

import asyncio

import pytest

from rooms.directory import RoomDirectory, UnknownRoom
from sessions.ids import ScenarioId
from sessions.scenarios import builtin_scenarios
from storage.catalogue import Catalogue
from storage.database import Database


async def test_joins_at_once_open_one_live_room_with_one_clock(database: Database) -> None:
    catalogue = Catalogue(database)
    record = await catalogue.create_simulation(ScenarioId("boundary-fence"), 1)
    directory = RoomDirectory(catalogue, builtin_scenarios())
    opened = await asyncio.gather(*(directory.open(record.id) for _ in range(5)))
    assert all(live is opened[0] for live in opened)
    assert directory.rooms() == [opened[0]]
    stored = await catalogue.simulation(record.id)
    assert stored is not None and stored.t0_ms == opened[0].t0_ms
    directory.close()


async def test_joins_at_once_to_no_room_are_each_refused(database: Database) -> None:
    directory = RoomDirectory(Catalogue(database), builtin_scenarios())
    results = await asyncio.gather(
        *(directory.open("no-such-room") for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, UnknownRoom) for r in results), results
    with pytest.raises(UnknownRoom):
        await directory.open("no-such-room")  # and the next one looks again
    directory.close()
