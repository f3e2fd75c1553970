"""The browser-copy upload fed broken requests: a clear 4xx with the JSON error shape,
never a 5xx, and nothing stored by a refused one."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy import insert

from storage.schema import events
from tests.hardening.conftest import LogWatch
from tests.hardening.mutations import nasty_json_text
from tests.live_server import LiveServer
from tests.webm import tiny_webm
from web.browser_copy_api import UPLOADS
from web.keys import DATABASE

SEED = 2026_12
CASES = 300
WEBM = tiny_webm()
CONTENT_TYPES = ["video/webm", "audio/webm;codecs=opus", "", "text/plain", "application/json"]
NUMBERS = ["0", "1", "-1", "x", "1e3", "99999999999", "%00", "٣", "0x1", " 2"]
QUERY_VALUES = ["0", "5000", "-5", "", "nan", "1.5", "9" * 40, "٣", "\u0000", "200"]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def body_of(rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:
        return b""
    if kind == 1:
        return nasty_json_text(rng).encode("utf-8", "surrogatepass")
    if kind == 2:
        return rng.randbytes(rng.randrange(1, 5000))
    if kind == 3:
        return WEBM * rng.randrange(1, 80)  # up to ~40 KB, past the test's chunk cap
    return WEBM


async def test_broken_uploads_get_client_errors(
    server: LiveServer, http: aiohttp.ClientSession, log: LogWatch
) -> None:
    room = await server.simulation()
    async with server.app[DATABASE].transaction() as conn:
        await conn.execute(
            insert(events).values(
                simulation_id=room,
                t_ms=0,
                kind="consent",
                seat="party_a",
                detail={"consent": "given"},
            )
        )
    server.app[UPLOADS].limits = type(server.app[UPLOADS].limits)(
        chunk_bytes=20_000, seat_bytes=200_000, session_bytes=300_000
    )
    tokens = [
        server.token(room, "party_a"),
        server.token(room, "observer_1"),
        server.token(room, "party_c"),
        "not-a-token",
        "",
    ]
    rng = random.Random(SEED)
    statuses: Counter[int] = Counter()

    def pick(valid: str, choices: list[str]) -> str:
        """Mostly the valid value, so each case breaks one or two things, not all."""
        return valid if rng.random() < 0.75 else rng.choice(choices)

    for i in range(CASES):
        n = pick(str(i), NUMBERS)
        params = {
            "t_ms": pick(str(1000 + i), QUERY_VALUES),
            "duration_ms": pick("5000", QUERY_VALUES),
        }
        if rng.random() < 0.1:
            del params[rng.choice(list(params))]
        headers = {"Authorization": f"Bearer {pick(tokens[0], tokens)}"}
        content_type = pick("video/webm", CONTENT_TYPES)
        if content_type:
            headers["Content-Type"] = content_type
        url = f"{server.url}/api/simulations/{room}/browser-copy/{n}"
        body = body_of(rng)
        async with http.put(url, data=body, params=params, headers=headers) as r:
            where = (n, params, content_type, body[:40])
            assert r.status < 500, where
            statuses[r.status] += 1
            if r.status >= 400:
                reply = await r.json(content_type=None)
                assert reply["ok"] is False and reply["code"] and reply["message"], where
                assert r.status in (400, 401, 403, 404, 409, 413, 415), where
    print(f"\nbrowser-copy uploads ({CASES}): {dict(statuses)}")
    assert {400, 401, 403, 413, 415} <= set(statuses)
    stored = await server.app[UPLOADS].copies.chunks(room)
    assert all(c.seat == "party_a" and c.content_type.endswith("webm") for c in stored)
    log.assert_clean()
