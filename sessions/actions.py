"""What a seat may do next: the permitted actions each seat's room state carries.

The page shows and enables its controls from these and derives nothing
(docs/ARCHITECTURE.md §13), so each answer is computed by the rule that enforces it:
a phase request is listed when `Room.change_phase` would accept it, the phase
controls are the requests the phase machine ever accepts from the seat, and
the rest come from the role's capabilities.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from sessions.errors import DomainError
from sessions.ids import SeatId
from sessions.phases import LOBBY, RESUME, PhaseKind, PhaseState, transition
from sessions.roles import (
    ADMIN_SEAT,
    CAPABILITIES,
    COACH_SEAT,
    MEDIATOR_SEAT,
    TRAINEE_ROLES,
    Capability,
    observer_seat,
    role_of,
)
from sessions.rooms import Room


def phase_requests(party_seats: Iterable[SeatId]) -> tuple[str, ...]:
    """Every request that names a phase of a room with these parties, in button order."""
    caucuses = (f"caucus:{seat}" for seat in party_seats)
    return ("joint", *caucuses, "timeout", RESUME, "debrief", "ended")


def _accepts(state: PhaseState, request: str, by: SeatId) -> PhaseState | None:
    try:
        return transition(state, request, by)
    except DomainError:
        return None


@cache
def _reachable(party_seats: tuple[SeatId, ...]) -> tuple[PhaseState, ...]:
    """Every phase state a room with these parties can reach from the lobby."""
    movers = (MEDIATOR_SEAT, *party_seats, COACH_SEAT, ADMIN_SEAT, observer_seat(1))
    seen = [PhaseState(LOBBY)]
    frontier = list(seen)
    while frontier:  # bounded: a room has at most 2 × parties + 5 phase states
        state = frontier.pop()
        for request in phase_requests(party_seats):
            for by in movers:
                after = _accepts(state, request, by)
                if after is not None and after not in seen:
                    seen.append(after)
                    frontier.append(after)
    return tuple(seen)


@cache
def phase_controls(seat: SeatId, party_seats: tuple[SeatId, ...]) -> tuple[str, ...]:
    """The phase requests `seat` could make in some phase: the buttons its page has."""
    states = _reachable(party_seats)
    return tuple(
        request
        for request in phase_requests(party_seats)
        if any(_accepts(state, request, seat) is not None for state in states)
    )


def phases_now(room: Room, seat: SeatId) -> list[str]:
    """The phase requests `room.change_phase` accepts from `seat` right now."""
    allowed = []
    for request in phase_controls(seat, room.party_seats):
        try:
            room.change_phase(seat, request, room.timer.started_ms or 0)
        except DomainError:
            continue
        allowed.append(request)
    return allowed


def answers_consent(seat: SeatId) -> bool:
    """Trainees answer the recording question before they take their seat (and may change it)."""
    return role_of(seat) in TRAINEE_ROLES


def publishes(seat: SeatId) -> bool:
    """Whether the seat's camera and microphone go out to others."""
    caps = CAPABILITIES[role_of(seat)]
    return bool(caps & (Capability.PUBLISH_AUDIO | Capability.PUBLISH_VIDEO))


def seat_facts(seat: SeatId) -> dict[str, Any]:
    """What the join page needs before the seat is taken (JSON-ready): the role, and
    the two of its permitted actions that do not depend on the room."""
    return {
        "role": role_of(seat).value,
        "actions": {"publish": publishes(seat), "consent": answers_consent(seat)},
    }


def permitted_actions(room: Room, seat: SeatId, briefs: Iterable[str]) -> dict[str, Any]:
    """What `seat` may do next in `room` (JSON-ready); `briefs`: the brief keys it may read."""
    caps = CAPABILITIES[role_of(seat)]
    return {
        "phases": phases_now(room, seat),
        "phase_controls": list(phase_controls(seat, room.party_seats)),
        "whisper": Capability.WHISPER in caps,
        "annotate": Capability.ANNOTATE in caps,
        "briefs": sorted(briefs),
        "publish": publishes(seat),
        # After the end nothing more is recorded: there is no answer left to give.
        "consent": answers_consent(seat) and room.phase.kind is not PhaseKind.ENDED,
    }
