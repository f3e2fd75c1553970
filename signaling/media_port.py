"""What signalling tells the media layer; media/ implements it, tests may use NoMedia."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from sessions.audience import Route
from sessions.ids import RoomId, SeatId

#: how media/ sends a signalling message (offer, ICE candidate) to one seat
SendToSeat = Callable[[RoomId, SeatId, str, dict[str, Any]], Awaitable[None]]


class MediaPort(Protocol):
    async def seat_connected(self, room_id: RoomId, seat: SeatId) -> None:
        """A participant's socket is in its seat: set up its media (the server offers)."""

    async def seat_disconnected(self, room_id: RoomId, seat: SeatId) -> None:
        """Release the participant's peer connection; the seat may come back later."""

    async def audience_changed(self, room_id: RoomId, routes: frozenset[Route]) -> None:
        """Apply who-receives-whom at once, without renegotiation."""

    async def answer(self, room_id: RoomId, seat: SeatId, sdp: str, type_: str) -> None:
        """Apply the client's answer; ValueError if it is refused (the peer is unchanged)."""

    async def ice_candidate(self, room_id: RoomId, seat: SeatId, candidate: dict[str, Any]) -> None:
        """Add a trickled candidate ("" ends them); ValueError if it is refused."""

    async def close(self) -> None: ...


class NoMedia:
    """Signalling without media: rooms, phases and whispers only."""

    async def seat_connected(self, room_id: RoomId, seat: SeatId) -> None:
        return None

    async def seat_disconnected(self, room_id: RoomId, seat: SeatId) -> None:
        return None

    async def audience_changed(self, room_id: RoomId, routes: frozenset[Route]) -> None:
        return None

    async def answer(self, room_id: RoomId, seat: SeatId, sdp: str, type_: str) -> None:
        return None

    async def ice_candidate(self, room_id: RoomId, seat: SeatId, candidate: dict[str, Any]) -> None:
        return None

    async def close(self) -> None:
        return None
