"""Issue 17: three nodes on one Redis and one PostgreSQL; SIGKILL the node holding
rooms: they live again on the others within 10 s, every participant back in their
seat (their consent kept), every acknowledged note stored, recordings continuing in
new segments.

The nodes are real `caucus serve` processes (tests/system/nodes.py), the
participants real aiortc peer connections in a process of their own
(tests/system/roaming_clients.py) that find their room's node through the join
preview, as the page does. CI size: 3 nodes, 2 four-seat rooms on two of them (this
is a 2-core machine shared with the rest of the suite; CAUCUS_FAILOVER_ROOMS=12 runs
the issue's 12 rooms). Run with -s for the figures.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from placement.redis_placement import RedisPlacement
from storage.catalogue import Catalogue
from storage.notes import Notes
from tests.redis_server import RedisServer
from tests.system.nodes import node, roaming_clients, rooms_with_tokens, shared_database
from tests.system.roaming_clients import SEATS, TRAINEES

ROOMS = int(os.environ.get("CAUCUS_FAILOVER_ROOMS") or 2)
#: the issue's bound: a dead node's rooms live again elsewhere within this
MOVE_WITHIN_S = 10.0


async def test_a_killed_nodes_rooms_live_again_on_the_others(
    tmp_path: Path, postgres_base_url: str
) -> None:
    redis = RedisServer(tmp_path)
    await redis.start()
    database_url, database = await shared_database(postgres_base_url)
    nodes = [node(tmp_path, n, redis.url, database_url) for n in range(3)]
    placement = RedisPlacement(redis.url)
    try:
        for n in nodes:
            await n.start()
        rooms = await rooms_with_tokens(database, ROOMS)
        async with roaming_clients([n.url for n in nodes], rooms) as clients:
            holders = {room: await placement.node_of(room) for room in rooms}
            assert all(holder is not None for holder in holders.values())
            victim = next(
                n for n in nodes if any(h and h.origin == n.url for h in holders.values())
            )
            moved = [room for room, h in holders.items() if h and h.origin == victim.url]
            # media and notes flowing before the kill
            await clients.until(lambda: all(clients.notes.get(r) for r in rooms), 20)
            catalogue = Catalogue(database)
            segments_before = {r: {s.id for s in await catalogue.segments(r)} for r in moved}
            notes_before = {r: len(clients.notes.get(r, [])) for r in moved}

            killed_at = time.time()
            victim.kill()

            def back(room: str) -> float | None:
                times = [
                    wall
                    for seat in SEATS
                    for origin, wall, _, _ in clients.joins[(room, seat)]
                    if wall > killed_at and origin != victim.url
                ]
                seated = {
                    seat
                    for seat in SEATS
                    if any(w > killed_at for _, w, _, _ in clients.joins[(room, seat)])
                }
                return max(times) - killed_at if len(seated) == len(SEATS) else None

            await clients.until(lambda: all(back(r) is not None for r in moved), 20)
            moved_in = {room: back(room) for room in moved}
            print(f"\nfailover: {len(moved)} room(s) of the killed node live again in", end=" ")
            print(", ".join(f"{s:.2f} s" for s in moved_in.values() if s is not None))
            assert all(s is not None and s <= MOVE_WITHIN_S for s in moved_in.values())
            for room in moved:
                for seat in SEATS:
                    origin, _, outcome, consent = clients.joins[(room, seat)][-1]
                    assert origin != victim.url
                    assert outcome == "resumed"  # the seat held for them, from storage
                    if seat in TRAINEES:
                        assert consent == "given"  # not asked again

            # media flows again for every seat of the moved rooms, notes are acknowledged
            def flowing() -> bool:
                last = [f for f in clients.frames if "ready" not in f][-2:]
                keys = [f"{r} {s}" for r in moved for s in SEATS]
                return len(last) == 2 and all(f.get(k, 0) > 0 for f in last for k in keys)

            await clients.until(flowing, 20)
            await clients.until(
                lambda: all(len(clients.notes.get(r, [])) > notes_before[r] + 1 for r in moved),
                10,
            )
            # new segments by the new node (the recorder flushes a segment it opens)
            for room in moved:
                for _ in range(50):
                    fresh = [
                        s
                        for s in await catalogue.segments(room)
                        if s.id not in segments_before[room]
                    ]
                    if {s.seat for s in fresh} >= set(TRAINEES):
                        break
                    await asyncio.sleep(0.2)  # polling another process's writes
                assert {s.seat for s in fresh} >= set(TRAINEES), fresh
        # every acknowledged note is stored
        notes = Notes(database)
        for room in rooms:
            stored = {n["id"] for n in await notes.for_session(room)}
            assert set(clients.notes.get(room, [])) <= stored
    finally:
        for n in nodes:
            if n.proc is not None and n.proc.poll() is None:
                n.kill()
        await placement.close()
        await database.close()
        redis.stop()
