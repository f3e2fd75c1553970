"""Builders for domain objects used across the test suite."""

from __future__ import annotations

from sessions.ids import Identity, RoomId, ScenarioId, SeatId
from sessions.phases import Phase, PhaseKind
from sessions.roles import PARTY_SEATS
from sessions.rooms import Room
from sessions.scenarios import ObserverView, PartyRole, PlanStep, Scenario, Skill


def scenario(parties: int = 2, observer_view: ObserverView = ObserverView.JOINT_ONLY) -> Scenario:
    seats = PARTY_SEATS[:parties]
    briefs = {"mediator": "BRIEF-mediator", "coach": "BRIEF-coach", "observer": "BRIEF-observer"}
    briefs.update({seat: f"BRIEF-{seat}" for seat in seats})
    return Scenario(
        id=ScenarioId("test-case"),
        title="Test case",
        summary="A public summary.",
        parties=tuple(PartyRole(seat, f"Name {seat}", f"Label {seat}") for seat in seats),
        briefs=briefs,
        rubric=(Skill("active_listening", "Active listening", "Reflects back."),),
        plan=(
            PlanStep(Phase(PhaseKind.JOINT), 15),
            PlanStep(Phase(PhaseKind.CAUCUS, seats[0]), 8),
            PlanStep(Phase(PhaseKind.DEBRIEF), 10),
        ),
        observer_view=observer_view,
    )


def room_with(
    *seats: str,
    parties: int = 2,
    observers: int = 1,
    observer_view: ObserverView = ObserverView.JOINT_ONLY,
) -> Room:
    """A room with a participant in each of `seats` (all seats when none are named)."""
    room = Room.create(RoomId("r1"), scenario(parties, observer_view), observers=observers)
    for seat in seats or room.seats:
        room, _, _ = room.join(Identity(f"id-{seat}"), f"Person {seat}", SeatId(seat), at_ms=0)
    return room


def in_phase(room: Room, *requests: str) -> Room:
    """`room` after the coach makes each phase request in turn."""
    for request in requests:
        room, _ = room.change_phase(SeatId("coach"), request, at_ms=0)
    return room
