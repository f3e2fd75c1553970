"""Who is asking, for every console and programme route: one answer, one place.

A caller is a signed-in person (cookie + CSRF, checked by `web.auth.signed_in`)
or whoever presents the admin bearer token. A request with an `Authorization`
header is judged by that header alone, so a cookie never stands in for a
missing or wrong token (nor skips the CSRF check), and a seat token, however
valid, is not a console caller.

`Staff` narrows a caller to those who see simulations: an admin (every one) or
a coach of some cohorts (a `cohort_members` row as coach, whatever their
organisation role: the simulations of those cohorts only).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from sessions.errors import NotPermitted
from sessions.people import Person, Role
from storage import audit
from storage.simulations import Simulation, Simulations
from web.auth import person_of
from web.errors import NotFound, Unauthorized
from web.viewers import require_admin

SIMULATIONS = web.AppKey("simulations", Simulations)


@dataclass(frozen=True)
class Caller:
    """A signed-in person, or the admin token (`person` None)."""

    person: Person | None

    @property
    def is_admin(self) -> bool:
        return self.person is None or self.person.role is Role.ADMIN

    @property
    def person_id(self) -> str | None:
        return None if self.person is None else self.person.id

    @property
    def actor(self) -> str:
        """Who an audit row names."""
        return audit.ADMIN_TOKEN if self.person is None else self.person.id


def caller_of(request: web.Request) -> Caller:
    """The caller; 401 for no one (or a bearer that is not the admin token)."""
    if "Authorization" in request.headers:
        require_admin(request)
        return Caller(None)
    person = person_of(request)
    if person is None:
        raise Unauthorized("sign in first")
    return Caller(person)


def require_console_admin(request: web.Request) -> Caller:
    caller = caller_of(request)
    if not caller.is_admin:
        raise NotPermitted("only an admin may change this")
    return caller


@dataclass(frozen=True)
class Staff:
    """An admin (every simulation) or a coach (the simulations of the cohorts they coach)."""

    caller: Caller
    cohorts: frozenset[str]

    @property
    def admin(self) -> bool:
        return self.caller.is_admin

    @property
    def actor(self) -> str:
        return self.caller.actor

    @property
    def person(self) -> Person | None:
        return self.caller.person

    def may_see(self, simulation: Simulation) -> bool:
        return self.admin or (
            simulation.cohort_id is not None and simulation.cohort_id in self.cohorts
        )

    def check_sees(self, simulation: Simulation) -> None:
        if not self.may_see(simulation):
            raise NotFound(f"there is no simulation {simulation.id!r}")


async def staff_of(request: web.Request) -> Staff:
    """The admin (token or person) or a coach of at least one cohort; 401/403 otherwise."""
    caller = caller_of(request)
    if caller.is_admin or caller.person is None:
        return Staff(caller, frozenset())
    cohorts = await request.app[SIMULATIONS].coached_cohorts(caller.person.id)
    if not cohorts:
        raise NotPermitted("only admins and coaches see simulations")
    return Staff(caller, cohorts)


async def admin_of(request: web.Request) -> Staff:
    staff = await staff_of(request)
    if not staff.admin:
        raise NotPermitted("only an admin schedules simulations")
    return staff
