"""What a reviewer may do on a recording, and each seat's role: the playback page
enables its controls and names its tiles from these alone (docs/ARCHITECTURE.md §13).

Each answer comes from the rule that enforces it: new notes from the ANNOTATE
capability (`sessions.annotations.check_draft`), replies from
`sessions.annotations._check_reply` (trainees: feedback addressed to them), note
targets from the trainee seats `check_draft` accepts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any, Literal

from sessions.errors import UnknownSeat
from sessions.ids import SeatId
from sessions.roles import CAPABILITIES, TRAINEE_ROLES, Capability, Role, is_staff, role_of

#: which notes the viewer may reply to: every top-level note it sees, only those
#: addressed to its seat, or none
ReplyScope = Literal["any", "addressed", "none"]

_ORDER = (Role.MEDIATOR, Role.PARTY, Role.COACH, Role.OBSERVER, Role.ADMIN)


def seat_order(seat: SeatId) -> tuple[int, str]:
    """Mediator, parties, coach, observers: the order people expect seats in."""
    return _ORDER.index(role_of(seat)), seat


def reviewer_actions(
    viewer: SeatId | None, identity: str | None, room_seats: Iterable[SeatId]
) -> dict[str, Any]:
    """What the person in `viewer` (None: the admin) may do on a recording of a room
    with `room_seats`; `identity` is theirs (None: the admin), the author of their notes."""
    role = Role.ADMIN if viewer is None else role_of(viewer)
    staff = viewer is None or is_staff(viewer)
    replies: ReplyScope
    if staff:
        replies = "any"
    elif role in TRAINEE_ROLES:
        replies = "addressed"
    else:
        # check_draft would take an observer's reply, but the page never offered
        # observers one; kept as it was
        replies = "none"
    targets = sorted((s for s in room_seats if role_of(s) in TRAINEE_ROLES), key=seat_order)
    return {
        "seat": viewer,
        "role": role.value,
        "identity": identity,
        "admin": viewer is None,
        "staff": staff,
        "may_annotate": Capability.ANNOTATE in CAPABILITIES[role],
        "may_reply": replies,
        "note_targets": targets,
    }


def roles_of(seats: Iterable[str]) -> dict[str, str]:
    """Each seat's role, for the seats a response names (anything not a seat is left out)."""
    roles: dict[SeatId, Role] = {}
    for seat in map(SeatId, seats):
        with contextlib.suppress(UnknownSeat):
            roles[seat] = role_of(seat)
    return {seat: roles[seat].value for seat in sorted(roles, key=seat_order)}
