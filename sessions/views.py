"""What each seat is shown of a room: the only state that leaves the server.

A trainee sees their own brief and never another seat's; hidden roles (coach,
observers, admin) are absent from a trainee's roster unless the trainee is
receiving their media at that moment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sessions.actions import permitted_actions, seat_facts
from sessions.audience import audience, sources_of
from sessions.ids import SeatId
from sessions.recording_rules import recorded_seats, recording_allowed
from sessions.roles import CAPABILITIES, TRAINEE_ROLES, Capability, is_staff, role_of
from sessions.rooms import Room


def visible_briefs(room: Room, viewer: SeatId) -> dict[str, str]:
    """The confidential briefs `viewer` may read, by brief key."""
    caps = CAPABILITIES[role_of(viewer)]
    briefs = room.scenario.briefs
    if Capability.READ_ALL_BRIEFS in caps:
        return dict(briefs)
    key = room.scenario.brief_key(viewer)
    if Capability.READ_OWN_BRIEF in caps and key in briefs:
        return {key: briefs[key]}
    return {}


def roster_for(
    room: Room,
    viewer: SeatId,
    hearing: frozenset[SeatId],
    media: Mapping[SeatId, str] | None = None,
) -> list[dict[str, Any]]:
    trainee = role_of(viewer) in TRAINEE_ROLES
    roster = []
    for seat in room.seats:
        participant = room.participants.get(seat)
        if participant is None:
            continue
        hidden = Capability.HIDDEN in CAPABILITIES[participant.role]
        if trainee and hidden and seat not in hearing and seat != viewer:
            continue
        roster.append(
            {
                "seat": seat,
                # role, and whether the seat publishes and answers the recording question
                **seat_facts(seat),
                "name": participant.name,
                "connected": participant.connected,
                "consent": participant.consent.value,
                "media": (media or {}).get(seat, "none"),
            }
        )
    return roster


def view_for(
    room: Room, viewer: SeatId, now_ms: int, media: Mapping[SeatId, str] | None = None
) -> dict[str, Any]:
    """The room as seat `viewer` may see it at session time `now_ms` (JSON-ready).

    `media`: each seat's media connection status ("connecting", "connected",
    "reconnecting"), as the media server knows it; absent seats show "none".
    """
    routes = audience(room)
    hearing = sources_of(routes, viewer)
    scenario = room.scenario
    phase = room.phase
    role = role_of(viewer)
    briefs = visible_briefs(room, viewer)
    return {
        "room": room.id,
        "now_ms": now_ms,
        "you": {
            "seat": viewer,
            "role": role.value,
            "capabilities": sorted(
                str(c.name).lower() for c in Capability if c and c in CAPABILITIES[role]
            ),
        },
        "scenario": {
            "id": scenario.id,
            "title": scenario.title,
            "summary": scenario.summary,
            "parties": [
                {"seat": p.seat, "name": p.name, "label": p.label} for p in scenario.parties
            ],
            "rubric": [{"id": s.id, "name": s.name} for s in scenario.rubric]
            if Capability.ANNOTATE in CAPABILITIES[role]
            else [],
        },
        "briefs": briefs,
        "phase": {
            "name": str(phase),
            "kind": phase.kind.value,
            "caucus_seat": phase.caucus_seat,
            "resume_to": str(room.phases.resume_to) if room.phases.resume_to else None,
            "started_ms": room.timer.started_ms,
            "planned_ms": room.timer.planned_ms,
        },
        "roster": roster_for(room, viewer, hearing, media),
        "receiving": sorted(hearing),
        "recording": recording_for(room, viewer),
        # What this seat may do next: the page enables its controls from this alone.
        "actions": permitted_actions(room, viewer, briefs),
    }


def recording_for(room: Room, viewer: SeatId) -> dict[str, Any]:
    """Whether the room records; the coach and admin also see a failed recording's reason."""
    on = recording_allowed(room)
    failed = on and room.recording_fault is not None
    return {
        "on": on,
        "you": viewer in recorded_seats(room),
        "status": ("failed" if failed else "recording") if on else "off",
        "fault": room.recording_fault if is_staff(viewer) and failed else None,
    }
