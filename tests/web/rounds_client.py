"""Calling the rounds and availability API as someone (a tuple of status and JSON back),
a session of a person who already exists, and the proposal window some weeks ahead."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientSession

from tests.live_server import LiveServer
from tests.people import SignedIn
from tests.round_rows import next_week
from web.auth import PEOPLE


async def call(
    who: SignedIn | None, server: LiveServer, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    headers = who.write_headers if who is not None else {}
    async with ClientSession(cookies=who.cookies if who else {}) as http:
        async with http.request(method, server.url + path, json=body, headers=headers) as response:
            return response.status, await response.json()


async def as_person(server: LiveServer, person_id: str) -> SignedIn:
    """A session of an existing person (a trainee of the cohort)."""
    people = server.app[PEOPLE]
    person = await people.get(person_id)
    assert person is not None
    token, csrf = await people.start_session(person_id, "127.0.0.1")
    return SignedIn(person, token, csrf)


def window(weeks: int = 1) -> dict[str, str]:
    first, last = next_week(weeks)
    return {"from": first.isoformat(), "to": last.isoformat()}
