"""Trainees' experience levels in a cohort (0 = newest), which practice rounds mix.

An admin or the cohort's coach reads and sets them; another cohort does not exist
for a coach (404); trainees 403.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sessions.people import CohortRole
from storage import cohorts as cohort_store
from storage import rounds
from web.api import body
from web.callers import Staff, staff_of
from web.errors import BadRequest, NotFound
from web.keys import DATABASE
from web.rounds_api import cohort_id_of

routes = web.RouteTableDef()


async def _levels_view(request: web.Request, cohort_id: str) -> dict[str, Any]:
    db = request.app[DATABASE]
    levels = await rounds.levels_of(db, cohort_id)
    trainees = [
        m for m in await cohort_store.members(db, cohort_id) if m.role is CohortRole.TRAINEE
    ]
    return {
        "cohort": cohort_id,
        "trainees": [
            {"id": m.person_id, "name": m.name, "level": levels.get(m.person_id, 0)}
            for m in trainees
        ],
    }


async def _managed_cohort(request: web.Request, staff: Staff) -> str:
    cohort_id = cohort_id_of(staff, request.match_info["cohort"])
    if await cohort_store.get(request.app[DATABASE], cohort_id) is None:
        raise NotFound(f"there is no cohort {cohort_id!r}")
    return cohort_id


@routes.get("/api/cohorts/{cohort}/levels")
async def levels(request: web.Request) -> web.Response:
    """The experience level of each trainee of a cohort (0 = newest): rounds mix them."""
    staff = await staff_of(request)
    cohort_id = await _managed_cohort(request, staff)
    return web.json_response(await _levels_view(request, cohort_id))


@routes.put("/api/cohorts/{cohort}/levels")
async def set_levels(request: web.Request) -> web.Response:
    """`{"levels": {person id: 0–9}}` for trainees of the cohort (the rest keep theirs)."""
    staff = await staff_of(request)
    data = await body(request, {"levels"})
    cohort_id = await _managed_cohort(request, staff)
    given = data.get("levels")
    if not isinstance(given, dict) or len(given) > 2000:
        raise BadRequest("'levels' is an object: trainee id → level 0 to 9")
    trainees = {t["id"] for t in (await _levels_view(request, cohort_id))["trainees"]}
    for person, level in given.items():
        if person not in trainees:
            raise BadRequest(f"{str(person)[:40]!r} is not a trainee of this cohort")
        if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= 9:
            raise BadRequest(f"the level of {person} is a whole number from 0 to 9")
    await rounds.set_levels(request.app[DATABASE], cohort_id, given)
    return web.json_response(await _levels_view(request, cohort_id))
