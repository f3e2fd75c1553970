"""Raw engine.io/Socket.IO frames, seeded and mutated, over real WebSocket and polling.

Each frame either closes that client's connection or gets an answer (an error
ack, or the ordinary reply to a valid frame); never `internal`, never a
traceback, never a 500; a seated participant next door notices nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
from collections import Counter
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import WSMsgType

from signaling.protocol import MAX_PACKET_BYTES
from tests.hardening.conftest import LogWatch, settled_task_count
from tests.hardening.mutations import nasty_json_text
from tests.live_server import LiveServer, seat_participants

SEED = 11_2026
SCALE = float(os.environ.get("CAUCUS_FUZZ_SCALE", "1"))
WEBSOCKET_CASES = int(500 * SCALE)
POLLING_CASES = int(150 * SCALE)
PROBE = '42999["brief",{"seat":"party_a"}]'  # answered not_joined: the socket still works
ANSWER_WAIT_S = 5.0


def frames(rng: random.Random) -> str | bytes:
    """One frame a broken or hostile client might send after connecting to "/"."""
    valid = [
        '42["whisper",{"text":"hi"}]',
        '420["phase",{"to":"joint"}]',
        '421["join",{"token":"x.y.z","room":"r"}]',
        '422["media_answer",{"type":"answer","sdp":"v=0"}]',
        '423["annotate",{"text":"note","lag_ms":5}]',
        "3",
        "6",
    ]
    kind = rng.randrange(10)
    base = rng.choice(valid)
    if kind == 0:
        return "4" + "2" + nasty_json_text(rng)
    if kind == 1:
        return "42" + str(rng.randrange(10**6)) + nasty_json_text(rng)
    if kind == 2:
        return rng.choice(["", "x", "7", "b", "bAAA", "b!!", "4", "40/nope,", "41", "44{}", "49"])
    if kind == 3:
        return rng.choice(["451-", "452-[]", "45", "46", "4" + "9" * 120 + "[]"]) + base[2:]
    if kind == 4:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    if kind == 5:  # one character changed
        k = rng.randrange(len(base))
        return (
            base[:k] + rng.choice(['"', "[", "]", "{", "}", ",", "\\", "\x00", "é"]) + base[k + 1 :]
        )
    if kind == 6:
        return base[: rng.randrange(len(base))]
    if kind == 7:
        names = ["connect", "disconnect", "connect_error", "", "x" * 5000, "__proto__", "7"]
        payload = rng.choice(["", ',{"a":1}', ",null", ',"x"', ",[]"])
        return f'42{rng.randrange(100)}["{rng.choice(names)}"{payload}]'
    if kind == 8:
        return '42["whisper",{"text":"' + "x" * rng.choice((1000, MAX_PACKET_BYTES + 10)) + '"}]'
    return "4" + base[1:] + rng.choice(["", "]", "}", " ", "\n", ",1"])


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=ANSWER_WAIT_S)) as session:
        yield session


async def _open(http: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    ws = await http.ws_connect(f"{url}/socket.io/?EIO=4&transport=websocket")
    opening = await ws.receive(timeout=ANSWER_WAIT_S)
    assert opening.type is WSMsgType.TEXT and opening.data.startswith("0"), opening
    await ws.send_str("40")
    connected = await ws.receive(timeout=ANSWER_WAIT_S)
    assert connected.data.startswith("40"), connected
    return ws


def _assert_no_internal(message: str) -> None:
    """Any ack the server sends carries a client error, never `internal`."""
    if message.startswith("43"):
        body = message[2:].lstrip("0123456789")
        for reply in json.loads(body):
            assert not (isinstance(reply, dict) and reply.get("code") == "internal"), message


async def _outcome(ws: aiohttp.ClientWebSocketResponse, wait_s: float = ANSWER_WAIT_S) -> str:
    """'closed' if the server dropped this client, 'answered' if the probe was answered."""
    while True:
        message = await ws.receive(timeout=wait_s)
        if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
            return "closed"
        assert message.type is WSMsgType.TEXT, message
        if message.data == "1":  # engine.io close
            return "closed"
        if message.data == "2":  # the server's ping
            await ws.send_str("3")
            continue
        _assert_no_internal(message.data)
        if message.data.startswith("43999"):
            assert json.loads(message.data[5:])[0]["code"] == "not_joined"
            return "answered"


async def test_raw_frames_close_the_connection_or_get_an_answer_and_nothing_else(
    server: LiveServer, http: aiohttp.ClientSession, log: LogWatch
) -> None:
    baseline_tasks = len(asyncio.all_tasks())
    room = await server.simulation()
    people = await seat_participants(server, room, ["mediator", "coach"])
    live_before = await server.catalogue.events(room)
    rng = random.Random(SEED)
    outcomes: Counter[str] = Counter()
    for case in range(WEBSOCKET_CASES):
        frame = frames(rng)
        ws = await _open(http, server.url)
        try:
            if isinstance(frame, bytes):
                await ws.send_bytes(frame)
            else:
                await ws.send_frame(frame.encode("utf-8", "surrogatepass"), WSMsgType.TEXT)
            if not ws.closed:
                await ws.send_str(PROBE)
            if isinstance(frame, str) and frame.startswith("41"):
                # A namespace DISCONNECT: the client left "/"; its probe is rightly ignored.
                with contextlib.suppress(TimeoutError):
                    outcomes[await _outcome(ws, wait_s=0.5)] += 1
                outcomes["left"] += 1
            else:
                outcomes[await _outcome(ws)] += 1
        except (ConnectionResetError, aiohttp.ClientConnectionError):
            outcomes["closed"] += 1
        except (AssertionError, TimeoutError) as exc:
            raise AssertionError(f"case {case}: {frame!r:.200}") from exc
        finally:
            await ws.close()
    # Invalid UTF-8 inside a text frame.
    ws = await _open(http, server.url)
    await ws.send_frame(b'42["whisper",{"text":"\xff\xfe"}]', WSMsgType.TEXT)
    assert await _outcome(ws) == "closed"
    await ws.close()

    print(f"\nraw frames ({WEBSOCKET_CASES} over WebSocket): {dict(outcomes)}")
    assert outcomes["closed"] > WEBSOCKET_CASES // 3 and outcomes["answered"] > 0
    assert (await people["coach"].call("whisper", {"text": "still here"}))["ok"]
    assert (await server.catalogue.events(room))[: len(live_before)] == live_before
    for person in people.values():
        assert (await person.call("leave"))["ok"]  # no seat held for a grace period
        await person.close()
    remaining = await settled_task_count(baseline_tasks + 2)
    assert remaining <= baseline_tasks + 2, Counter(
        getattr(t.get_coro(), "__qualname__", "?") for t in asyncio.all_tasks()
    )
    log.assert_clean()
    assert len(log.warnings_from("signaling")) < 20  # rate-limited, not one per frame


async def test_polling_bodies_never_get_a_server_error(
    server: LiveServer, http: aiohttp.ClientSession, log: LogWatch
) -> None:
    rng = random.Random(SEED + 1)
    statuses: Counter[int] = Counter()
    base = f"{server.url}/socket.io/?EIO=4&transport=polling"
    for _ in range(POLLING_CASES):
        async with http.get(base) as r:
            assert r.status == 200
            sid = json.loads((await r.text())[1:])["sid"]
        async with http.post(f"{base}&sid={sid}", data="40") as r:
            assert r.status == 200
        frame = frames(rng)
        body = frame if isinstance(frame, bytes) else frame.encode("utf-8", "surrogatepass")
        if rng.random() < 0.3:
            body = b"\x1e".join([body, b'42["x"]', body[: rng.randrange(len(body) + 1)]])
        try:
            async with http.post(f"{base}&sid={sid}", data=body) as r:
                assert r.status < 500, (r.status, body[:200])
                statuses[r.status] += 1
        except TimeoutError:
            raise AssertionError(f"no answer to {body[:200]!r}") from None
        async with http.post(f"{base}&sid={sid}", data="41") as r:
            statuses[r.status] += 1  # goodbye (400 if the server already dropped it)
    for bad_sid in ("", "nope", "x" * 300):
        async with http.post(f"{base}&sid={bad_sid}", data="40") as r:
            assert r.status == 400
    print(f"\npolling bodies ({POLLING_CASES}): {dict(statuses)}")
    log.assert_clean()
