"""Cohorts over HTTP: the admin writes them; coaches read theirs; trainees read their own.

A trainee sees their cohort's dates, requirements, scenarios and who is in it,
but no other member's email. A cohort that is not yours does not exist for you
(404), as with recordings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from sessions.cohorts import Cohort, InvalidCohort, shows_email
from sessions.errors import DomainError
from sessions.people import CohortRole
from storage import cohorts
from storage.cohorts import MEMBERS_MAX, SCENARIOS_MAX, UnknownCohort
from web.api import body
from web.callers import Caller, caller_of, require_console_admin
from web.console_access import answers
from web.keys import DATABASE, SCENARIOS

routes = web.RouteTableDef()

_FIELDS = {"name", "starts_on", "ends_on", "requirements"}
_ID_MAX_CHARS = 64


class UnknownScenarios(DomainError):
    code = "unknown_scenarios"

    def __init__(self, ids: Sequence[str]) -> None:
        super().__init__(f"there is no scenario {', '.join(ids)}")
        self.ids = list(ids)


def _ids(data: Mapping[str, Any], key: str, limit: int) -> list[str]:
    value = data.get(key, [])
    if (
        not isinstance(value, list)
        or len(value) > limit
        or not all(isinstance(v, str) and 0 < len(v) <= _ID_MAX_CHARS for v in value)
    ):
        raise InvalidCohort(key, f"{key} must be a list of at most {limit} ids")
    return list(dict.fromkeys(value))


async def view(request: web.Request, cohort: Cohort, role: CohortRole | None) -> dict[str, Any]:
    """The cohort as `role` sees it (None: the admin). Trainees see no one else's email."""
    database = request.app[DATABASE]
    viewer = caller_of(request).person
    members = await cohorts.members(database, cohort.id)

    def person(m: cohorts.Member) -> dict[str, Any]:
        shown: dict[str, Any] = {"id": m.person_id, "name": m.name}
        if shows_email(role, None if viewer is None else viewer.id, m.person_id):
            shown["email"] = m.email
        return shown

    return cohort.to_dict() | {
        "coaches": [person(m) for m in members if m.role is CohortRole.COACH],
        "trainees": [person(m) for m in members if m.role is CohortRole.TRAINEE],
        "scenarios": await cohorts.scenarios_of(database, cohort.id),
        "your_role": None if role is None else role.value,
    }


async def _visible(request: web.Request, caller: Caller) -> tuple[Cohort, CohortRole | None]:
    """The cohort named in the path and the caller's role in it; UnknownCohort if not theirs."""
    cohort_id = request.match_info["cohort"]
    if caller.is_admin or caller.person is None:
        found = await cohorts.get(request.app[DATABASE], cohort_id)
        if found is not None:
            return found, None
    else:
        for membership in await cohorts.cohorts_of(request.app[DATABASE], caller.person.id):
            if membership.cohort.id == cohort_id:
                return membership.cohort, membership.role
    raise UnknownCohort(f"there is no cohort {cohort_id!r}")


@routes.get("/api/cohorts")
@answers
async def list_cohorts(request: web.Request) -> web.Response:
    caller = caller_of(request)
    database = request.app[DATABASE]
    if caller.is_admin or caller.person is None:
        shown = [await view(request, c, None) for c in await cohorts.every(database)]
    else:
        shown = [
            await view(request, m.cohort, m.role)
            for m in await cohorts.cohorts_of(database, caller.person.id)
        ]
    return web.json_response(shown)


@routes.post("/api/cohorts")
@answers
async def create_cohort(request: web.Request) -> web.Response:
    require_console_admin(request)
    data = await body(request, _FIELDS)
    cohort = await cohorts.add(request.app[DATABASE], data)
    return web.json_response(await view(request, cohort, None), status=201)


@routes.get("/api/cohorts/{cohort}")
@answers
async def get_cohort(request: web.Request) -> web.Response:
    cohort, role = await _visible(request, caller_of(request))
    return web.json_response(await view(request, cohort, role))


@routes.patch("/api/cohorts/{cohort}")
@answers
async def change_cohort(request: web.Request) -> web.Response:
    require_console_admin(request)
    data = await body(request, _FIELDS)
    cohort = await cohorts.change(request.app[DATABASE], request.match_info["cohort"], data)
    return web.json_response(await view(request, cohort, None))


@routes.put("/api/cohorts/{cohort}/members")
@answers
async def set_members(request: web.Request) -> web.Response:
    require_console_admin(request)
    data = await body(request, {"coaches", "trainees"})
    coaches = _ids(data, "coaches", MEMBERS_MAX)
    trainees = _ids(data, "trainees", MEMBERS_MAX)
    both = [pid for pid in trainees if pid in coaches]
    if both:
        raise InvalidCohort("trainees", f"{', '.join(both)} cannot coach and train in one cohort")
    cohort_id = request.match_info["cohort"]
    await cohorts.set_members(request.app[DATABASE], cohort_id, coaches, trainees)
    cohort, role = await _visible(request, caller_of(request))
    return web.json_response(await view(request, cohort, role))


@routes.put("/api/cohorts/{cohort}/scenarios")
@answers
async def set_scenarios(request: web.Request) -> web.Response:
    require_console_admin(request)
    data = await body(request, {"scenarios"})
    wanted = _ids(data, "scenarios", SCENARIOS_MAX)
    missing = [s for s in wanted if s not in request.app[SCENARIOS]]
    if missing:
        raise UnknownScenarios(missing)
    await cohorts.set_scenarios(request.app[DATABASE], request.match_info["cohort"], wanted)
    cohort, role = await _visible(request, caller_of(request))
    return web.json_response(await view(request, cohort, role))


@routes.delete("/api/cohorts/{cohort}")
@answers
async def delete_cohort(request: web.Request) -> web.Response:
    caller = require_console_admin(request)
    cohort_id = request.match_info["cohort"]
    await cohorts.remove(request.app[DATABASE], cohort_id, caller.actor)
    return web.json_response({"ok": True, "deleted": cohort_id})
