"""The feedback digest over HTTP: one trainee's feedback across sessions and the
digests their coach writes and shares (IMI's "Feedback Digest").

- `GET /feedback`: the page (a trainee's own; a coach opens `?person=<id>`).
- `GET /api/trainees/{identity}/digest`: each rubric skill's dated ratings, the notes
  addressed to the trainee (what they may see, decided as everywhere by
  `FEEDBACK.visible`), and the digests the caller may read: the trainee the shared
  ones, a coach of their cohort and an admin all (drafts too).
- `POST /api/trainees/{identity}/digests`: a coach of the trainee's cohort or an admin
  writes a draft (201).
- `PATCH /api/digests/{digest}`: they edit it; an edit after sharing bumps the version
  and keeps the earlier text in its history.
- `POST /api/digests/{digest}/share`: the trainee sees it from now on (409 when empty).
- `GET /api/digests/{digest}.pdf`: a shared digest, for whoever may read it.

Who may ask: the trainee reads their own (writing: 403); a coach of the trainee's
cohort and an admin read and write; anyone else finds no such trainee or digest
(404), and a draft does not exist for the trainee.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web

from sessions.annotations import MAX_RATING
from sessions.digests import SECTIONS, DigestText
from sessions.errors import NotPermitted
from sessions.people import Person
from storage import digests
from storage.cohorts import coaches_trainee
from storage.digests import Digest
from storage.people import People, now_ms
from web.annotations_api import feedback_to
from web.api import body
from web.auth import person_of
from web.callers import caller_of
from web.digest_export import to_pdf
from web.errors import NotFound
from web.keys import DATABASE
from web.pages import STATIC_DIR

routes = web.RouteTableDef()

#: the shape of the ids this server makes; anything else is nobody's, answered before the database
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Access:
    """What the caller may do with one trainee's digests."""

    trainee: Person
    writes: bool  # a coach of their cohort or an admin
    actor: str  # who an audit row names
    author_id: str | None  # None: the admin token


async def _access(request: web.Request, identity: str) -> Access:
    caller = caller_of(request)  # 401 for nobody (or a deactivated person)
    db = request.app[DATABASE]
    trainee = await People(db).get(identity) if _ID.fullmatch(identity) else None
    person = caller.person
    if trainee is not None:
        if caller.is_admin:
            return Access(trainee, True, caller.actor, caller.person_id)
        assert person is not None
        if person.id == trainee.id:
            return Access(trainee, False, caller.actor, person.id)
        if await coaches_trainee(db, person.id, trainee.id):
            return Access(trainee, True, caller.actor, person.id)
    raise NotFound(f"there is no trainee {identity[:64]!r}")


async def _digest(request: web.Request, *, write: bool) -> tuple[Digest, Access]:
    """The digest in the path, if the caller may read it (and write it, when asked)."""
    caller_of(request)  # 401 before anything is looked up
    digest_id = request.match_info["digest"]
    found = (
        await digests.get(request.app[DATABASE], digest_id) if _ID.fullmatch(digest_id) else None
    )
    if found is not None:
        try:
            access = await _access(request, found.person_id)
        except NotFound:
            access = None
        if access is not None and (access.writes or found.shared):
            if write and not access.writes:
                raise NotPermitted("only the trainee's coach or an admin changes a digest")
            return found, access
    raise NotFound(f"there is no digest {digest_id[:64]!r}")


@routes.get("/feedback")
async def feedback_page(request: web.Request) -> web.FileResponse:
    if person_of(request) is None:
        raise web.HTTPFound(f"/login?next={quote(request.path_qs, safe='')}")
    return web.FileResponse(STATIC_DIR / "feedback.html")


@routes.get("/api/trainees/{identity}/digest")
async def digest_of(request: web.Request) -> web.Response:
    access = await _access(request, request.match_info["identity"])
    trainee = access.trainee
    written = await digests.of_person(
        request.app[DATABASE], trainee.id, shared_only=not access.writes
    )
    return web.json_response(
        {
            "trainee": {"id": trainee.id, "name": trainee.name, "time_zone": trainee.time_zone},
            "may_write": access.writes,
            "max_rating": MAX_RATING,
            "feedback": await feedback_to(request, trainee.id),
            "digests": [d.to_json() for d in written],
        }
    )


@routes.post("/api/trainees/{identity}/digests")
async def write_digest(request: web.Request) -> web.Response:
    data = await body(request, set(SECTIONS))
    access = await _access(request, request.match_info["identity"])
    if not access.writes:
        raise NotPermitted("only the trainee's coach or an admin writes a digest")
    made = await digests.add(
        request.app[DATABASE],
        access.trainee.id,
        access.author_id,
        DigestText().changed(data),
        now_ms(),
    )
    return web.json_response(made.to_json(), status=201)


@routes.patch("/api/digests/{digest}")
async def edit_digest(request: web.Request) -> web.Response:
    data = await body(request, set(SECTIONS))
    found, _ = await _digest(request, write=True)
    edited = await digests.edit(request.app[DATABASE], found.id, data, now_ms())
    return web.json_response(edited.to_json())


@routes.post("/api/digests/{digest}/share")
async def share_digest(request: web.Request) -> web.Response:
    await body(request, set())  # none expected; a broken one is refused first, as everywhere
    found, access = await _digest(request, write=True)
    shared = await digests.share(request.app[DATABASE], found.id, access.actor, now_ms())
    return web.json_response(shared.to_json())


@routes.get("/api/digests/{digest}.pdf")
async def digest_pdf(request: web.Request) -> web.Response:
    found, access = await _digest(request, write=False)
    if not found.shared:
        raise NotFound(f"digest {found.id!r} is a draft: share it first")
    pdf = await asyncio.to_thread(to_pdf, found, access.trainee)
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="caucus-digest-{found.id}.pdf"'},
    )
