"""A seat whose client, like the browser, answers a restart offer from a new peer connection.

Shared by the media-restart tests: the in-process Sfu ones
(tests/media/test_media_restart.py) and the whole-server ones
(tests/media/test_media_restart_server.py). DEAD cuts a link both ways; BACK_S
bounds the wait for media to flow again.
"""

from __future__ import annotations

from typing import Any

from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from tests.impairment import LinkProfile
from tests.media.media_harness import ClientParticipant
from tests.media.synthetic import ROOM, SentLog

DEAD = LinkProfile(loss=1.0)
#: detection (5 s of silence) + a new connection on loopback, with slack for a loaded machine
BACK_S = 20.0


def both(seat: SeatId) -> set[tuple[SeatId, MediaKind]]:
    return {(seat, MediaKind.AUDIO), (seat, MediaKind.VIDEO)}


class Seat:
    """A client that, like the browser, answers a restart offer from a new peer connection."""

    def __init__(self, seat: SeatId, signal: Any, sent: SentLog, room: RoomId = ROOM) -> None:
        self.seat, self.signal, self.sent, self.room = seat, signal, sent, room
        self.clients = [self._client()]
        self.offers: list[dict[str, Any]] = []

    def _client(self) -> ClientParticipant:
        return ClientParticipant(self.seat, self.signal, self.sent, room=self.room, decode=False)

    @property
    def client(self) -> ClientParticipant:
        return self.clients[-1]

    async def on_offer(self, payload: dict[str, Any]) -> None:
        self.offers.append(payload)
        if payload.get("restart"):
            old = self.client
            self.clients.append(self._client())
            await old.close()
        await self.client.on_offer(payload)

    def received_since(self, since: float) -> set[tuple[SeatId, MediaKind]]:
        return self.client.received_from(since)

    async def close(self) -> None:
        for client in self.clients:
            await client.close()
