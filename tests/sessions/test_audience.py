"""Who receives whom, per phase, and the privacy properties over random rooms."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sessions.audience import Route, audience, sources_of
from sessions.errors import DomainError
from sessions.ids import SeatId
from sessions.media_kinds import MediaKind
from sessions.phases import PhaseKind
from sessions.roles import COACH_SEAT, MEDIATOR_SEAT, Role, role_of
from sessions.rooms import Room
from sessions.scenarios import ObserverView
from tests.builders import in_phase, room_with

ALL_TRAINEES = {"mediator", "party_a", "party_b"}


def receives(room: Room) -> dict[str, set[str]]:
    routes = audience(room)
    return {seat: set(sources_of(routes, seat)) for seat in room.seats}


def test_in_the_joint_session_trainees_receive_each_other_and_the_coach_receives_all() -> None:
    got = receives(in_phase(room_with(), "joint"))
    assert got["mediator"] == {"party_a", "party_b"}
    assert got["party_a"] == {"mediator", "party_b"}
    assert got["party_b"] == {"mediator", "party_a"}
    assert got["coach"] == ALL_TRAINEES
    assert got["observer_1"] == ALL_TRAINEES
    assert got["admin"] == ALL_TRAINEES | {"coach"}


def test_in_caucus_with_party_a_party_b_receives_neither_of_them() -> None:
    got = receives(in_phase(room_with(), "joint", "caucus:party_a"))
    assert got["mediator"] == {"party_a"}
    assert got["party_a"] == {"mediator"}
    assert got["party_b"] == set()
    assert got["coach"] == ALL_TRAINEES
    assert got["observer_1"] == set()


def test_observers_watch_caucuses_only_when_the_scenario_allows() -> None:
    room = room_with(observer_view=ObserverView.ALL)
    got = receives(in_phase(room, "joint", "caucus:party_b"))
    assert got["observer_1"] == ALL_TRAINEES
    assert got["party_a"] == set()


def test_in_a_time_out_everyone_receives_the_coach() -> None:
    got = receives(in_phase(room_with(), "joint", "caucus:party_a", "timeout"))
    for seat in ("mediator", "party_a", "party_b", "observer_1", "admin"):
        assert "coach" in got[seat], seat
    assert got["party_b"] == {"mediator", "party_a", "coach"}


def test_the_coach_is_heard_in_lobby_and_debrief_but_not_during_the_role_play() -> None:
    assert "coach" in receives(room_with())["party_a"]
    assert "coach" not in receives(in_phase(room_with(), "joint"))["party_a"]
    assert "coach" in receives(in_phase(room_with(), "joint", "debrief"))["party_a"]


def test_nobody_receives_anything_once_ended() -> None:
    assert audience(in_phase(room_with(), "joint", "ended")) == frozenset()


def test_each_route_carries_audio_and_video_of_a_publishing_seat() -> None:
    routes = audience(in_phase(room_with(), "joint"))
    assert Route(SeatId("party_a"), SeatId("mediator"), MediaKind.AUDIO) in routes
    assert Route(SeatId("party_a"), SeatId("mediator"), MediaKind.VIDEO) in routes
    assert not any(role_of(r.publisher) in (Role.OBSERVER, Role.ADMIN) for r in routes)


# --- properties over random rooms and phase sequences ---------------------------------

REQUESTS = st.sampled_from(
    [
        "joint",
        "caucus:party_a",
        "caucus:party_b",
        "caucus:party_c",
        "caucus:party_d",
        "timeout",
        "resume",
        "debrief",
        "ended",
    ]
)
DRIVERS = st.sampled_from([COACH_SEAT, MEDIATOR_SEAT, SeatId("admin"), SeatId("party_a")])


@st.composite
def rooms(draw: st.DrawFn) -> Room:
    parties = draw(st.integers(2, 4))
    observers = draw(st.integers(0, 3))
    view = draw(st.sampled_from(list(ObserverView)))
    room = room_with(parties=parties, observers=observers, observer_view=view)
    for _ in range(draw(st.integers(0, 12))):
        try:
            room, _ = room.change_phase(draw(DRIVERS), draw(REQUESTS), at_ms=0)
        except DomainError:
            pass  # refused requests leave the room as it was
    return room


@settings(max_examples=500)
@given(rooms())
def test_nobody_ever_receives_their_own_media(room: Room) -> None:
    assert all(r.publisher != r.subscriber for r in audience(room))


@settings(max_examples=500)
@given(rooms())
def test_a_caucus_is_heard_only_by_its_two_members_and_those_who_may_watch(room: Room) -> None:
    if room.phase.kind is not PhaseKind.CAUCUS:
        return
    members = {MEDIATOR_SEAT, room.phase.caucus_seat}
    watchers_allowed = room.scenario.observer_view is ObserverView.ALL
    for route in audience(room):
        if route.publisher in members and route.subscriber not in members:
            role = role_of(route.subscriber)
            assert role in (Role.COACH, Role.ADMIN) or (
                role is Role.OBSERVER and watchers_allowed
            ), route
    for party in room.party_seats:
        if party not in members:
            assert sources_of(audience(room), party) == frozenset(), party


@settings(max_examples=300)
@given(rooms())
def test_the_coach_receives_every_publisher_in_every_phase_but_the_end(room: Room) -> None:
    heard = sources_of(audience(room), COACH_SEAT)
    if room.phase.kind is PhaseKind.ENDED:
        assert heard == frozenset()
    else:
        assert heard == {MEDIATOR_SEAT, *room.party_seats}
