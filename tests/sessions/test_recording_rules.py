"""Nothing is recorded before every present trainee has answered; decliners never are."""

from __future__ import annotations

from sessions.ids import Identity, SeatId
from sessions.recording_rules import recorded_seats, recording_allowed
from sessions.rooms import Consent, Room
from tests.builders import in_phase, room_with


def answer(room: Room, **answers: bool) -> Room:
    for seat, given in answers.items():
        room, _ = room.answer_consent(SeatId(seat), given, at_ms=1)
    return room


def test_recording_waits_for_every_present_trainee_to_answer() -> None:
    room = in_phase(room_with("mediator", "party_a", "party_b", "coach"), "joint")
    assert not recording_allowed(room)
    room = answer(room, mediator=True, party_a=True)
    assert not recording_allowed(room) and recorded_seats(room) == frozenset()
    room = answer(room, party_b=True)
    assert recorded_seats(room) == {"mediator", "party_a", "party_b", "coach"}


def test_a_trainee_who_declines_is_not_recorded_but_the_others_are() -> None:
    room = in_phase(room_with("mediator", "party_a", "party_b", "coach"), "joint")
    room = answer(room, mediator=True, party_a=False, party_b=True)
    assert recorded_seats(room) == {"mediator", "party_b", "coach"}


def test_nothing_is_recorded_in_the_lobby_or_after_the_end() -> None:
    room = answer(
        room_with("mediator", "party_a", "party_b"), mediator=True, party_a=True, party_b=True
    )
    assert not recording_allowed(room)
    assert not recording_allowed(in_phase(room, "joint", "ended"))


def test_a_newcomer_pauses_recording_until_they_answer_and_a_resumer_keeps_their_answer() -> None:
    room = in_phase(room_with("mediator", "party_a"), "joint")
    room = answer(room, mediator=True, party_a=True)
    assert recording_allowed(room)
    room, _, _ = room.join(Identity("id-b"), "B", SeatId("party_b"), at_ms=5)
    assert not recording_allowed(room)
    room, _ = room.drop(SeatId("party_a"), at_ms=6)
    room, _, _ = room.join(room.participants[SeatId("party_a")].identity, "A", SeatId("party_a"), 7)
    assert room.participants[SeatId("party_a")].consent is Consent.GIVEN


def test_in_a_caucus_only_its_members_media_belongs_to_it() -> None:
    from sessions.phases import Phase, PhaseKind
    from sessions.recording_rules import may_watch, visibility_of
    from sessions.scenarios import ObserverView

    caucus = Phase(PhaseKind.CAUCUS, SeatId("party_a"))
    assert visibility_of(caucus, SeatId("mediator")) == "caucus:party_a"
    assert visibility_of(caucus, SeatId("party_a")) == "caucus:party_a"
    waiting = visibility_of(caucus, SeatId("party_b"))
    assert waiting == "seat:party_b"  # party_b waited alone: nobody saw it live
    views = ObserverView.JOINT_ONLY
    assert may_watch(SeatId("party_b"), waiting, views)
    assert not may_watch(SeatId("party_a"), waiting, views)
    assert not may_watch(SeatId("mediator"), waiting, views)
    assert may_watch(SeatId("coach"), waiting, views)
    assert not may_watch(SeatId("party_b"), "caucus:party_a", views)
