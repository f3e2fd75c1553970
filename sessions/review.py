"""What a person may see of a recorded session afterwards: phase bands and timeline."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sessions.ids import SeatId
from sessions.phases import Phase
from sessions.recording_rules import may_watch, visibility_of
from sessions.roles import STAFF, Role, is_staff, role_of
from sessions.scenarios import ObserverView

TimelineEvent = Mapping[str, Any]


def session_end_ms(events: Sequence[TimelineEvent], segment_ends: Iterable[int]) -> int:
    """Where a session ends on its clock: the moment it was ended, once it was (people
    leaving afterwards, or their held seats expiring, do not lengthen it); until then
    the latest recorded media or event."""
    for event in events:
        if event["kind"] == "phase" and event.get("phase") == "ended":
            return int(event["t_ms"])
    return max([*segment_ends, *(int(e["t_ms"]) for e in events), 0])


def ran_from_ms(events: Sequence[TimelineEvent]) -> int | None:
    """When the role-play began (the first phase past the lobby), or None if it never did."""
    for event in events:
        if event["kind"] == "phase" and event.get("phase") not in ("lobby", "ended"):
            return int(event["t_ms"])
    return None


def people_in(events: Sequence[TimelineEvent]) -> list[dict[str, str]]:
    """Who sat in the session, one entry per seat (the name it last joined under)."""
    names: dict[str, str] = {}
    for event in events:
        if event["kind"] in ("join", "resume", "replace") and event.get("seat"):
            name = event.get("name")
            if isinstance(name, str) and name:
                names[str(event["seat"])] = name
    return [{"seat": seat, "name": name} for seat, name in names.items()]


def may_name(viewer: SeatId | None, seat: SeatId) -> bool:
    """Whether a list shown to `viewer` (None: the admin) names who sat in `seat`:
    trainees were never shown who observed (nor the admin), so their lists do not either."""
    if viewer is None or is_staff(viewer) or role_of(viewer) is Role.OBSERVER:
        return True
    return role_of(seat) not in (Role.OBSERVER, Role.ADMIN)


def phase_bands(events: Sequence[TimelineEvent], end_ms: int) -> list[dict[str, Any]]:
    """Consecutive phases as [start, end) bands on the session clock."""
    bands: list[dict[str, Any]] = []
    current, start = "lobby", 0
    for event in events:
        if event["kind"] != "phase":
            continue
        if event["t_ms"] > start:
            bands.append({"phase": current, "start_ms": start, "end_ms": event["t_ms"]})
        current, start = str(event["phase"]), int(event["t_ms"])
    bands.append({"phase": current, "start_ms": start, "end_ms": max(end_ms, start)})
    return bands


def band_visible(band: TimelineEvent, viewer: SeatId | None, observers: ObserverView) -> bool:
    if viewer is None:  # the admin
        return True
    return may_watch(viewer, visibility_of(Phase.parse(str(band["phase"]))), observers)


def event_visible(
    event: TimelineEvent,
    viewer: SeatId | None,
    observers: ObserverView,
    bands: Sequence[TimelineEvent],
) -> bool:
    """Whispers stay between coach and mediator; nothing inside a hidden caucus shows."""
    if viewer is None:
        return True
    role = role_of(viewer)
    if event["kind"] == "whisper" and role not in (*STAFF, Role.MEDIATOR):
        return False
    if event.get("visibility") and not may_watch(viewer, str(event["visibility"]), observers):
        return False
    t = int(event["t_ms"])
    for band in bands:
        if band["start_ms"] <= t < band["end_ms"] and not band_visible(band, viewer, observers):
            return bool(event["kind"] == "phase")  # the caucus began and ended, nothing more
    return True


def trouble_visible(
    event: TimelineEvent,
    viewer: SeatId | None,
    observers: ObserverView,
    bands: Sequence[TimelineEvent],
) -> list[dict[str, Any]]:
    """The parts of a seat's troubled stretch (a ``trouble`` event) `viewer` may see.

    Staff see every seat's trouble, and a trainee all of their own link's. Anyone
    else's shows only where the viewer may watch that seat's media: a party waiting
    outside a caucus, or a caucus the viewer was not in, keeps its link to itself
    (its trouble would tell when and how long the caucus ran). A stretch crossing
    such a boundary is clipped to the visible parts.
    """
    seat = event.get("seat")
    if viewer is None or seat == viewer or is_staff(viewer):
        return [dict(event)]
    start, end = int(event["t_ms"]), int(event.get("end_ms") or event["t_ms"])
    parts: list[dict[str, Any]] = []
    for band in bands:
        lo, hi = max(start, int(band["start_ms"])), min(end, int(band["end_ms"]))
        if lo >= hi:
            continue
        phase = Phase.parse(str(band["phase"]))
        if not may_watch(viewer, visibility_of(phase, SeatId(str(seat))), observers):
            continue
        if parts and parts[-1]["end_ms"] == lo:
            parts[-1]["end_ms"] = hi
        else:
            parts.append({**event, "t_ms": lo, "end_ms": hi})
    return parts


def review_timeline(
    events: Sequence[TimelineEvent],
    viewer: SeatId | None,
    observers: ObserverView,
    bands: Sequence[TimelineEvent],
) -> list[dict[str, Any]]:
    """The timeline as `viewer` may review it (troubled stretches clipped, see above)."""
    shown: list[dict[str, Any]] = []
    for event in events:
        if event["kind"] == "trouble":
            shown += trouble_visible(event, viewer, observers, bands)
        elif event_visible(event, viewer, observers, bands):
            shown.append(dict(event))
    return shown
