"""A seat's connection closed while its first offer is being made leaves nothing open.

Making the first offer gathers ICE candidates: it binds the connection's UDP
sockets over several turns of the event loop. A close that came in between (the
seat left, the room ended, a restart was overtaken) once closed only the sockets
bound so far; the later ones stayed open, holding the peer connection in memory
for good (the soak slice saw one such connection, and a descriptor, in CI).
Here the close lands at every turn of the loop across the offer.
"""

from __future__ import annotations

import asyncio
import gc
import os

import pytest
from aiortc import RTCPeerConnection

from media.latency import ForwardingStats
from media.router import Router
from media.seat_connection import ConnectionClosed, SeatConnection
from sessions.ids import RoomId, SeatId

ROOM, SEAT = RoomId("r1"), SeatId("mediator")
#: loop turns a first offer takes here is well under this: the sweep covers it whole
TURNS = 40


async def nothing(*_: object) -> None:
    return None


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def live_peer_connections() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, RTCPeerConnection))


def seat_connection() -> SeatConnection:
    return SeatConnection(
        ROOM,
        SEAT,
        signal=nothing,
        on_lost=lambda *_: None,
        stats=ForwardingStats(),
        connect_timeout=5.0,
    )


async def close_after(turns: int) -> bool:
    """Start a connection, close it `turns` loop turns later; True if the offer was done."""
    seat = seat_connection()
    starting = asyncio.ensure_future(seat.start())
    for _ in range(turns):  # stepping the loop turn by turn is what this test does
        await asyncio.sleep(0)
    finished = starting.done()
    await seat.close()
    try:
        await starting
    except ConnectionClosed:
        assert not finished
    return finished


async def test_a_close_at_any_point_of_the_first_offer_leaves_no_socket_and_no_connection() -> None:
    await close_after(TURNS)  # imports and caches warmed before the baseline
    fds, pcs = open_descriptors(), live_peer_connections()
    outcomes = [await close_after(turns) for turns in range(TURNS)]
    assert False in outcomes and True in outcomes, "the sweep must cover the whole offer"
    assert open_descriptors() == fds
    assert live_peer_connections() == pcs


async def test_a_seat_that_rejoins_while_the_room_closes_is_released_with_it() -> None:
    router = Router(
        ROOM,
        signal=nothing,
        on_lost=lambda *_: None,
        stats=ForwardingStats(),
        connect_timeout=5.0,
    )
    first = await router.join(SEAT)
    await first.start()
    fds = open_descriptors()
    # the seat comes back (its old connection closes) while the room's media closes
    rejoined, _ = await asyncio.gather(router.join(SEAT), router.close())
    assert router.participants == {}
    with pytest.raises(ConnectionClosed):
        await rejoined.start()
    assert open_descriptors() < fds  # the first connection's socket closed, none opened
