"""Who may read scenarios' briefs, and the refusals of cohort and scenario routes,
which name a field or the ids at fault. Who is asking at all: `web.callers`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sessions.errors import DomainError, NotPermitted
from sessions.people import CohortRole, Role
from storage.cohorts import cohorts_of
from web.callers import Caller, caller_of
from web.keys import DATABASE

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: statuses of the codes these routes add (the rest are web/errors.py's)
STATUS = {
    "invalid_cohort": 400,
    "invalid_scenario": 400,
    "unknown_people": 400,
    "unknown_scenarios": 400,
    "read_only": 403,
    "unknown_cohort": 404,
    "unknown_scenario": 404,
    "scenario_exists": 409,
    "scenario_in_use": 409,
}


async def require_staff(request: web.Request) -> Caller:
    """An admin, a coach, or someone who coaches a cohort: people who may read every brief."""
    caller = caller_of(request)
    person = caller.person
    if caller.is_admin or person is None or person.role is Role.COACH:
        return caller
    memberships = await cohorts_of(request.app[DATABASE], person.id)
    if any(m.role is CohortRole.COACH for m in memberships):
        return caller
    raise NotPermitted("only coaches and admins may read scenarios (their briefs are private)")


def refusal(exc: DomainError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "code": exc.code, "message": exc.message}
    for extra in ("field", "ids"):
        if hasattr(exc, extra):
            body[extra] = getattr(exc, extra)
    return web.json_response(body, status=STATUS.get(exc.code, 400))


def answers(handler: Handler) -> Handler:
    """Answer this module's refusals with their status, field and ids; leave the rest
    (unauthorized, forbidden, bad_request…) to `web.errors.errors_as_json`."""

    @functools.wraps(handler)
    async def answered(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except DomainError as exc:
            if exc.code in STATUS:
                return refusal(exc)
            raise

    return answered
