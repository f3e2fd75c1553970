"""Practice rounds over HTTP, on a real server: a cohort of 8 trainees in Nairobi, Taipei,
Phoenix and London with 2 coaches is matched, swapped, published, told by mail (a real SMTP
server on loopback), and matched again; a proposal request is checked and only its cohort's
staff may ask."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import ClientSession
from aiosmtpd.controller import Controller
from sqlalchemy import insert, select

from sessions.people import Role
from storage.schema import audit_log, cohort_scenarios
from tests.live_server import LiveServer, start_server
from tests.people import SignedIn, sign_in
from tests.round_rows import COACH_HOURS, TRAINEE_HOURS, RoundCohort, round_cohort
from tests.web.rounds_client import as_person, call, window
from tests.web.test_invitation_mail import Inbox, _free_port
from web.keys import DATABASE


@pytest.fixture
async def inbox() -> AsyncIterator[tuple[Inbox, int]]:
    box = Inbox()
    smtp = Controller(box, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    yield box, smtp.port
    smtp.stop()


@pytest.fixture
async def server(tmp_path: Path, inbox: tuple[Inbox, int]) -> AsyncIterator[LiveServer]:
    live = await start_server(
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=inbox[1],
        smtp_starttls=False,
        smtp_from="training@example.org",
    )
    yield live
    await live.stop()


def on_their_clock(zone: str, hours: tuple[str, str], start_ms: int, end_ms: int) -> bool:
    """Whether every minute of [start, end) falls, on `zone`'s clock, inside the daily
    `hours` (which may cross midnight): the check is done apart from the matcher."""
    first, last = time.fromisoformat(hours[0]), time.fromisoformat(hours[1])
    t = datetime.fromtimestamp(start_ms / 1000, UTC)
    while t < datetime.fromtimestamp(end_ms / 1000, UTC):
        wall = t.astimezone(ZoneInfo(zone)).time()
        inside = first <= wall < last if first < last else wall >= first or wall < last
        if not inside:
            return False
        t += timedelta(minutes=1)
    return True


def members(group: dict[str, Any]) -> list[str]:
    return [group["mediator"], *group["parties"], *group["observers"], group["coach"]]


async def propose(
    admin: SignedIn, server: LiveServer, cohort: RoundCohort, weeks: int = 1
) -> dict[str, Any]:
    status, proposal = await call(
        admin,
        server,
        "POST",
        "/api/rounds",
        {"cohort": cohort.cohort, "scenario": "boundary-fence", "observers": 1, **window(weeks)},
    )
    assert status == 201, proposal
    return dict(proposal)


# --- rounds ---------------------------------------------------------------------------


async def test_a_round_holds_everyones_own_clock_and_publishing_tells_everyone(
    server: LiveServer, inbox: tuple[Inbox, int]
) -> None:
    db = server.app[DATABASE]
    admin = await sign_in(server.app, Role.ADMIN, name="Ada", time_zone="Europe/London")
    cohort = await round_cohort(db, trainees_per_zone=2)
    proposal = await propose(admin, server, cohort)
    assert proposal["status"] == "draft"
    assert (proposal["viewer_time_zone"], proposal["duration_min"]) == ("Europe/London", 55)
    groups = proposal["groups"]
    assert len(groups) == 2 and proposal["unplaced"] == []
    assert sorted(t for g in groups for t in members(g)[:-1]) == sorted(cohort.trainees)
    assert sorted(g["coach"] for g in groups) == sorted(cohort.coaches)  # one group each
    for g in groups:
        assert g["end_ms"] - g["start_ms"] == 55 * 60_000
        for person in members(g):
            zone = cohort.zone_of[person]
            hours = COACH_HOURS[zone] if person in cohort.coaches else TRAINEE_HOURS[zone]
            assert on_their_clock(zone, hours, g["start_ms"], g["end_ms"]), (person, zone)
            assert proposal["people"][person]["time_zone"] == zone
    rules = {r["rule"]: r for r in proposal["rules"]}
    assert rules["availability"]["met"] and rules["no_double_booking"]["met"]
    assert all(r["detail"] for r in proposal["rules"])
    listed = (await call(admin, server, "GET", f"/api/rounds?cohort={cohort.cohort}"))[1]
    assert [r["id"] for r in listed] == [proposal["id"]]

    status, published = await call(admin, server, "POST", f"/api/rounds/{proposal['id']}/publish")
    assert status == 200, published
    assert (published["status"], published["mailed"]) == ("published", True)
    sims = [g["simulation"] for g in published["groups"]]
    assert all(sims) and len(set(sims)) == 2
    again = await call(admin, server, "POST", f"/api/rounds/{proposal['id']}/publish")
    assert (again[0], again[1]["code"]) == (409, "round_published")
    # the simulations, their seats
    for g in published["groups"]:
        status, sim = await call(admin, server, "GET", f"/api/schedule/{g['simulation']}")
        assert (sim["scheduled_ms"], sim["duration_min"], sim["cohort_id"]) == (
            g["start_ms"],
            55,
            cohort.cohort,
        )
        seated = {s["seat"]: (s["person"] or {}).get("id") for s in sim["seats"]}
        assert seated["mediator"] == g["mediator"] and seated["coach"] == g["coach"]
        assert [seated["party_a"], seated["party_b"]] == g["parties"]
        assert seated["observer_1"] == g["observers"][0]
    # a trainee's home page and calendar feed list theirs
    first = published["groups"][0]
    trainee = await as_person(server, first["parties"][0])
    status, home = await call(trainee, server, "GET", "/api/home")
    [mine] = [u for u in home["upcoming"] if u["id"] == first["simulation"]]
    assert (mine["scheduled_ms"], mine["seat"]) == (first["start_ms"], "party_a")
    async with ClientSession() as http, http.get(server.url + home["calendar_feed"]) as r:
        feed = await r.text()
    assert f"UID:simulation-{first['simulation']}@" in feed
    # everyone seated is mailed their time on their own clock, with the join link
    box = inbox[0]
    for _ in range(200):
        if len(box.messages) >= 10:
            break
        await asyncio.sleep(0.05)  # mails go out off the request path, one by one
    assert sorted(e.rcpt_tos[0] for e, _ in box.messages) == sorted(cohort.email_of.values())
    by_address = {e.rcpt_tos[0]: m for e, m in box.messages}
    for g in published["groups"]:
        for person in members(g):
            message = by_address[cohort.email_of[person]]
            payload = message.get_payload(decode=True)
            assert isinstance(payload, bytes)
            text = payload.decode()
            zone = cohort.zone_of[person]
            local = datetime.fromtimestamp(g["start_ms"] / 1000, ZoneInfo(zone))
            assert f"{local:%A %d %B %Y at %H:%M} ({zone})" in text
            assert f"{server.url}/join/{g['simulation']}" in text
    async with db.reading() as conn:
        actions = list(await conn.scalars(select(audit_log.c.action)))
    assert "round.publish" in actions


async def test_the_next_round_rotates_the_mediator_and_keeps_clear_of_booked_times(
    server: LiveServer,
) -> None:
    db = server.app[DATABASE]
    admin = await sign_in(server.app, Role.ADMIN, name="Ada")
    cohort = await round_cohort(db, trainees_per_zone=2)
    first = await propose(admin, server, cohort)
    assert (await call(admin, server, "POST", f"/api/rounds/{first['id']}/publish"))[0] == 200
    mediated = {g["mediator"] for g in first["groups"]}
    # the week after: history is read back from the first round's simulations
    second = await propose(admin, server, cohort, weeks=2)
    assert len(second["groups"]) == 2
    assert {g["mediator"] for g in second["groups"]}.isdisjoint(mediated)
    assert {r["rule"]: r["met"] for r in second["rules"]}["rotation"]
    # the same week again: nobody is seated across the first round's times
    third = await propose(admin, server, cohort, weeks=1)
    booked = {
        person: (g["start_ms"], g["end_ms"]) for g in first["groups"] for person in members(g)
    }
    for g in third["groups"]:
        for person in members(g):
            a, b = booked[person]
            assert g["end_ms"] <= a or b <= g["start_ms"], person


async def test_a_swap_shows_what_it_breaks_and_publishing_keeps_it(server: LiveServer) -> None:
    db = server.app[DATABASE]
    admin = await sign_in(server.app, Role.ADMIN, name="Ada")
    cohort = await round_cohort(db, trainees_per_zone=2)
    proposal = await propose(admin, server, cohort)
    one, two = proposal["groups"]
    path = f"/api/rounds/{proposal['id']}/swap"
    a, b = one["mediator"], two["parties"][0]
    status, swapped = await call(admin, server, "POST", path, {"a": a, "b": b})
    assert status == 200, swapped
    after = {g["coach"]: g for g in swapped["groups"]}  # groups may share a time
    assert after[one["coach"]]["mediator"] == b
    assert after[two["coach"]]["parties"][0] == a
    assert isinstance(swapped["broken"], list)
    assert all({"rule", "met", "shortfall", "detail"} <= set(r) for r in swapped["broken"])
    # stored: reading the round again shows the swap
    status, read = await call(admin, server, "GET", f"/api/rounds/{proposal['id']}")
    assert read["groups"] == swapped["groups"]
    # two coaches swap their groups; a coach and a trainee do not
    c1, c2 = one["coach"], two["coach"]
    status, coaches = await call(admin, server, "POST", path, {"a": c1, "b": c2})
    assert status == 200
    assert {g["mediator"]: g["coach"] for g in coaches["groups"]} == {b: c2, two["mediator"]: c1}
    for body in ({"a": c1, "b": a}, {"a": a, "b": a}, {"a": a, "b": "nobody"}):
        status, problem = await call(admin, server, "POST", path, body)
        assert (status, problem["code"]) == (400, "invalid_swap"), body
    for body in ({"a": a}, {"a": 1, "b": 2}, {"a": a, "b": b, "c": 3}):
        status, problem = await call(admin, server, "POST", path, body)
        assert (status, problem["code"]) == (400, "bad_request"), body
    status, published = await call(admin, server, "POST", f"/api/rounds/{proposal['id']}/publish")
    assert status == 200
    sim = next(g for g in published["groups"] if g["coach"] == c2)["simulation"]
    status, seen = await call(admin, server, "GET", f"/api/schedule/{sim}")
    assert {s["seat"]: (s["person"] or {}).get("id") for s in seen["seats"]}["mediator"] == b
    status, problem = await call(admin, server, "POST", path, {"a": a, "b": b})
    assert (status, problem["code"]) == (409, "round_published")
    status, problem = await call(admin, server, "DELETE", f"/api/rounds/{proposal['id']}")
    assert (status, problem["code"]) == (409, "round_published")


async def test_a_proposal_request_is_checked_and_only_its_cohorts_staff_may_ask(
    server: LiveServer,
) -> None:
    db = server.app[DATABASE]
    admin = await sign_in(server.app, Role.ADMIN, name="Ada")
    coach = await sign_in(server.app, Role.COACH, name="Cora")
    other = await sign_in(server.app, Role.COACH, name="Otto")
    cohort = await round_cohort(db, trainees_per_zone=1, coaches=(), coach_ids=(coach.person.id,))
    await round_cohort(db, trainees_per_zone=1, coaches=(), coach_ids=(other.person.id,))
    good: dict[str, Any] = {"cohort": cohort.cohort, "scenario": "boundary-fence", **window()}
    today = datetime.now(UTC).date()
    bad: list[tuple[dict[str, Any], int, str]] = [
        ({"to": (today + timedelta(days=40)).isoformat()}, 400, "bad_window"),
        ({"from": window()["to"], "to": window()["from"]}, 400, "bad_window"),
        ({"from": "2026-02-30"}, 400, "bad_window"),
        ({"from": 20270101}, 400, "bad_window"),
        ({"from": "2020-01-01", "to": "2020-01-07"}, 400, "in_the_past"),
        ({"from": (today - timedelta(days=1)).isoformat()}, 400, "in_the_past"),
        ({"scenario": "nothing-like-it"}, 404, "unknown_scenario"),
        ({"scenario": 3}, 400, "bad_request"),
        ({"duration_min": 5}, 400, "bad_duration"),
        ({"duration_min": "long"}, 400, "bad_request"),
        ({"observers": 9}, 400, "bad_request"),
        ({"grid_minutes": 7}, 400, "bad_request"),
        ({"cohort": "no-such-cohort"}, 404, "not_found"),
        ({"cohort": "../x"}, 400, "bad_request"),
        ({"colour": "red"}, 400, "bad_request"),
    ]  # fmt: skip
    for change, want_status, code in bad:
        status, problem = await call(admin, server, "POST", "/api/rounds", good | change)
        assert (status, problem["code"]) == (want_status, code), change
    # a cohort that names its scenarios takes only those
    async with db.transaction() as conn:
        await conn.execute(
            insert(cohort_scenarios).values(cohort_id=cohort.cohort, scenario_id="bakery-supply")
        )
    status, problem = await call(admin, server, "POST", "/api/rounds", good)
    assert (status, problem["code"]) == (400, "scenario_not_in_cohort")
    good["scenario"] = "bakery-supply"
    status, made = await call(coach, server, "POST", "/api/rounds", good)
    assert status == 201 and made["duration_min"] == 72  # the scenario's phase plan
    assert (await call(other, server, "POST", "/api/rounds", good))[0] == 404
    trainee = await as_person(server, cohort.trainees[0])
    assert (await call(trainee, server, "POST", "/api/rounds", good))[0] == 403
    assert (await call(None, server, "POST", "/api/rounds", good))[0] == 401
    path = f"/api/rounds/{made['id']}"
    assert (await call(other, server, "GET", path))[0] == 404
    assert (await call(other, server, "DELETE", path))[0] == 404
    assert (await call(trainee, server, "GET", path))[0] == 403
    assert (await call(other, server, "GET", "/api/rounds"))[1] == []
    assert [r["id"] for r in (await call(coach, server, "GET", "/api/rounds"))[1]] == [made["id"]]
    assert (await call(other, server, "GET", f"/api/rounds?cohort={cohort.cohort}"))[0] == 404
    assert (await call(coach, server, "GET", "/api/rounds/nothing"))[0] == 404
    # a draft is deleted (by its cohort's coach), then gone
    assert (await call(coach, server, "DELETE", path))[0] == 200
    assert (await call(coach, server, "GET", path))[0] == 404
    assert re.fullmatch(r"[\w-]+", made["id"])
