"""Issue 17, item 5: Redis stopped for 20 s mid-session. Media between the seats keeps
flowing on every node and nobody is disconnected; a new room cannot be placed
meanwhile (`unavailable`, nothing changed); after Redis returns (empty, as after a
crash) a new room is placed and joined, and the live rooms stay where they run.

Two `caucus serve` nodes on one Redis and one PostgreSQL, a four-seat room on each
(tests/system/nodes.py, tests/system/roaming_clients.py). Run with -s for the figures.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp

from placement.redis_placement import RedisPlacement
from tests.live_server import Participant
from tests.redis_server import RedisServer
from tests.system.nodes import node, roaming_clients, rooms_with_tokens, shared_database
from tests.system.roaming_clients import SEATS

OUTAGE_S = 20.0
#: media must arrive at every seat in every window of this length during the outage
WINDOW_S = 5


async def preview_status(url: str, room: str, token: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{url}/api/join/{room}", headers={"Authorization": f"Bearer {token}"}) as r,
    ):
        body = await r.json()
        return r.status, str(body["origin"] if r.status == 200 else body["code"])


async def test_rooms_go_on_through_a_redis_outage(tmp_path: Path, postgres_base_url: str) -> None:
    redis = RedisServer(tmp_path)
    await redis.start()
    database_url, database = await shared_database(postgres_base_url)
    nodes = [node(tmp_path, n, redis.url, database_url) for n in range(2)]
    try:
        for n in nodes:
            await n.start()
        rooms = await rooms_with_tokens(database, 2)
        async with roaming_clients([n.url for n in nodes], rooms) as clients:
            placement = RedisPlacement(redis.url)
            holders = {(await placement.node_of(room)) for room in rooms}
            await placement.close()
            assert len(holders) == 2  # one room on each node
            joins_before = sum(len(j) for j in clients.joins.values())

            redis.stop()
            stopped_at = time.monotonic()
            keys = [f"{r} {s}" for r in rooms for s in SEATS]
            first = {key: len(clients.frames.get(key, [])) for key in keys}
            new_room, tokens = next(iter((await rooms_with_tokens(database, 1)).items()))
            status, code = await preview_status(nodes[0].url, new_room, tokens["mediator"])
            assert (status, code) == (503, "unavailable")
            await asyncio.sleep(OUTAGE_S - (time.monotonic() - stopped_at))  # the outage
            during = {key: clients.frames.get(key, [])[first[key] :] for key in keys}
            await redis.start()  # empty, as after a crash

            print(f"\nredis outage {OUTAGE_S:.0f} s: frames received per seat per second:")
            for key in keys:
                print(f"  {key}: {during[key]}")
            for key in keys:
                seconds = during[key]
                windows = [seconds[i : i + WINDOW_S] for i in range(0, len(seconds), WINDOW_S)]
                assert len(windows) >= 3, seconds
                assert all(sum(window) > 0 for window in windows), (key, seconds)
            assert sum(len(j) for j in clients.joins.values()) == joins_before  # nobody left

            # after Redis returns, a new room is placed and joined
            deadline = time.monotonic() + 15
            while True:
                status, origin = await preview_status(nodes[0].url, new_room, tokens["mediator"])
                if status == 200 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)  # polling the nodes' next reports
            placed_after = time.monotonic() - stopped_at - OUTAGE_S
            print(f"a new room placed {placed_after:.1f} s after Redis returned")
            assert status == 200
            newcomer = Participant("mediator", tokens["mediator"], new_room)
            await newcomer.connect(origin or nodes[0].url)
            assert (await newcomer.join())["ok"]
            await newcomer.close()
            placement = RedisPlacement(redis.url)
            assert {(await placement.node_of(room)) for room in rooms} == holders
            await placement.close()
    finally:
        for n in nodes:
            if n.proc is not None and n.proc.poll() is None:
                n.kill()
        await database.close()
        redis.stop()
