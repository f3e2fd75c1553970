"""Who is signed in (session cookie), and CSRF protection for cookie-authenticated writes.

A browser signs in once and carries an HttpOnly, SameSite=Lax cookie. A write
(POST, PUT, PATCH, DELETE) authenticated by that cookie must also send the
session's CSRF token in `X-CSRF-Token` (pages read it from `GET /api/me`);
without it the write is refused with 403 `csrf` before the handler runs.
Requests that carry `Authorization: Bearer …` (seat tokens, the admin token)
are not cookie-authenticated and need no CSRF token.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from sessions.errors import DomainError, NotPermitted
from sessions.people import Person, Role
from storage.people import SESSION_TTL_S, People
from web.errors import Unauthorized, json_error
from web.keys import ADMIN_TOKEN

COOKIE = "caucus_session"
CSRF_HEADER = "X-CSRF-Token"
PEOPLE = web.AppKey("people", People)
PERSON = web.RequestKey("person", Person)
CSRF = web.RequestKey("csrf", str)
_WRITES = frozenset(("POST", "PUT", "PATCH", "DELETE"))

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class CsrfRefused(DomainError):
    code = "csrf"


@web.middleware
async def signed_in(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Attach the signed-in person (or None) to the request; refuse CSRF-less cookie writes.

    A request that carries `Authorization` is judged by that header alone: its cookie
    is not read, so no route can mix a bearer's rights with a cookie's person.
    """
    token = request.cookies.get(COOKIE)
    if "Authorization" in request.headers:
        return await handler(request)
    if token and PEOPLE in request.app and len(token) <= 128:
        found = await request.app[PEOPLE].session(token)
        if found is not None:
            request[PERSON] = found[0]
            request[CSRF] = found[1]
            if request.method in _WRITES:
                presented = request.headers.get(CSRF_HEADER, "")
                if not hmac.compare_digest(presented.encode(), found[1].encode()):
                    return json_error(
                        "csrf", f"a signed-in write needs the {CSRF_HEADER} header", 403
                    )
    return await handler(request)


def bears_admin_token(request: web.Request) -> bool:
    """Whether the request's `Authorization: Bearer …` is the admin token (constant time;
    header bytes aiohttp could not decode compare as they came)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    presented = token.encode("utf-8", "surrogateescape")
    return hmac.compare_digest(presented, request.app[ADMIN_TOKEN].encode())


def person_of(request: web.Request) -> Person | None:
    return request.get(PERSON)


def require_person(request: web.Request, *roles: Role) -> Person:
    """The signed-in person, who must hold one of `roles` (any role if none named)."""
    person = person_of(request)
    if person is None:
        raise Unauthorized("sign in first")
    if roles and person.role not in roles:
        raise NotPermitted("your account may not do this")
    return person


def set_session_cookie(response: web.StreamResponse, token: str, secure: bool) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=SESSION_TTL_S,
        httponly=True,
        samesite="Lax",
        secure=secure,
        path="/",
    )
