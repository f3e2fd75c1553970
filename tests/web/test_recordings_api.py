"""Reviewing recordings over HTTP: each role sees its own sessions, caucuses stay private."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.encoded_media import decoded_frames
from tests.recorded_session import Recorded


async def get(http: aiohttp.ClientSession, url: str, token: str) -> tuple[int, Any]:
    async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as r:
        return r.status, await r.json()


async def test_each_role_lists_only_its_own_sessions(
    recorded: Recorded, http: aiohttp.ClientSession
) -> None:
    url = f"{recorded.server.url}/api/recordings"
    status, admin = await get(http, url, recorded.server.config.admin_token)
    assert status == 200 and {r["id"] for r in admin} == {recorded.room, recorded.other_room}
    _, party = await get(http, url, recorded.token("party_a"))
    assert [(r["id"], r["your_seat"], r["status"]) for r in party] == [
        (recorded.room, "party_a", "complete")
    ]
    coach_ana = recorded.server.token(recorded.room, "coach", identity="coach-ana")
    _, coach = await get(http, url, coach_ana)
    assert [r["id"] for r in coach] == [recorded.room]


async def test_a_party_never_sees_the_other_partys_caucus(
    recorded: Recorded, http: aiohttp.ClientSession
) -> None:
    url = f"{recorded.server.url}/api/recordings/{recorded.room}"
    _, b = await get(http, url, recorded.token("party_b"))
    assert {s["visibility"] for s in b["segments"]} == {"public"}
    caucus = [band for band in b["phases"] if band["phase"] == "caucus:party_a"]
    assert caucus and all(band["hidden"] for band in caucus)
    assert not any(e["kind"] == "whisper" for e in b["timeline"])
    assert all(e.get("visibility") != "caucus:party_a" for e in b["timeline"])
    _, a = await get(http, url, recorded.token("party_a"))
    assert "caucus:party_a" in {s["visibility"] for s in a["segments"]}
    assert not any(band["hidden"] for band in a["phases"])
    _, mediator = await get(http, url, recorded.token("mediator"))
    assert any(e["kind"] == "whisper" for e in mediator["timeline"])


async def test_a_segment_url_streams_a_file_that_decodes(
    recorded: Recorded, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    _, detail = await get(
        http, f"{recorded.server.url}/api/recordings/{recorded.room}", recorded.token("party_a")
    )
    segment = next(s for s in detail["segments"] if s["kind"] == "video")
    async with http.get(recorded.server.url + segment["url"]) as r:
        assert r.status == 200 and r.content_type == "video/webm"
        (tmp_path / "seg.webm").write_bytes(await r.read())
    assert len(decoded_frames(str(tmp_path / "seg.webm"), "video")) > 10


@pytest.mark.parametrize(
    "mangle",
    [
        lambda url: url.replace("sig=", "sig=0"),
        lambda url: url.split("?")[0],
        lambda url: url.replace("exp=", "exp=1"),
        lambda url: url.replace("/segments/", "/segments/..%2F..%2F"),
        lambda url: url.replace("/segments/", "/segments/99999"),
        lambda url: url.replace("/segments/", "/segments/x"),
    ],
)
async def test_a_tampered_or_unknown_segment_url_gets_404(
    recorded: Recorded, http: aiohttp.ClientSession, mangle: object
) -> None:
    _, detail = await get(
        http,
        f"{recorded.server.url}/api/recordings/{recorded.room}",
        recorded.server.config.admin_token,
    )
    url = mangle(detail["segments"][0]["url"])  # type: ignore[operator]
    async with http.get(recorded.server.url + url) as r:
        assert r.status == 404


async def test_a_segment_of_another_session_is_not_served_under_this_one(
    recorded: Recorded, http: aiohttp.ClientSession
) -> None:
    _, other = await get(
        http,
        f"{recorded.server.url}/api/recordings/{recorded.other_room}",
        recorded.server.config.admin_token,
    )
    url = other["segments"][0]["url"].replace(recorded.other_room, recorded.room)
    async with http.get(recorded.server.url + url) as r:
        assert r.status == 404


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("party_a", 403, "forbidden"),
        ("coach_ben", 404, "not_found"),
        ("nobody", 401, "unauthorized"),
    ],
)
async def test_only_an_admin_deletes_and_others_change_nothing(
    recorded: Recorded, http: aiohttp.ClientSession, who: str, status: int, code: str
) -> None:
    tokens = {
        "party_a": recorded.token("party_a"),
        "coach_ben": recorded.server.token(recorded.other_room, "coach", identity="coach-ben"),
        "nobody": "not-a-token",
    }
    before = await recorded.server.catalogue.segments(recorded.room)
    async with http.delete(
        f"{recorded.server.url}/api/recordings/{recorded.room}",
        headers={"Authorization": f"Bearer {tokens[who]}"},
    ) as r:
        assert r.status == status
        assert (await r.json())["code"] == code
    assert await recorded.server.catalogue.segments(recorded.room) == before
    assert all(Path(s.path).exists() for s in before)


async def test_an_admin_deletes_a_recording_with_its_files(
    recorded: Recorded, http: aiohttp.ClientSession
) -> None:
    files = [Path(s.path) for s in await recorded.server.catalogue.segments(recorded.room)]
    admin = {"Authorization": f"Bearer {recorded.server.config.admin_token}"}
    url = f"{recorded.server.url}/api/recordings/{recorded.room}"
    async with http.delete(url, headers=admin) as r:
        assert r.status == 200
    assert not any(f.exists() for f in files)
    async with http.get(url, headers=admin) as r:
        assert r.status == 404
    status, _ = await get(
        http,
        f"{recorded.server.url}/api/recordings/{recorded.other_room}",
        recorded.server.config.admin_token,
    )
    assert status == 200


@pytest.mark.parametrize("path", ["/api/recordings/nope", "/api/recordings/..%2F..%2Fetc"])
async def test_unknown_recordings_get_404(
    recorded: Recorded, http: aiohttp.ClientSession, path: str
) -> None:
    status, body = await get(http, recorded.server.url + path, recorded.server.config.admin_token)
    assert status == 404 and body["code"] == "not_found"


async def test_a_recording_carries_its_rubric_characters_people_and_when_it_ran(
    recorded: Recorded, http: aiohttp.ClientSession
) -> None:
    url = f"{recorded.server.url}/api/recordings/{recorded.room}"
    status, data = await get(http, url, recorded.token("party_a"))
    assert status == 200 and isinstance(data, dict)
    assert {"id": "reframing", "name": "Reframing"} in data["rubric"]
    assert {p["seat"]: p["name"] for p in data["parties"]}["party_a"] == "Amara Okafor"
    assert [p["seat"] for p in data["people"]] == ["mediator", "party_a", "party_b", "coach"]
    assert data["ran_ms"] is None  # this session's clock was never started (t0 unknown)
    await recorded.server.catalogue.start_clock(recorded.room, 1_700_000_000_000)
    _, listed = await get(http, f"{recorded.server.url}/api/recordings", recorded.token("party_a"))
    assert isinstance(listed, list)
    assert listed[0]["ran_ms"] == 1_700_000_000_000  # the joint session began at t = 0


async def test_the_join_preview_tells_the_title_and_the_seats_consent(
    recorded: Recorded, http: aiohttp.ClientSession
) -> None:
    server = recorded.server
    room = await server.simulation("boundary-fence")
    url = f"{server.url}/api/join/{room}"
    token = server.token(room, "party_a", identity="wanjiru")
    status, data = await get(http, url, token)
    assert status == 200
    assert data == {
        "room": room,
        "seat": "party_a",
        "title": "The Fence on Alder Lane",
        "consent": "pending",
        "origin": "",  # one process holds every room: this same origin
        "role": "party",
        "actions": {"publish": True, "consent": True},
    }
    status, refused = await get(http, url, "not-a-token")
    assert status == 401 and isinstance(refused, dict) and refused["code"] == "unauthorized"
    other = await server.simulation("boundary-fence")
    status, wrong = await get(http, f"{server.url}/api/join/{other}", token)
    assert status == 404 and isinstance(wrong, dict) and wrong["code"] == "not_found"
