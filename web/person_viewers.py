"""Signed-in people as viewers of recordings (besides the admin token and seat tokens).

An admin sees every session. Anyone else sees the sessions they sat in — a join
under their person id (events.identity) or a seat assigned to them — from that
seat, under the same rules as a seat token naming them; a coach of a cohort also
sees that cohort's sessions, from the coach's seat. The middleware works the
viewer out once per request, before the handler, so `web.viewers.viewer_of`
stays a plain lookup.
"""

from __future__ import annotations

from aiohttp import web

from sessions.people import Person
from storage.database import Database
from storage.reviewers import seats_of_person
from web.auth import Handler, person_of
from web.keys import DATABASE
from web.viewers import SIGNED_IN_VIEWER, Viewer

#: the routes that ask who is viewing (an admin person is worked out for every API route:
#: it costs no query, and the admin-only routes accept them)
_VIEWING = ("/api/recordings", "/api/trainees/")


async def person_viewer(db: Database, person: Person) -> Viewer:
    if person.is_admin:
        return Viewer(None, {})
    return Viewer(person.id, await seats_of_person(db, person.id))


@web.middleware
async def signed_in_viewers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Attach the signed-in person's viewer where a route may ask for it."""
    person = person_of(request)
    if (
        person is not None
        and request.path.startswith("/api/")
        and (person.is_admin or request.path.startswith(_VIEWING))
        # a segment's URL is signed for its viewer already; a <video> fetches it often
        and "/segments/" not in request.path
    ):
        request[SIGNED_IN_VIEWER] = await person_viewer(request.app[DATABASE], person)
    return await handler(request)
