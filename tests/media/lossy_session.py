"""A recorded session on the real server where party_a's uplink drops 30 % for a stretch.

Seats join over Socket.IO with synthetic aiortc media (tests/media/media_harness.py);
party_a's link goes through the user-space impairment (tests/impairment.py), clean
at first, lossy for LOSSY_S, clean again; the coach starts the joint session (so it
is recorded) and ends it once the server stored party_a's troubled stretch.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from tests.impairment import LinkProfile
from tests.live_server import LiveServer, Participant
from tests.media.media_harness import ClientParticipant
from tests.media.synthetic import SentLog
from tests.system.socket_signal import SocketSignal
from web.keys import DIRECTORY

LOSSY_S = 6.0  # how long party_a's uplink drops 30 % of its packets
LOSS = 0.3
MIN_LOSS_PCT = 15  # what the stretch must show of the 30 % dropped
SAMPLE_MS = 2000  # the server samples each link this often
STORED_S = 15.0  # bound on the wait for the stretch to close and be stored
LOSSY_SEAT = "party_a"
SEATS = ("coach", "mediator", LOSSY_SEAT)


class Seat:
    def __init__(self, server: LiveServer, room: RoomId, seat: str, sent: SentLog) -> None:
        self.socket = Participant(seat, server.token(room, seat), room)
        clean = (LinkProfile(), LinkProfile())
        self.media = ClientParticipant(
            SeatId(seat),
            SocketSignal(self.socket),
            sent,
            room=room,
            decode=False,
            link=clean if seat == LOSSY_SEAT else None,
            seed=7,
        )
        self.socket.client.on("media_offer", self.media.on_offer)


@dataclass
class LossySession:
    room: RoomId
    lossy_from_ms: int
    lossy_to_ms: int


async def lossy_stretches(server: LiveServer, room: RoomId) -> list[dict[str, Any]]:
    """party_a's stored stretches with loss (any seat may also show a short freeze when
    the machine is busy: the synthetic encoders share the server's process)."""
    return [
        e
        for e in await server.catalogue.events(room)
        if e["kind"] == "trouble" and e["seat"] == LOSSY_SEAT and e["loss_pct"] >= MIN_LOSS_PCT
    ]


@contextlib.asynccontextmanager
async def lossy_session(server: LiveServer) -> AsyncIterator[LossySession]:
    """Run the session to its end (phase `ended`); yields while everyone is still seated."""
    room = await server.simulation()
    sent = SentLog()
    seats = {s: Seat(server, room, s, sent) for s in SEATS}
    try:
        for seat in seats.values():
            await seat.socket.connect(server.url)
            assert (await seat.socket.join())["ok"]
        for name in ("mediator", LOSSY_SEAT):
            assert (await seats[name].socket.call("consent", {"recording": True}))["ok"]
        assert (await seats["coach"].socket.call("phase", {"to": "joint"}))["ok"]
        lossy = seats[LOSSY_SEAT].media
        producers = server.sfu.participant(room, SeatId(LOSSY_SEAT)).producers
        await lossy.wait_until(lambda: producers[MediaKind.VIDEO].frames > 30, timeout=20)
        clock = server.app[DIRECTORY]
        await asyncio.sleep(2 * SAMPLE_MS / 1000)  # calm samples first: the behaviour under test
        assert lossy.impairment is not None
        lossy_from = clock.session_ms(room)
        lossy.impairment.outbound.profile = LinkProfile(loss=LOSS)
        await asyncio.sleep(LOSSY_S)
        lossy.impairment.outbound.profile = LinkProfile()
        lossy_to = clock.session_ms(room)

        # stored once two calm samples closed it; video may stay frozen a while after the
        # loss (a keyframe must get through), which lengthens the stretch
        async def stored() -> bool:
            return bool(await lossy_stretches(server, room))

        await lossy.wait_until(stored, timeout=STORED_S)
        assert (await seats["coach"].socket.call("phase", {"to": "ended"}))["ok"]
        yield LossySession(room, lossy_from, lossy_to)
    finally:
        for seat in seats.values():
            await seat.media.close()
            await seat.socket.close()
