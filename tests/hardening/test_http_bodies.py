"""Every JSON route of the REST API fed broken bodies: 4xx with the JSON error shape, never 5xx."""

from __future__ import annotations

import json
import os
import random
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import aiohttp
import pytest

from sessions.ids import ScenarioId
from sessions.people import Role
from sessions.scenarios import builtin_scenarios
from tests.hardening.conftest import LogWatch
from tests.hardening.mutations import nasty_json_text
from tests.live_server import LiveServer
from tests.people import sign_in

SEED = 2026_11
BAKERY = builtin_scenarios()[ScenarioId("bakery-supply")].to_dict()
SCALE = float(os.environ.get("CAUCUS_FUZZ_SCALE", "1"))
CASES_PER_ROUTE = int(150 * SCALE)
#: a valid body per JSON route, the seed of its mutants
#: a round's window: dates a week ahead
NEXT_WEEK = tuple((date.today() + timedelta(days=d)).isoformat() for d in (7, 13))
VALID: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/simulations"): {"scenario": "boundary-fence", "observers": 1},
    ("POST", "/api/simulations/{room}/tokens"): {"seat": "party_a", "name": "Amani"},
    ("POST", "/api/recordings/{room}/annotations"): {"t_ms": 0, "text": "a note"},
    ("PATCH", "/api/recordings/{room}/annotations/{note}"): {"text": "edited"},
    # people and sign-in (the routes without a body mutate {})
    ("POST", "/api/people"): {"email": "fuzz@example.org", "name": "Fuzz", "role": "trainee"},
    ("PATCH", "/api/people/{id}"): {"name": "Fuzz", "time_zone": "Africa/Nairobi"},
    ("PATCH", "/api/me"): {"name": "Fuzz", "time_zone": "Asia/Taipei"},
    ("POST", "/api/invitations/{token}"): {"password": "a long enough password"},
    # cohorts and scenarios written in the console (the routes without a body mutate {})
    ("POST", "/api/cohorts"): {
        "name": "Fuzz",
        "starts_on": "2027-01-01",
        "ends_on": "2027-02-01",
        "requirements": {"hours": 3, "reflections": True},
    },
    ("PATCH", "/api/cohorts/{cohort}"): {"name": "Fuzz 2", "ends_on": "2027-03-01"},
    ("PUT", "/api/cohorts/{cohort}/members"): {"coaches": [], "trainees": []},
    ("PUT", "/api/cohorts/{cohort}/scenarios"): {"scenarios": ["bakery-supply"]},
    ("POST", "/api/scenarios"): BAKERY | {"id": "fuzz-new"},
    ("PUT", "/api/scenarios/{scenario}"): BAKERY | {"id": "fuzz"},
    ("POST", "/api/scenarios/{scenario}/copy"): {"title": "Fuzz copy"},
    # the logbook (issue 15)
    ("POST", "/api/logbook"): {
        "at_ms": 1_780_000_000_000,
        "duration_min": 60,
        "role": "co-mediator",
        "medium": "online",
        "scenario": "Fuzz",
    },
    ("PATCH", "/api/logbook/{entry}"): {"went_well": "Fuzz"},
    ("POST", "/api/schedule"): {"scenario": "boundary-fence", "duration_min": 30},
    ("PATCH", "/api/schedule/{room}"): {"duration_min": 30},
    ("POST", "/api/schedule/{room}/links"): {"seats": ["party_a"]},
    # availability and practice rounds
    ("PUT", "/api/me/availability"): {
        "weekly": [{"weekday": 0, "start": "18:00", "end": "21:00"}],
        "exceptions": [{"kind": "extra", "start": "2027-01-04T09:00", "end": "2027-01-04T12:00"}],
    },
    ("POST", "/api/rounds"): {
        "cohort": "fuzz-cohort",
        "scenario": "boundary-fence",
        "from": NEXT_WEEK[0],
        "to": NEXT_WEEK[1],
        "duration_min": 60,
    },
    ("POST", "/api/rounds/{round}/swap"): {"a": "someone", "b": "someone-else"},
    ("PUT", "/api/cohorts/{cohort}/levels"): {"levels": {"someone": 1}},
    # feedback digests (the share route mutates {})
    ("POST", "/api/trainees/{identity}/digests"): {
        "strengths": "Fuzz",
        "develop": "Fuzz",
        "next_steps": "Fuzz",
    },
    ("PATCH", "/api/digests/{digest}"): {"strengths": "Fuzz 2"},
}
#: routes whose body is not JSON (tests/hardening/test_browser_copy_uploads.py fuzzes them)
BINARY_ROUTES = {("PUT", "/api/simulations/{simulation}/browser-copy/{n}")}
CONTENT_TYPES = [
    "application/json",
    "application/json",
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/jsonx",
    "",
]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def json_routes(server: LiveServer) -> list[tuple[str, str]]:
    """(method, path template) of every route that takes a body."""
    found = set()
    for route in server.app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        template = str(info.get("formatter") or info.get("path") or "")
        if route.method in ("POST", "PUT", "PATCH") and template.startswith("/api/"):
            if (route.method, template) not in BINARY_ROUTES:
                found.add((route.method, template))
    return sorted(found)


