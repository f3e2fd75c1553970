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
from pathlib import Path

from tests.live_server import LiveServer, start_server
from tests.web.permission_world import World, ask

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
