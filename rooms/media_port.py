"""What the room service tells the media layer; media/ implements it, tests may use NoMedia.

The room service publishes seat and audience events that `follow` turns into calls of a
`MediaPort` (subscribed once, in `create_app`); the questions that need an answer (an SDP
answer applied? a restart begun? each seat's media status) are asked of it directly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, Protocol

from rooms.events import (
    AudienceChanged,
    EventBus,
    SeatDropped,
    SeatEntered,
    SeatLeft,
    SeatReplaced,
)
from sessions.audience import Route
from sessions.ids import RoomId, SeatId
from sessions.timeline import EventKind

#: how media/ sends a signalling message (offer, ICE candidate) to one seat
SendToSeat = Callable[[RoomId, SeatId, str, dict[str, Any]], Awaitable[None]]

#: a seat's media connection, as the room state shows it (absent: "none")
MediaStatus = Literal["connecting", "connected", "reconnecting"]

#: how media/ tells signalling that a seat's media status changed: the timeline
#: event to store with it (media_lost / media_restored), or None for none
ReportMedia = Callable[
    [RoomId, SeatId, EventKind | None, dict[str, str | int | None]], Awaitable[None]
]

#: what came of a client's media_restart
RestartOutcome = Literal["restarting", "too_soon", "no_connection", "no_media"]


class MediaPort(Protocol):
    async def seat_connected(self, room_id: RoomId, seat: SeatId) -> None:
        """A participant's socket is in its seat: set up its media (the server offers)."""

    async def seat_disconnected(
        self, room_id: RoomId, seat: SeatId, gap: str | None = None
    ) -> None:
        """Release the participant's peer connection; the seat may come back later.

        ``gap``: why its media stops while the seat carries on (its socket dropped, or
        another connection of the same person took over): the gap goes on the
        timeline until media flows again. None: the seat was left or released.
        """

    async def audience_changed(self, room_id: RoomId, routes: frozenset[Route]) -> None:
        """Apply who-receives-whom at once, without renegotiation."""

    async def answer(
        self, room_id: RoomId, seat: SeatId, sdp: str, type_: str, connection: int | None = None
    ) -> bool:
        """Apply an answer; False if ``connection`` names a replaced connection (ignored);
        ValueError if it is refused (the peer is unchanged)."""

    async def ice_candidate(
        self,
        room_id: RoomId,
        seat: SeatId,
        candidate: dict[str, Any],
        connection: int | None = None,
    ) -> bool:
        """Add a client candidate ("" ends them); False if it belongs to a replaced
        connection (ignored); ValueError if it is refused."""

    async def restart(self, room_id: RoomId, seat: SeatId, reason: str) -> RestartOutcome:
        """The client's connection went disconnected or failed: offer a new one."""

    def media_status(self, room_id: RoomId) -> Mapping[SeatId, MediaStatus]:
        """Each seat's media connection status (seats without one are absent)."""

    async def close(self) -> None: ...


class NoMedia:
    """Signalling without media: rooms, phases and whispers only."""

    async def seat_connected(self, room_id: RoomId, seat: SeatId) -> None:
        return None

    async def seat_disconnected(
        self, room_id: RoomId, seat: SeatId, gap: str | None = None
    ) -> None:
        return None

    async def audience_changed(self, room_id: RoomId, routes: frozenset[Route]) -> None:
        return None

    async def answer(
        self, room_id: RoomId, seat: SeatId, sdp: str, type_: str, connection: int | None = None
    ) -> bool:
        return True

    async def ice_candidate(
        self,
        room_id: RoomId,
        seat: SeatId,
        candidate: dict[str, Any],
        connection: int | None = None,
    ) -> bool:
        return True

    async def restart(self, room_id: RoomId, seat: SeatId, reason: str) -> RestartOutcome:
        return "no_media"

    def media_status(self, room_id: RoomId) -> Mapping[SeatId, MediaStatus]:
        return {}

    async def close(self) -> None:
        return None


def follow(events: EventBus, media: MediaPort) -> None:
    """Make `media` follow the rooms: seats connected and released, the audience applied."""

    async def replaced(e: SeatReplaced) -> None:
        await media.seat_disconnected(e.room_id, e.seat, gap="replaced by a new connection")

    async def entered(e: SeatEntered) -> None:
        await media.seat_connected(e.room_id, e.seat)

    async def dropped(e: SeatDropped) -> None:
        await media.seat_disconnected(e.room_id, e.seat, gap=e.why)

    async def left(e: SeatLeft) -> None:
        await media.seat_disconnected(e.room_id, e.seat)  # forgets its media gap

    async def audience(e: AudienceChanged) -> None:
        await media.audience_changed(e.room_id, e.routes)

    events.subscribe(SeatReplaced, replaced)
    events.subscribe(SeatEntered, entered)
    events.subscribe(SeatDropped, dropped)
    events.subscribe(SeatLeft, left)
    events.subscribe(AudienceChanged, audience)
