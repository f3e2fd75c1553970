"""Seats, joins, drops and timers: every refused request leaves the room as it was."""

from __future__ import annotations

import pytest

from sessions.errors import DomainError, NotPermitted, NotSeated, SeatTaken, UnknownSeat
from sessions.ids import Identity, RoomId, SeatId
from sessions.roles import Role, role_of
from sessions.rooms import JoinOutcome, Room
from sessions.timeline import EventKind
from tests.builders import in_phase, room_with, scenario


def test_a_room_has_a_mediator_its_parties_a_coach_observers_and_an_admin_seat() -> None:
    room = Room.create(RoomId("r"), scenario(parties=3), observers=2)
    assert room.seats == (
        "mediator",
        "party_a",
        "party_b",
        "party_c",
        "coach",
        "observer_1",
        "observer_2",
        "admin",
    )


def test_joining_seats_a_participant_and_stamps_the_event() -> None:
    room = room_with("mediator")
    room, outcome, event = room.join(Identity("p"), "Pat", SeatId("party_a"), at_ms=1234)
    assert outcome is JoinOutcome.JOINED
    assert (event.t_ms, event.kind, event.seat) == (1234, EventKind.JOIN, "party_a")
    assert room.participants[SeatId("party_a")].role is Role.PARTY


def test_a_dropped_participant_resumes_their_seat_and_a_live_one_is_replaced() -> None:
    room = room_with("party_a")
    room, _ = room.drop(SeatId("party_a"), at_ms=10)
    assert not room.participants[SeatId("party_a")].connected
    room, outcome, _ = room.join(Identity("id-party_a"), "P", SeatId("party_a"), at_ms=20)
    assert outcome is JoinOutcome.RESUMED
    room, outcome, event = room.join(Identity("id-party_a"), "P", SeatId("party_a"), at_ms=30)
    assert outcome is JoinOutcome.REPLACED and event.kind is EventKind.REPLACE


@pytest.mark.parametrize(
    ("identity", "seat", "error"),
    [
        ("someone-else", "party_a", SeatTaken),  # held, even while dropped
        ("id-mediator", "party_b", SeatTaken),  # one identity, one seat
        ("new", "party_c", UnknownSeat),  # two-party room
        ("new", "observer_9", UnknownSeat),
        ("new", "chair", UnknownSeat),
    ],
)
def test_a_refused_join_changes_nothing(identity: str, seat: str, error: type) -> None:
    room = room_with("mediator", "party_a")
    room, _ = room.drop(SeatId("party_a"), at_ms=5)
    with pytest.raises(error):
        room.join(Identity(identity), "X", SeatId(seat), at_ms=9)
    assert set(room.participants) == {"mediator", "party_a"}


def test_nobody_joins_an_ended_room() -> None:
    room = in_phase(room_with("coach"), "ended")
    with pytest.raises(NotPermitted):
        room.join(Identity("late"), "Late", SeatId("party_a"), at_ms=0)


def test_leaving_releases_the_seat() -> None:
    room, event = room_with("party_a").leave(SeatId("party_a"), at_ms=7, reason="grace_expired")
    assert SeatId("party_a") not in room.participants
    assert event.detail == {"reason": "grace_expired"}
    with pytest.raises(NotSeated):
        room.leave(SeatId("party_a"), at_ms=8)


def test_a_phase_change_restarts_the_timer_with_the_planned_length() -> None:
    room, event = room_with().change_phase(SeatId("coach"), "joint", at_ms=5000)
    assert room.timer.started_ms == 5000 and room.timer.planned_ms == 15 * 60_000
    assert room.timer.remaining_ms(65_000) == 14 * 60_000
    assert event.detail["phase"] == "joint" and event.detail["from"] == "lobby"
    room, _ = room.change_phase(SeatId("coach"), "timeout", at_ms=6000, planned_ms=90_000)
    assert room.timer.planned_ms == 90_000


def test_a_caucus_with_a_seat_the_room_lacks_is_refused() -> None:
    room = in_phase(room_with(), "joint")
    with pytest.raises(UnknownSeat):
        room.change_phase(SeatId("coach"), "caucus:party_d", at_ms=1)


@pytest.mark.parametrize(("seat", "target"), [("coach", "mediator"), ("mediator", "coach")])
def test_whispers_run_between_coach_and_mediator(seat: str, target: str) -> None:
    assert room_with().whisper_target(SeatId(seat)) == target


@pytest.mark.parametrize("seat", ["party_a", "observer_1", "admin"])
def test_nobody_else_may_whisper(seat: str) -> None:
    with pytest.raises(DomainError):
        room_with().whisper_target(SeatId(seat))


def test_seat_names_decide_roles() -> None:
    assert role_of(SeatId("observer_3")) is Role.OBSERVER
    with pytest.raises(UnknownSeat):
        role_of(SeatId("observer_0"))


def test_staff_outside_the_room_end_it_as_the_coach_would() -> None:
    room = in_phase(room_with("mediator", "coach"), "joint")
    ended, event = room.end(at_ms=9000, by="admin-token")
    assert ended.phase.kind.value == "ended" and ended.timer.started_ms == 9000
    assert (event.kind, event.seat) == (EventKind.PHASE, None)
    assert event.detail == {
        "phase": "ended",
        "from": "joint",
        "planned_ms": None,
        "by": "admin-token",
    }
    with pytest.raises(DomainError):
        ended.end(at_ms=9001, by="admin-token")
