"""Scheduling through a real server: validation, who may, my-seat, ending a room, live rooms."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from sqlalchemy import insert, update

from sessions.people import Role
from storage.schema import cohort_members, cohorts, people
from tests.live_server import LiveServer, Participant, start_server
from tests.people import SignedIn, sign_in
from web.ended_rooms import ENDED_ROOMS
from web.keys import DATABASE

MINUTE = 60_000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Org:
    """A server with an admin, a coach of cohort "spring", a coach of "autumn", trainees."""

    server: LiveServer
    admin: SignedIn
    coach: SignedIn
    other_coach: SignedIn
    amara: SignedIn
    ben: SignedIn
    chen: SignedIn

    @property
    def url(self) -> str:
        return self.server.url

    async def call(
        self, who: SignedIn | None, method: str, path: str, body: Any = None
    ) -> tuple[int, Any]:
        headers = {} if who is None or method == "GET" else who.write_headers
        cookies = {} if who is None else who.cookies
        async with aiohttp.ClientSession(cookies=cookies) as http:
            kwargs: dict[str, Any] = {"headers": headers}
            if body is not None:
                kwargs["json"] = body
            async with http.request(method, f"{self.url}{path}", **kwargs) as response:
                return response.status, await response.json()

    async def schedule(self, **fields: Any) -> dict[str, Any]:
        body = {"scenario": "boundary-fence", "cohort": "spring", **fields}
        status, created = await self.call(self.admin, "POST", "/api/schedule", body)
        assert status == 201, created
        return dict(created)


async def _cohort(server: LiveServer, cohort_id: str, coach: str) -> None:
    async with server.app[DATABASE].transaction() as conn:
        await conn.execute(
            insert(cohorts).values(
                id=cohort_id,
                name=cohort_id.title(),
                starts_on="2027-01-01",
                ends_on="2027-12-31",
                requirements={},
                created_ms=0,
            )
        )
        await conn.execute(
            insert(cohort_members).values(cohort_id=cohort_id, person_id=coach, role="coach")
        )


@pytest.fixture
async def org(tmp_path: Any) -> AsyncIterator[Org]:
    server = await start_server(tmp_path)
    app = server.app
    found = Org(
        server,
        await sign_in(app, Role.ADMIN, "ada@example.org", "Ada", "America/Phoenix"),
        await sign_in(app, Role.COACH, "lin@example.org", "Lin Wei", "Asia/Taipei"),
        await sign_in(app, Role.COACH, "ola@example.org", "Ola"),
        await sign_in(app, Role.TRAINEE, "amara@example.org", "Amara", "Africa/Nairobi"),
        await sign_in(app, Role.TRAINEE, "ben@example.org", "Ben"),
        await sign_in(app, Role.TRAINEE, "chen@example.org", "Chen"),
    )
    await _cohort(server, "spring", found.coach.person.id)
    await _cohort(server, "autumn", found.other_coach.person.id)
    yield found
    await server.stop()


def soon(minutes: int = 5) -> int:
    return now_ms() + minutes * MINUTE


async def test_an_admin_schedules_a_simulation_with_people_in_seats(org: Org) -> None:
    created = await org.schedule(
        scheduled_ms=soon(60),
        duration_min=90,
        seats={"mediator": org.amara.person.id, "party_a": org.ben.person.id},
    )
    seats = {s["seat"]: s["person"] for s in created["seats"]}
    assert seats["mediator"]["name"] == "Amara" and seats["party_a"]["name"] == "Ben"
    assert seats["party_b"] is None and seats["coach"] is None
    assert created["status"] == "scheduled" and created["duration_min"] == 90
    assert created["scenario"]["title"] and created["cohort_id"] == "spring"
    status, listed = await org.call(org.admin, "GET", "/api/schedule")
    assert status == 200 and [s["id"] for s in listed] == [created["id"]]
    status, listed = await org.call(org.admin, "GET", f"/api/schedule?from={soon(120)}")
    assert (status, listed) == (200, [])


async def test_a_time_typed_in_phoenix_is_stored_in_utc(org: Org) -> None:
    created = await org.schedule(local_time="2027-03-10T09:00", time_zone="America/Phoenix")
    utc = datetime.fromtimestamp(created["scheduled_ms"] / 1000, UTC)
    assert utc == datetime(2027, 3, 10, 16, 0, tzinfo=UTC)
    # without a zone, the admin's own (Ada is in Phoenix)
    again = await org.schedule(local_time="2027-03-10T09:00")
    assert again["scheduled_ms"] == created["scheduled_ms"]


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"seats": {"party_c": "someone"}}, 400, "unknown_seat"),
        ({"seats": {"mediator": "nobody-at-all"}}, 400, "unknown_person"),
        ({"seats": {"mediator": "AMARA", "party_a": "AMARA"}}, 400, "person_twice"),
        ({"seats": {"mediator": "GONE"}}, 400, "inactive_person"),
        ({"seats": ["mediator"]}, 400, "bad_request"),
        ({"scheduled_ms": "tomorrow"}, 400, "bad_time"),
        ({"scheduled_ms": 1_000}, 400, "in_the_past"),
        ({"local_time": "2027-03-14T02:30", "time_zone": "America/New_York"}, 400, "bad_time"),
        ({"local_time": "2027-03-10T09:00", "time_zone": "Mars/Base"}, 400, "bad_time_zone"),
        ({"duration_min": 10}, 400, "bad_duration"),
        ({"duration_min": 241}, 400, "bad_duration"),
        ({"scenario": "no-such-scenario"}, 404, "unknown_scenario"),
        ({"cohort": "no-such-cohort"}, 400, "unknown_cohort"),
        ({"observers": 99}, 400, "bad_request"),
        ({"colour": "blue"}, 400, "bad_request"),
    ],
)
async def test_a_bad_schedule_is_refused_with_its_code(
    org: Org, fields: dict[str, Any], status: int, code: str
) -> None:
    async with org.server.app[DATABASE].transaction() as conn:
        await conn.execute(
            update(people).where(people.c.id == org.chen.person.id).values(active=False)
        )
    names = {"AMARA": org.amara.person.id, "GONE": org.chen.person.id}
    if "seats" in fields and isinstance(fields["seats"], dict):
        fields = {**fields, "seats": {k: names.get(v, v) for k, v in fields["seats"].items()}}
    when = {} if "local_time" in fields else {"scheduled_ms": soon(60)}
    body = {"scenario": "boundary-fence", **when, **fields}
    got = await org.call(org.admin, "POST", "/api/schedule", body)
    assert (got[0], got[1]["code"]) == (status, code), got
    assert (await org.call(org.admin, "GET", "/api/schedule"))[1] == []


async def test_who_may_see_schedule_and_end(org: Org) -> None:
    spring = await org.schedule(scheduled_ms=soon(60))
    path = f"/api/schedule/{spring['id']}"
    # anonymous: 401 everywhere
    for method, where in [
        ("GET", "/api/schedule"),
        ("GET", path),
        ("GET", "/api/live"),
        ("POST", "/api/schedule"),
        ("POST", f"/api/simulations/{spring['id']}/end"),
        ("POST", f"/api/simulations/{spring['id']}/my-seat"),
    ]:
        status, answer = await org.call(None, method, where, {} if method == "POST" else None)
        assert (status, answer["code"]) == (401, "unauthorized"), (method, where)
    # a trainee: 403 for the console's routes
    for method, where in [
        ("GET", "/api/schedule"),
        ("GET", "/api/live"),
        ("POST", "/api/schedule"),
    ]:
        status, answer = await org.call(
            org.amara, method, where, {"scenario": "x"} if method == "POST" else None
        )
        assert (status, answer["code"]) == (403, "forbidden"), (method, where)
    # a coach of another cohort: the simulation does not exist for them
    assert (await org.call(org.other_coach, "GET", path))[0] == 404
    assert (await org.call(org.other_coach, "GET", "/api/schedule"))[1] == []
    status, _ = await org.call(org.other_coach, "POST", f"/api/simulations/{spring['id']}/end", {})
    assert status == 404
    # the cohort's coach sees it but does not schedule
    assert (await org.call(org.coach, "GET", path))[0] == 200
    assert [s["id"] for s in (await org.call(org.coach, "GET", "/api/schedule"))[1]] == [
        spring["id"]
    ]
    status, answer = await org.call(
        org.coach, "POST", "/api/schedule", {"scenario": "boundary-fence"}
    )
    assert (status, answer["code"]) == (403, "forbidden")
    status, answer = await org.call(org.coach, "PATCH", path, {"duration_min": 30})
    assert (status, answer["code"]) == (403, "forbidden")
    # the admin bearer token does everything; another bearer token nothing
    async with aiohttp.ClientSession() as http:
        bearer = {"Authorization": f"Bearer {org.server.config.admin_token}"}
        async with http.get(f"{org.url}{path}", headers=bearer) as response:
            assert response.status == 200
        async with http.get(f"{org.url}{path}", headers={"Authorization": "Bearer x"}) as response:
            assert response.status == 401
    # a cookie write without the CSRF token never reaches the handler
    async with aiohttp.ClientSession(cookies=org.admin.cookies) as http:
        async with http.post(f"{org.url}/api/schedule", json={}) as response:
            assert (response.status, (await response.json())["code"]) == (403, "csrf")


async def test_an_assigned_person_takes_their_seat_without_a_link(org: Org) -> None:
    created = await org.schedule(scheduled_ms=soon(10), seats={"mediator": org.amara.person.id})
    status, mine = await org.call(org.amara, "POST", f"/api/simulations/{created['id']}/my-seat")
    assert status == 200 and mine["seat"] == "mediator"
    assert mine["link"].endswith(f"/join/{created['id']}#token={mine['token']}")
    # valid until the planned end + 2 h, not a week
    planned_end_s = (created["scheduled_ms"] + 60 * MINUTE) / 1000
    assert abs(mine["expires_at"] - (planned_end_s + 7200)) < 5
    amara = Participant("mediator", mine["token"], created["id"])
    await amara.connect(org.url)
    try:
        reply = await amara.join()
        assert reply["ok"], reply
        you = reply["state"]["you"]
        assert you["seat"] == "mediator"
        assert any(p["name"] == "Amara" for p in reply["state"]["roster"])
    finally:
        await amara.close()
    # somebody with no seat in it is refused; the cohort's coach gets the coach's seat
    status, answer = await org.call(org.ben, "POST", f"/api/simulations/{created['id']}/my-seat")
    assert (status, answer["code"]) == (403, "forbidden")
    status, coach = await org.call(org.coach, "POST", f"/api/simulations/{created['id']}/my-seat")
    assert (status, coach["seat"]) == (200, "coach")
    status, answer = await org.call(
        org.other_coach, "POST", f"/api/simulations/{created['id']}/my-seat"
    )
    assert (status, answer["code"]) == (403, "forbidden")


async def test_too_early_is_refused_with_the_opening_time(org: Org) -> None:
    start = soon(60)
    created = await org.schedule(scheduled_ms=start, seats={"party_a": org.ben.person.id})
    status, answer = await org.call(org.ben, "POST", f"/api/simulations/{created['id']}/my-seat")
    assert (status, answer["code"]) == (409, "not_yet_open")
    assert (answer["opens_ms"], answer["scheduled_ms"]) == (start - 15 * MINUTE, start)


async def test_ending_a_room_ends_it_for_everyone(org: Org) -> None:
    created = await org.schedule(
        scheduled_ms=soon(5),
        seats={"mediator": org.amara.person.id, "party_a": org.ben.person.id},
    )
    room = created["id"]
    seated = []
    for who, seat in [(org.amara, "mediator"), (org.ben, "party_a")]:
        _, mine = await org.call(who, "POST", f"/api/simulations/{room}/my-seat")
        participant = Participant(seat, mine["token"], room)
        await participant.connect(org.url)
        assert (await participant.join())["ok"]
        seated.append(participant)
    try:
        status, live = await org.call(org.coach, "GET", "/api/live")
        assert status == 200
        (shown,) = live["rooms"]
        occupants = {s["seat"]: s["occupant"] for s in shown["seats"]}
        assert occupants["mediator"]["name"] == "Amara" and occupants["mediator"]["connected"]
        assert occupants["party_b"] is None and shown["phase"]["name"] == "lobby"
        assert shown["recording"]["status"] in ("off", "recording")
        assert (await org.call(org.other_coach, "GET", "/api/live"))[1] == {"rooms": []}

        status, ended = await org.call(org.coach, "POST", f"/api/simulations/{room}/end")
        assert status == 200 and ended["ended_ms"]
        for participant in seated:
            state = await participant.wait_for_state(lambda s: s["phase"]["kind"] == "ended")
            assert state["phase"]["name"] == "ended"
        events = await org.server.catalogue.events(room)
        assert [e for e in events if e["kind"] == "phase"][-1]["phase"] == "ended"
        status, answer = await org.call(org.admin, "POST", f"/api/simulations/{room}/end")
        assert (status, answer["code"]) == (409, "ended")
        status, answer = await org.call(org.amara, "POST", f"/api/simulations/{room}/my-seat")
        assert (status, answer["code"]) == (409, "ended")
        await org.server.app[ENDED_ROOMS].settle()
        _, shown_after = await org.call(org.admin, "GET", f"/api/schedule/{room}")
        assert shown_after["status"] == "ended" and shown_after["ended_ms"] == ended["ended_ms"]
    finally:
        for participant in seated:
            await participant.close()


async def test_a_room_nobody_opened_ends_and_admits_no_guest_link(org: Org) -> None:
    created = await org.schedule(scheduled_ms=soon(5))
    _, links = await org.call(org.admin, "POST", f"/api/schedule/{created['id']}/links", {})
    status, _ = await org.call(org.admin, "POST", f"/api/simulations/{created['id']}/end")
    assert status == 200
    guest = Participant("party_b", links["links"][2]["token"], created["id"])
    await guest.connect(org.url)
    try:
        reply = await guest.join()
        assert not reply["ok"] and reply["code"] == "forbidden"
    finally:
        await guest.close()


async def test_guest_links_are_for_seats_nobody_holds(org: Org) -> None:
    created = await org.schedule(scheduled_ms=soon(5), seats={"mediator": org.amara.person.id})
    path = f"/api/schedule/{created['id']}/links"
    status, issued = await org.call(org.admin, "POST", path, {})
    assert status == 201
    seats = [link["seat"] for link in issued["links"]]
    assert seats == ["party_a", "party_b", "coach", "observer_1"]
    status, answer = await org.call(org.admin, "POST", path, {"seats": ["mediator"]})
    assert (status, answer["code"]) == (409, "seat_assigned")
    status, answer = await org.call(org.admin, "POST", path, {"seats": ["party_z"]})
    assert (status, answer["code"]) == (400, "unknown_seat")
    guest = Participant("party_a", issued["links"][0]["token"], created["id"])
    await guest.connect(org.url)
    try:
        assert (await guest.join())["ok"]
    finally:
        await guest.close()


async def test_a_simulation_is_rescheduled_and_reseated_until_it_starts(org: Org) -> None:
    created = await org.schedule(scheduled_ms=soon(5), seats={"mediator": org.amara.person.id})
    path = f"/api/schedule/{created['id']}"
    later = soon(120)
    status, moved = await org.call(
        org.admin,
        "PATCH",
        path,
        {"scheduled_ms": later, "duration_min": 45, "seats": {"party_b": org.amara.person.id}},
    )
    assert status == 200 and (moved["scheduled_ms"], moved["duration_min"]) == (later, 45)
    assert {s["seat"] for s in moved["seats"] if s["person"]} == {"party_b"}
    status, answer = await org.call(org.admin, "PATCH", path, {"seats": {"x": "y"}})
    assert (status, answer["code"]) == (400, "unknown_seat")
    # once someone joined (its clock runs), it stays as it is
    await org.call(org.admin, "PATCH", path, {"scheduled_ms": soon(5)})
    _, mine = await org.call(org.amara, "POST", f"/api/simulations/{created['id']}/my-seat")
    amara = Participant("party_b", mine["token"], created["id"])
    await amara.connect(org.url)
    try:
        assert (await amara.join())["ok"]
        status, answer = await org.call(org.admin, "PATCH", path, {"duration_min": 30})
        assert (status, answer["code"]) == (409, "started")
    finally:
        await amara.close()
