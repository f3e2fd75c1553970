"""Each person's home page (`/` when signed in) and its data (`GET /api/home`).

The page holds no data: it asks `/api/home` for the person's simulations
coming up and past, in UTC milliseconds, and formats them in the person's own
time zone. The server's clock comes along (`now_ms`) so that a Join button
opens at the scheduled moment even on a computer whose clock is wrong.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from storage.home import Entry, agenda
from storage.people import now_ms
from web.auth import CSRF, person_of, require_person
from web.calendar import feed_path, join_path, scenario_lookup
from web.keys import DATABASE, SECRET

routes = web.RouteTableDef()


def _common(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "title": entry.title,
        "seat": entry.seat,
        "character": entry.character,
        "role": entry.role,
        "coaching": entry.coaching,
        "scheduled_ms": entry.scheduled_ms,
        "duration_min": entry.duration_min,
        "with": [{"seat": s.seat, "name": s.name} for s in entry.others],
        "calendar_url": f"/api/simulations/{entry.id}.ics",
    }


def upcoming_json(entry: Entry) -> dict[str, Any]:
    return {**_common(entry), "join_opens_ms": entry.join_opens_ms, "join_url": join_path(entry.id)}


def past_json(entry: Entry) -> dict[str, Any]:
    past = {
        **_common(entry),
        "took_part": entry.took_part,
        "ended_ms": entry.ended_ms,
        "session_ms": entry.session_ms,
        "recording_url": f"/recordings/{entry.id}" if entry.has_recording else None,
    }
    if entry.coaching:
        past["notes"] = entry.notes_total
    else:
        past["feedback"] = {
            "count": entry.feedback_total,
            "latest": [
                {
                    "id": n.id,
                    "t_ms": n.t_ms,
                    "text": n.text,
                    "skill": n.skill,
                    "rating": n.rating,
                    "author_seat": n.author_seat,
                }
                for n in entry.feedback
            ],
        }
    return past


@routes.get("/api/signed-in")
async def signed_in(request: web.Request) -> web.Response:
    """Whether this browser is signed in (always 200: a guest's page asks it too, and a
    refusal would read as an error in their console), and if so the CSRF token its writes
    carry (the sign-in and invitation pages post with it)."""
    if person_of(request) is None:
        return web.json_response({"signed_in": False})
    return web.json_response({"signed_in": True, "csrf": request[CSRF]})


@routes.get("/api/home")
async def home_data(request: web.Request) -> web.Response:
    """The signed-in person's simulations: coming up (with when the Join button opens)
    and past (with the recording and the feedback they may see)."""
    person = require_person(request)
    now = now_ms()
    found = await agenda(request.app[DATABASE], person.id, now, scenario_lookup(request.app))
    return web.json_response(
        {
            "now_ms": now,
            "person": {
                "id": person.id,
                "name": person.name,
                "time_zone": person.time_zone,
                "role": person.role.value,
            },
            "upcoming": [upcoming_json(e) for e in found.upcoming],
            "past": [past_json(e) for e in found.past],
            "calendar_feed": feed_path(request.app[SECRET], person.id),
        }
    )
