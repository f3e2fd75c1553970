"""Four seats of one simulation, as real clients: Socket.IO sockets and aiortc peer
connections publishing synthetic Opus and VP8 (tests/media/synthetic.py).

Like LiveKit's `newRoomWithParticipants`: one call seats the room, the trainees
consent and the coach starts the joint session, so the room is recorded. Used by
the fault tests (disk full, abandoned rooms) and by bench/soak.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

from media import aiortc_internals
from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from tests.live_server import Participant
from tests.media.media_harness import ClientParticipant
from tests.media.synthetic import COACH, FPS, MEDIATOR, PARTY_A, PARTY_B, SentLog
from tests.system.socket_signal import SocketSignal

TRAINEES = (MEDIATOR, PARTY_A, PARTY_B)
JOIN_ORDER = (*TRAINEES, COACH)
Track = tuple[SeatId, MediaKind]


class Seat:
    def __init__(self, seat: SeatId, token: str, room: RoomId, sent: SentLog, fps: int) -> None:
        self.seat = seat
        self.socket = Participant(seat, token, room)
        self.socket.rejoin = False
        self.media = ClientParticipant(
            seat,
            SocketSignal(self.socket),
            sent,
            room=room,
            decode=False,  # arrivals are matched to what was sent by hash; no decoding
            fps=fps,
        )
        self.socket.client.on("media_offer", self.media.on_offer)


class RecordedRoom:
    def __init__(self, url: str, room: RoomId, tokens: Mapping[str, str], fps: int = FPS) -> None:
        # The clients' receivers forward frames instead of decoding them: that needs the
        # media package's patches in this process too (without them an RTCP BYE makes a
        # receiver join a decoder thread that never ends, on the event loop).
        aiortc_internals.install()
        self.url = url
        self.room = room
        self.sent = SentLog()
        self.seats = {seat: Seat(seat, tokens[seat], room, self.sent, fps) for seat in JOIN_ORDER}

    @property
    def coach(self) -> Participant:
        return self.seats[COACH].socket

    async def start(self, timeout: float = 30.0) -> None:
        """Join every seat, consent, start the joint session, wait for every peer connection."""
        for seat in self.seats.values():
            await seat.socket.connect(self.url)
            reply = await seat.socket.join()
            assert reply.get("ok"), f"{seat.seat} could not join: {reply}"
        for trainee in TRAINEES:
            reply = await self.seats[trainee].socket.call("consent", {"recording": True})
            assert reply.get("ok"), f"{trainee} could not consent: {reply}"
        if self.coach.state["phase"]["name"] != "joint":
            reply = await self.coach.call("phase", {"to": "joint"})
            assert reply.get("ok"), f"the coach could not start the joint session: {reply}"
        async with asyncio.timeout(timeout):
            for seat in self.seats.values():
                await seat.media.connected.wait()

    def received(self, since: float) -> dict[SeatId, set[Track]]:
        """What each seat received (publisher, kind) since `since` (monotonic)."""
        return {seat: s.media.received_from(since) for seat, s in self.seats.items()}

    async def wait_receiving(
        self, expected: Mapping[SeatId, set[Track]], since: float, timeout: float
    ) -> None:
        """Until every seat received at least `expected` again after `since` (bounded)."""

        def flowing() -> bool:
            now = self.received(since)
            return all(tracks <= now[seat] for seat, tracks in expected.items())

        await self.sent.wait_until(flowing, timeout)

    async def leave(self) -> None:
        """Like closing the tab after pressing Leave: media stops, then each seat leaves."""
        for seat in self.seats.values():
            await asyncio.wait_for(seat.media.close(), 10)  # no more answers to offers
        for seat in self.seats.values():
            if seat.socket.client.connected:
                try:
                    await seat.socket.call("leave")
                except Exception:  # noqa: BLE001 - a server gone already is the same as left
                    pass
        await self.close()

    async def close(self) -> None:
        for seat in self.seats.values():
            await asyncio.wait_for(seat.media.close(), 10)
            await seat.socket.close()


def now() -> float:
    return time.monotonic()
