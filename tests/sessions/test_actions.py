"""A seat's permitted actions agree with the rules that enforce them, in every phase."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessions.actions import permitted_actions, phase_controls, phases_now, seat_facts
from sessions.errors import DomainError
from sessions.ids import SeatId
from sessions.phases import RESUME
from sessions.rooms import Room
from sessions.views import view_for, visible_briefs
from tests.builders import in_phase, room_with

SEATS = ["mediator", "party_a", "party_b", "coach", "observer_1", "admin"]
REQUESTS = ["joint", "caucus:party_a", "caucus:party_b", "timeout", RESUME, "debrief", "ended"]
CAUCUS_MOVES = ["joint", "caucus:party_a", "caucus:party_b"]

# phase reached by the coach's requests -> what the mediator and the coach may ask now
NOW: list[tuple[list[str], list[str], list[str]]] = [
    ([], [], ["joint", "ended"]),
    (
        ["joint"],
        ["caucus:party_a", "caucus:party_b"],
        [*CAUCUS_MOVES[1:], "timeout", "debrief", "ended"],
    ),
    (
        ["joint", "caucus:party_a"],
        ["joint", "caucus:party_b"],
        ["joint", "caucus:party_b", "timeout", "debrief", "ended"],
    ),
    (["joint", "timeout"], [], [RESUME, "debrief", "ended"]),
    (["joint", "debrief"], [], ["ended"]),
    (["joint", "ended"], [], []),
]


def accepted(room: Room, seat: str) -> list[str]:
    """The requests `change_phase` accepts from `seat`, asked one by one."""
    ok = []
    for request in REQUESTS:
        try:
            room.change_phase(SeatId(seat), request, at_ms=0)
        except DomainError:
            continue
        ok.append(request)
    return ok


@pytest.mark.parametrize(("path", "mediator", "coach"), NOW)
def test_a_party_may_ask_nothing_the_mediator_the_caucus_moves_the_coach_the_rest(
    path: list[str], mediator: list[str], coach: list[str]
) -> None:
    room = in_phase(room_with(), *path)
    assert phases_now(room, SeatId("mediator")) == mediator
    assert phases_now(room, SeatId("coach")) == coach
    assert phases_now(room, SeatId("admin")) == coach
    for seat in ("party_a", "party_b", "observer_1"):
        assert phases_now(room, SeatId(seat)) == []


def test_the_phase_controls_are_the_requests_each_seat_could_ever_make() -> None:
    parties = (SeatId("party_a"), SeatId("party_b"))
    assert phase_controls(SeatId("mediator"), parties) == tuple(CAUCUS_MOVES)
    assert phase_controls(SeatId("coach"), parties) == tuple(REQUESTS)
    assert phase_controls(SeatId("party_a"), parties) == ()
    assert phase_controls(SeatId("observer_1"), parties) == ()
    three = (*parties, SeatId("party_c"))
    assert "caucus:party_c" in phase_controls(SeatId("mediator"), three)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["coach", "mediator"]), st.sampled_from(REQUESTS)), max_size=12
    )
)
def test_the_actions_list_exactly_what_change_phase_accepts_along_any_walk(
    walk: list[tuple[str, str]],
) -> None:
    room = room_with()
    for by, request in walk:
        for seat in SEATS:
            assert phases_now(room, SeatId(seat)) == accepted(room, seat), (str(room.phase), seat)
            ever = phase_controls(SeatId(seat), room.party_seats)
            assert set(accepted(room, seat)) <= set(ever)
        try:
            room, _ = room.change_phase(SeatId(by), request, at_ms=0)
        except DomainError:
            pass


@pytest.mark.parametrize(
    ("seat", "whisper", "annotate", "publish", "consent"),
    [
        ("mediator", True, False, True, True),
        ("party_a", False, False, True, True),
        ("coach", True, True, True, False),
        ("observer_1", False, False, False, False),
        ("admin", False, True, False, False),
    ],
)
def test_each_seat_is_told_what_it_may_do_besides_moving_phases(
    seat: str, whisper: bool, annotate: bool, publish: bool, consent: bool
) -> None:
    room = room_with()
    briefs = visible_briefs(room, SeatId(seat))
    actions = permitted_actions(room, SeatId(seat), briefs)
    assert actions["whisper"] is whisper
    assert actions["annotate"] is annotate
    assert actions["publish"] is publish
    assert actions["consent"] is consent
    assert actions["briefs"] == sorted(briefs)
    assert seat_facts(SeatId(seat))["actions"] == {"publish": publish, "consent": consent}


def test_a_trainee_may_read_only_their_own_brief_and_the_coach_every_brief() -> None:
    room = room_with()
    assert permitted_actions(room, SeatId("party_a"), visible_briefs(room, SeatId("party_a")))[
        "briefs"
    ] == ["party_a"]
    coach = permitted_actions(room, SeatId("coach"), visible_briefs(room, SeatId("coach")))
    assert coach["briefs"] == sorted(room.scenario.briefs)


def test_nobody_is_asked_about_recording_after_the_end() -> None:
    room = in_phase(room_with(), "joint", "ended")
    for seat in SEATS:
        assert permitted_actions(room, SeatId(seat), [])["consent"] is False


def test_each_roster_entry_says_whether_that_seat_publishes_and_answers_consent() -> None:
    view = view_for(room_with(), SeatId("coach"), now_ms=0)
    facts = {p["seat"]: (p["role"], p["actions"]) for p in view["roster"]}
    assert facts["party_a"] == ("party", {"publish": True, "consent": True})
    assert facts["coach"] == ("coach", {"publish": True, "consent": False})
    assert facts["observer_1"] == ("observer", {"publish": False, "consent": False})


def test_every_seats_room_state_carries_its_actions() -> None:
    room = in_phase(room_with(), "joint")
    for seat in SEATS:
        view = view_for(room, SeatId(seat), now_ms=0)
        assert view["actions"]["phases"] == accepted(room, seat)
        assert view["actions"]["briefs"] == sorted(view["briefs"])
