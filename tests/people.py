"""Signed-in people for tests: a person added to the server's database with a live session."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from aiohttp import ClientSession, web

from sessions.people import Person, Role
from web.auth import COOKIE, CSRF_HEADER, PEOPLE


@dataclass(frozen=True)
class SignedIn:
    person: Person
    token: str  # the session cookie's value
    csrf: str

    @property
    def cookies(self) -> dict[str, str]:
        return {COOKIE: self.token}

    @property
    def write_headers(self) -> dict[str, str]:
        """Headers a signed-in page sends with a write."""
        return {CSRF_HEADER: self.csrf}

    def session(self) -> ClientSession:
        """An HTTP client that carries this person's cookie (close it after use)."""
        return ClientSession(cookies=self.cookies)


async def sign_in(
    app: web.Application,
    role: Role,
    email: str | None = None,
    name: str | None = None,
    time_zone: str = "UTC",
) -> SignedIn:
    """A new person with `role`, signed in (no password: the session is made directly)."""
    people = app[PEOPLE]
    person = await people.add(
        email or f"{role.value}-{secrets.token_hex(4)}@example.org",
        name or role.value.title(),
        role,
        time_zone,
    )
    token, csrf = await people.start_session(person.id, "127.0.0.1")
    return SignedIn(person, token, csrf)
