"""The people API: the console's list, invitations, deactivation, resets and edits.

Admins only (an admin person, signed in, or the admin token), except
`PATCH /api/me`, where anyone signed in changes their own name and time zone.
Every link made here is returned to copy; with SMTP configured it is also
mailed (web/mail.py) and the answer says so.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sessions import profiles
from sessions.errors import DomainError
from sessions.people import Person, Role
from storage.invitations import Invitation
from storage.people import Account
from web import every_node
from web.api import base_url, body
from web.auth import PEOPLE, require_person
from web.callers import require_console_admin
from web.mail import Mailer
from web.signin import INVITATIONS

routes = web.RouteTableDef()

#: ends every live seat held by an identity; the number ended (signaling/revocation.py)
EndSeats = Callable[[str], Awaitable[int]]
END_SEATS: web.AppKey[EndSeats] = web.AppKey("end_seats")
MAILER = web.AppKey("mailer", Mailer)


class OwnAccount(DomainError):
    code = "own_account"


class PersonDeactivated(DomainError):
    code = "person_deactivated"


def setup(app: web.Application, mailer: Mailer | None = None) -> None:
    if mailer is not None:
        app[MAILER] = mailer
    app.add_routes(routes)


def admin_actor(request: web.Request) -> str:
    """Who acts: "admin-token", or the id of the signed-in admin."""
    return require_console_admin(request).actor


def person_json(person: Person) -> dict[str, Any]:
    return {
        "id": person.id,
        "email": person.email,
        "name": person.name,
        "time_zone": person.time_zone,
        "role": person.role.value,
        "active": person.active,
    }


def account_json(account: Account) -> dict[str, Any]:
    return {
        **person_json(account.person),
        "created_ms": account.created_ms,
        "deactivated_ms": account.deactivated_ms,
        # False until the invitation is used
        "has_password": account.has_password,
        "cohorts": [
            {"id": m.cohort_id, "name": m.cohort_name, "role": m.role} for m in account.cohorts
        ],
    }


def invitation_link(base: str, token: str) -> str:
    return f"{base.rstrip('/')}/invite/{token}"


def _handed_out(request: web.Request, invitation: Invitation) -> dict[str, Any]:
    """The link to copy, and whether it is also on its way by mail."""
    link = invitation_link(base_url(request), invitation.token)
    mailer = request.app.get(MAILER)
    if mailer is not None:
        mailer.send_invitation(
            invitation.person, link, invitation.purpose.value, invitation.expires_ms
        )
    return {
        "person": person_json(invitation.person),
        "link": link,
        "purpose": invitation.purpose.value,
        "expires_ms": invitation.expires_ms,
        "mailed": mailer is not None,  # sent in the background; failures go to the log
    }


@routes.get("/api/people")
async def list_people(request: web.Request) -> web.Response:
    admin_actor(request)
    accounts = await request.app[PEOPLE].accounts()
    return web.json_response([account_json(a) for a in accounts])


@routes.post("/api/people")
async def invite(request: web.Request) -> web.Response:
    actor = admin_actor(request)
    data = await body(request, {"email", "name", "role", "time_zone"})
    email = profiles.email(data.get("email"))
    name = profiles.name(data.get("name", email.split("@")[0]))
    role = profiles.role(data.get("role"))
    time_zone = profiles.time_zone(data.get("time_zone", "UTC"))
    invitation = await request.app[INVITATIONS].invite(email, name, role, time_zone, actor)
    return web.json_response(_handed_out(request, invitation), status=201)


def _target(request: web.Request, actor: str) -> str:
    person_id = request.match_info["id"]
    if person_id == actor:
        raise OwnAccount("you cannot do this to your own account; ask another admin")
    return person_id


@routes.post("/api/people/{id}/deactivate")
async def deactivate(request: web.Request) -> web.Response:
    actor = admin_actor(request)
    await body(request, set())
    person = await request.app[PEOPLE].deactivate(_target(request, actor), actor)
    end_seats = request.app.get(END_SEATS)
    seats = await end_seats(person.id) if end_seats is not None else 0
    answer = {"person": person_json(person), "seats_ended": seats, "nodes_unreached": []}
    # the seats they hold in rooms that run on other nodes (web/every_node.py)
    return web.json_response(every_node.summed(answer, await every_node.other_nodes(request)))


@routes.post("/api/people/{id}/reactivate")
async def reactivate(request: web.Request) -> web.Response:
    actor = admin_actor(request)
    await body(request, set())
    person = await request.app[PEOPLE].reactivate(request.match_info["id"], actor)
    return web.json_response({"person": person_json(person)})


@routes.post("/api/people/{id}/reset")
async def reset(request: web.Request) -> web.Response:
    """A new link to set a password; the person is signed out everywhere."""
    actor = admin_actor(request)
    await body(request, set())
    person_id = request.match_info["id"]
    if await request.app[PEOPLE].is_deactivated(person_id):
        raise PersonDeactivated("reactivate this person before resetting their password")
    invitation = await request.app[INVITATIONS].reset(person_id, actor)
    return web.json_response(_handed_out(request, invitation))


@routes.patch("/api/people/{id}")
async def edit(request: web.Request) -> web.Response:
    actor = admin_actor(request)
    data = await body(request, {"name", "role", "time_zone"})
    role = profiles.role(data["role"]) if "role" in data else None
    if role is not None and role is not Role.ADMIN and request.match_info["id"] == actor:
        raise OwnAccount("you cannot give up your own admin role; ask another admin")
    person = await request.app[PEOPLE].update(
        request.match_info["id"],
        actor,
        name=profiles.name(data["name"]) if "name" in data else None,
        role=role,
        time_zone=profiles.time_zone(data["time_zone"]) if "time_zone" in data else None,
    )
    return web.json_response({"person": person_json(person)})


@routes.patch("/api/me")
async def edit_me(request: web.Request) -> web.Response:
    """A person's own name and time zone (their role is an admin's to change)."""
    data = await body(request, {"name", "time_zone"})  # a malformed body is refused first
    me = require_person(request)
    person = await request.app[PEOPLE].update(
        me.id,
        me.id,
        name=profiles.name(data["name"]) if "name" in data else None,
        time_zone=profiles.time_zone(data["time_zone"]) if "time_zone" in data else None,
    )
    return web.json_response({"person": person_json(person)})
