"""Feedback over HTTP: annotations on a recording, their exports, a trainee's summary."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from recordings.exports import to_csv, to_json, to_webvtt, trainee_summary
from recordings.feedback import Author, draft_from
from sessions.errors import NotPermitted
from sessions.ids import RoomId
from sessions.review import phase_bands, review_timeline
from storage.cohorts import coaches_trainee
from web.api import body
from web.auth import person_of
from web.errors import NotFound
from web.keys import CATALOGUE, DATABASE, FEEDBACK, SCENARIOS
from web.viewers import viewer_of

routes = web.RouteTableDef()
NOTE_FIELDS = {"t_ms", "text", "skill", "rating", "target", "visibility", "reply_to"}


async def _author(request: web.Request) -> tuple[RoomId, Author]:
    viewer = await viewer_of(request)
    room_id = RoomId(request.match_info["room"])
    seat = viewer.seat_in(room_id)
    if await request.app[CATALOGUE].simulation(room_id) is None:
        raise NotFound(f"there is no recording {room_id!r}")
    return room_id, Author(viewer.identity, seat)


@routes.get("/api/recordings/{room}/annotations")
async def list_notes(request: web.Request) -> web.Response:
    room_id, author = await _author(request)
    return web.json_response(await request.app[FEEDBACK].visible(room_id, author))


@routes.post("/api/recordings/{room}/annotations")
async def add_note(request: web.Request) -> web.Response:
    room_id, author = await _author(request)
    feedback = request.app[FEEDBACK]
    draft = draft_from(await body(request, NOTE_FIELDS))
    note = await feedback.add(room_id, author, draft, await feedback.recorded_end_ms(room_id))
    return web.json_response(note, status=201)


@routes.patch("/api/recordings/{room}/annotations/{note}")
async def edit_note(request: web.Request) -> web.Response:
    room_id, author = await _author(request)
    feedback = request.app[FEEDBACK]
    note_id = request.match_info["note"]
    current = await feedback.store.get(room_id, note_id) or {}
    changes = await body(request, NOTE_FIELDS - {"reply_to"})
    merged: dict[str, Any] = {k: current.get(k) for k in NOTE_FIELDS} | dict(changes)
    draft = draft_from(merged)
    end_ms = await feedback.recorded_end_ms(room_id)
    note = await feedback.edit(room_id, note_id, author, draft, end_ms)
    return web.json_response(note)


@routes.delete("/api/recordings/{room}/annotations/{note}")
async def delete_note(request: web.Request) -> web.Response:
    room_id, author = await _author(request)
    await request.app[FEEDBACK].delete(room_id, request.match_info["note"], author)
    return web.json_response({"ok": True})


@routes.get(r"/api/recordings/{room}/annotations.{fmt:vtt|csv|json}")
async def export_notes(request: web.Request) -> web.Response:
    room_id, author = await _author(request)
    notes = await request.app[FEEDBACK].visible(room_id, author)
    record = await request.app[CATALOGUE].simulation(room_id)
    assert record is not None
    scenario = request.app[SCENARIOS][record.scenario_id]
    fmt = request.match_info["fmt"]
    events = await request.app[CATALOGUE].events(room_id)
    bands = phase_bands(events, await request.app[FEEDBACK].recorded_end_ms(room_id))
    trouble = [
        e
        for e in review_timeline(events, author.seat, scenario.observer_view, bands)
        if e["kind"] == "trouble"
    ]
    filename = f'attachment; filename="caucus-{room_id}-feedback.{fmt}"'
    if fmt == "vtt":
        return web.Response(
            text=to_webvtt(notes, scenario),
            content_type="text/vtt",
            headers={"Content-Disposition": filename},
        )
    if fmt == "csv":
        return web.Response(
            text=to_csv(notes), content_type="text/csv", headers={"Content-Disposition": filename}
        )
    return web.Response(
        text=to_json(notes, scenario, room_id, trouble),
        content_type="application/json",
        headers={"Content-Disposition": filename},
    )


async def may_read_feedback_of(request: web.Request, identity: str) -> None:
    """The trainee themself, a coach of their cohort, an admin; anyone else is refused."""
    viewer = await viewer_of(request)
    if not viewer.is_admin and viewer.identity != identity:
        person = person_of(request)
        if person is None or not await coaches_trainee(request.app[DATABASE], person.id, identity):
            raise NotPermitted("a trainee's summary is for the trainee, their coach and admins")


async def feedback_to(request: web.Request, identity: str) -> dict[str, Any]:
    """The notes addressed to `identity` in each session they sat in, that they may see
    (`FEEDBACK.visible` decides, as on the playback page), summarised by
    `recordings.exports.trainee_summary`. The caller's permission is checked before."""
    catalogue, feedback = request.app[CATALOGUE], request.app[FEEDBACK]
    sessions = []
    started: dict[str, int] = {}
    for room_id, seat in (await catalogue.seats_of(identity)).items():
        record = await catalogue.simulation(room_id)
        scenario = None if record is None else request.app[SCENARIOS].get(record.scenario_id)
        if record is None or scenario is None:
            continue
        notes = [
            n
            for n in await feedback.visible(room_id, Author(identity, seat))
            if n["target"] == seat and not n["reply_to"]
        ]
        started[room_id] = record.t0_ms if record.t0_ms is not None else record.created_ms
        sessions.append((room_id, seat, scenario, notes))
    sessions.sort(key=lambda s: started[s[0]])
    return trainee_summary(identity, sessions, started)


@routes.get("/api/trainees/{identity}/summary")
async def summary(request: web.Request) -> web.Response:
    """Feedback addressed to one trainee across their sessions (they, their cohort's coach
    or an admin ask)."""
    identity = request.match_info["identity"]
    await may_read_feedback_of(request, identity)
    return web.json_response(await feedback_to(request, identity))
