"""The rooms live in this process: their state, lock, session clock and connection per seat.

The room service (`rooms/service.py`) is the one that changes them; others look (the
live pages, retention) or set `closing` (the drain).

A room lives here from its first use until it ends: when nobody has been connected to
it for `empty_timeout_s` it ends itself (an `ended` event, reason `abandoned`, unless
it had already ended), is forgotten, and `on_released` hooks are told (the service
publishes `RoomReleased`, on which its media closes).
While the server drains (`closing`), joins are refused with `server_closing`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from placement.nodes import PlacedElsewhere, Placement
from rooms.restore import restored
from sessions.errors import DomainError
from sessions.ids import RoomId, ScenarioId, SeatId
from sessions.phases import ENDED, PhaseKind, PhaseState
from sessions.rooms import Room, Timer
from sessions.scenarios import Scenario
from sessions.timeline import Event, EventKind, ms_since

logger = logging.getLogger(__name__)

#: a room nobody is connected to ends itself after this long (CAUCUS_EMPTY_TIMEOUT_S)
EMPTY_TIMEOUT_S = 900.0
_JOINS = frozenset((EventKind.JOIN, EventKind.RESUME, EventKind.REPLACE))


class UnknownRoom(DomainError):
    code = "unknown_room"


class ServerClosing(DomainError):
    code = "server_closing"


class SimulationRecord(Protocol):
    @property
    def id(self) -> RoomId: ...
    @property
    def scenario_id(self) -> ScenarioId: ...
    @property
    def observers(self) -> int: ...


class Timelines(Protocol):
    """The durable side of rooms (storage.catalogue.Catalogue implements it)."""

    async def simulation(self, room_id: str) -> SimulationRecord | None: ...
    async def start_clock(self, room_id: RoomId, t0_ms: int) -> int: ...
    async def append_event(self, room_id: RoomId, event: Event) -> None: ...
    async def events(self, room_id: RoomId) -> list[dict[str, Any]]: ...


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class LiveRoom:
    room: Room
    t0_ms: int
    #: the socket currently in each seat
    sockets: dict[SeatId, str] = field(default_factory=dict)
    #: pending release of a dropped participant's seat
    releases: dict[SeatId, asyncio.Task[None]] = field(default_factory=dict)
    #: serialises changes so validation and commit see the same state
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: ends the room if nobody connects before it fires
    empty_timer: asyncio.TimerHandle | None = None

    @property
    def id(self) -> RoomId:
        return self.room.id


class RoomDirectory:
    def __init__(
        self,
        timelines: Timelines,
        scenarios: Mapping[ScenarioId, Scenario],
        clock: Callable[[], int] = wall_ms,
        empty_timeout_s: float = EMPTY_TIMEOUT_S,
        placement: Placement | None = None,
    ) -> None:
        self._timelines = timelines
        #: asked before a room is opened here; None: every room may live here
        self.placement = placement
        self._scenarios = scenarios
        self._clock = clock
        self._empty_timeout_s = empty_timeout_s
        self._rooms: dict[RoomId, LiveRoom] = {}
        #: told of every committed change (room, session time), under the room's lock:
        #: the room service, which delivers it as `RoomChanged`
        self.observers: list[Callable[[Room, int], None]] = []
        #: told when an ended or abandoned room is forgotten (the service: `RoomReleased`)
        self.on_released: list[Callable[[RoomId], Awaitable[None]]] = []
        self._by_socket: dict[str, tuple[LiveRoom, SeatId]] = {}
        self._endings: set[asyncio.Task[None]] = set()
        #: rooms being opened: a second join meanwhile waits for the same opening
        self._opening: dict[RoomId, asyncio.Future[LiveRoom]] = {}
        #: draining: no more joins
        self.closing = False
        #: awaited before a room is opened (a worker of several re-reads the scenarios
        #: written in the console, which another worker may have stored)
        self.before_open: Callable[[], Awaitable[None]] | None = None

    async def open(self, room_id: str) -> LiveRoom:
        """The live room, opened from the catalogue if it is not live yet: restored from
        its timeline, its session clock started (stored). To look without opening: peek."""
        live = self._rooms.get(RoomId(room_id))
        if live is not None:
            return live
        if self.closing:
            raise ServerClosing("the server is shutting down; join again in a moment")
        opening = self._opening.get(RoomId(room_id))
        if opening is not None:  # another join is reading it from the catalogue
            return await asyncio.shield(opening)
        opening = asyncio.get_running_loop().create_future()
        self._opening[RoomId(room_id)] = opening
        try:
            live = await self._load(room_id)
        except asyncio.CancelledError:
            opening.cancel()
            raise
        except Exception as exc:
            opening.set_exception(exc)
            opening.exception()  # retrieved: only the waiting joins need it
            raise
        else:
            opening.set_result(live)
            return live
        finally:
            del self._opening[RoomId(room_id)]

    async def _load(self, room_id: str) -> LiveRoom:
        if self.before_open is not None:
            await self.before_open()
        record = await self._timelines.simulation(room_id)
        if record is None or record.scenario_id not in self._scenarios:
            raise UnknownRoom(f"there is no simulation {room_id!r}")
        if self.placement is not None:
            # the room lives on one node: here only if it is placed here (sticky; a
            # room whose node died is placed anew, and restored from its timeline)
            node = await self.placement.place(record.id)
            if node.id != self.placement.here.id:
                raise PlacedElsewhere(node)
        room = Room.create(record.id, self._scenarios[record.scenario_id], record.observers)
        room = restored(room, await self._timelines.events(record.id))
        t0 = await self._timelines.start_clock(record.id, self._clock())
        live = LiveRoom(room, t0)
        self._rooms[record.id] = live
        self._watch_empty(live)
        return live

    def peek(self, room_id: str) -> LiveRoom | None:
        """The room if it is live in this process; never starts its clock."""
        return self._rooms.get(RoomId(room_id))

    def rooms(self) -> list[LiveRoom]:
        return list(self._rooms.values())

    def session_ms(self, room_id: RoomId) -> int:
        """Session time of a live room."""
        return self.now_ms(self._rooms[room_id])

    def now_ms(self, live: LiveRoom) -> int:
        """Session time: ms since the room's t0."""
        return ms_since(live.t0_ms, self._clock())

    async def commit(self, live: LiveRoom, room: Room, event: Event) -> None:
        """Store the event, then make `room` current: a refused event changes nothing.

        Observers hear of the change after it is stored; their failures are theirs
        (logged), never the request's.
        """
        if self.closing and event.kind in _JOINS:
            raise ServerClosing("the server is shutting down; join again in a moment")
        await self._timelines.append_event(live.id, event)
        live.room = room
        for observer in self.observers:
            try:
                observer(room, event.t_ms)
            except Exception:
                logger.exception("an observer of %s failed on %s", live.id, event.kind)

    def set_recording_fault(self, room_id: RoomId, reason: str | None) -> LiveRoom | None:
        """Show (or clear) a recording fault in the room's state; the recorder stored it."""
        live = self._rooms.get(room_id)
        if live is not None:
            live.room = replace(live.room, recording_fault=reason)
        return live

    def locate(self, sid: str) -> tuple[LiveRoom, SeatId] | None:
        return self._by_socket.get(sid)

    def bind(self, live: LiveRoom, seat: SeatId, sid: str) -> str | None:
        """Put socket `sid` in `seat`; return the socket it displaces, if any."""
        old = live.sockets.get(seat)
        if old is not None:
            self._by_socket.pop(old, None)
        live.sockets[seat] = sid
        self._by_socket[sid] = (live, seat)
        if live.empty_timer is not None:
            live.empty_timer.cancel()
            live.empty_timer = None
        return old

    def unbind(self, sid: str) -> tuple[LiveRoom, SeatId] | None:
        found = self._by_socket.pop(sid, None)
        if found is not None:
            live, seat = found
            if live.sockets.get(seat) == sid:
                del live.sockets[seat]
            self._watch_empty(live)
        return found

    # --- rooms nobody uses --------------------------------------------------------

    def _watch_empty(self, live: LiveRoom) -> None:
        if live.sockets or live.empty_timer is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # used outside a server (tools, tests): nothing to time
        live.empty_timer = loop.call_later(self._empty_timeout_s, self._abandon, live)

    def _abandon(self, live: LiveRoom) -> None:
        live.empty_timer = None
        task = asyncio.get_running_loop().create_task(self.release(live, "abandoned"))
        self._endings.add(task)
        task.add_done_callback(self._endings.discard)

    async def release(self, live: LiveRoom, reason: str) -> None:
        """End the room if it has not ended (an `ended` event) and forget it."""
        async with live.lock:
            if live.sockets or self._rooms.get(live.id) is not live:
                return
            for task in live.releases.values():
                task.cancel()
            live.releases.clear()
            if live.room.phase.kind is not PhaseKind.ENDED:
                now = self.now_ms(live)
                room = replace(live.room, phases=PhaseState(ENDED), timer=Timer(now))
                event = Event(
                    now, EventKind.ENDED, None, {"reason": reason, "from": str(live.room.phase)}
                )
                try:
                    await self.commit(live, room, event)
                except DomainError as exc:
                    logger.warning("room %s could not end (%s); trying again later", live.id, exc)
                    self._watch_empty(live)
                    return
            del self._rooms[live.id]
        logger.info("room %s %s and released", live.id, reason)
        for hook in self.on_released:
            try:
                await hook(live.id)
            except Exception:
                logger.exception("releasing the media of %s failed", live.id)

    def close(self) -> None:
        """Stop the empty-room timers (the server is stopping)."""
        for live in self._rooms.values():
            if live.empty_timer is not None:
                live.empty_timer.cancel()
                live.empty_timer = None
        for task in self._endings:
            task.cancel()
