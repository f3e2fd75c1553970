"""The rooms live in this process: their state, session clock and sockets per seat."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from sessions.errors import DomainError
from sessions.ids import RoomId, ScenarioId, SeatId
from sessions.phases import Phase, PhaseKind, PhaseState
from sessions.rooms import Room, Timer
from sessions.scenarios import Scenario
from sessions.timeline import Event, ms_since


class UnknownRoom(DomainError):
    code = "unknown_room"


class SimulationRecord(Protocol):
    @property
    def id(self) -> RoomId: ...
    @property
    def scenario_id(self) -> ScenarioId: ...
    @property
    def observers(self) -> int: ...


class Timelines(Protocol):
    """The durable side of rooms (recordings.catalogue.Catalogue implements it)."""

    def simulation(self, room_id: str) -> SimulationRecord | None: ...
    def start_clock(self, room_id: RoomId, t0_ms: int) -> int: ...
    def append_event(self, room_id: RoomId, event: Event) -> None: ...
    def events(self, room_id: RoomId) -> list[dict[str, Any]]: ...


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

    @property
    def id(self) -> RoomId:
        return self.room.id


def restored(room: Room, events: list[dict[str, Any]]) -> Room:
    """`room` in the phase its stored timeline last reached (after a server restart)."""
    phases, timer = PhaseState(), Timer()
    for event in events:
        if event["kind"] != "phase":
            continue
        phase = Phase.parse(str(event["phase"]))
        resume_to = Phase.parse(str(event["from"])) if phase.kind is PhaseKind.TIMEOUT else None
        phases = PhaseState(phase, resume_to)
        timer = Timer(int(event["t_ms"]), event.get("planned_ms"))
    return replace(room, phases=phases, timer=timer)


class RoomDirectory:
    def __init__(
        self,
        timelines: Timelines,
        scenarios: Mapping[ScenarioId, Scenario],
        clock: Callable[[], int] = wall_ms,
    ) -> None:
        self._timelines = timelines
        self._scenarios = scenarios
        self._clock = clock
        self._rooms: dict[RoomId, LiveRoom] = {}
        #: told of every committed change, e.g. the recorder (room, session time)
        self.observers: list[Callable[[Room, int], None]] = []
        self._by_socket: dict[str, tuple[LiveRoom, SeatId]] = {}

    def get(self, room_id: str) -> LiveRoom:
        live = self._rooms.get(RoomId(room_id))
        if live is not None:
            return live
        record = self._timelines.simulation(room_id)
        if record is None or record.scenario_id not in self._scenarios:
            raise UnknownRoom(f"there is no simulation {room_id!r}")
        room = Room.create(record.id, self._scenarios[record.scenario_id], record.observers)
        room = restored(room, self._timelines.events(record.id))
        t0 = self._timelines.start_clock(record.id, self._clock())
        live = LiveRoom(room, t0)
        self._rooms[record.id] = live
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

    def commit(self, live: LiveRoom, room: Room, event: Event) -> None:
        """Make `room` current and store the event that produced it."""
        self._timelines.append_event(live.id, event)
        live.room = room
        for observer in self.observers:
            observer(room, event.t_ms)

    def locate(self, sid: str) -> tuple[LiveRoom, SeatId] | None:
        return self._by_socket.get(sid)

    def bind(self, live: LiveRoom, seat: SeatId, sid: str) -> str | None:
        """Put socket `sid` in `seat`; return the socket it displaces, if any."""
        old = live.sockets.get(seat)
        if old is not None:
            self._by_socket.pop(old, None)
        live.sockets[seat] = sid
        self._by_socket[sid] = (live, seat)
        return old

    def unbind(self, sid: str) -> tuple[LiveRoom, SeatId] | None:
        found = self._by_socket.pop(sid, None)
        if found is not None:
            live, seat = found
            if live.sockets.get(seat) == sid:
                del live.sockets[seat]
        return found
