"""Each person's availability over HTTP, and the page where they state it.

`GET/PUT /api/me/availability`: the signed-in person's weekly slots and dated
exceptions, as local wall times of their own zone (the answer names the zone).
A refused statement answers 400 with a code per mistake and the `field` at fault
(sessions/stated_availability.py). `GET /api/availability/{person}`: an admin
reads anyone's, a coach the members of the cohorts they coach (404 for anyone
else), trainees nobody's (403).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from aiohttp import web

from sessions.people import Person
from sessions.stated_availability import AvailabilityRefused, Statement, read_statement
from storage import availability
from web.api import body
from web.auth import person_of, require_person
from web.callers import staff_of
from web.errors import NotFound
from web.keys import DATABASE
from web.pages import STATIC_DIR

routes = web.RouteTableDef()

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _view(person_id: str, name: str, time_zone: str, statement: Statement) -> dict[str, Any]:
    return {
        "person": {"id": person_id, "name": name, "time_zone": time_zone},
        "time_zone": time_zone,
        **statement.to_dict(),
    }


def refused(exc: AvailabilityRefused) -> web.Response:
    return web.json_response(
        {"ok": False, "code": exc.code, "message": exc.message, "field": exc.field}, status=400
    )


def _signed_in_page(request: web.Request) -> None:
    """A page asked for by nobody signed in sends them to sign in, and back here after."""
    if person_of(request) is None:
        raise web.HTTPFound(f"/login?next={quote(request.path_qs, safe='')}")


@routes.get("/availability")
async def page(request: web.Request) -> web.FileResponse:
    _signed_in_page(request)
    return web.FileResponse(STATIC_DIR / "availability.html")


@routes.get("/api/me/availability")
async def mine(request: web.Request) -> web.Response:
    person: Person = require_person(request)
    stated = await availability.read(request.app[DATABASE], person.id)
    return web.json_response(_view(person.id, person.name, person.time_zone, stated))


@routes.put("/api/me/availability")
async def state(request: web.Request) -> web.Response:
    data = await body(request, {"weekly", "exceptions"})  # a body that is no JSON: 415/400 first
    person: Person = require_person(request)
    try:
        statement = read_statement(data)
    except AvailabilityRefused as exc:
        return refused(exc)
    stored = await availability.replace(request.app[DATABASE], person.id, statement)
    return web.json_response(_view(person.id, person.name, person.time_zone, stored))


@routes.get("/api/availability/{person}")
async def of_person(request: web.Request) -> web.Response:
    staff = await staff_of(request)
    person_id = request.match_info["person"]
    missing = NotFound(f"there is no person {person_id[:40]!r} you may see")
    if not _ID.fullmatch(person_id):
        raise missing
    db = request.app[DATABASE]
    found = await availability.reader_may_see(db, person_id, None if staff.admin else staff.cohorts)
    if found is None:
        raise missing
    row_id, name, time_zone = found
    stated = await availability.read(db, person_id)
    return web.json_response(_view(row_id, name, time_zone, stated))
