"""Who asks for the console's scheduling routes: an admin, or a coach of some cohorts.

An admin is a signed-in person with the admin role (cookie + CSRF) or the admin
bearer token; a coach is a person with a `cohort_members` row as coach (whatever
their organisation role), who sees the simulations of those cohorts only.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from sessions.errors import NotPermitted
from sessions.people import Person
from storage import audit
from storage.simulations import Simulation, Simulations
from web.auth import bears_admin_token, person_of
from web.errors import NotFound, Unauthorized

SIMULATIONS = web.AppKey("simulations", Simulations)


@dataclass(frozen=True)
class Staff:
    """An admin (every simulation) or a coach (the simulations of the cohorts they coach)."""

    actor: str  # a person's id, or "admin-token"
    person: Person | None
    admin: bool
    cohorts: frozenset[str]

    def may_see(self, simulation: Simulation) -> bool:
        return self.admin or (
            simulation.cohort_id is not None and simulation.cohort_id in self.cohorts
        )

    def check_sees(self, simulation: Simulation) -> None:
        if not self.may_see(simulation):
            raise NotFound(f"there is no simulation {simulation.id!r}")


async def staff_of(request: web.Request) -> Staff:
    """The admin (token or person) or a coach of at least one cohort; 401/403 otherwise."""
    if "Authorization" in request.headers:
        if bears_admin_token(request):
            return Staff(audit.ADMIN_TOKEN, None, True, frozenset())
        raise Unauthorized("the admin token is required (Authorization: Bearer …)")
    person = person_of(request)
    if person is None:
        raise Unauthorized("sign in first")
    if person.is_admin:
        return Staff(person.id, person, True, frozenset())
    cohorts = await request.app[SIMULATIONS].coached_cohorts(person.id)
    if not cohorts:
        raise NotPermitted("only admins and coaches see simulations")
    return Staff(person.id, person, False, cohorts)


async def admin_of(request: web.Request) -> Staff:
    staff = await staff_of(request)
    if not staff.admin:
        raise NotPermitted("only an admin schedules simulations")
    return staff
