"""The socket fan-out: the room service's events, sent to the connections they name.

It decides nothing: the service computes each connection's view, a whisper's and a
note's recipients; this sends them, keeps Socket.IO rooms mirroring the domain's,
and remembers whom each seat's TURN credential names while the seat is held.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Protocol

from rooms.events import (
    EventBus,
    NoteAdded,
    SeatEntered,
    SeatLeft,
    SeatReplaced,
    SeatsToTell,
    Whispered,
)
from sessions.ids import RoomId, SeatId
from signaling.protocol import ServerEvent, socket_room
from signaling.turn import IceServerPolicy


class Sockets(Protocol):
    """What the fan-out needs of the namespace (socketio.AsyncNamespace has it)."""

    async def emit(self, event: str, data: Any = None, to: str | None = None) -> None: ...
    async def enter_room(self, sid: str, room: str) -> None: ...
    async def leave_room(self, sid: str, room: str) -> None: ...
    async def disconnect(self, sid: str) -> None: ...


class SocketFanOut:
    def __init__(self, sockets: Sockets, ice: IceServerPolicy) -> None:
        self._sockets = sockets
        self._ice = ice
        #: (room, seat) → (identity, token expiry): whom each seat's TURN credential names
        self._seat_tokens: dict[tuple[RoomId, SeatId], tuple[str, int]] = {}

    def subscribe(self, events: EventBus) -> None:
        events.subscribe(SeatEntered, self._entered)
        events.subscribe(SeatReplaced, self._replaced)
        events.subscribe(SeatLeft, self._left)
        events.subscribe(SeatsToTell, self._views)
        events.subscribe(Whispered, self._whispered)
        events.subscribe(NoteAdded, self._note)

    def ice_servers(self, room_id: RoomId, seat: SeatId) -> list[dict[str, Any]]:
        """STUN and TURN (with this seat's own credential) for a seated client; else []."""
        held = self._seat_tokens.get((room_id, seat))
        if held is None:
            return []  # nobody without a seat gets a relay
        identity, token_expires_at = held
        return self._ice.for_seat(identity, token_expires_at, time.time())

    async def _entered(self, e: SeatEntered) -> None:
        # before media hears of the seat: its first offer carries these credentials
        self._seat_tokens[(e.room_id, e.seat)] = (e.identity, e.until)
        await self._sockets.enter_room(e.connection, socket_room(e.room_id))

    async def _replaced(self, e: SeatReplaced) -> None:
        reason = {"reason": "joined from another connection"}
        await self._sockets.emit(ServerEvent.REPLACED, reason, to=e.connection)
        await self._sockets.leave_room(e.connection, socket_room(e.room_id))
        await self._sockets.disconnect(e.connection)

    async def _left(self, e: SeatLeft) -> None:
        self._seat_tokens.pop((e.room_id, e.seat), None)
        if e.connection is None:
            return
        await self._sockets.leave_room(e.connection, socket_room(e.room_id))
        if e.disconnect:
            await self._sockets.disconnect(e.connection)

    async def _views(self, e: SeatsToTell) -> None:
        await asyncio.gather(
            *(
                self._sockets.emit(ServerEvent.ROOM_STATE, view, to=connection)
                for connection, view in e.views.items()
            )
        )

    async def _whispered(self, e: Whispered) -> None:
        message = {"from": e.sender, "text": e.text, "t_ms": e.t_ms}
        await self._sockets.emit(ServerEvent.WHISPER, message, to=e.connection)

    async def _note(self, e: NoteAdded) -> None:
        for connection in e.connections:
            await self._sockets.emit(ServerEvent.ANNOTATION, e.note, to=connection)
