"""The world the permission matrix asks about, and how one caller asks one route.

`World` builds the six callers (anonymous, deactivated, trainee, coach of another
cohort, the simulation's coach, admin) with their cohorts, a recorded session, a
note, a digest, a certificate and a written scenario, and fills a route's path
with things that exist (a fresh one where a caller before would have used it up).
`ask` sends the request with a valid body and the caller's cookie and CSRF token
and returns the status.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

import aiohttp
from sqlalchemy import insert, select, update

from sessions.digests import DigestText
from sessions.people import Role
from storage import availability, cohorts, digests, tracker
from storage.people import People
from storage.schema import cohort_members, segments, simulations
from tests.hardening.test_http_bodies import BAKERY, VALID
from tests.home_rows import cohort_with_coach, note
from tests.live_server import LiveServer
from tests.people import SignedIn, sign_in
from tests.round_rows import weekly
from tests.stored_sessions import add_session, now_ms
from tests.web.rounds_client import window
from web.auth import COOKIE, CSRF_HEADER, PEOPLE
from web.keys import DATABASE, RECORDINGS_DIR


class World:
    """The people, cohorts and sessions every row is asked about."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.callers: dict[str, SignedIn | None] = {}
        self.fill: dict[str, str] = {}

    async def build(self) -> None:
        app = self.server.app
        db = app[DATABASE]
        admin = await sign_in(app, Role.ADMIN, "admin@example.org", "Ada Admin")
        coach = await sign_in(app, Role.COACH, "coach@example.org", "Cora Coach")
        other = await sign_in(app, Role.COACH, "other@example.org", "Otto Other")
        trainee = await sign_in(app, Role.TRAINEE, "trainee@example.org", "Tia Trainee")
        gone = await sign_in(app, Role.TRAINEE, "gone@example.org", "Gus Gone")
        await app[PEOPLE].deactivate(gone.person.id, admin.person.id)
        target = await People(db).add("target@example.org", "Tom Target", Role.TRAINEE)
        cohort = await cohort_with_coach(db, coach.person.id)
        await cohort_with_coach(db, other.person.id)
        # two more trainees, so a practice round of the cohort has a group (everyone free)
        more = [
            await People(db).add(f"t{n}@example.org", f"Trainee {n}", Role.TRAINEE) for n in (2, 3)
        ]
        async with db.transaction() as conn:
            await conn.execute(
                insert(cohort_members),
                [
                    {"cohort_id": cohort, "person_id": pid, "role": "trainee"}
                    for pid in (trainee.person.id, *(p.id for p in more))
                ],
            )
        for pid in (trainee.person.id, coach.person.id, *(p.id for p in more)):
            await availability.replace(db, pid, weekly("00:00", "00:00"))
        self.round_people = (trainee.person.id, more[0].id)
        seated = {"party_a": trainee.person.id, "coach": coach.person.id}
        room = await add_session(
            db, app[RECORDINGS_DIR], seats=seated, assigned=seated, cohort_id=cohort
        )
        async with db.transaction() as conn:  # a planned time, so it has a calendar entry
            await conn.execute(
                update(simulations)
                .where(simulations.c.id == room)
                .values(scheduled_ms=now_ms(), duration_min=60)
            )
            segment = await conn.scalar(
                select(segments.c.id).where(segments.c.simulation_id == room).limit(1)
            )
        # the trainee's certificate (the cohort asks for nothing: complete from the start)
        spring = await cohorts.get(db, cohort)
        assert spring is not None
        certificate, _ = await tracker.issue(db, trainee.person, spring, now_ms(), lambda _: None)
        self.coach = coach
        self.trainee_id = trainee.person.id
        self.room = room
        self.seated = seated
        self.cohort = cohort
        coach_note = await self.coach_note()
        self.callers = {
            "anonymous": None,
            "deactivated": gone,
            "trainee": trainee,
            "other_coach": other,
            "coach": coach,
            "admin": admin,
        }
        self.admin = admin
        self.fill = {
            "room": room,
            "simulation": room,
            "note": coach_note,
            "segment": str(segment),
            "fmt": "json",
            "id": target.id,
            "cohort": cohort,
            "scenario": "matrix-written",
            "token": secrets.token_urlsafe(16),
            "identity": trainee.person.id,
            "section": "live",
            "certificate": certificate.id,
            "person": trainee.person.id,
            "n": "0",  # a browser-copy chunk: uploads take the seat's token, not a cookie
            "chunk": "1",  # a browser-copy chunk's file: signed URLs only
            "digest": await self.digest(shared=True),
        }
        async with aiohttp.ClientSession(cookies=admin.cookies) as http:
            async with http.post(
                f"{self.server.url}/api/scenarios",
                json=BAKERY | {"id": "matrix-written"},
                headers=admin.write_headers,
            ) as response:
                assert response.status == 201 or response.status == 200, await response.text()

    def round_body(self) -> dict[str, Any]:
        return {
            "cohort": self.cohort,
            "scenario": "bakery-supply",  # the one the cohorts row gives the cohort
        } | window()

    async def draft_round(self) -> str:
        """A draft round of the coach's cohort (proposed by the admin): it has a group while
        the cohort has its members (rows before PUT /api/cohorts/{cohort}/members)."""
        async with aiohttp.ClientSession(cookies=self.admin.cookies) as http:
            async with http.post(
                f"{self.server.url}/api/rounds",
                json=self.round_body(),
                headers=self.admin.write_headers,
            ) as response:
                made = await response.json()
                assert response.status == 201, made
                return str(made["id"])

    async def trainee_entry(self) -> str:
        trainee = self.callers["trainee"]
        assert trainee is not None
        # a session of the trainee's own, apart from the one the matrix signs out
        token, csrf = await self.server.app[PEOPLE].start_session(trainee.person.id, None)
        async with aiohttp.ClientSession(cookies={COOKIE: token}) as http:
            async with http.post(
                f"{self.server.url}/api/logbook",
                json=LOGBOOK_ENTRY,
                headers={CSRF_HEADER: csrf},
            ) as response:
                assert response.status == 201, await response.text()
                return str((await response.json())["id"])

    async def recorded_room(self) -> str:
        app = self.server.app
        return await add_session(
            app[DATABASE],
            app[RECORDINGS_DIR],
            seats=self.seated,
            assigned=self.seated,
            cohort_id=self.cohort,
        )

    async def coach_note(self) -> str:
        """A note by the coach to party_a, inside the recorded second."""
        db = self.server.app[DATABASE]
        return await note(
            db, self.room, "Nice reframe", t_ms=500, target="party_a", author=self.coach.person.id
        )

    async def digest(self, *, shared: bool) -> str:
        """A digest the coach wrote to the trainee (a draft unless `shared`)."""
        db, coach = self.server.app[DATABASE], self.coach.person.id
        made = await digests.add(db, self.trainee_id, coach, DigestText("Calm"), now_ms())
        if shared:
            await digests.share(db, made.id, coach, now_ms())
        return made.id

    async def url(self, method: str, path: str) -> str:
        fill = dict(self.fill)
        if path in ("/api/digests/{digest}", "/api/digests/{digest}/share"):
            fill["digest"] = await self.digest(shared=False)  # each caller finds a fresh draft
        if (method, path) == ("DELETE", "/api/recordings/{room}/annotations/{note}"):
            fill["note"] = await self.coach_note()  # each caller deletes a note of its own
        if path.startswith("/api/rounds/{round}"):
            fill["round"] = await self.draft_round()  # each caller asks about a fresh draft
        if path == "/api/logbook/{entry}":
            fill["entry"] = await self.trainee_entry()  # the trainee's own, hand-written
        if (method, path) == ("DELETE", "/api/cohorts/{cohort}"):
            fill["cohort"] = await cohort_with_coach(
                self.server.app[DATABASE], self.coach.person.id
            )
        if (method, path) == ("DELETE", "/api/recordings/{room}"):
            fill["room"] = await self.recorded_room()  # … and a recording of its own
        return self.server.url + path.format_map(fill)


