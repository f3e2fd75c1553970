"""RedisPlacement against a real redis-server: sticky, least-loaded, re-placed when a
node stops reporting, unavailable (and nothing changed) while Redis is away."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from placement.local import LocalPlacement
from placement.nodes import NodeInfo, NodeLoad, PlacementUnavailable
from placement.redis_placement import RedisPlacement
from sessions.ids import RoomId
from tests.redis_server import RedisServer

LIVE_FOR_S = 1.0


@pytest.fixture
async def redis(tmp_path: Path) -> AsyncIterator[RedisServer]:
    server = RedisServer(tmp_path)
    await server.start()
    yield server
    server.stop()


async def nodes(url: str, count: int, live_for_s: float = 60.0) -> list[RedisPlacement]:
    """Registered nodes that stay live `live_for_s` without reporting again."""
    placements = []
    for n in range(count):
        placement = RedisPlacement(url, live_for_s=live_for_s, place_wait_s=2.0, settle_ms=0)
        await placement.register(NodeInfo(f"n{n}", f"http://127.0.0.1:90{n}0"))
        placements.append(placement)
    return placements


async def test_new_rooms_spread_over_the_least_loaded_and_stay(redis: RedisServer) -> None:
    a, b, c = await nodes(redis.url, 3)
    placed = [await a.place(RoomId(f"r{i}")) for i in range(6)]
    assert sorted(node.id for node in placed) == ["n0", "n0", "n1", "n1", "n2", "n2"]
    # sticky: any node asking again gets the same answer
    again = [await c.place(RoomId(f"r{i}")) for i in range(6)]
    assert again == placed
    assert await b.node_of(RoomId("r0")) == placed[0]
    assert await b.node_of(RoomId("never")) is None
    statuses = {s.node.id: s.rooms for s in await a.live_nodes()}
    assert statuses == {"n0": 2, "n1": 2, "n2": 2}
    for p in (a, b, c):
        await p.close()


async def test_concurrent_places_of_one_room_agree(redis: RedisServer) -> None:
    placements = await nodes(redis.url, 3)
    answers = await asyncio.gather(*(p.place(RoomId("same")) for p in placements * 4))
    assert len({node.id for node in answers}) == 1
    for p in placements:
        await p.close()


async def test_a_node_that_stops_reporting_loses_its_rooms(redis: RedisServer) -> None:
    a, b = await nodes(redis.url, 2, live_for_s=LIVE_FOR_S)
    room = RoomId("r")
    first = await a.place(room)
    survivor = b if first.id == "n0" else a
    # the other node never reports again; the survivor does, as Presence would
    for _ in range(20):
        await survivor.report(NodeLoad())
        if await survivor.node_of(room) is None:  # its node is not live any more
            break
        await asyncio.sleep(LIVE_FOR_S / 3)  # report period of this test's short liveness
    assert await survivor.node_of(room) is None
    await survivor.report(NodeLoad())
    assert await survivor.place(room) == survivor.here
    assert {s.node.id for s in await survivor.live_nodes()} == {survivor.here.id}
    await a.close()
    await b.close()


async def test_release_unplaces_only_its_own_rooms(redis: RedisServer) -> None:
    a, b = await nodes(redis.url, 2)
    room = RoomId("r")
    holder = await a.place(room)
    other = b if holder.id == "n0" else a
    await other.release(room)
    assert await a.node_of(room) == holder
    await (a if holder.id == "n0" else b).release(room)
    assert await a.node_of(room) is None
    await a.close()
    await b.close()


async def test_redis_away_then_back(redis: RedisServer) -> None:
    (a,) = await nodes(redis.url, 1)
    await a.place(RoomId("live"))
    redis.stop()
    with pytest.raises(PlacementUnavailable) as refused:
        await a.place(RoomId("new"))
    assert refused.value.code == "unavailable"
    with pytest.raises(PlacementUnavailable):
        await a.report(NodeLoad(frozenset({RoomId("live")}), 4))
    await redis.start()  # empty: as after a crash
    # the next report makes the node live again and re-claims its live room
    await a.report(NodeLoad(frozenset({RoomId("live")}), 4))
    assert await a.node_of(RoomId("live")) == a.here
    assert await a.place(RoomId("new")) == a.here
    await a.close()


async def test_no_room_is_placed_before_the_nodes_reclaim_theirs(redis: RedisServer) -> None:
    holder = RedisPlacement(redis.url, settle_ms=5000, place_wait_s=0.2)
    other = RedisPlacement(redis.url, settle_ms=5000, place_wait_s=8.0)
    # Redis was just (re)started: the holder of a live room reports within the settle
    # time; a place meanwhile waits for it instead of placing the room on `other`
    await other.register(NodeInfo("other", "http://other"))
    await holder.register(NodeInfo("holder", "http://holder"))  # no rooms told yet
    with pytest.raises(PlacementUnavailable):
        await holder.place(RoomId("live"))  # gives up at once (0.2 s): still settling
    asking = asyncio.ensure_future(other.place(RoomId("live")))
    await holder.report(NodeLoad(frozenset({RoomId("live")}), 4))
    assert (await asking).id == "holder"
    await holder.close()
    await other.close()


async def test_local_placement_holds_every_room_here() -> None:
    local = LocalPlacement()
    await local.register(NodeInfo("only", ""))
    assert await local.place(RoomId("any")) == NodeInfo("only", "")
    assert await local.node_of(RoomId("any")) == NodeInfo("only", "")
    await local.report(NodeLoad(frozenset({RoomId("any")}), 2))
    assert [(s.rooms, s.seats) for s in await local.live_nodes()] == [(1, 2)]
