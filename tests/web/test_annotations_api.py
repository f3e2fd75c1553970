"""Feedback on a recording over HTTP: rules, bad input, exports and the trainee summary."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import aiohttp
import pytest

from tests.recorded_session import Recorded

# record_session: joint 0-1000 ms, caucus:party_a 1000-2000 ms, joint 2000-3000 ms


class Api:
    def __init__(self, http: aiohttp.ClientSession, recorded: Recorded) -> None:
        self.http, self.r = http, recorded
        self.base = f"{recorded.server.url}/api/recordings/{recorded.room}/annotations"

    def token(self, who: str) -> str:
        if who == "admin":
            return self.r.server.config.admin_token
        if who == "coach":
            return self.r.server.token(self.r.room, "coach", identity="coach-ana")
        return self.r.token(who)

    async def call(
        self, method: str, who: str, path: str = "", body: Any = None
    ) -> tuple[int, Any]:
        async with self.http.request(
            method,
            self.base + path,
            json=body,
            headers={"Authorization": f"Bearer {self.token(who)}"},
        ) as r:
            text = await r.text()
            return r.status, json.loads(text) if "json" in r.content_type else text

    async def add(self, who: str = "coach", **note: Any) -> dict[str, Any]:
        status, body = await self.call("POST", who, body={"t_ms": 500, **note})
        assert status == 201, body
        return body  # type: ignore[no-any-return]

    async def seen_by(self, who: str) -> set[str]:
        status, notes = await self.call("GET", who)
        assert status == 200
        return {n["id"] for n in notes}


@pytest.fixture
def api(http: aiohttp.ClientSession, recorded: Recorded) -> Api:
    return Api(http, recorded)


async def test_trainees_see_only_the_notes_visible_to_them(api: Api) -> None:
    for_a = await api.add(
        text="Good reframing", skill="reframing", rating=4, target="party_a", visibility="target"
    )
    for_all = await api.add(text="Everyone: note the pause", visibility="all", t_ms=2500)
    private = await api.add(text="Coach only")
    in_caucus = await api.add(text="In the caucus", visibility="all", t_ms=1500)
    assert await api.seen_by("party_a") == {for_a["id"], for_all["id"], in_caucus["id"]}
    assert await api.seen_by("party_b") == {for_all["id"]}  # never party_a's caucus
    assert await api.seen_by("mediator") == {for_all["id"], in_caucus["id"]}
    assert await api.seen_by("admin") == {n["id"] for n in (for_a, for_all, private, in_caucus)}


async def test_only_the_author_or_an_admin_edits_or_deletes(api: Api) -> None:
    note = await api.add(text="First draft", target="party_a", visibility="target")
    status, body = await api.call("PATCH", "party_a", f"/{note['id']}", {"text": "mine now"})
    assert (status, body["code"]) == (403, "forbidden")
    status, body = await api.call("DELETE", "mediator", f"/{note['id']}")
    assert (status, body["code"]) == (404, "not_found")  # the mediator cannot even see it
    status, edited = await api.call(
        "PATCH", "coach", f"/{note['id']}", {"text": "Second draft", "t_ms": 700}
    )
    assert status == 200 and edited["text"] == "Second draft" and edited["t_ms"] == 700
    assert edited["edited_ms"] >= edited["created_ms"] and edited["target"] == "party_a"
    status, _ = await api.call("DELETE", "admin", f"/{note['id']}")
    assert status == 200 and await api.seen_by("coach") == set()


async def test_a_trainee_replies_to_feedback_addressed_to_them(api: Api) -> None:
    note = await api.add(text="Why did you interrupt here?", target="party_a", visibility="target")
    reply = await api.add("party_a", text="I felt unheard", reply_to=note["id"], t_ms=500)
    assert reply["author_seat"] == "party_a" and reply["target"] == "party_a"
    assert reply["id"] in await api.seen_by("coach")
    assert reply["id"] not in await api.seen_by("party_b")
    coach_only = await api.add(text="private")
    status, body = await api.call(
        "POST", "party_a", body={"t_ms": 1, "text": "x", "reply_to": coach_only["id"]}
    )
    assert (status, body["code"]) == (403, "forbidden")


@pytest.mark.parametrize(
    ("who", "note", "status", "code"),
    [
        ("coach", {"t_ms": 500, "text": "x" * 2001}, 400, "invalid_annotation"),
        ("coach", {"t_ms": -1, "text": "before t0"}, 400, "invalid_annotation"),
        ("coach", {"t_ms": 3_600_000, "text": "after the end"}, 400, "invalid_annotation"),
        ("coach", {"t_ms": "500", "text": "x"}, 400, "invalid_annotation"),
        ("coach", {"t_ms": 500}, 400, "invalid_annotation"),
        ("coach", {"t_ms": 500, "skill": "juggling"}, 400, "invalid_annotation"),
        ("coach", {"t_ms": 500, "text": "x", "rating": 4}, 400, "invalid_annotation"),
        ("coach", {"t_ms": 500, "skill": "reframing", "rating": 9}, 400, "invalid_annotation"),
        ("coach", {"t_ms": 500, "text": "x", "target": "coach"}, 400, "invalid_annotation"),
        ("coach", {"t_ms": 500, "text": "x", "visibility": "target"}, 400, "invalid_annotation"),
        ("coach", {"t_ms": 500, "text": "x", "visibility": "public"}, 400, "invalid_annotation"),
        ("coach", {"t_ms": 500, "text": "x", "author": "someone"}, 400, "bad_request"),
        ("coach", [1, 2], 400, "bad_request"),
        ("party_a", {"t_ms": 500, "text": "I rate myself", "visibility": "all"}, 403, "forbidden"),
        ("mediator", {"t_ms": 500, "skill": "reframing"}, 403, "forbidden"),
    ],
)
async def test_bad_notes_are_refused_and_nothing_is_stored(
    api: Api, who: str, note: Any, status: int, code: str
) -> None:
    got, body = await api.call("POST", who, body=note)
    assert (got, body["code"]) == (status, code), body
    assert body["message"]
    assert await api.seen_by("admin") == set()


async def test_other_peoples_sessions_are_not_found(api: Api, recorded: Recorded) -> None:
    other = f"{recorded.server.url}/api/recordings/{recorded.other_room}/annotations"
    async with api.http.post(
        other,
        json={"t_ms": 1, "text": "x"},
        headers={"Authorization": f"Bearer {api.token('coach')}"},
    ) as r:
        assert r.status == 404


def parse_webvtt(text: str) -> list[tuple[str, str, str]]:
    """(start, end, text) of every cue; a strict little parser of the subset we write."""
    blocks = text.strip().split("\n\n")
    assert blocks[0].startswith("WEBVTT")
    cues = []
    for block in blocks[1:]:
        lines = block.split("\n")
        timing = next(i for i, line in enumerate(lines) if "-->" in line)
        start, end = (t.strip() for t in lines[timing].split("-->"))
        cues.append((start, end, "\n".join(lines[timing + 1 :])))
    return cues


async def test_exports_match_the_notes(api: Api) -> None:
    await api.add(text="Opening <b>statement</b> & tone", skill="reframing", rating=3, t_ms=1234)
    await api.add(text="Second", t_ms=62_500 // 25)
    status, vtt = await api.call("GET", "coach", ".vtt")
    assert status == 200
    cues = parse_webvtt(vtt)
    assert [(c[0], c[1]) for c in cues] == [
        ("00:00:01.234", "00:00:05.234"),
        ("00:00:02.500", "00:00:06.500"),
    ]
    assert "&lt;b&gt;statement&lt;/b&gt; &amp; tone" in cues[0][2] and "<b>" not in vtt
    assert "(3/5)" in cues[0][2]
    _, text = await api.call("GET", "coach", ".csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["t_ms"] for r in rows] == ["1234", "2500"]
    assert rows[0]["text"] == "Opening <b>statement</b> & tone"
    _, exported = await api.call("GET", "coach", ".json")
    assert [n["t_ms"] for n in exported["annotations"]] == [1234, 2500]


async def test_a_trainee_summary_counts_feedback_by_skill(api: Api, recorded: Recorded) -> None:
    for rating in (2, 4):
        await api.add(skill="reframing", rating=rating, target="party_a", visibility="target")
    await api.add(text="not for party_a", target="party_b", visibility="target")
    identity = f"{recorded.room}:party_a"
    url = f"{recorded.server.url}/api/trainees/{identity}/summary"
    async with api.http.get(url, headers={"Authorization": f"Bearer {api.token('party_a')}"}) as r:
        assert r.status == 200
        summary = await r.json()
    assert summary["by_skill"] == [{"skill": "Reframing", "count": 2, "mean_rating": 3.0}]
    assert len(summary["notes"]) == 2
    async with api.http.get(url, headers={"Authorization": f"Bearer {api.token('party_b')}"}) as r:
        assert r.status == 403
