"""What the room service tells the rest of the server: typed events and the bus they go on.

Each event is a fact about one live room, published after the change it reports is
committed. Subscribers are wired once, in `create_app`: the socket fan-out
(`signaling/fanout.py`), the media (`rooms.media_port.follow`), the recorder, the
logbook writer and the console's ended-rooms note.

Two ways of delivery, because two kinds of subscriber need different guarantees:

- `RoomChanged` is *delivered* synchronously inside the commit, under the room's
  lock, so its subscribers (the recorder) see every change of a room in order.
  Their failures are logged, never the command's.
- Every other event is *published* after the room's lock is released and awaited
  subscriber by subscriber, in the order they subscribed; a subscriber's error is
  the command's (a full media port range refuses the join that met it). Not under
  the lock: a subscriber (media) may itself issue a command on the same room.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sessions.audience import Route
from sessions.ids import Identity, RoomId, SeatId
from sessions.rooms import Room
from sessions.timeline import EventKind

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoomChanged:
    """A change of the room was stored on its timeline at session time `t_ms`."""

    room: Room
    t_ms: int


@dataclass(frozen=True)
class SeatsToTell:
    """What each connected seat sees of the room changed: its view, by connection."""

    room_id: RoomId
    views: Mapping[str, dict[str, Any]]


@dataclass(frozen=True)
class AudienceChanged:
    """Who receives whose media is now `routes` (sessions.audience)."""

    room_id: RoomId
    routes: frozenset[Route]


@dataclass(frozen=True)
class SeatEntered:
    """`connection` sits in `seat` (joined, resumed or replaced); admitted `until` (unix s)."""

    room_id: RoomId
    seat: SeatId
    connection: str
    identity: Identity
    until: int


@dataclass(frozen=True)
class SeatReplaced:
    """The same person joined again from another connection: `connection` is out."""

    room_id: RoomId
    seat: SeatId
    connection: str


@dataclass(frozen=True)
class SeatDropped:
    """The seat's connection was lost; the seat is held for the grace period."""

    room_id: RoomId
    seat: SeatId
    why: str


@dataclass(frozen=True)
class SeatLeft:
    """The seat is free: left (by `connection`), released after its grace, or revoked
    (`disconnect`: its connection is to be closed)."""

    room_id: RoomId
    seat: SeatId
    connection: str | None
    disconnect: bool = False


@dataclass(frozen=True)
class Whispered:
    """A whisper from `sender` to the seat on `connection`."""

    room_id: RoomId
    connection: str
    sender: SeatId
    text: str
    t_ms: int


@dataclass(frozen=True)
class NoteAdded:
    """A live note was stored; `connections` are the other staff seats to show it."""

    room_id: RoomId
    note: dict[str, Any]
    connections: tuple[str, ...]


@dataclass(frozen=True)
class MediaGap:
    """A seat's media was lost or is back (`kind`: media_lost, media_restored), as stored
    on the timeline; media itself reported it (`ReportMedia`)."""

    room_id: RoomId
    seat: SeatId
    kind: EventKind
    detail: Mapping[str, str | int | None]


@dataclass(frozen=True)
class RoomReleased:
    """The room ended and is no longer live here (its media may close)."""

    room_id: RoomId


E = TypeVar("E")
Handler = Callable[[E], Awaitable[None] | None]


class EventBus:
    """Subscribers per event type, told in the order they subscribed."""

    def __init__(self) -> None:
        self._handlers: dict[type[Any], list[Handler[Any]]] = {}

    def subscribe(self, kind: type[E], handler: Handler[E]) -> None:
        self._handlers.setdefault(kind, []).append(handler)

    async def publish(self, event: object) -> None:
        """Tell every subscriber and await each in turn; the first error propagates."""
        for handler in self._handlers.get(type(event), ()):
            result = handler(event)
            if result is not None:
                await result

    def deliver(self, event: object) -> None:
        """Tell every subscriber now (synchronous ones only); failures are logged."""
        for handler in self._handlers.get(type(event), ()):
            try:
                result = handler(event)
                if inspect.isawaitable(result):
                    if inspect.iscoroutine(result):
                        result.close()
                    raise TypeError(f"{type(event).__name__} subscribers must be synchronous")
            except Exception:
                logger.exception("a subscriber of %s failed", type(event).__name__)
