"""The browser's second copy over HTTP: who may upload, how much, in what order, and who
may watch it afterwards (caucuses stay private)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import insert

from sessions.browser_copy import CopyLimits
from sessions.ids import RoomId
from storage.schema import events
from tests.live_server import LiveServer, start_server
from tests.stored_sessions import add_session
from tests.webm import EMPTY_WEBM, tiny_webm
from web.browser_copy_api import UPLOADS
from web.keys import DATABASE, RECORDINGS_DIR

WEBM = tiny_webm()
SEATS = {"mediator": "m-1", "party_a": "a-1", "party_b": "b-1", "coach": "c-1"}


@dataclass
class Session:
    server: LiveServer
    room: RoomId
    http: aiohttp.ClientSession

    def token(self, seat: str) -> str:
        return self.server.token(self.room, seat, identity=SEATS.get(seat, f"x-{seat}"))

    def url(self, n: int | str | None = None) -> str:
        base = f"{self.server.url}/api/simulations/{self.room}/browser-copy"
        return base if n is None else f"{base}/{n}"

    async def put(
        self,
        seat: str,
        n: int | str,
        t_ms: int,
        body: bytes = WEBM,
        duration_ms: int = 5000,
        content_type: str = "video/webm;codecs=vp8,opus",
        token: str | None = None,
    ) -> tuple[int, Any]:
        headers = {"Content-Type": content_type}
        if token != "":
            headers["Authorization"] = f"Bearer {token or self.token(seat)}"
        params = {"t_ms": str(t_ms), "duration_ms": str(duration_ms)}
        async with self.http.put(self.url(n), data=body, headers=headers, params=params) as r:
            return r.status, await r.json()

    async def status(self, seat: str) -> Any:
        headers = {"Authorization": f"Bearer {self.token(seat)}"}
        async with self.http.get(self.url(), headers=headers) as r:
            assert r.status == 200
            return await r.json()

    async def recording(self, seat: str | None) -> Any:
        token = self.server.config.admin_token if seat is None else self.token(seat)
        url = f"{self.server.url}/api/recordings/{self.room}"
        async with self.http.get(url, headers={"Authorization": f"Bearer {token}"}) as r:
            assert r.status == 200, await r.text()
            return await r.json()


TIMELINE = [
    (10, "consent", "party_a", {"consent": "given"}),
    (10, "consent", "party_b", {"consent": "given"}),
    (10, "consent", "mediator", {"consent": "given"}),
    (100, "phase", None, {"phase": "joint", "from": "lobby"}),
    (20_000, "phase", None, {"phase": "caucus:party_a", "from": "joint"}),
    (40_000, "phase", None, {"phase": "joint", "from": "caucus:party_a"}),
    (60_000, "consent", "party_b", {"consent": "declined"}),
]


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[Session]:
    server = await start_server(tmp_path)
    db = server.app[DATABASE]
    room = await add_session(db, server.app[RECORDINGS_DIR], seats=SEATS)
    async with db.transaction() as conn:
        for t_ms, kind, seat, detail in TIMELINE:
            await conn.execute(
                insert(events).values(
                    simulation_id=room, t_ms=t_ms, kind=kind, seat=seat, detail=detail
                )
            )
    async with aiohttp.ClientSession() as http:
        yield Session(server, RoomId(room), http)
    await server.stop()


async def test_chunks_are_numbered_and_the_server_says_which_it_has(session: Session) -> None:
    assert (await session.status("party_a"))["chunks"] == []
    status, body = await session.put("party_a", 1, 5000)
    assert status == 201 and body["chunks"] == [1] and body["next"] == 2
    status, body = await session.put("party_a", 0, 200)
    assert status == 201 and body["chunks"] == [0, 1]
    # a page that lost its place sends a chunk again: acknowledged, stored once
    status, body = await session.put("party_a", 1, 5000)
    assert status == 200 and body["chunks"] == [0, 1] and body["bytes"] == 2 * len(WEBM)
    status, body = await session.put("party_a", 1, 5000, body=WEBM + b"other")
    assert status == 409 and body["code"] == "conflict"
    state = await session.status("party_a")
    assert state["chunks"] == [0, 1] and state["seat"] == "party_a"
    assert (await session.status("party_b"))["chunks"] == []  # per seat
    folder = session.server.app[RECORDINGS_DIR] / session.room / "browser" / "party_a"
    assert sorted(p.name for p in folder.iterdir()) == ["000000.webm", "000001.webm"]
    assert (folder / "000001.webm").read_bytes() == WEBM


async def test_uploads_are_authenticated_to_a_seat_of_this_room(session: Session) -> None:
    status, body = await session.put("party_a", 0, 200, token="")
    assert (status, body["code"]) == (401, "unauthorized")
    status, body = await session.put("party_a", 0, 200, token="not.a.token")
    assert (status, body["code"]) == (401, "unauthorized")
    other = await session.server.simulation()
    status, body = await session.put(
        "party_a", 0, 200, token=session.server.token(other, "party_a")
    )
    assert (status, body["code"]) == (403, "wrong_room")
    status, body = await session.put("observer_1", 0, 200)
    assert (status, body["code"]) == (403, "forbidden")
    status, body = await session.put("party_c", 0, 200)  # a seat this scenario lacks
    assert (status, body["code"]) == (401, "unauthorized")
    expired = session.server.token(session.room, "party_a", identity="a-1", ttl_s=-120)
    status, body = await session.put("party_a", 0, 200, token=expired)
    assert (status, body["code"]) == (401, "unauthorized")
    missing = session.server.token(RoomId("no-such-room"), "party_a")
    async with session.http.put(
        f"{session.server.url}/api/simulations/no-such-room/browser-copy/0",
        data=WEBM,
        params={"t_ms": "200", "duration_ms": "5000"},
        headers={"Authorization": f"Bearer {missing}", "Content-Type": "video/webm"},
    ) as r:
        assert r.status == 404 and (await r.json())["code"] == "not_found"


@pytest.mark.parametrize(
    ("n", "query", "content_type", "want"),
    [
        ("x", {}, "video/webm", (400, "bad_request")),
        ("-1", {}, "video/webm", (400, "bad_request")),
        ("0", {"t_ms": "soon"}, "video/webm", (400, "bad_request")),
        ("0", {"duration_ms": "0"}, "video/webm", (400, "bad_request")),
        ("0", {}, "application/json", (415, "unsupported_media_type")),
        ("0", {}, "video/mp4", (415, "unsupported_media_type")),
    ],
)
async def test_a_malformed_upload_gets_a_clear_code(
    session: Session, n: str, query: dict[str, str], content_type: str, want: tuple[int, str]
) -> None:
    params = {"t_ms": "200", "duration_ms": "5000"} | query
    headers = {"Authorization": f"Bearer {session.token('party_a')}", "Content-Type": content_type}
    async with session.http.put(session.url(n), data=WEBM, params=params, headers=headers) as r:
        assert (r.status, (await r.json())["code"]) == want


async def test_an_empty_chunk_is_refused(session: Session) -> None:
    status, body = await session.put("party_a", 0, 200, body=b"")
    assert (status, body["code"]) == (400, "bad_request")


@pytest.mark.parametrize(
    "body",
    [EMPTY_WEBM, b"not a webm at all", tiny_webm()[:60]],
    ids=["a recorder stopped before its first frame", "not webm", "cut before a frame"],
)
async def test_a_chunk_without_a_frame_is_refused_and_nothing_stored(
    session: Session, body: bytes
) -> None:
    status, reply = await session.put("party_a", 0, 200, body=body)
    assert (status, reply["code"]) == (415, "unsupported_media_type"), reply
    assert "frame" in reply["message"]
    assert await session.server.app[UPLOADS].copies.chunks(session.room) == []


async def test_chunks_seats_and_sessions_are_capped(session: Session) -> None:
    size = len(WEBM)
    session.server.app[UPLOADS].limits = CopyLimits(
        chunk_bytes=size, seat_bytes=2 * size, session_bytes=3 * size
    )
    status, body = await session.put("party_a", 0, 200, body=WEBM + b"!")
    assert (status, body["code"]) == (413, "too_large")
    assert (await session.put("party_a", 0, 200))[0] == 201
    assert (await session.put("party_a", 1, 5200))[0] == 201
    status, body = await session.put("party_a", 2, 10_200)
    assert (status, body["code"]) == (413, "too_large") and "seat" in body["message"]
    assert (await session.put("mediator", 0, 200))[0] == 201
    status, body = await session.put("party_b", 0, 200)
    assert (status, body["code"]) == (413, "too_large") and "session" in body["message"]
    assert (await session.status("party_a"))["chunks"] == [0, 1]


async def test_nothing_is_kept_without_consent(session: Session) -> None:
    # party_b withdrew at 60 s: a chunk after that, or running past it, is refused
    status, body = await session.put("party_b", 20, 61_000)
    assert (status, body["code"]) == (403, "no_consent")
    status, body = await session.put("party_b", 19, 50_000, duration_ms=15_000)
    assert (status, body["code"]) == (403, "no_consent")
    # before anyone answered: nothing either
    status, body = await session.put("party_a", 0, 0, duration_ms=5)
    assert (status, body["code"]) == (403, "no_consent")
    # the coach is recorded without being asked
    assert (await session.put("coach", 0, 200))[0] == 201
    assert (await session.put("party_b", 0, 45_000))[0] == 201
    assert not (
        session.server.app[RECORDINGS_DIR] / session.room / "browser" / "party_b" / "000020.webm"
    ).exists()


async def test_a_caucus_copy_is_watched_only_by_its_members(session: Session) -> None:
    assert (await session.put("party_a", 0, 5_000))[0] == 201  # joint
    assert (await session.put("party_a", 1, 25_000))[0] == 201  # caucus:party_a
    assert (await session.put("party_a", 2, 38_000))[0] == 201  # caucus into joint
    assert (await session.put("party_b", 0, 25_000))[0] == 201  # waiting outside
    admin = await session.recording(None)
    seen = {(c["seat"], c["n"]): c["visibility"] for c in admin["browser_copy"]}
    assert seen == {
        ("party_a", 0): "public",
        ("party_a", 1): "caucus:party_a",
        ("party_a", 2): "seat:party_a",
        ("party_b", 0): "seat:party_b",
    }
    b = await session.recording("party_b")
    assert {(c["seat"], c["n"]) for c in b["browser_copy"]} == {("party_a", 0), ("party_b", 0)}
    a = await session.recording("party_a")
    assert {(c["seat"], c["n"]) for c in a["browser_copy"]} == {
        ("party_a", 0),
        ("party_a", 1),
        ("party_a", 2),
    }
    mediator = await session.recording("mediator")
    assert {(c["seat"], c["n"]) for c in mediator["browser_copy"]} == {
        ("party_a", 0),
        ("party_a", 1),
    }
    # each listed chunk streams from its signed URL; a changed signature finds nothing
    chunk = next(c for c in a["browser_copy"] if c["n"] == 1)
    assert chunk["start_ms"] == 25_000 and chunk["duration_ms"] == 5000
    async with session.http.get(session.server.url + chunk["url"]) as r:
        assert r.status == 200 and r.content_type == "video/webm" and await r.read() == WEBM
    forged = chunk["url"].replace("sig=", "sig=0")
    async with session.http.get(session.server.url + forged) as r:
        assert r.status == 404
