"""The feedback digest over HTTP on a real server: a trainee's skills over time and the
notes meant for them (nothing else), digests drafted and shared by their coach, who may
ask, and bad requests answered with a code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from sessions.digests import MAX_CHARS
from sessions.people import Role
from storage import cohorts
from storage.people import now_ms
from tests.live_server import LiveServer, start_server
from tests.logbook_rows import HOUR_MS, finished, rated
from tests.pdf_text import pdf_text
from tests.people import SignedIn, sign_in
from web.keys import DATABASE

DAY_MS = 24 * HOUR_MS


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    live = await start_server(tmp_path)
    yield live
    await live.stop()


async def call(who: SignedIn | None, method: str, url: str, json: Any = None) -> tuple[int, Any]:
    headers = who.write_headers if who and method != "GET" else {}
    async with (
        who.session() if who else ClientSession() as http,
        http.request(method, url, json=json, headers=headers) as response,
    ):
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.read()


@dataclass
class Course:
    lin: SignedIn  # party_b in two sessions
    bo: SignedIn  # party_a
    coach: SignedIn
    other_coach: SignedIn
    admin: SignedIn
    first_ms: int  # the sessions' starts
    second_ms: int


async def course(server: LiveServer) -> Course:
    """Two finished sessions ten and three days ago, Bo party_a and Lin party_b, with the
    coach's rated notes to Lin, and notes Lin must never see."""
    app = server.app
    db = app[DATABASE]
    lin = await sign_in(app, Role.TRAINEE, "lin@example.org", "Lin Wei", "Asia/Taipei")
    bo = await sign_in(app, Role.TRAINEE, "bo@example.org", "Bo Berg", "Europe/London")
    coach = await sign_in(app, Role.COACH, "coach@example.org", "Cora Coach")
    other = await sign_in(app, Role.COACH, "other@example.org", "Otto Other")
    admin = await sign_in(app, Role.ADMIN, "admin@example.org", "Ada Admin")
    spring = await cohorts.add(
        db,
        {"name": "Spring", "starts_on": "2026-01-01", "ends_on": "2027-01-01", "requirements": {}},
    )
    await cohorts.set_members(db, spring.id, [coach.person.id], [lin.person.id, bo.person.id])
    autumn = await cohorts.add(
        db,
        {"name": "Autumn", "starts_on": "2026-01-01", "ends_on": "2027-01-01", "requirements": {}},
    )
    await cohorts.set_members(db, autumn.id, [other.person.id], [])
    sitters = {"party_a": (bo.person.id, "Bo Berg"), "party_b": (lin.person.id, "Lin Wei")}
    first_ms, second_ms = now_ms() - 10 * DAY_MS, now_ms() - 3 * DAY_MS
    first = await finished(db, sitters, t0_ms=first_ms)
    second = await finished(db, sitters, t0_ms=second_ms)
    for sim, (reframing, listening) in ((first, (2, 3)), (second, (4, 5))):
        await rated(db, sim, "party_b", "reframing", reframing, t_ms=10_000)
        await rated(db, sim, "party_b", "active_listening", listening, t_ms=20_000)
    # never Lin's: inside party_a's caucus, for the coaches only, addressed to Bo
    await rated(db, second, "party_b", "neutrality", 1, t_ms=90_000)
    await rated(db, second, "party_b", "option_generation", 1, visibility="coach")
    await rated(db, second, "party_a", "questioning_for_interests", 1)
    return Course(lin, bo, coach, other, admin, first_ms, second_ms)


async def test_the_trainee_sees_each_skill_over_time_and_only_the_notes_meant_for_them(
    server: LiveServer,
) -> None:
    c = await course(server)
    status, data = await call(c.lin, "GET", f"{server.url}/api/trainees/{c.lin.person.id}/digest")
    assert status == 200, data
    assert data["trainee"] == {"id": c.lin.person.id, "name": "Lin Wei", "time_zone": "Asia/Taipei"}
    assert (data["may_write"], data["digests"], data["max_rating"]) == (False, [], 5)
    series = {s["skill"]: s["points"] for s in data["feedback"]["ratings"]}
    assert set(series) == {"Reframing", "Active listening and reflecting"}
    assert [(p["at_ms"], p["rating"]) for p in series["Reframing"]] == [
        (c.first_ms + 10_000, 2),
        (c.second_ms + 10_000, 4),
    ]
    assert [p["rating"] for p in series["Active listening and reflecting"]] == [3, 5]
    skills = {n["skill"] for n in data["feedback"]["notes"]}
    assert skills == {"reframing", "active_listening"}  # no caucus, coach-only or Bo's note
    # the coach reads what Lin reads, and the summary carries the same dated ratings
    status, coach_view = await call(
        c.coach, "GET", f"{server.url}/api/trainees/{c.lin.person.id}/digest"
    )
    assert status == 200 and coach_view["feedback"] == data["feedback"]
    assert coach_view["may_write"] is True
    status, summary = await call(
        c.lin, "GET", f"{server.url}/api/trainees/{c.lin.person.id}/summary"
    )
    assert status == 200 and summary["ratings"] == data["feedback"]["ratings"]


