"""The accountability tracker over HTTP: a trainee's progress, a cohort at a glance,
feedback notes marked read, certificates of completion and their public check.

- `GET /api/tracker/me`: the signed-in person's progress in each cohort they train in.
- `GET /api/tracker/cohorts/{cohort}`: every trainee's progress, who is behind first;
  an admin (person or token) or a coach of that cohort (another coach: 404).
- `POST /api/notes/{note}/read`: the signed-in addressee opened a note; a note not
  addressed to them, or not theirs to see, does not exist for them (404).
- `POST /api/tracker/me/certificates/{cohort}`: issued on demand once every
  requirement is met (201; 200 with the one already issued), else 409
  `requirements_not_met` with what is left; a revoked one is not issued again (409).
- `GET /api/certificates/{certificate}.pdf`: its owner, an admin, a coach of its cohort.
- `GET /certificates/{certificate}`: public, no sign-in: valid or revoked, name,
  cohort, dates.
- `POST /api/certificates/{certificate}/revoke`: an admin (audit row).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import quote

from aiohttp import web

from sessions.errors import NotPermitted
from sessions.ids import ScenarioId
from sessions.people import CohortRole, Person, Role
from sessions.scenarios import Scenario
from storage import certificates, tracker
from storage.certificates import Certificate, CertificateRevoked, RequirementsNotMet
from storage.cohorts import coaches_cohort, cohorts_of
from storage.cohorts import get as get_cohort
from storage.completed import ScenarioOf
from storage.database import Database
from storage.people import now_ms
from web.api import base_url, body
from web.auth import person_of, require_person
from web.callers import caller_of, require_console_admin
from web.certificate import to_pdf, verification_html
from web.errors import NotFound, json_error
from web.keys import DATABASE, SCENARIOS
from web.pages import STATIC_DIR

routes = web.RouteTableDef()

#: the shape of the ids this server makes; anything else is nobody's, answered before the database
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _id(request: web.Request, name: str, what: str) -> str:
    value = request.match_info[name]
    if not _ID.fullmatch(value):
        raise NotFound(f"there is no {what} {value[:64]!r}")
    return value


def _scenario_of(request: web.Request) -> ScenarioOf:
    known = request.app[SCENARIOS]

    def scenario_of(scenario_id: str) -> Scenario | None:
        return known.get(ScenarioId(scenario_id))

    return scenario_of


def _certificate_json(cert: Certificate | None) -> dict[str, Any] | None:
    return None if cert is None else cert.to_json()


@routes.get("/progress")
async def progress_page(request: web.Request) -> web.FileResponse:
    if person_of(request) is None:
        raise web.HTTPFound(f"/login?next={quote(request.path_qs, safe='')}")
    return web.FileResponse(STATIC_DIR / "progress.html")


@routes.get("/api/tracker/me")
async def my_progress(request: web.Request) -> web.Response:
    person = require_person(request)
    found = await tracker.mine(request.app[DATABASE], person, now_ms(), _scenario_of(request))
    return web.json_response(
        {
            "person": {"id": person.id, "name": person.name, "time_zone": person.time_zone},
            "cohorts": [
                {
                    "cohort": cohort.to_dict(),
                    "progress": p.to_json(),
                    "certificate": _certificate_json(cert),
                }
                for cohort, p, cert in found
            ],
        }
    )


async def _may_watch_cohort(db: Database, person: Person, cohort_id: str) -> None:
    """A coach of the cohort passes; another coach finds no such cohort; a trainee is refused."""
    if await coaches_cohort(db, person.id, cohort_id):
        return
    coaching = person.role is Role.COACH or any(
        m.role is CohortRole.COACH for m in await cohorts_of(db, person.id)
    )
    if coaching:
        raise NotFound(f"there is no cohort {cohort_id!r}")
    raise NotPermitted("only the cohort's coaches and admins see its trainees' progress")


@routes.get("/api/tracker/cohorts/{cohort}")
async def cohort_progress(request: web.Request) -> web.Response:
    caller = caller_of(request)
    db = request.app[DATABASE]
    cohort_id = _id(request, "cohort", "cohort")
    if not caller.is_admin and caller.person is not None:
        await _may_watch_cohort(db, caller.person, cohort_id)
    cohort = await get_cohort(db, cohort_id)
    if cohort is None:
        raise NotFound(f"there is no cohort {cohort_id!r}")
    rows = await tracker.of_cohort(db, cohort, now_ms(), _scenario_of(request))
    return web.json_response(
        {
            "cohort": cohort.to_dict(),
            "trainees": [
                {
                    "person_id": row.person_id,
                    "name": row.name,
                    "progress": row.progress.to_json(),
                    "certificate": _certificate_json(row.certificate),
                }
                for row in rows
            ],
        }
    )


@routes.post("/api/notes/{note}/read")
async def note_read(request: web.Request) -> web.Response:
    await body(request, set())  # none expected; a broken one is refused first, as everywhere
    person = require_person(request)
    note_id = _id(request, "note", "note")
    read_ms = await tracker.mark_read(
        request.app[DATABASE], person.id, note_id, now_ms(), _scenario_of(request)
    )
    if read_ms is None:
        raise NotFound(f"there is no note {note_id!r} addressed to you")
    return web.json_response({"ok": True, "note": note_id, "read_ms": read_ms})


@routes.post("/api/tracker/me/certificates/{cohort}")
async def issue_certificate(request: web.Request) -> web.Response:
    await body(request, set())  # none expected; a broken one is refused first, as everywhere
    person = require_person(request)
    db = request.app[DATABASE]
    cohort_id = _id(request, "cohort", "cohort")
    trains = any(
        m.cohort.id == cohort_id and m.role is CohortRole.TRAINEE
        for m in await cohorts_of(db, person.id)
    )
    cohort = await get_cohort(db, cohort_id) if trains else None
    if cohort is None:
        raise NotFound(f"you train in no cohort {cohort_id!r}")
    try:
        cert, issued = await tracker.issue(db, person, cohort, now_ms(), _scenario_of(request))
    except RequirementsNotMet as exc:
        return web.json_response(
            {"ok": False, "code": exc.code, "message": exc.message, "left": exc.left}, status=409
        )
    except CertificateRevoked as exc:
        return json_error(exc.code, exc.message, 409)
    return web.json_response(cert.to_json(), status=201 if issued else 200)


async def _readable(request: web.Request) -> Certificate:
    """The certificate named in the path, if the caller may download it: its owner, an
    admin (person or token), a coach of its cohort; anyone else finds none."""
    caller = caller_of(request)
    db = request.app[DATABASE]
    cert_id = _id(request, "certificate", "certificate")
    cert = await certificates.certificate(db, cert_id)
    person = caller.person
    allowed = cert is not None and (
        caller.is_admin
        or (person is not None and person.id == cert.person_id)
        or (
            person is not None
            and cert.cohort_id is not None
            and await coaches_cohort(db, person.id, cert.cohort_id)
        )
    )
    if cert is None or not allowed:
        raise NotFound(f"there is no certificate {cert_id!r}")
    return cert


@routes.get("/api/certificates/{certificate}.pdf")
async def certificate_pdf(request: web.Request) -> web.Response:
    cert = await _readable(request)
    url = f"{base_url(request)}/certificates/{cert.id}"
    return web.Response(
        body=await asyncio.to_thread(to_pdf, cert, url),
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="certificate-{cert.id}.pdf"'},
    )


@routes.get("/certificates/{certificate}")
async def verification_page(request: web.Request) -> web.Response:
    value = request.match_info["certificate"]
    found = (
        await certificates.certificate(request.app[DATABASE], value)
        if _ID.fullmatch(value)
        else None
    )
    return web.Response(
        text=verification_html(found),
        content_type="text/html",
        status=200 if found is not None else 404,
        # the verdict changes when an admin revokes: never served from a cache
        headers={"Cache-Control": "no-store"},
    )


@routes.post("/api/certificates/{certificate}/revoke")
async def revoke_certificate(request: web.Request) -> web.Response:
    await body(request, set())  # none expected; a broken one is refused first, as everywhere
    caller = require_console_admin(request)
    cert_id = _id(request, "certificate", "certificate")
    try:
        cert = await certificates.revoke(request.app[DATABASE], cert_id, caller.actor, now_ms())
    except certificates.UnknownCertificate as exc:
        raise NotFound(exc.message) from None
    return web.json_response(cert.to_json())
