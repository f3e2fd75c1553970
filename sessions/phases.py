"""The phase machine: lobby → joint ⇄ caucus(party) ⇄ timeout → debrief → ended.

A transition is a pure function of the current phase, the phase a time-out
will resume, the request and who made it; it returns the new phases or raises
an error naming the rule that was broken.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sessions.errors import InvalidTransition, NotPermitted
from sessions.ids import SeatId
from sessions.roles import CAPABILITIES, PARTY_SEATS, Capability, Role, role_of


class PhaseKind(StrEnum):
    LOBBY = "lobby"
    JOINT = "joint"
    CAUCUS = "caucus"
    TIMEOUT = "timeout"
    DEBRIEF = "debrief"
    ENDED = "ended"


@dataclass(frozen=True)
class Phase:
    kind: PhaseKind
    #: the party seat in private caucus with the mediator; only for CAUCUS
    caucus_seat: SeatId | None = None

    def __post_init__(self) -> None:
        if self.kind is PhaseKind.CAUCUS:
            if self.caucus_seat not in PARTY_SEATS:
                raise InvalidTransition(
                    f"a caucus is held with one party seat, not {self.caucus_seat!r}"
                )
        elif self.caucus_seat is not None:
            raise InvalidTransition(f"only a caucus names a seat, not {self.kind.value}")

    def __str__(self) -> str:
        if self.kind is PhaseKind.CAUCUS:
            return f"caucus:{self.caucus_seat}"
        return self.kind.value

    @classmethod
    def parse(cls, text: str) -> Phase:
        kind_text, _, seat = text.partition(":")
        try:
            kind = PhaseKind(kind_text)
        except ValueError:
            raise InvalidTransition(f"no phase is called {text!r}") from None
        return cls(kind, SeatId(seat) if seat else None)

    @property
    def in_role_play(self) -> bool:
        """Joint session or caucus: the trainees are playing their roles."""
        return self.kind in (PhaseKind.JOINT, PhaseKind.CAUCUS)


LOBBY = Phase(PhaseKind.LOBBY)
JOINT = Phase(PhaseKind.JOINT)
TIMEOUT = Phase(PhaseKind.TIMEOUT)
DEBRIEF = Phase(PhaseKind.DEBRIEF)
ENDED = Phase(PhaseKind.ENDED)

#: the request that ends a time-out and returns to the phase it interrupted
RESUME = "resume"


@dataclass(frozen=True)
class PhaseState:
    """The current phase and, during a time-out, the phase it will resume."""

    phase: Phase = LOBBY
    resume_to: Phase | None = None


def _edge_allowed(current: Phase, target: Phase) -> bool:
    k, t = current.kind, target.kind
    if k is PhaseKind.ENDED:
        return False
    if t is PhaseKind.ENDED:
        return True
    if t is PhaseKind.JOINT:
        return k in (PhaseKind.LOBBY, PhaseKind.CAUCUS)
    if t is PhaseKind.CAUCUS:
        return k is PhaseKind.JOINT or (k is PhaseKind.CAUCUS and current != target)
    if t is PhaseKind.TIMEOUT:
        return current.in_role_play
    if t is PhaseKind.DEBRIEF:
        return current.in_role_play or k is PhaseKind.TIMEOUT
    return False  # nothing returns to the lobby


def _may_trigger(role: Role, current: Phase, target: Phase) -> bool:
    caps = CAPABILITIES[role]
    if Capability.DRIVE_PHASES in caps:
        return True
    # The mediator runs the process: calling and ending a caucus is theirs.
    moves_caucus = current.in_role_play and target.in_role_play
    return Capability.CALL_CAUCUS in caps and moves_caucus


def transition(state: PhaseState, request: str, by: SeatId) -> PhaseState:
    """The phase state after seat `by` asks for `request` (a phase name or "resume")."""
    role = role_of(by)
    if request == RESUME:
        if state.phase.kind is not PhaseKind.TIMEOUT or state.resume_to is None:
            raise InvalidTransition("only a time-out can be resumed")
        if Capability.DRIVE_PHASES not in CAPABILITIES[role]:
            raise NotPermitted(f"a {role.value} may not end a time-out")
        return PhaseState(state.resume_to, None)
    target = Phase.parse(request)
    if not _edge_allowed(state.phase, target):
        raise InvalidTransition(f"cannot go from {state.phase} to {target}")
    if not _may_trigger(role, state.phase, target):
        raise NotPermitted(
            f"a {role.value} may not move the session from {state.phase} to {target}"
        )
    if target.kind is PhaseKind.TIMEOUT:
        return PhaseState(target, state.phase)
    return PhaseState(target, None)