def mutant_body(valid: dict[str, Any], rng: random.Random) -> bytes:
    text = json.dumps(valid)
    kind = rng.randrange(8)
    if kind == 4 and not valid:  # a route that takes no body has no value to swap
        kind = 5
    if kind == 0:
        return nasty_json_text(rng).encode("utf-8", "surrogatepass")
    if kind == 1:  # invalid UTF-8 somewhere
        raw = text.encode()
        k = rng.randrange(len(raw))
        return raw[:k] + rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80"]) + raw[k:]
    if kind == 2:
        k = rng.randrange(len(text))
        return (text[:k] + rng.choice(['"', "{", "]", ",", ":", "\\", "\x00"]) + text[k:]).encode()
    if kind == 3:
        return text[: rng.randrange(len(text))].encode()
    if kind == 4:  # a value of another type or shape
        key = rng.choice(list(valid) or ["extra"])  # a route that takes no fields
        other: object = rng.choice(
            [None, 1e308, -1, 2**70, [], {}, "x" * 5000, True, [[[[]]]], "\u0000"]
        )
        return json.dumps({**valid, key: other}).encode()
    if kind == 5:
        return json.dumps({**valid, rng.choice(["extra", "__proto__", ""]): 1}).encode()
    if kind == 6:
        return b"{" + b" " * (70_000 if rng.random() < 0.3 else 10) + b"}"
    return text.encode()  # valid: with another content type, still refused


async def test_broken_bodies_get_client_errors_on_every_json_route(
    server: LiveServer, http: aiohttp.ClientSession, log: LogWatch
) -> None:
    room = await server.simulation()
    routes = json_routes(server)
    assert set(VALID) <= set(routes), routes
    admin = {"Authorization": f"Bearer {server.config.admin_token}"}
    # The bodies go in as a signed-in admin (cookie + CSRF token), as the console sends
    # them: every route, the personal ones (logbook, availability) included.
    signed_in = await sign_in(server.app, Role.ADMIN, "fuzz-admin@example.org")
    http.cookie_jar.update_cookies(signed_in.cookies)
    async with http.post(
        f"{server.url}/api/logbook",
        json=VALID[("POST", "/api/logbook")],
        headers=signed_in.write_headers,
    ) as r:
        entry = (await r.json())["id"]
    async with http.post(  # a digest to the admin themself: an admin writes to anyone
        f"{server.url}/api/trainees/{signed_in.person.id}/digests",
        json=VALID[("POST", "/api/trainees/{identity}/digests")],
        headers=signed_in.write_headers,
    ) as r:
        digest = (await r.json())["id"]
    rng = random.Random(SEED)
    statuses: Counter[int] = Counter()
    async with http.post(
        f"{server.url}/api/cohorts", json=VALID[("POST", "/api/cohorts")], headers=admin
    ) as r:
        cohort = (await r.json())["id"]
    async with http.post(
        f"{server.url}/api/scenarios", json=BAKERY | {"id": "fuzz"}, headers=admin
    ):
        pass
    fill = {
        "room": room,
        "note": "1",
        "id": "someone",
        "token": "not-a-token",
        "cohort": cohort,
        "scenario": "fuzz",
        "certificate": "nope",
        "round": "nope",
        "entry": entry,
        "identity": signed_in.person.id,
        "digest": digest,
    }
    for method, template in routes:
        path = re.sub(r"\{(\w+)\}", lambda m: fill[m.group(1)], template)
        valid = VALID.get((method, template), {})
        for _ in range(CASES_PER_ROUTE):
            body = mutant_body(valid, rng)
            content_type = rng.choice(CONTENT_TYPES)
            headers = dict(signed_in.write_headers)
            if content_type:
                headers["Content-Type"] = content_type
            async with http.request(method, server.url + path, data=body, headers=headers) as r:
                where = (method, path, content_type, body[:120])
                assert r.status < 500, where
                statuses[r.status] += 1
                if r.status >= 400:
                    reply = await r.json(content_type=None)
                    assert reply["ok"] is False and reply["code"] and reply["message"], where
                    assert reply["code"] != "internal", where
                json_type = content_type.split(";")[0].strip() == "application/json"
                if content_type and not json_type and 0 < len(body) < 65_536:
                    assert r.status == 415, (where, r.status)
    print(f"\nHTTP bodies ({len(routes)} routes x {CASES_PER_ROUTE}): {dict(statuses)}")
    assert statuses[400] > 0 and statuses[415] > 0
    log.assert_clean()


async def test_a_json_route_refuses_text_plain_even_with_a_valid_body(
    server: LiveServer, http: aiohttp.ClientSession
) -> None:
    admin = {"Authorization": f"Bearer {server.config.admin_token}"}
    body = json.dumps(VALID[("POST", "/api/simulations")])
    before = await server.catalogue.simulations()
    headers = {**admin, "Content-Type": "text/plain"}
    async with http.post(f"{server.url}/api/simulations", data=body, headers=headers) as r:
        assert r.status == 415
        assert (await r.json())["code"] == "unsupported_media_type"
    assert await server.catalogue.simulations() == before
    async with http.post(
        f"{server.url}/api/simulations",
        data=body,
        headers={**admin, "Content-Type": "application/json"},
    ) as r:
        assert r.status == 201
