"""Every bad input gets an error code and leaves the room, and its timeline, as they were."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
import socketio

from sessions.ids import RoomId
from signaling.tokens import claims_for, issue
from tests.live_server import LiveServer, Participant, seat_participants
from web.keys import DIRECTORY


async def snapshot(server: LiveServer, room: RoomId) -> tuple[Any, ...]:
    live = await server.app[DIRECTORY].open(room)
    return live.room, dict(live.sockets), await server.catalogue.events(room)


@pytest.fixture
async def joint_session(server: LiveServer) -> AsyncIterator[tuple[RoomId, dict[str, Participant]]]:
    room = await server.simulation()
    people = await seat_participants(server, room, ["mediator", "party_a", "party_b", "coach"])
    assert (await people["coach"].call("phase", {"to": "joint"}))["ok"]
    yield room, people
    for person in people.values():
        await person.close()


def unsigned(claims: dict[str, Any]) -> str:
    def b64(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


async def forged_tokens(server: LiveServer, room: RoomId) -> dict[str, tuple[str, str]]:
    body = {
        "room": room,
        "sub": "intruder",
        "name": "Eve",
        "seat": "party_b",
        "exp": int(time.time()) + 600,
    }
    other_room = await server.simulation()
    return {
        "expired": (
            issue(server.config.secret, claims_for(room, "x", "X", "party_b", -3600)),
            "token_expired",
        ),
        "forged": (
            jwt.encode(body, "not-the-server-secret-but-long-enough-for-hs256", algorithm="HS256"),
            "token_invalid",
        ),
        "alg_none": (unsigned(body), "token_invalid"),
        "garbage": ("not.a.token", "token_invalid"),
        "not_ascii": ("\ud800.é.\u2028", "token_invalid"),
        "wrong_room": (server.token(other_room, "party_b"), "wrong_room"),
        "unknown_seat": (
            jwt.encode({**body, "seat": "judge"}, server.config.secret, algorithm="HS256"),
            "token_invalid",
        ),
        "missing_exp": (
            jwt.encode(
                {k: v for k, v in body.items() if k != "exp"},
                server.config.secret,
                algorithm="HS256",
            ),
            "token_invalid",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "expired",
        "forged",
        "alg_none",
        "garbage",
        "not_ascii",
        "wrong_room",
        "unknown_seat",
        "missing_exp",
    ],
)
async def test_a_bad_token_is_refused_with_its_code_and_changes_nothing(
    server: LiveServer, joint_session: tuple[RoomId, dict[str, Participant]], case: str
) -> None:
    room, _ = joint_session
    token, code = (await forged_tokens(server, room))[case]
    before = await snapshot(server, room)
    intruder = Participant("party_b", token, room)
    await intruder.connect(server.url)
    reply = await intruder.join()
    assert reply["ok"] is False and reply["code"] == code, reply
    assert reply["message"]
    assert await snapshot(server, room) == before
    assert intruder.states == []
    await intruder.close()


async def test_a_seat_held_by_someone_else_is_refused(
    server: LiveServer, joint_session: tuple[RoomId, dict[str, Participant]]
) -> None:
    room, _ = joint_session
    before = await snapshot(server, room)
    rival = Participant("party_a", server.token(room, "party_a", identity="rival"), room)
    await rival.connect(server.url)
    assert (await rival.join())["code"] == "seat_taken"
    assert await snapshot(server, room) == before
    await rival.close()


@pytest.mark.parametrize(
    ("seat", "event", "payload", "code"),
    [
        ("party_a", "phase", {"to": "caucus:party_a"}, "forbidden"),
        ("party_b", "phase", {"to": "ended"}, "forbidden"),
        ("mediator", "phase", {"to": "ended"}, "forbidden"),
        ("coach", "phase", {"to": "lobby"}, "invalid_transition"),
        ("coach", "phase", {"to": "caucus:party_c"}, "unknown_seat"),
        ("coach", "phase", {"to": "caucus:coach"}, "invalid_transition"),
        ("coach", "phase", {"to": "resume"}, "invalid_transition"),
        ("coach", "phase", {"to": "joint", "planned_s": -5}, "bad_request"),
        ("coach", "phase", {"to": "x" * 33}, "too_large"),
        ("coach", "phase", {"to": 7}, "bad_request"),
        ("coach", "phase", {}, "bad_request"),
        ("coach", "phase", ["joint"], "bad_request"),
        ("coach", "phase", {"to": "debrief", "sneaky": 1}, "bad_request"),
        ("party_a", "brief", {"seat": "party_b"}, "forbidden"),
        ("party_a", "brief", {"seat": "mediator"}, "forbidden"),
        ("mediator", "brief", {"seat": "coach"}, "forbidden"),
        ("party_a", "whisper", {"text": "psst"}, "forbidden"),
        ("coach", "whisper", {"text": "x" * 1001}, "too_large"),
        ("coach", "whisper", {"text": "   "}, "bad_request"),
        ("coach", "whisper", "hello", "bad_request"),
        ("coach", "join", {"token": "x" * 5000}, "too_large"),
        ("mediator", "media_answer", {"sdp": "v=0", "type": "offer"}, "bad_request"),
        ("mediator", "media_answer", {"sdp": "v" * 70_000, "type": "answer"}, "too_large"),
        ("mediator", "media_ice", {"candidate": 5}, "bad_request"),
        ("party_a", "consent", {"recording": "yes"}, "bad_request"),
        ("party_a", "consent", {}, "bad_request"),
        ("coach", "self_destruct", {}, "unknown_event"),
        ("party_a", "disconnect", {}, "bad_request"),
        ("party_a", "connect", None, "bad_request"),
        ("coach", "leave", {"now": True}, "bad_request"),
    ],
)
async def test_a_bad_event_is_refused_with_its_code_and_changes_nothing(
    server: LiveServer,
    joint_session: tuple[RoomId, dict[str, Participant]],
    seat: str,
    event: str,
    payload: Any,
    code: str,
) -> None:
    room, people = joint_session
    before = await snapshot(server, room)
    reply = await people[seat].call(event, payload)
    assert reply["ok"] is False and reply["code"] == code, reply
    assert isinstance(reply["message"], str) and reply["message"]
    assert await snapshot(server, room) == before


async def test_a_party_may_read_its_own_brief_on_request(
    joint_session: tuple[RoomId, dict[str, Participant]],
) -> None:
    _, people = joint_session
    reply = await people["party_a"].call("brief", {"seat": "party_a"})
    assert reply["ok"] and reply["brief"].startswith(reply["brief"][:10])


async def test_events_before_joining_are_refused(server: LiveServer) -> None:
    room = await server.simulation()
    stranger = Participant("party_a", "", room)
    await stranger.connect(server.url)
    for event in ("phase", "whisper", "leave", "brief", "media_answer"):
        reply = await stranger.call(event, {})
        assert reply["ok"] is False
        assert reply["code"] in {"not_joined", "bad_request"}, (event, reply)
    assert (await stranger.call("phase", {"to": "joint"}))["code"] == "not_joined"
    await stranger.close()


async def test_a_packet_beyond_the_size_limit_closes_that_socket_only(
    server: LiveServer, joint_session: tuple[RoomId, dict[str, Participant]]
) -> None:
    room, people = joint_session
    before = await snapshot(server, room)
    flooder = socketio.AsyncClient(reconnection=False)
    gone = asyncio.Event()
    flooder.on("disconnect", lambda *a: gone.set())
    await flooder.connect(server.url, transports=["websocket"])
    await flooder.emit("whisper", {"text": "x" * 200_000})
    await asyncio.wait_for(gone.wait(), 10)
    assert await snapshot(server, room) == before
    assert (await people["coach"].call("whisper", {"text": "still here"}))["ok"]
