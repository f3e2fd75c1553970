"""Who may be recorded, and when recording may run at all."""

from __future__ import annotations

from sessions.ids import SeatId
from sessions.phases import Phase, PhaseKind
from sessions.roles import MEDIATOR_SEAT, TRAINEE_ROLES, Capability, Role, can, is_staff, role_of
from sessions.rooms import Consent, Room
from sessions.scenarios import ObserverView


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


PUBLIC = "public"


def visibility_of(phase: Phase, seat: SeatId | None = None) -> str:
    """Who may later watch what `seat` publishes in `phase` (seat None: the phase itself).

    Everyone, outside caucuses. In a caucus, its two members' media belongs to the
    caucus; anyone else's (a party waiting outside, the silent coach) was seen by
    nobody live, so only that seat itself and the staff may watch it.
    """
    if phase.kind is not PhaseKind.CAUCUS:
        return PUBLIC
    if seat is None or seat in (MEDIATOR_SEAT, phase.caucus_seat):
        return str(phase)
    return f"seat:{seat}"


def may_watch(viewer: SeatId, visibility: str, observer_view: ObserverView) -> bool:
    """Whether the person who sat in `viewer` may watch a recorded stretch afterwards.

    A caucus stays private to its members: a party never watches another party's caucus.
    """
    if visibility == PUBLIC:
        return True
    if is_staff(viewer):
        return True
    role = role_of(viewer)
    if visibility.startswith("seat:"):
        return visibility == f"seat:{viewer}"
    if role is Role.MEDIATOR:
        return True
    if role is Role.OBSERVER:
        return observer_view is ObserverView.ALL
    return visibility == f"caucus:{viewer}"
