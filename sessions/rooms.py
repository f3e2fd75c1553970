"""A room: one run of a scenario, its seats, who sits in them and its phase.

Rooms are immutable. Every operation validates first and returns the new room
with the timeline event it caused, so a refused request changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType

from sessions.errors import InvalidTransition, NotPermitted, NotSeated, SeatTaken, UnknownSeat
from sessions.ids import Identity, RoomId, SeatId
from sessions.phases import ENDED, Phase, PhaseKind, PhaseState, transition
from sessions.roles import (
    ADMIN_SEAT,
    COACH_SEAT,
    MAX_OBSERVERS,
    MEDIATOR_SEAT,
    Capability,
    Role,
    can,
    observer_seat,
    role_of,
)
from sessions.scenarios import Scenario
from sessions.timeline import Event, EventKind

MAX_WHISPER_CHARS = 1000


class Consent(StrEnum):
    """A participant's answer to being recorded."""

    PENDING = "pending"
    GIVEN = "given"
    DECLINED = "declined"


@dataclass(frozen=True)
class Participant:
    """A person in a seat, across reconnects."""

    identity: Identity
    name: str
    seat: SeatId
    connected: bool = True
    #: session time of the last join, resume or drop
    since_ms: int = 0
    consent: Consent = Consent.PENDING

    @property
    def role(self) -> Role:
        return role_of(self.seat)


class JoinOutcome(StrEnum):
    JOINED = "joined"
    RESUMED = "resumed"
    REPLACED = "replaced"


@dataclass(frozen=True)
class Timer:
    """When the current phase started and how long it is planned to last."""

    started_ms: int = 0
    planned_ms: int | None = None

    def remaining_ms(self, now_ms: int) -> int | None:
        if self.planned_ms is None:
            return None
        return self.started_ms + self.planned_ms - now_ms


