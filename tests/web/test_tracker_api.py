"""The accountability tracker over HTTP on a real server: progress numbers, notes marked
read only by their addressee, certificates refused until complete, issued, checked in
public and revoked."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from sqlalchemy import select

from sessions.ids import ScenarioId
from sessions.people import Role
from sessions.scenarios import Scenario, builtin_scenarios
from storage import cohorts, logbook
from storage.schema import audit_log, simulations
from tests.live_server import LiveServer, start_server
from tests.logbook_rows import finished, note
from tests.pdf_text import pdf_text
from tests.people import SignedIn, sign_in
from web.keys import DATABASE

SHIPPED = builtin_scenarios()


def scenario_of(scenario_id: str) -> Scenario | None:
    return SHIPPED.get(ScenarioId(scenario_id))


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    live = await start_server(tmp_path)
    yield live
    await live.stop()


async def call(
    who: SignedIn | None, method: str, url: str, json: Any = None, csrf: bool = True
) -> tuple[int, Any]:
    headers = who.write_headers if who and csrf and method != "GET" else {}
    async with (
        who.session() if who else ClientSession() as http,
        http.request(method, url, json=json, headers=headers) as response,
    ):
        if response.content_type == "application/json":
            return response.status, await response.json()
        if response.content_type == "text/html":
            return response.status, await response.text()
        return response.status, await response.read()


@dataclass
class Course:
    cohort: str
    lin: SignedIn  # party_a
    bo: SignedIn  # party_b
    amara: SignedIn  # mediator
    coach: SignedIn
    other_coach: SignedIn
    admin: SignedIn
    to_lin: str  # a note addressed to Lin
    in_caucus: str  # addressed to party_b, inside party_a's caucus: Bo may not see it


async def course(server: LiveServer) -> Course:
    """A cohort halfway through (party session, every note read, reflections) with one
    finished simulation: Amara mediating, Lin and Bo the parties."""
    app = server.app
    db = app[DATABASE]
    lin = await sign_in(app, Role.TRAINEE, "lin@example.org", "Lin Wei", "Asia/Taipei")
    bo = await sign_in(app, Role.TRAINEE, "bo@example.org", "Bo Berg", "Europe/London")
    amara = await sign_in(app, Role.TRAINEE, "amara@example.org", "Amara Obi", "Africa/Nairobi")
    coach = await sign_in(app, Role.COACH, "coach@example.org", "Cora Coach")
    other = await sign_in(app, Role.COACH, "other@example.org", "Otto Other")
    admin = await sign_in(app, Role.ADMIN, "admin@example.org", "Ada Admin")
    today = datetime.datetime.now(datetime.UTC).date()
    cohort = await cohorts.add(
        db,
        {
            "name": "Winter mediation course",
            "starts_on": (today - datetime.timedelta(days=20)).isoformat(),
            "ends_on": (today + datetime.timedelta(days=20)).isoformat(),
            "requirements": {"party_sessions": 1, "feedback_read": True, "reflections": True},
        },
    )
    await cohorts.set_members(db, cohort.id, [coach.person.id], [lin.person.id, bo.person.id])
    sim = await finished(
        db,
        {
            "mediator": (amara.person.id, "Amara Obi"),
            "party_a": (lin.person.id, "Lin Wei"),
            "party_b": (bo.person.id, "Bo Berg"),
        },
    )
    async with db.transaction() as conn:
        await conn.execute(
            simulations.update().where(simulations.c.id == sim).values(cohort_id=cohort.id)
        )
    to_lin = await note(db, sim, "You named your interest clearly", target="party_a")
    in_caucus = await note(db, sim, "Said in a caucus", t_ms=90_000, target="party_b")
    assert await logbook.record_completed(db, sim, scenario_of) == 3
    return Course(cohort.id, lin, bo, amara, coach, other, admin, to_lin, in_caucus)


def items(progress: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {i["requirement"]: (i["done"], i["needed"]) for i in progress["items"]}


async def test_progress_notes_read_and_a_certificate_from_refusal_to_revocation(
    server: LiveServer,
) -> None:
    c = await course(server)
    url = server.url

    status, mine = await call(c.lin, "GET", f"{url}/api/tracker/me")
    assert status == 200
    [entry] = mine["cohorts"]
    assert entry["cohort"]["id"] == c.cohort and entry["certificate"] is None
    p = entry["progress"]
    assert items(p) == {"party_sessions": (1, 1), "feedback_read": (0, 1), "reflections": (0, 1)}
    assert not p["complete"] and p["counted"] == 1
    assert {i["requirement"] for i in p["left"]} == {"feedback_read", "reflections"}
    assert p["due_ms"] > p["starts_ms"]

    status, refused = await call(c.lin, "POST", f"{url}/api/tracker/me/certificates/{c.cohort}")
    assert (status, refused["code"]) == (409, "requirements_not_met")
    assert {i["requirement"] for i in refused["left"]} == {"feedback_read", "reflections"}

    # a note is marked read by its addressee alone, and only one they may see
    read = f"{url}/api/notes/{c.to_lin}/read"
    assert (await call(None, "POST", read))[0] == 401
    assert (await call(c.lin, "POST", read, csrf=False))[0] == 403
    assert (await call(c.amara, "POST", read))[0] == 404  # not addressed to her
    assert (await call(c.coach, "POST", read))[0] == 404
    status, body = await call(c.bo, "POST", f"{url}/api/notes/{c.in_caucus}/read")
    assert (status, body["code"]) == (404, "not_found")  # addressed to Bo, inside a caucus
    assert (await call(c.lin, "POST", f"{url}/api/notes/no-such-note/read"))[0] == 404
    status, body = await call(c.lin, "POST", read)
    assert status == 200 and body["note"] == c.to_lin
    assert (await call(c.lin, "POST", read))[1]["read_ms"] == body["read_ms"]  # first read kept

    # a reflection on the simulation's entry completes the cohort
    status, book = await call(c.lin, "GET", f"{url}/api/logbook")
    [logged] = book["entries"]
    status, _ = await call(
        c.lin, "PATCH", f"{url}/api/logbook/{logged['id']}", {"went_well": "I stayed calm"}
    )
    assert status == 200
    p = (await call(c.lin, "GET", f"{url}/api/tracker/me"))[1]["cohorts"][0]["progress"]
    assert p["complete"] and not p["behind"] and p["left"] == []

    status, cert = await call(c.lin, "POST", f"{url}/api/tracker/me/certificates/{c.cohort}")
    assert status == 201 and cert["valid"]
    assert cert["url"] == f"/certificates/{cert['id']}"
    status, again = await call(c.lin, "POST", f"{url}/api/tracker/me/certificates/{c.cohort}")
    assert status == 200 and again["id"] == cert["id"]
    # not a trainee of it: no such cohort for you
    assert (await call(c.amara, "POST", f"{url}/api/tracker/me/certificates/{c.cohort}"))[0] == 404

    # the PDF: its owner, the cohort's coach, an admin; nobody else
    pdf_url = f"{url}/api/certificates/{cert['id']}.pdf"
    status, pdf = await call(c.lin, "GET", pdf_url)
    assert status == 200 and pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    for words in ("Certificate of completion", "Lin Wei", "Winter mediation course"):
        assert words in text
    assert f"{url}/certificates/{cert['id']}" in text
    assert (await call(c.coach, "GET", pdf_url))[0] == 200
    assert (await call(c.admin, "GET", pdf_url))[0] == 200
    assert (await call(c.bo, "GET", pdf_url))[0] == 404
    assert (await call(c.other_coach, "GET", pdf_url))[0] == 404
    assert (await call(None, "GET", pdf_url))[0] == 401

    # the verification page, without signing in: valid, whose, which cohort; no email
    status, page = await call(None, "GET", f"{url}/certificates/{cert['id']}")
    assert status == 200 and "Valid" in page and "Lin Wei" in page
    assert "Winter mediation course" in page and "lin@example.org" not in page
    status, page = await call(None, "GET", f"{url}/certificates/nothing-here")
    assert status == 404 and "Not found" in page

    revoke = f"{url}/api/certificates/{cert['id']}/revoke"
    assert (await call(c.coach, "POST", revoke))[0] == 403
    assert (await call(c.lin, "POST", revoke))[0] == 403
    status, revoked = await call(c.admin, "POST", revoke)
    assert status == 200 and not revoked["valid"]
    status, page = await call(None, "GET", f"{url}/certificates/{cert['id']}")
    assert status == 200 and "Revoked" in page and "Valid" not in page
    async with server.app[DATABASE].reading() as conn:
        rows = (
            await conn.execute(
                select(audit_log.c.actor, audit_log.c.target).where(
                    audit_log.c.action == "certificate.revoke"
                )
            )
        ).all()
    assert [tuple(r) for r in rows] == [(c.admin.person.id, cert["id"])]
    status, body = await call(c.lin, "POST", f"{url}/api/tracker/me/certificates/{c.cohort}")
    assert (status, body["code"]) == (409, "certificate_revoked")


async def test_the_cohort_at_a_glance_for_its_coach_and_admins_only(server: LiveServer) -> None:
    c = await course(server)
    url = f"{server.url}/api/tracker/cohorts/{c.cohort}"
    status, body = await call(c.coach, "GET", url)
    assert status == 200
    rows = {r["name"]: r for r in body["trainees"]}
    assert set(rows) == {"Lin Wei", "Bo Berg"}  # trainees only: Amara is in no cohort
    assert items(rows["Bo Berg"]["progress"]) == {
        "party_sessions": (1, 1),
        "feedback_read": (0, 0),  # the one note to Bo is inside a caucus he cannot see
        "reflections": (0, 1),
    }
    # who is behind comes first: at halfway, neither is (reflections are due at the end)
    assert [r["progress"]["behind"] for r in body["trainees"]] == [False, False]
    assert (await call(c.admin, "GET", url))[0] == 200
    assert (await call(c.other_coach, "GET", url))[0] == 404
    assert (await call(c.lin, "GET", url))[0] == 403
    assert (await call(None, "GET", url))[0] == 401
    assert (await call(c.coach, "GET", f"{server.url}/api/tracker/cohorts/nope"))[0] == 404
