"""What a reviewer may do on a recording, per seat: the playback page's controls."""

from __future__ import annotations

import pytest

from sessions.annotations import Draft, Visibility, check_draft
from sessions.errors import DomainError
from sessions.ids import RoomId, SeatId
from sessions.review_actions import reviewer_actions, roles_of
from sessions.roles import CAPABILITIES, Capability, role_of
from sessions.rooms import Room
from sessions.scenarios import builtin_scenarios

SEATS = tuple(
    SeatId(s) for s in ("mediator", "party_a", "party_b", "coach", "observer_1", "observer_2")
)
TRAINEES = [SeatId("mediator"), SeatId("party_a"), SeatId("party_b")]


@pytest.mark.parametrize(
    ("viewer", "staff", "annotate", "reply"),
    [
        (None, True, True, "any"),
        ("coach", True, True, "any"),
        ("mediator", False, False, "addressed"),
        ("party_b", False, False, "addressed"),
        ("observer_1", False, False, "none"),
    ],
)
def test_each_seat_is_told_what_it_may_do_on_a_recording(
    viewer: str | None, staff: bool, annotate: bool, reply: str
) -> None:
    seat = None if viewer is None else SeatId(viewer)
    identity = None if seat is None else f"room:{seat}"
    actions = reviewer_actions(seat, identity, reversed(SEATS))
    assert actions == {
        "seat": seat,
        "role": "admin" if seat is None else role_of(seat).value,
        "identity": identity,
        "admin": seat is None,
        "staff": staff,
        "may_annotate": annotate,
        "may_reply": reply,
        "note_targets": TRAINEES,
    }


@pytest.mark.parametrize("seat", [None, *SEATS])
def test_may_annotate_is_what_check_draft_accepts(seat: SeatId | None) -> None:
    scenario = next(s for s in builtin_scenarios().values() if len(s.party_seats) == 2)
    seats = Room.create(RoomId("room"), scenario, 2).seats
    actions = reviewer_actions(seat, None, seats)
    draft = Draft(t_ms=0, text="good reframe", visibility=Visibility.COACH)
    try:
        check_draft(draft, seat, scenario, seats, 1000)
        accepted = True
    except DomainError:
        accepted = False
    assert actions["may_annotate"] is accepted
    for target in seats:
        addressed = Draft(t_ms=0, text="x", target=target, visibility=Visibility.TARGET)
        try:
            check_draft(addressed, None, scenario, seats, 1000)
            ok = True
        except DomainError:
            ok = False
        assert ok is (target in actions["note_targets"]), target
    if seat is not None:
        assert actions["may_annotate"] is (Capability.ANNOTATE in CAPABILITIES[role_of(seat)])


def test_roles_are_given_for_seats_only_in_the_order_people_expect() -> None:
    named = ["observer_1", "coach", "party_b", "not-a-seat", "mediator", "party_a", "coach"]
    assert roles_of(named) == {
        "mediator": "mediator",
        "party_a": "party",
        "party_b": "party",
        "coach": "coach",
        "observer_1": "observer",
    }
    assert list(roles_of(named)) == ["mediator", "party_a", "party_b", "coach", "observer_1"]
