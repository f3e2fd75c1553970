"""A seat that leaves, or a room that ends, while the seat's media connection is being
restarted leaves no peer connection open and no socket bound.

A restart (media.recovery) closes the seat's dead connection, then makes the new
one's first offer, whose gathering binds its socket. The seat leaving or the room
ending cancels the restart. Cancelled while it closed the old connection, the close
stopped half-way: that peer connection was never closed and its socket held it in
memory for good. Cancelled while the new offer gathered, uvloop's
``create_datagram_endpoint`` left the socket it was making bound, owned by no
connection. Either leaves what the soak slice saw in CI: one peer connection and one
descriptor more (every client there leaves by closing its peer connection, which the
server answers with a restart, then leaving). Here the leave lands at every turn of
the loop across the restart, on asyncio's loop and on uvloop (what ``caucus serve``
runs).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from caucus import event_loop
from media.recovery import RecoveryConfig
from media.seat_connection import SeatConnection
from media.sfu import Sfu, SfuConfig
from sessions.ids import RoomId, SeatId

ROOM, SEAT = RoomId("r1"), SeatId("mediator")
#: the media ports' range: our own gathering (media.aiortc_internals.ice), its socket
#: bound before uvloop makes the endpoint, so a restart takes the same turns each time
IN_A_PORT_RANGE = SfuConfig(ice_host_addresses=["127.0.0.1"], udp_ports=(40000, 40999))
#: any port: aioice's gathering (as in the soak slice), where uvloop resolves the address
#: in a thread first, so where the leave lands in the gathering varies from run to run
ANY_PORT = SfuConfig(ice_host_addresses=["127.0.0.1"])
#: a bound on the loop turns a restart takes (closing the old connection, the new offer)
TURNS = 2000
LOOPS = [
    "asyncio",
    pytest.param(
        "uvloop",
        marks=pytest.mark.skipif(
            event_loop.loop_name({"CAUCUS_EVENT_LOOP": "auto"}) != "uvloop", reason="no uvloop"
        ),
    ),
]


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


class Connections:
    """Every connection the SFU opens (its MediaObserver), and the offers it sends."""

    def __init__(self) -> None:
        self.opened: list[SeatConnection] = []
        self.restart_offered = False

    def connection_opened(self, participant: SeatConnection, restart: bool) -> None:
        self.opened.append(participant)

    async def media_lost(self, room_id: RoomId, seat: SeatId, reason: str, silent_s: float) -> None:
        return None

    async def media_flowing(self, room_id: RoomId, seat: SeatId) -> None:
        return None

    async def signal(self, room: RoomId, seat: SeatId, event: str, payload: dict[str, Any]) -> None:
        if event == "media_offer" and payload.get("restart"):
            self.restart_offered = True


async def seat_leaves(sfu: Sfu) -> None:
    await sfu.leave(ROOM, SEAT)


async def room_ends(sfu: Sfu) -> None:
    await sfu.close_room(ROOM)


async def restart_then(
    config: SfuConfig, end: Callable[[Sfu], Awaitable[None]], turns: int
) -> bool:
    """A seat's connection is restarted and, `turns` loop turns later, `end` comes;
    every connection the seat had is closed. True if the restart's offer went out first."""
    connections = Connections()
    sfu = Sfu(
        connections.signal,
        config=config,
        recovery=RecoveryConfig(silence_s=None, min_interval_s=0),
        observer=connections,
    )
    await sfu.join(ROOM, SEAT)
    await sfu.restart(ROOM, SEAT, "client: failed")  # as when the client closes its own
    for _ in range(turns):  # stepping the loop turn by turn is what this test does
        await asyncio.sleep(0)
    offered = connections.restart_offered
    await end(sfu)
    await sfu.close()  # waits for the (cancelled) restart to end
    assert [c.pc.signalingState for c in connections.opened] == ["closed"] * len(connections.opened)
    return offered


async def restart_cut_short_at_every_turn(
    config: SfuConfig, end: Callable[[Sfu], Awaitable[None]]
) -> int:
    """`end` at every loop turn of a restart until one is done before it: how many."""
    for turns in range(TURNS):
        if await restart_then(config, end, turns):
            return turns
    raise AssertionError(f"no restart was done in {TURNS} turns")


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("end", [seat_leaves, room_ends])
@pytest.mark.parametrize("config", [IN_A_PORT_RANGE, ANY_PORT], ids=["port_range", "any_port"])
def test_a_restart_cut_short_at_any_point_leaves_no_connection_and_no_socket(
    loop: str, end: Callable[[Sfu], Awaitable[None]], config: SfuConfig
) -> None:
    async def sweep() -> None:
        await restart_cut_short_at_every_turn(config, end)  # imports, caches warmed first
        fds = open_descriptors()
        assert await restart_cut_short_at_every_turn(config, end) > 0
        assert open_descriptors() == fds

    event_loop.run(sweep(), {"CAUCUS_EVENT_LOOP": loop})
