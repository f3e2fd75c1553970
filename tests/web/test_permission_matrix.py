"""Every HTTP route × who is asking: the status each gets, in one table.

Six callers: nobody signed in, a trainee, a coach of another cohort, the
simulation's coach, an admin, and a deactivated person still holding their old
cookie. Each request carries a valid body and the caller's CSRF token, so the
table shows permission alone. "ok" means the route did its work (2xx/3xx, or
409 when a caller before it already did the same thing); 401, 403 and 404 are
refusals (404: a thing that is not yours does not exist for you; a segment
URL without a valid signature is 404 for everyone, so it tells nobody whether
the segment exists). /metrics is for a Prometheus scraper with the metrics
token, which no person's session or the admin token stands in for: 401 for all;
a browser-copy upload takes the seat's token as Bearer, so a cookie, whoever's,
is 401.

A route added to the server without a row here fails the test: a new route
must say who may call it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
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
from tests.live_server import LiveServer, start_server
from tests.people import SignedIn, sign_in
from tests.round_rows import next_week, weekly
from tests.stored_sessions import add_session, now_ms
from web.auth import COOKIE, CSRF_HEADER, PEOPLE
from web.keys import DATABASE, RECORDINGS_DIR

CALLERS = ("anonymous", "deactivated", "trainee", "other_coach", "coach", "admin")

# method path                                         anon deact train other coach admin
MATRIX = """
GET    /                                              ok   ok   ok   ok   ok   ok
GET    /admin                                         ok   ok   ok   ok   ok   ok
GET    /admin/{section}                               ok   ok   ok   ok   ok   ok
GET    /healthz                                       ok   ok   ok   ok   ok   ok
GET    /metrics                                       401  401  401  401  401  401
GET    /login                                         ok   ok   ok   ok   ok   ok
POST   /login                                         401  401  401  401  401  401
POST   /logout                                        ok   ok   ok   ok   ok   ok
GET    /invite/{token}                                ok   ok   ok   ok   ok   ok
GET    /api/invitations/{token}                       404  404  404  404  404  404
POST   /api/invitations/{token}                       404  404  404  404  404  404
GET    /join/{room}                                   ok   ok   ok   ok   ok   ok
GET    /recordings/{room}                             ok   ok   ok   ok   ok   ok
GET    /review                                        ok   ok   ok   ok   ok   ok
GET    /api/signed-in                                 ok   ok   ok   ok   ok   ok
GET    /api/me                                        401  401  ok   ok   ok   ok
PATCH  /api/me                                        401  401  ok   ok   ok   ok
GET    /api/home                                      401  401  ok   ok   ok   ok
GET    /api/join/{room}                               401  401  401  401  401  401
GET    /availability                                  ok   ok   ok   ok   ok   ok
GET    /api/me/availability                           401  401  ok   ok   ok   ok
PUT    /api/me/availability                           401  401  ok   ok   ok   ok
GET    /api/availability/{person}                     401  401  403  404  ok   ok
POST   /api/rounds                                    401  401  403  404  ok   ok
GET    /api/cohorts/{cohort}/levels                   401  401  403  404  ok   ok
PUT    /api/cohorts/{cohort}/levels                   401  401  403  404  ok   ok
GET    /api/rounds                                    401  401  403  ok   ok   ok
GET    /api/rounds/{round}                            401  401  403  404  ok   ok
POST   /api/rounds/{round}/swap                       401  401  403  404  ok   ok
POST   /api/rounds/{round}/publish                    401  401  403  404  ok   ok
DELETE /api/rounds/{round}                            401  401  403  404  ok   ok
GET    /api/audit                                     401  401  403  403  403  ok
GET    /api/people                                    401  401  403  403  403  ok
POST   /api/people                                    401  401  403  403  403  ok
PATCH  /api/people/{id}                               401  401  403  403  403  ok
POST   /api/people/{id}/deactivate                    401  401  403  403  403  ok
POST   /api/people/{id}/reactivate                    401  401  403  403  403  ok
POST   /api/people/{id}/reset                         401  401  403  403  403  ok
GET    /api/cohorts                                   401  401  ok   ok   ok   ok
POST   /api/cohorts                                   401  401  403  403  403  ok
GET    /api/cohorts/{cohort}                          401  401  ok   404  ok   ok
PATCH  /api/cohorts/{cohort}                          401  401  403  403  403  ok
DELETE /api/cohorts/{cohort}                          401  401  403  403  403  ok
PUT    /api/cohorts/{cohort}/members                  401  401  403  403  403  ok
PUT    /api/cohorts/{cohort}/scenarios                401  401  403  403  403  ok
GET    /api/scenarios                                 401  401  403  ok   ok   ok
POST   /api/scenarios                                 401  401  403  403  403  ok
GET    /api/scenarios/{scenario}                      401  401  403  ok   ok   ok
PUT    /api/scenarios/{scenario}                      401  401  403  403  403  ok
DELETE /api/scenarios/{scenario}                      401  401  403  403  403  ok
POST   /api/scenarios/{scenario}/copy                 401  401  403  403  403  ok
GET    /api/schedule                                  401  401  403  ok   ok   ok
POST   /api/schedule                                  401  401  403  403  403  ok
GET    /api/schedule/scenarios                        401  401  403  403  403  ok
GET    /api/schedule/{room}                           401  401  403  404  ok   ok
PATCH  /api/schedule/{room}                           401  401  403  403  403  ok
POST   /api/schedule/{room}/links                     401  401  403  403  403  ok
GET    /api/live                                      401  401  403  ok   ok   ok
GET    /api/simulations                               401  401  401  401  401  ok
POST   /api/simulations                               401  401  401  401  401  ok
GET    /api/simulations/{room}                        401  401  401  401  401  ok
GET    /api/simulations/{room}/timeline               401  401  401  401  401  ok
POST   /api/simulations/{room}/tokens                 401  401  401  401  401  ok
POST   /api/simulations/{room}/end                    401  401  403  404  ok   ok
POST   /api/simulations/{room}/my-seat                401  401  ok   403  ok   403
GET    /api/simulations/{simulation}.ics              401  401  ok   404  ok   ok
GET    /calendar/{token}.ics                          404  404  404  404  404  404
GET    /api/recordings                                401  401  ok   ok   ok   ok
GET    /api/recordings/{room}                         401  401  ok   404  ok   ok
DELETE /api/recordings/{room}                         401  401  403  404  403  ok
GET    /api/recordings/{room}/segments/{segment}      404  404  404  404  404  404
GET    /api/recordings/{room}/copies/{chunk}          404  404  404  404  404  404
GET    /api/simulations/{simulation}/browser-copy     401  401  401  401  401  401
PUT    /api/simulations/{simulation}/browser-copy/{n} 401  401  401  401  401  401
GET    /api/recordings/{room}/annotations             401  401  ok   404  ok   ok
POST   /api/recordings/{room}/annotations             401  401  403  404  ok   ok
GET    /api/recordings/{room}/annotations.{fmt}       401  401  ok   404  ok   ok
PATCH  /api/recordings/{room}/annotations/{note}      401  401  403  404  ok   ok
DELETE /api/recordings/{room}/annotations/{note}      401  401  403  404  ok   ok
GET    /api/trainees/{identity}/summary               401  401  ok   403  ok   ok
GET    /logbook                                       ok   ok   ok   ok   ok   ok
GET    /logbook/print                                 ok   ok   ok   ok   ok   ok
GET    /api/logbook                                   401  401  ok   ok   ok   ok
GET    /api/logbook.csv                               401  401  ok   ok   ok   ok
GET    /api/logbook.pdf                               401  401  ok   ok   ok   ok
POST   /api/logbook                                   401  401  ok   ok   ok   ok
PATCH  /api/logbook/{entry}                           401  401  ok   404  404  404
DELETE /api/logbook/{entry}                           401  401  ok   404  404  404
GET    /progress                                      ok   ok   ok   ok   ok   ok
GET    /api/tracker/me                                401  401  ok   ok   ok   ok
GET    /api/tracker/cohorts/{cohort}                  401  401  403  404  ok   ok
POST   /api/notes/{note}/read                         401  401  ok   404  404  404
POST   /api/tracker/me/certificates/{cohort}          401  401  ok   404  404  404
GET    /api/certificates/{certificate}.pdf            401  401  ok   404  ok   ok
GET    /certificates/{certificate}                    ok   ok   ok   ok   ok   ok
POST   /api/certificates/{certificate}/revoke         401  401  403  403  403  ok
GET    /feedback                                      ok   ok   ok   ok   ok   ok
GET    /api/trainees/{identity}/digest                401  401  ok   404  ok   ok
POST   /api/trainees/{identity}/digests               401  401  403  404  ok   ok
PATCH  /api/digests/{digest}                          401  401  404  404  ok   ok
POST   /api/digests/{digest}/share                    401  401  404  404  ok   ok
GET    /api/digests/{digest}.pdf                      401  401  ok   404  ok   ok
"""

#: infrastructure, not the application's API
UNLISTED = {"/socket.io/", "/static", "/vendor/socket.io"}


def expectations() -> dict[tuple[str, str], dict[str, str]]:
    table = {}
    for line in MATRIX.strip().splitlines():
        method, path, *cells = line.split()
        assert len(cells) == len(CALLERS), line
        table[(method, path)] = dict(zip(CALLERS, cells, strict=True))
    return table


def routes(server: LiveServer) -> set[tuple[str, str]]:
    found = set()
    for route in server.app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        path = str(info.get("formatter") or info.get("path") or info.get("prefix") or "")
        if route.method in ("HEAD", "OPTIONS") or path in UNLISTED:
            continue
        found.add((route.method, path))
    return found


def outcome(status: int) -> str:
    return "ok" if 200 <= status < 400 or status == 409 else str(status)


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
        first, last = next_week()
        return {
            "cohort": self.cohort,
            "scenario": "bakery-supply",  # the one the cohorts row gives the cohort
            "from": first.isoformat(),
            "to": last.isoformat(),
        }

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


async def test_every_route_answers_each_caller_as_the_table_says(tmp_path: Path) -> None:
    server = await start_server(tmp_path, metrics_token=secrets.token_urlsafe(16))
    try:
        world = World(server)
        await world.build()
        table = expectations()
        assert routes(server) - set(table) == set(), "routes without a row in MATRIX"
        assert set(table) - routes(server) == set(), "rows for routes that do not exist"
        got: dict[tuple[str, str], dict[str, str]] = {}
        # Refusals first: a caller who may not act must find everything as it was.
        # Per caller, deletions come late and signing out last.
        for caller in CALLERS:
            for method, path in sorted(table, key=lambda r: (r[1] == "/logout", r[0] == "DELETE")):
                got.setdefault((method, path), {})[caller] = outcome(
                    await ask(world, caller, method, path)
                )
        wrong = [
            f"{method} {path} as {caller}: {got[(method, path)][caller]} (want {want})"
            for (method, path), row in sorted(table.items())
            for caller, want in row.items()
            if got[(method, path)][caller] != want
        ]
        assert wrong == []
    finally:
        await server.stop()