def _frozen(d: Mapping[SeatId, Participant]) -> Mapping[SeatId, Participant]:
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class Room:
    id: RoomId
    scenario: Scenario
    seats: tuple[SeatId, ...]
    phases: PhaseState = PhaseState()
    timer: Timer = Timer()
    participants: Mapping[SeatId, Participant] = field(default_factory=lambda: MappingProxyType({}))
    #: why this room's recording stopped (a disk fault), None while it records normally
    recording_fault: str | None = None

    @classmethod
    def create(cls, room_id: RoomId, scenario: Scenario, observers: int = 1) -> Room:
        if not 0 <= observers <= MAX_OBSERVERS:
            raise NotPermitted(f"a room has 0 to {MAX_OBSERVERS} observer seats")
        seats = (
            MEDIATOR_SEAT,
            *scenario.party_seats,
            COACH_SEAT,
            *(observer_seat(n) for n in range(1, observers + 1)),
            ADMIN_SEAT,
        )
        return cls(room_id, scenario, seats)

    @property
    def phase(self) -> Phase:
        return self.phases.phase

    @property
    def party_seats(self) -> tuple[SeatId, ...]:
        return self.scenario.party_seats

    def seat_of(self, identity: Identity) -> SeatId | None:
        for seat, p in self.participants.items():
            if p.identity == identity:
                return seat
        return None

    def _check_seat(self, seat: SeatId) -> None:
        if seat not in self.seats:
            raise UnknownSeat(f"room {self.id} has no seat {seat!r}")

    def _seated(self, seat: SeatId) -> Participant:
        participant = self.participants.get(seat)
        if participant is None:
            raise NotSeated(f"nobody sits in {seat}")
        return participant

    def _with(self, seat: SeatId, participant: Participant | None) -> Room:
        participants = dict(self.participants)
        if participant is None:
            participants.pop(seat, None)
        else:
            participants[seat] = participant
        return replace(self, participants=_frozen(participants))

    def join(
        self, identity: Identity, name: str, seat: SeatId, at_ms: int
    ) -> tuple[Room, JoinOutcome, Event]:
        """Seat `identity`; the same identity coming back resumes or replaces itself."""
        self._check_seat(seat)
        if self.phase.kind is PhaseKind.ENDED:
            raise NotPermitted(f"room {self.id} has ended")
        elsewhere = self.seat_of(identity)
        if elsewhere is not None and elsewhere != seat:
            raise SeatTaken(f"{identity} already sits in {elsewhere}")
        current = self.participants.get(seat)
        if current is not None and current.identity != identity:
            raise SeatTaken(f"{seat} is held by someone else")
        if current is None:
            outcome, kind = JoinOutcome.JOINED, EventKind.JOIN
        elif current.connected:
            outcome, kind = JoinOutcome.REPLACED, EventKind.REPLACE
        else:
            outcome, kind = JoinOutcome.RESUMED, EventKind.RESUME
        # A resumed participant keeps the consent they gave; a newcomer is asked.
        consent = current.consent if current is not None else Consent.PENDING
        participant = Participant(identity, name, seat, True, at_ms, consent)
        event = Event(at_ms, kind, seat, {"identity": identity, "name": name})
        return self._with(seat, participant), outcome, event

    def drop(self, seat: SeatId, at_ms: int) -> tuple[Room, Event]:
        """The connection was lost; the seat is held until `leave` releases it."""
        participant = self._seated(seat)
        dropped = replace(participant, connected=False, since_ms=at_ms)
        return self._with(seat, dropped), Event(at_ms, EventKind.DROP, seat)

    def leave(self, seat: SeatId, at_ms: int, reason: str = "left") -> tuple[Room, Event]:
        self._seated(seat)
        return self._with(seat, None), Event(at_ms, EventKind.LEAVE, seat, {"reason": reason})

    def change_phase(
        self, by: SeatId, request: str, at_ms: int, planned_ms: int | None = None
    ) -> tuple[Room, Event]:
        """Move to the phase `request` names, if seat `by` may; the timer restarts."""
        self._check_seat(by)
        phases = transition(self.phases, request, by)
        if phases.phase.caucus_seat is not None:
            self._check_seat(phases.phase.caucus_seat)
        if planned_ms is None:
            minutes = self.scenario.planned_minutes(phases.phase)
            planned_ms = None if minutes is None else minutes * 60_000
        event = Event(
            at_ms,
            EventKind.PHASE,
            by,
            {"phase": str(phases.phase), "from": str(self.phase), "planned_ms": planned_ms},
        )
        room = replace(self, phases=phases, timer=Timer(at_ms, planned_ms))
        return room, event

    def end(self, at_ms: int, by: str) -> tuple[Room, Event]:
        """Staff outside the room end it for everyone (the console's End): the same
        `ended` phase the coach's own end reaches, with no seat and `by` (who)."""
        if self.phase.kind is PhaseKind.ENDED:
            raise InvalidTransition(f"room {self.id} has already ended")
        event = Event(
            at_ms,
            EventKind.PHASE,
            None,
            {"phase": str(ENDED), "from": str(self.phase), "planned_ms": None, "by": by},
        )
        return replace(self, phases=PhaseState(ENDED), timer=Timer(at_ms)), event

    def answer_consent(self, seat: SeatId, given: bool, at_ms: int) -> tuple[Room, Event]:
        """Record the participant's answer to being recorded; it may be changed later."""
        participant = self._seated(seat)
        consent = Consent.GIVEN if given else Consent.DECLINED
        event = Event(at_ms, EventKind.CONSENT, seat, {"consent": consent.value})
        return self._with(seat, replace(participant, consent=consent)), event

    def whisper_target(self, by: SeatId) -> SeatId:
        """Whispers run between the coach and the mediator, in both directions."""
        self._seated(by)
        if not can(by, Capability.WHISPER):
            raise NotPermitted(f"a {role_of(by).value} may not whisper")
        return MEDIATOR_SEAT if by == COACH_SEAT else COACH_SEAT
