"""The admin REST API and pages, through a real server on loopback."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from signaling.tokens import verify
from tests.live_server import LiveServer, Participant


def admin(server: LiveServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.config.admin_token}"}


async def test_health_reports_live_rooms(server: LiveServer, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{server.url}/healthz") as r:
        assert r.status == 200
        health = await r.json()
    assert {k: health[k] for k in ("ok", "rooms_live", "participants_connected")} == {
        "ok": True,
        "rooms_live": 0,
        "participants_connected": 0,
    }
    # what a soak run watches (bench/soak.py)
    assert health["rss_bytes"] > 0 and health["fds"] > 0 and health["tasks"] > 0
    assert health["peer_connections"] == 0


async def test_an_admin_creates_a_simulation_and_its_links_join_their_seats(
    server: LiveServer, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        f"{server.url}/api/simulations",
        json={"scenario": "workplace-rota", "observers": 2},
        headers=admin(server),
    ) as r:
        assert r.status == 201
        created = await r.json()
    assert created["seats"] == [
        "mediator",
        "party_a",
        "party_b",
        "coach",
        "observer_1",
        "observer_2",
        "admin",
    ]
    link = created["links"]["party_b"]
    assert link.startswith(f"{server.url}/join/{created['id']}#token=")
    token = link.split("#token=")[1]
    claims = verify(server.config.secret, token)
    assert (claims.room, claims.seat) == (created["id"], "party_b")
    person = Participant("party_b", token, created["id"])
    await person.connect(server.url)
    reply = await person.join()
    assert reply["ok"] and reply["state"]["scenario"]["id"] == "workplace-rota"
    await person.close()
    async with http.get(f"{server.url}/join/{created['id']}") as r:
        assert r.status == 200 and "text/html" in r.content_type


async def test_an_admin_issues_a_token_for_one_seat(
    server: LiveServer, http: aiohttp.ClientSession
) -> None:
    room = await server.simulation()
    async with http.post(
        f"{server.url}/api/simulations/{room}/tokens",
        json={"seat": "coach", "name": "Wanjiru", "identity": "wanjiru@example.org"},
        headers=admin(server),
    ) as r:
        assert r.status == 201
        issued = await r.json()
    claims = verify(server.config.secret, issued["token"])
    assert (claims.seat, claims.name, claims.identity) == (
        "coach",
        "Wanjiru",
        "wanjiru@example.org",
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "code"),
    [
        ("get", "/api/scenarios", None, {}, 401, "unauthorized"),
        ("get", "/api/scenarios", None, {"Authorization": "Bearer wrong"}, 401, "unauthorized"),
        (
            "post",
            "/api/simulations",
            {"scenario": "boundary-fence"},
            {"Authorization": "Basic x"},
            401,
            "unauthorized",
        ),
        ("post", "/api/simulations", {"scenario": "moon-landing"}, None, 404, "unknown_scenario"),
        (
            "post",
            "/api/simulations",
            {"scenario": "boundary-fence", "observers": 99},
            None,
            400,
            "bad_request",
        ),
        ("post", "/api/simulations", {"scenario": 5}, None, 400, "bad_request"),
        ("post", "/api/simulations", ["boundary-fence"], None, 400, "bad_request"),
        (
            "post",
            "/api/simulations",
            {"scenario": "boundary-fence", "x": 1},
            None,
            400,
            "bad_request",
        ),
        ("post", "/api/simulations/ROOM/tokens", {"seat": "judge"}, None, 400, "unknown_seat"),
        (
            "post",
            "/api/simulations/ROOM/tokens",
            {"seat": "coach", "name": "n" * 81},
            None,
            400,
            "bad_request",
        ),
        (
            "post",
            "/api/simulations/ROOM/tokens",
            {"seat": "coach", "ttl_s": 0},
            None,
            400,
            "bad_request",
        ),
        ("post", "/api/simulations/nope/tokens", {"seat": "coach"}, None, 404, "unknown_room"),
        ("get", "/api/simulations/..%2F..%2Fetc", None, None, 404, "unknown_room"),
        ("get", "/api/nothing-here", None, None, 404, "not_found"),
    ],
)
async def test_bad_api_requests_get_a_code_and_create_nothing(
    server: LiveServer,
    http: aiohttp.ClientSession,
    method: str,
    path: str,
    body: Any,
    headers: dict[str, str] | None,
    status: int,
    code: str,
) -> None:
    room = await server.simulation()
    before = await server.catalogue.simulations()
    async with http.request(
        method,
        server.url + path.replace("ROOM", room),
        json=body,
        headers=admin(server) if headers is None else headers,
    ) as r:
        assert r.status == status
        reply = await r.json()
    assert reply["ok"] is False and reply["code"] == code and reply["message"]
    assert await server.catalogue.simulations() == before


async def test_a_body_over_64_kib_is_refused(
    server: LiveServer, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        f"{server.url}/api/simulations",
        data=b"{" + b" " * 70_000 + b"}",
        headers={**admin(server), "Content-Type": "application/json"},
    ) as r:
        assert r.status == 413
        assert (await r.json())["code"] == "too_large"
    assert await server.catalogue.simulations() == []


async def test_static_files_do_not_escape_their_folder(
    server: LiveServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{server.url}/static/../../caucus/config.py") as r:
        assert r.status in (403, 404)
    async with http.get(f"{server.url}/static/%2e%2e/%2e%2e/caucus/config.py") as r:
        assert r.status in (403, 404)
