"""Who may be recorded, and when recording may run at all."""

from __future__ import annotations

from sessions.ids import SeatId
from sessions.phases import PhaseKind
from sessions.roles import TRAINEE_ROLES, Capability, can
from sessions.rooms import Consent, Room


def recording_allowed(room: Room) -> bool:
    """Recording runs only once every present trainee has answered the consent question,
    and only while the simulation is under way (not in the lobby, not after the end)."""
    if room.phase.kind in (PhaseKind.LOBBY, PhaseKind.ENDED):
        return False
    return all(
        p.consent is not Consent.PENDING
        for p in room.participants.values()
        if p.connected and p.role in TRAINEE_ROLES
    )


def recorded_seats(room: Room) -> frozenset[SeatId]:
    """The publishing seats whose media goes into the recording now.

    A trainee who declined is never recorded; the coach, who runs the session,
    is recorded whenever recording runs.
    """
    if not recording_allowed(room):
        return frozenset()
    return frozenset(
        seat
        for seat, p in room.participants.items()
        if p.connected
        and can(seat, Capability.PUBLISH_AUDIO)
        and (p.role not in TRAINEE_ROLES or p.consent is Consent.GIVEN)
    )
