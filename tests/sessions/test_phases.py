"""Every phase transition, for every role: allowed exactly where the table says."""

from __future__ import annotations

import itertools

import pytest

from sessions.errors import InvalidTransition, NotPermitted
from sessions.ids import SeatId
from sessions.phases import (
    DEBRIEF,
    ENDED,
    JOINT,
    LOBBY,
    RESUME,
    TIMEOUT,
    Phase,
    PhaseKind,
    PhaseState,
    transition,
)

CAUCUS_A = Phase(PhaseKind.CAUCUS, SeatId("party_a"))
CAUCUS_B = Phase(PhaseKind.CAUCUS, SeatId("party_b"))
STATES = [
    PhaseState(LOBBY),
    PhaseState(JOINT),
    PhaseState(CAUCUS_A),
    PhaseState(CAUCUS_B),
    PhaseState(TIMEOUT, JOINT),
    PhaseState(TIMEOUT, CAUCUS_A),
    PhaseState(DEBRIEF),
    PhaseState(ENDED),
]
REQUESTS = ["joint", "caucus:party_a", "caucus:party_b", "timeout", RESUME, "debrief", "ended"]
SEATS = [SeatId(s) for s in ("coach", "admin", "mediator", "party_a", "party_b", "observer_1")]
DRIVERS = {"coach", "admin"}

# (from, request) -> (to, resume_to, who besides the drivers may ask)
ALLOWED: dict[tuple[PhaseState, str], tuple[PhaseState, set[str]]] = {
    (PhaseState(LOBBY), "joint"): (PhaseState(JOINT), set()),
    (PhaseState(LOBBY), "ended"): (PhaseState(ENDED), set()),
    (PhaseState(JOINT), "caucus:party_a"): (PhaseState(CAUCUS_A), {"mediator"}),
    (PhaseState(JOINT), "caucus:party_b"): (PhaseState(CAUCUS_B), {"mediator"}),
    (PhaseState(JOINT), "timeout"): (PhaseState(TIMEOUT, JOINT), set()),
    (PhaseState(JOINT), "debrief"): (PhaseState(DEBRIEF), set()),
    (PhaseState(JOINT), "ended"): (PhaseState(ENDED), set()),
    (PhaseState(CAUCUS_A), "joint"): (PhaseState(JOINT), {"mediator"}),
    (PhaseState(CAUCUS_A), "caucus:party_b"): (PhaseState(CAUCUS_B), {"mediator"}),
    (PhaseState(CAUCUS_A), "timeout"): (PhaseState(TIMEOUT, CAUCUS_A), set()),
    (PhaseState(CAUCUS_A), "debrief"): (PhaseState(DEBRIEF), set()),
    (PhaseState(CAUCUS_A), "ended"): (PhaseState(ENDED), set()),
    (PhaseState(CAUCUS_B), "joint"): (PhaseState(JOINT), {"mediator"}),
    (PhaseState(CAUCUS_B), "caucus:party_a"): (PhaseState(CAUCUS_A), {"mediator"}),
    (PhaseState(CAUCUS_B), "timeout"): (PhaseState(TIMEOUT, CAUCUS_B), set()),
    (PhaseState(CAUCUS_B), "debrief"): (PhaseState(DEBRIEF), set()),
    (PhaseState(CAUCUS_B), "ended"): (PhaseState(ENDED), set()),
    (PhaseState(TIMEOUT, JOINT), RESUME): (PhaseState(JOINT), set()),
    (PhaseState(TIMEOUT, JOINT), "debrief"): (PhaseState(DEBRIEF), set()),
    (PhaseState(TIMEOUT, JOINT), "ended"): (PhaseState(ENDED), set()),
    (PhaseState(TIMEOUT, CAUCUS_A), RESUME): (PhaseState(CAUCUS_A), set()),
    (PhaseState(TIMEOUT, CAUCUS_A), "debrief"): (PhaseState(DEBRIEF), set()),
    (PhaseState(TIMEOUT, CAUCUS_A), "ended"): (PhaseState(ENDED), set()),
    (PhaseState(DEBRIEF), "ended"): (PhaseState(ENDED), set()),
}


@pytest.mark.parametrize(
    ("state", "request_", "seat"),
    list(itertools.product(STATES, REQUESTS, SEATS)),
    ids=lambda v: str(getattr(v, "phase", v)),
)
def test_a_transition_happens_only_where_the_table_allows_it_and_for_whom(
    state: PhaseState, request_: str, seat: SeatId
) -> None:
    expected = ALLOWED.get((state, request_))
    if expected is None:
        with pytest.raises(InvalidTransition):
            transition(state, request_, seat)
        return
    new_state, others = expected
    if seat in DRIVERS or seat in others:
        assert transition(state, request_, seat) == new_state
    else:
        with pytest.raises(NotPermitted):
            transition(state, request_, seat)


@pytest.mark.parametrize(
    "text", ["caucus", "caucus:mediator", "caucus:coach", "joint:party_a", "lobby:x", "recess", ""]
)
def test_a_malformed_phase_name_is_refused(text: str) -> None:
    with pytest.raises(InvalidTransition):
        transition(PhaseState(JOINT), text, SeatId("coach"))


def test_phase_names_round_trip_through_text() -> None:
    for phase in (LOBBY, JOINT, CAUCUS_A, TIMEOUT, DEBRIEF, ENDED):
        assert Phase.parse(str(phase)) == phase


def test_nothing_leaves_the_ended_phase() -> None:
    for request_ in REQUESTS:
        with pytest.raises(InvalidTransition):
            transition(PhaseState(ENDED), request_, SeatId("coach"))
