"""Signing in and out: /login, /logout and the invitation page /invite/{token}.

Sign-in takes JSON from the page's script (a cross-site form cannot send JSON
without a CORS preflight, so nobody can sign a browser into another account).
Failures are counted per account and per address (web/attempts.py); past the
limit a request is refused with 429 `too_many_attempts` before its password
is looked at. An unknown address and a wrong password get the same answer
after the same work (one argon2 hash).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from sessions import profiles
from sessions.errors import DomainError
from sessions.people import Person
from storage.invitations import Invitations
from web.api import body
from web.attempts import FailedAttempts
from web.auth import COOKIE, PEOPLE, person_of, set_session_cookie
from web.errors import BadRequest
from web.pages import STATIC_DIR

routes = web.RouteTableDef()

MAX_NEXT_CHARS = 2000


@dataclass
class SignInLimits:
    accounts: FailedAttempts = field(default_factory=FailedAttempts)
    addresses: FailedAttempts = field(default_factory=FailedAttempts)


LIMITS = web.AppKey("sign_in_limits", SignInLimits)
INVITATIONS = web.AppKey("invitations", Invitations)


class BadCredentials(DomainError):
    code = "bad_credentials"


class TooManyAttempts(DomainError):
    code = "too_many_attempts"


def setup(app: web.Application) -> None:
    """Routes and state; needs app[PEOPLE]."""
    app[LIMITS] = SignInLimits()
    app[INVITATIONS] = Invitations(app[PEOPLE])
    app.add_routes(routes)


def same_site_path(raw: object) -> str | None:
    """`raw` if it is a path on this site ("/admin/people?x=1"), else None.

    "//evil.example" and "/\\evil.example" are other sites to a browser.
    """
    if not isinstance(raw, str) or not raw.startswith("/") or len(raw) > MAX_NEXT_CHARS:
        return None
    if raw.startswith("//") or "\\" in raw or not raw.isprintable():
        return None
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return None
    return raw


def landing(person: Person, next_path: object) -> str:
    return same_site_path(next_path) or ("/admin" if person.is_admin else "/")


def _string(data: Any, key: str, max_chars: int) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value or len(value) > max_chars:
        raise BadRequest(f"'{key}' must be a string of 1 to {max_chars} characters")
    return value


async def signed_in_response(
    request: web.Request, person: Person, cookie: str, next_path: object
) -> web.Response:
    old = request.cookies.get(COOKIE)
    if old and len(old) <= 128:
        await request.app[PEOPLE].end_session(old)  # a new sign-in replaces the old one
    response = web.json_response({"ok": True, "next": landing(person, next_path)})
    set_session_cookie(response, cookie, secure=request.secure)
    return response


@routes.get("/login")
async def login_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "login.html")


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    data = await body(request, {"email", "password", "next"})
    email = _string(data, "email", profiles.MAX_EMAIL_CHARS).strip().lower()
    password = _string(data, "password", profiles.MAX_PASSWORD_CHARS)
    limits, address, now = request.app[LIMITS], request.remote or "?", time.monotonic()
    wait_s = max(limits.accounts.blocked(email, now), limits.addresses.blocked(address, now))
    if wait_s > 0:
        # refused before the password is looked at: a guess here tells nothing
        response = web.json_response(
            {
                "ok": False,
                "code": TooManyAttempts.code,
                "message": f"too many failed sign-ins; try again in {int(wait_s) + 1} s",
            },
            status=429,
        )
        response.headers["Retry-After"] = str(int(wait_s) + 1)
        return response
    person = await request.app[PEOPLE].check_password(email, password)
    if person is None:
        limits.accounts.failed(email, now)
        limits.addresses.failed(address, now)
        raise BadCredentials("that email and password do not match an active account")
    limits.accounts.clear(email)
    cookie, _ = await request.app[PEOPLE].start_session(person.id, request.remote)
    return await signed_in_response(request, person, cookie, data.get("next"))


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    # A signed-in write: the middleware has already refused it without the CSRF token.
    token = request.cookies.get(COOKIE)
    if token and len(token) <= 128 and person_of(request) is not None:
        await request.app[PEOPLE].end_session(token)
    response = web.json_response({"ok": True, "next": "/login"})
    response.del_cookie(COOKIE, path="/")
    return response


@routes.get("/invite/{token}")
async def invitation_page(request: web.Request) -> web.FileResponse:
    # The page reads the token from its own address and asks the API below.
    return web.FileResponse(STATIC_DIR / "invite.html")


@routes.get("/api/invitations/{token}")
async def invitation(request: web.Request) -> web.Response:
    """Whom a link is for (the page greets them by name), or why it no longer works."""
    person, purpose = await request.app[INVITATIONS].look(request.match_info["token"][:128])
    return web.json_response({"name": person.name, "email": person.email, "purpose": purpose.value})


@routes.post("/api/invitations/{token}")
async def use_invitation(request: web.Request) -> web.Response:
    data = await body(request, {"password"})
    password = profiles.password(data.get("password"))
    signed = await request.app[INVITATIONS].use(
        request.match_info["token"][:128], password, request.remote
    )
    return await signed_in_response(request, signed.person, signed.token, None)