LOGBOOK_ENTRY = {
    "at_ms": 1_780_000_000_000,
    "duration_min": 90,
    "role": "co-mediator",
    "medium": "face-to-face",
    "scenario": "Neighbours and a fence",
    "went_well": "Kept both parties talking",
}


def body_of(method: str, path: str) -> Mapping[str, Any] | None:
    if method in ("GET", "DELETE"):
        return None
    if path.startswith("/api/logbook"):
        return LOGBOOK_ENTRY if method == "POST" else {"challenging": "Silence"}
    if (method, path) == ("PUT", "/api/scenarios/{scenario}"):
        return BAKERY | {"id": "matrix-written", "title": "Bakery, rewritten"}
    if (method, path) == ("POST", "/login"):
        return {"email": "nobody@example.org", "password": "not the password"}
    return VALID.get((method, path), {})


async def ask(world: World, caller: str, method: str, path: str) -> int:
    who = world.callers[caller]
    cookies = {COOKIE: who.token} if who is not None else {}
    headers = {CSRF_HEADER: who.csrf} if who is not None else {}
    body = body_of(method, path)
    if (method, path) == ("POST", "/api/rounds"):
        body = world.round_body()
    if (method, path) == ("PUT", "/api/cohorts/{cohort}/levels"):
        body = {"levels": {world.round_people[0]: 2}}
    if (method, path) == ("POST", "/api/rounds/{round}/swap"):
        body = dict(zip("ab", world.round_people, strict=True))
    async with aiohttp.ClientSession(cookies=cookies) as http:
        async with http.request(
            method, await world.url(method, path), json=body, headers=headers, allow_redirects=False
        ) as response:
            await response.read()
            return response.status
