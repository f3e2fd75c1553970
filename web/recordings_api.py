"""Reviewing recordings: list, fetch (with the timeline), stream segments, delete."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from sessions.errors import NotPermitted
from sessions.ids import RoomId, SeatId
from sessions.phases import PhaseKind
from sessions.recording_rules import may_watch
from sessions.review import (
    band_visible,
    people_in,
    phase_bands,
    ran_from_ms,
    review_timeline,
    session_end_ms,
)
from sessions.review_actions import reviewer_actions, roles_of
from sessions.roles import Role, is_staff, role_of
from storage import audit, deletion
from storage.catalogue import Catalogue, Segment
from storage.reviewers import matching
from web.auth import person_of
from web.browser_copy_api import UPLOADS, signed_copy_query
from web.errors import NotFound
from web.keys import CATALOGUE, DATABASE, DIRECTORY, RECORDINGS_DIR, SCENARIOS, SECRET
from web.recording_filters import parse_filter
from web.room_owner import check_runs_here, sent_to_its_node
from web.viewers import Viewer, check_signed, seats_of_room, signed_query, viewer_of

logger = logging.getLogger(__name__)
routes = web.RouteTableDef()


def _status(segments: list[Segment]) -> str:
    states = {s.status for s in segments}
    # a recording the disk refused part of says so, even if it recorded again later
    for status in ("recording", "failed", "interrupted", "complete"):
        if status in states:
            return status
    return "empty"


def _may_name(viewer: SeatId | None, seat: SeatId) -> bool:
    """Trainees were never shown who observed (nor the admin): their list does not either."""
    if viewer is None or is_staff(viewer) or role_of(viewer) is Role.OBSERVER:
        return True
    return role_of(seat) not in (Role.OBSERVER, Role.ADMIN)


async def _summary(
    catalogue: Catalogue, request: web.Request, room_id: RoomId, seat: SeatId | None
) -> dict[str, Any]:
    record = await catalogue.simulation(room_id)
    if record is None:
        raise NotFound(f"there is no recording {room_id!r}")
    scenario = request.app[SCENARIOS][record.scenario_id]
    segments = await catalogue.segments(room_id)
    events = await catalogue.events(room_id)
    ran_from = ran_from_ms(events)
    return {
        "id": room_id,
        "scenario": scenario.id,
        "title": scenario.title,
        "created_ms": record.created_ms,
        "t0_ms": record.t0_ms,
        # wall-clock ms when the role-play began (the review list's date); None: never ran
        "ran_ms": None if ran_from is None or record.t0_ms is None else record.t0_ms + ran_from,
        "people": [
            {**p, "role": role_of(SeatId(p["seat"])).value}
            for p in people_in(events)
            if _may_name(seat, SeatId(p["seat"]))
        ],
        "duration_ms": session_end_ms(events, (s.end_ms for s in segments)),
        "status": _status(segments),
        "your_seat": seat,
    }


@routes.get("/api/recordings")
async def list_recordings(request: web.Request) -> web.Response:
    viewer = await viewer_of(request)
    wanted = parse_filter(request.query)  # ?cohort= &person= &from= &to=, checked first
    catalogue = request.app[CATALOGUE]
    if viewer.is_admin:
        rooms = {r.id: None for r in await catalogue.simulations()}
    else:
        rooms = dict(viewer.seats)  # type: ignore[arg-type]
    if wanted is not None:
        kept = await matching(request.app[DATABASE], wanted)
        rooms = {room: seat for room, seat in rooms.items() if room in kept}
    return web.json_response(
        [await _summary(catalogue, request, RoomId(room), seat) for room, seat in rooms.items()]
    )


@routes.get("/api/recordings/{room}")
async def get_recording(request: web.Request) -> web.Response:
    viewer = await viewer_of(request)
    room_id = RoomId(request.match_info["room"])
    seat = viewer.seat_in(room_id)
    catalogue = request.app[CATALOGUE]
    summary = await _summary(catalogue, request, room_id, seat)
    scenario = request.app[SCENARIOS][summary["scenario"]]
    observers = scenario.observer_view
    events = await catalogue.events(room_id)
    bands = phase_bands(events, summary["duration_ms"])
    for band in bands:
        band["hidden"] = not band_visible(band, seat, observers)
    secret = request.app[SECRET]
    segments = [
        {
            "id": s.id,
            "seat": s.seat,
            "kind": s.kind,
            "codec": s.codec,
            "visibility": s.visibility,
            "start_ms": s.start_ms,
            "duration_ms": s.duration_ms,
            "status": s.status,
            "reason": s.reason,
            "url": f"/api/recordings/{room_id}/segments/{s.id}?{signed_query(secret, s.id)}",
        }
        for s in await catalogue.segments(room_id)
        if seat is None or may_watch(seat, s.visibility, observers)
    ]
    # The browser's second copy of each publisher: playback fills the server's gaps
    # from it, under the same visibility rule as segments.
    browser_copy = [
        {
            "id": c.id,
            "seat": c.seat,
            "n": c.n,
            "visibility": c.visibility,
            "start_ms": c.start_ms,
            "duration_ms": c.duration_ms,
            "url": f"/api/recordings/{room_id}/copies/{c.id}?{signed_copy_query(secret, c.id)}",
        }
        for c in await request.app[UPLOADS].copies.chunks(room_id)
        if seat is None or may_watch(seat, c.visibility, observers)
    ]
    timeline = review_timeline(events, seat, observers, bands)
    # The characters name the tiles; the rubric lets staff tag skills while reviewing
    # (and names the skills of tags for everyone).
    parties = [{"seat": p.seat, "name": p.name, "label": p.label} for p in scenario.parties]
    rubric = [{"id": s.id, "name": s.name} for s in scenario.rubric]
    # What the viewer may do, and the role of every seat named here: the page derives
    # neither (docs/ARCHITECTURE.md §13).
    actions = reviewer_actions(seat, viewer.identity, await seats_of_room(request, room_id))
    named = (
        [s["seat"] for s in segments]
        + [c["seat"] for c in browser_copy]
        + [str(e["seat"]) for e in timeline if e.get("seat")]
    )
    named += [p["seat"] for p in summary["people"]] + [p["seat"] for p in parties]
    return web.json_response(
        {
            **summary,
            "parties": parties,
            "rubric": rubric,
            "phases": bands,
            "segments": segments,
            "browser_copy": browser_copy,
            "timeline": timeline,
            "viewer": actions,
            "roles": roles_of(named + actions["note_targets"]),
        }
    )


@routes.get("/api/recordings/{room}/segments/{segment}")
async def get_segment(request: web.Request) -> web.FileResponse:
    """A segment's WebM file; the URL is signed for the viewer who was allowed to see it."""
    try:
        segment_id = int(request.match_info["segment"])
    except ValueError:
        raise NotFound("there is no such segment") from None
    check_signed(request, segment_id)
    segment = await request.app[CATALOGUE].segment(segment_id)
    if segment is None or segment.simulation_id != request.match_info["room"]:
        raise NotFound("there is no such segment")
    path = Path(segment.path).resolve()
    if not path.is_relative_to(request.app[RECORDINGS_DIR].resolve()) or not path.exists():
        raise NotFound("there is no such segment")
    return web.FileResponse(
        path, headers={"Content-Type": "video/webm", "Cache-Control": "private, max-age=3600"}
    )


@routes.delete("/api/recordings/{room}")
@sent_to_its_node
async def delete_recording(request: web.Request) -> web.Response:
    """Refused while the session is live, which only the node running it knows: a room
    placed on another node is asked there (web/room_owner.py)."""
    viewer: Viewer = await viewer_of(request)
    room_id = RoomId(request.match_info["room"])
    viewer.seat_in(room_id)  # NotFound unless the session is the viewer's
    if not viewer.is_admin:
        raise NotPermitted("only an admin deletes recordings")
    person = person_of(request)
    actor = person.id if person and "Authorization" not in request.headers else audit.ADMIN_TOKEN
    live = request.app[DIRECTORY].peek(room_id)
    if live is None:
        await check_runs_here(request, room_id)
    deleted = await deletion.delete_recording(
        request.app[DATABASE],
        request.app[RECORDINGS_DIR],
        room_id,
        actor,
        # an ended room lingers while people read its end page; it records nothing more
        live=lambda _room: live is not None and live.room.phase.kind is not PhaseKind.ENDED,
    )
    return web.json_response(
        {"ok": True, "deleted": room_id, "segments": deleted.segments, "notes": deleted.notes}
    )