async def test_a_draft_is_the_coachs_until_shared_and_an_edit_after_sharing_is_a_new_version(
    server: LiveServer,
) -> None:
    c = await course(server)
    lin_url = f"{server.url}/api/trainees/{c.lin.person.id}"
    status, draft = await call(
        c.coach, "POST", f"{lin_url}/digests", {"strengths": "Calm, clear reframes"}
    )
    assert status == 201, draft
    assert (draft["status"], draft["version"], draft["author"]) == ("draft", 1, "Cora Coach")
    digest_url = f"{server.url}/api/digests/{draft['id']}"

    _, seen = await call(c.lin, "GET", f"{lin_url}/digest")
    assert seen["digests"] == []  # a draft does not exist for the trainee
    for method, url in (("PATCH", digest_url), ("POST", f"{digest_url}/share")):
        status, _ = await call(c.lin, method, url, {} if method == "PATCH" else None)
        assert status == 404
    assert (await call(c.lin, "GET", f"{digest_url}.pdf"))[0] == 404

    status, edited = await call(
        c.coach, "PATCH", digest_url, {"develop": "Summarise before moving on"}
    )
    assert status == 200 and (edited["version"], edited["history"]) == (1, [])
    status, shared = await call(c.coach, "POST", f"{digest_url}/share")
    assert status == 200 and shared["status"] == "shared" and shared["shared_ms"]

    _, seen = await call(c.lin, "GET", f"{lin_url}/digest")
    [digest] = seen["digests"]
    assert (digest["strengths"], digest["develop"]) == (
        "Calm, clear reframes",
        "Summarise before moving on",
    )
    status, refused = await call(c.lin, "PATCH", digest_url, {"strengths": "I am great"})
    assert (status, refused["code"]) == (403, "forbidden")

    status, bumped = await call(c.coach, "PATCH", digest_url, {"next_steps": "Lead a caucus"})
    assert status == 200 and bumped["version"] == 2
    assert [h["version"] for h in bumped["history"]] == [1]
    assert bumped["history"][0]["next_steps"] == ""
    _, seen = await call(c.lin, "GET", f"{lin_url}/digest")
    assert seen["digests"][0]["version"] == 2

    status, pdf = await call(c.lin, "GET", f"{digest_url}.pdf")
    assert status == 200
    text = pdf_text(pdf)
    assert "Feedback digest" in text and "Lead a caucus" in text and "Lin Wei" in text


async def test_other_coaches_and_trainees_find_nobody_and_admins_see_everything(
    server: LiveServer,
) -> None:
    c = await course(server)
    lin_url = f"{server.url}/api/trainees/{c.lin.person.id}"
    _, draft = await call(c.coach, "POST", f"{lin_url}/digests", {"strengths": "Calm"})
    digest_url = f"{server.url}/api/digests/{draft['id']}"
    for who in (c.other_coach, c.bo):
        assert (await call(who, "GET", f"{lin_url}/digest"))[0] == 404
        assert (await call(who, "POST", f"{lin_url}/digests", {"strengths": "x"}))[0] == 404
        assert (await call(who, "PATCH", digest_url, {"strengths": "x"}))[0] == 404
        assert (await call(who, "POST", f"{digest_url}/share"))[0] == 404
    assert (await call(None, "GET", f"{lin_url}/digest"))[0] == 401
    assert (await call(c.lin, "POST", f"{lin_url}/digests", {"strengths": "x"}))[0] == 403

    status, seen = await call(c.admin, "GET", f"{lin_url}/digest")
    assert status == 200 and [d["id"] for d in seen["digests"]] == [draft["id"]]
    status, made = await call(c.admin, "POST", f"{lin_url}/digests", {"next_steps": "Observe"})
    assert status == 201 and made["author"] == "Ada Admin"
    assert (await call(c.admin, "POST", f"{server.url}/api/digests/{made['id']}/share"))[0] == 200


async def test_bad_requests_get_a_code_never_a_500(server: LiveServer) -> None:
    c = await course(server)
    lin_url = f"{server.url}/api/trainees/{c.lin.person.id}"
    cases: list[tuple[str, str, Any, int, str]] = [
        ("POST", f"{lin_url}/digests", {"praise": "x"}, 400, "bad_request"),
        ("POST", f"{lin_url}/digests", {"strengths": 5}, 400, "invalid_digest"),
        ("POST", f"{lin_url}/digests", {"develop": "x" * (MAX_CHARS + 1)}, 400, "invalid_digest"),
        ("POST", f"{lin_url}/digests", [1], 400, "bad_request"),
        ("GET", f"{server.url}/api/trainees/room:party_a/digest", None, 404, "not_found"),
        ("GET", f"{server.url}/api/trainees/nobody/digest", None, 404, "not_found"),
        ("PATCH", f"{server.url}/api/digests/nope", {}, 404, "not_found"),
        ("POST", f"{server.url}/api/digests/nope/share", None, 404, "not_found"),
        ("GET", f"{server.url}/api/digests/nope.pdf", None, 404, "not_found"),
    ]
    for method, url, body, want, code in cases:
        status, answer = await call(c.coach, method, url, body)
        assert (status, answer["code"]) == (want, code), (method, url, answer)
    _, empty = await call(c.coach, "POST", f"{lin_url}/digests", {"strengths": "  "})
    status, answer = await call(c.coach, "POST", f"{server.url}/api/digests/{empty['id']}/share")
    assert (status, answer["code"]) == (409, "digest_empty")
    status, answer = await call(c.coach, "GET", f"{server.url}/api/digests/{empty['id']}.pdf")
    assert status == 404  # a draft has no PDF
