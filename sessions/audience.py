"""Who receives whom: the one rule the media layer applies and never re-derives."""

from __future__ import annotations

from dataclasses import dataclass

from sessions.ids import SeatId
from sessions.media_kinds import MediaKind
from sessions.phases import PhaseKind
from sessions.roles import MEDIATOR_SEAT, Capability, Role, can, role_of
from sessions.rooms import Room
from sessions.scenarios import ObserverView


@dataclass(frozen=True, order=True)
class Route:
    """`subscriber` receives `publisher`'s media of `kind`."""

    publisher: SeatId
    subscriber: SeatId
    kind: MediaKind

    def __post_init__(self) -> None:
        if self.publisher == self.subscriber:
            raise ValueError(f"seat {self.publisher} cannot receive its own media")


def _publishes(seat: SeatId) -> tuple[MediaKind, ...]:
    return tuple(
        kind
        for kind, cap in (
            (MediaKind.AUDIO, Capability.PUBLISH_AUDIO),
            (MediaKind.VIDEO, Capability.PUBLISH_VIDEO),
        )
        if can(seat, cap)
    )


def hears(room: Room, publisher: SeatId, subscriber: SeatId) -> bool:
    """Whether `subscriber` receives `publisher` in the room's current phase."""
    phase = room.phase
    if publisher == subscriber or phase.kind is PhaseKind.ENDED:
        return False
    if not can(subscriber, Capability.RECEIVE):
        return False
    if can(subscriber, Capability.RECEIVE_ALL):
        return True
    if role_of(publisher) is Role.COACH:
        # The coach watches silently while the role-play runs and speaks to
        # everyone before it, in a time-out and in the debrief.
        return phase.kind in _COACH_SPEAKS
    if phase.kind is not PhaseKind.CAUCUS:
        return True
    # A caucus is the mediator and one party, and whoever may watch caucuses.
    if role_of(subscriber) is Role.OBSERVER:
        return room.scenario.observer_view is ObserverView.ALL
    return {publisher, subscriber} == {MEDIATOR_SEAT, phase.caucus_seat}


_COACH_SPEAKS = frozenset({PhaseKind.LOBBY, PhaseKind.TIMEOUT, PhaseKind.DEBRIEF})


def audience(room: Room) -> frozenset[Route]:
    """Every (publisher, subscriber, kind) the room's seats and phase allow."""
    return frozenset(
        Route(publisher, subscriber, kind)
        for publisher in room.seats
        for kind in _publishes(publisher)
        for subscriber in room.seats
        if hears(room, publisher, subscriber)
    )


def sources_of(routes: frozenset[Route], subscriber: SeatId) -> frozenset[SeatId]:
    """The seats whose media reaches `subscriber`."""
    return frozenset(r.publisher for r in routes if r.subscriber == subscriber)
