"""Browser-copy chunks on both engines: numbered once per seat, summed for the caps,
deleted with their simulation."""

from __future__ import annotations

import pytest

from sessions.ids import RoomId, ScenarioId, SeatId
from storage.browser_copies import BrowserCopies, ChunkExists
from storage.catalogue import Catalogue
from storage.database import Database

A, B = SeatId("party_a"), SeatId("party_b")


async def session(database: Database) -> RoomId:
    return (await Catalogue(database).create_simulation(ScenarioId("boundary-fence"), 1)).id


async def add(copies: BrowserCopies, room: RoomId, seat: SeatId, n: int, size: int) -> int:
    return await copies.add(
        room, seat, n, 1000 * n, 4000, "public", "video/webm", f"/x/{seat}/{n}", size, f"h{n}"
    )


async def test_chunks_are_numbered_once_per_seat_and_summed(database: Database) -> None:
    copies, room = BrowserCopies(database), await session(database)
    other = await session(database)
    first = await add(copies, room, A, 0, 100)
    await add(copies, room, A, 1, 50)
    await add(copies, room, B, 0, 7)  # another seat may use the same number
    await add(copies, other, A, 0, 1000)
    with pytest.raises(ChunkExists):
        await add(copies, room, A, 1, 50)
    assert [c.n for c in await copies.chunks(room, A)] == [0, 1]
    assert {(c.seat, c.n) for c in await copies.chunks(room)} == {(A, 0), (A, 1), (B, 0)}
    assert await copies.usage(room, A) == (150, 157)
    assert await copies.usage(room, SeatId("mediator")) == (0, 157)
    chunk = await copies.by_id(first)
    assert chunk is not None and chunk.end_ms == 4000 and chunk.sha256 == "h0"
    assert await copies.chunk(room, B, 0) is not None
    assert await copies.chunk(room, B, 1) is None
    await Catalogue(database).delete_simulation(room)
    assert await copies.chunks(room) == []
    assert len(await copies.chunks(other)) == 1
