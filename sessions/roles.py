"""Roles and the capabilities each grants; a seat's role follows from its name."""

from __future__ import annotations

import re
from enum import Flag, StrEnum, auto

from sessions.errors import UnknownSeat
from sessions.ids import SeatId


class Role(StrEnum):
    MEDIATOR = "mediator"
    PARTY = "party"
    COACH = "coach"
    OBSERVER = "observer"
    ADMIN = "admin"


class Capability(Flag):
    NONE = 0
    PUBLISH_AUDIO = auto()
    PUBLISH_VIDEO = auto()
    RECEIVE = auto()
    #: may read the brief of its own seat
    READ_OWN_BRIEF = auto()
    #: may read every seat's brief (coach, admin)
    READ_ALL_BRIEFS = auto()
    #: may drive every phase transition
    DRIVE_PHASES = auto()
    #: may move between the joint session and a caucus (the mediator runs the process)
    CALL_CAUCUS = auto()
    ANNOTATE = auto()
    WHISPER = auto()
    #: absent from trainees' rosters while trainees do not receive its media
    HIDDEN = auto()
    #: receives every publisher in every phase, caucuses included
    RECEIVE_ALL = auto()


_PUBLISH = Capability.PUBLISH_AUDIO | Capability.PUBLISH_VIDEO

CAPABILITIES: dict[Role, Capability] = {
    Role.MEDIATOR: _PUBLISH
    | Capability.RECEIVE
    | Capability.READ_OWN_BRIEF
    | Capability.CALL_CAUCUS
    | Capability.WHISPER,
    Role.PARTY: _PUBLISH | Capability.RECEIVE | Capability.READ_OWN_BRIEF,
    Role.COACH: _PUBLISH
    | Capability.RECEIVE
    | Capability.RECEIVE_ALL
    | Capability.READ_OWN_BRIEF
    | Capability.READ_ALL_BRIEFS
    | Capability.DRIVE_PHASES
    | Capability.ANNOTATE
    | Capability.WHISPER
    | Capability.HIDDEN,
    Role.OBSERVER: Capability.RECEIVE | Capability.READ_OWN_BRIEF | Capability.HIDDEN,
    Role.ADMIN: Capability.RECEIVE
    | Capability.RECEIVE_ALL
    | Capability.READ_ALL_BRIEFS
    | Capability.DRIVE_PHASES
    | Capability.ANNOTATE
    | Capability.HIDDEN,
}

TRAINEE_ROLES = frozenset({Role.MEDIATOR, Role.PARTY})

MEDIATOR_SEAT = SeatId("mediator")
COACH_SEAT = SeatId("coach")
ADMIN_SEAT = SeatId("admin")
PARTY_SEATS: tuple[SeatId, ...] = tuple(SeatId(f"party_{c}") for c in "abcd")
MIN_PARTIES, MAX_PARTIES = 2, 4
MAX_OBSERVERS = 8

_OBSERVER_SEAT = re.compile(r"observer_([1-9])")


def role_of(seat: SeatId) -> Role:
    """The role that sits in `seat`; the seat name alone decides it."""
    if seat == MEDIATOR_SEAT:
        return Role.MEDIATOR
    if seat in PARTY_SEATS:
        return Role.PARTY
    if seat == COACH_SEAT:
        return Role.COACH
    if seat == ADMIN_SEAT:
        return Role.ADMIN
    match = _OBSERVER_SEAT.fullmatch(seat)
    if match and int(match.group(1)) <= MAX_OBSERVERS:
        return Role.OBSERVER
    raise UnknownSeat(f"no seat is called {seat!r}")


STAFF = frozenset({Role.COACH, Role.ADMIN})


def is_staff(seat: SeatId) -> bool:
    """Whether `seat` runs the training (coach, admin): they see every caucus, note and reply."""
    return role_of(seat) in STAFF


def can(seat: SeatId, capability: Capability) -> bool:
    return capability in CAPABILITIES[role_of(seat)]


def observer_seat(n: int) -> SeatId:
    return SeatId(f"observer_{n}")
