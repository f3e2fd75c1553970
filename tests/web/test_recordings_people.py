"""Signed-in people review recordings with their cookie: an admin sees every session, a
trainee the sessions they sat in, a coach their cohorts'. Deleting removes the notes too,
and leaves an audit row the admin reads. The list filters by cohort, person and date."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, insert, select

from sessions.people import Role
from storage.schema import cohort_members, cohorts, notes
from tests.live_server import LiveServer, start_server
from tests.people import SignedIn, sign_in
from tests.stored_sessions import DAY_MS, add_session, now_ms
from web.keys import DATABASE


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    live = await start_server(tmp_path)
    yield live
    await live.stop()


async def add_cohort(server: LiveServer, name: str, coach: str | None = None) -> str:
    cohort_id = name.lower().replace(" ", "-")
    async with server.app[DATABASE].transaction() as conn:
        await conn.execute(
            insert(cohorts).values(
                id=cohort_id,
                name=name,
                starts_on="2026-11-01",
                ends_on="2027-01-31",
                requirements={},
                created_ms=now_ms(),
            )
        )
        if coach is not None:
            await conn.execute(
                insert(cohort_members).values(cohort_id=cohort_id, person_id=coach, role="coach")
            )
    return cohort_id


async def session(server: LiveServer, **kw: Any) -> str:
    return await add_session(server.app[DATABASE], server.config.recordings_dir, **kw)


async def get(
    server: LiveServer, path: str, who: SignedIn | None = None, token: str | None = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession(cookies=who.cookies if who else None) as http:
        async with http.get(server.url + path, headers=headers) as response:
            return response.status, await response.json()


async def test_signed_in_people_see_their_own_sessions_in_their_seats(server: LiveServer) -> None:
    admin = await sign_in(server.app, Role.ADMIN, name="Ada")
    amara = await sign_in(server.app, Role.TRAINEE, name="Amara Odhiambo")
    lin = await sign_in(server.app, Role.TRAINEE, name="Lin Wei")
    coach = await sign_in(server.app, Role.COACH, name="Carmen")
    other_coach = await sign_in(server.app, Role.COACH, name="Otto")
    cohort = await add_cohort(server, "Nairobi Spring", coach=coach.person.id)
    await add_cohort(server, "Phoenix Fall", coach=other_coach.person.id)
    joined = await session(server, seats={"party_a": amara.person.id, "mediator": lin.person.id})
    assigned = await session(server, seats={}, assigned={"mediator": amara.person.id})
    in_cohort = await session(server, seats={"mediator": lin.person.id}, cohort_id=cohort)
    nobody = await session(server, seats={"mediator": "guest"})

    status, listed = await get(server, "/api/recordings", admin)
    assert status == 200
    assert {r["id"] for r in listed} == {joined, assigned, in_cohort, nobody}
    assert all(r["your_seat"] is None for r in listed)

    status, listed = await get(server, "/api/recordings", amara)
    assert {r["id"]: r["your_seat"] for r in listed} == {joined: "party_a", assigned: "mediator"}
    status, _ = await get(server, f"/api/recordings/{nobody}", amara)
    assert status == 404
    status, recording = await get(server, f"/api/recordings/{joined}", amara)
    assert (status, recording["your_seat"]) == (200, "party_a")

    _, listed = await get(server, "/api/recordings", coach)
    assert {r["id"]: r["your_seat"] for r in listed} == {in_cohort: "coach"}
    _, listed = await get(server, "/api/recordings", other_coach)
    assert listed == []

    status, body = await get(server, "/api/recordings")
    assert (status, body["code"]) == (401, "unauthorized")
    # a seat token still works as before, next to the cookie
    status, _ = await get(server, "/api/recordings", amara, token=server.config.admin_token)
    assert status == 200


async def test_deleting_removes_notes_and_the_audit_log_says_who(server: LiveServer) -> None:
    admin = await sign_in(server.app, Role.ADMIN, name="Ada")
    trainee = await sign_in(server.app, Role.TRAINEE)
    by_person = await session(server, seats={"mediator": trainee.person.id}, note_count=3)
    by_token = await session(server, note_count=1)
    recording = await session(server, status="recording")
    url = f"{server.url}/api/recordings"
    async with trainee.session() as http:
        async with http.delete(f"{url}/{by_person}", headers=trainee.write_headers) as r:
            assert (r.status, (await r.json())["code"]) == (403, "forbidden")
    async with admin.session() as http:
        async with http.delete(f"{url}/{by_person}") as r:  # no CSRF token
            assert (r.status, (await r.json())["code"]) == (403, "csrf")
        async with http.delete(f"{url}/{by_person}", headers=admin.write_headers) as r:
            assert (r.status, await r.json()) == (
                200,
                {"ok": True, "deleted": by_person, "segments": 1, "notes": 3},
            )
        async with http.delete(f"{url}/{recording}", headers=admin.write_headers) as r:
            assert (r.status, (await r.json())["code"]) == (409, "recording_in_progress")
    token = {"Authorization": f"Bearer {server.config.admin_token}"}
    async with aiohttp.ClientSession(headers=token) as http:
        async with http.delete(f"{url}/{by_token}") as r:
            assert r.status == 200
    async with server.app[DATABASE].reading() as conn:
        left = (
            await conn.execute(
                select(notes.c.simulation_id, func.count()).group_by(notes.c.simulation_id)
            )
        ).all()
    assert {room: count for room, count in left} == {recording: 2}
    assert not (server.config.recordings_dir / by_person).exists()

    status, log = await get(server, "/api/audit", admin)
    assert status == 200
    assert [(e["actor"], e["action"], e["target"], e["detail"]["notes"]) for e in log] == [
        ("admin-token", "recording.delete", by_token, 1),
        (admin.person.id, "recording.delete", by_person, 3),
    ]
    assert (await get(server, "/api/audit", trainee))[0] == 403
    assert (await get(server, "/api/audit"))[0] == 401
    status, body = await get(server, "/api/audit?limit=0", admin)
    assert (status, body["code"]) == (400, "bad_request")


async def test_the_list_filters_by_cohort_person_and_date(server: LiveServer) -> None:
    admin = await sign_in(server.app, Role.ADMIN)
    amara = await sign_in(server.app, Role.TRAINEE, "amara@example.org", "Amara Odhiambo")
    cohort = await add_cohort(server, "Nairobi Spring")
    now = now_ms()
    old = await session(server, created_ms=now - 10 * DAY_MS, seats={"mediator": amara.person.id})
    in_cohort = await session(server, created_ms=now - 2 * DAY_MS, cohort_id=cohort)
    guest = await session(server, created_ms=now, seats={"party_a": "guest-lin"})

    async def ids(query: str) -> set[str]:
        status, listed = await get(server, f"/api/recordings?{query}", admin)
        assert status == 200, listed
        return {r["id"] for r in listed}

    assert await ids(f"cohort={cohort}") == {in_cohort}
    assert await ids("cohort=no-such-cohort") == set()
    assert await ids(f"person={amara.person.id}") == {old}
    assert await ids("person=odhiam") == {old}
    assert await ids("person=AMARA@example.org") == {old}
    assert await ids("person=guest-lin") == {guest}
    assert await ids(f"from={now - 3 * DAY_MS}") == {in_cohort, guest}
    assert await ids(f"to={now - 3 * DAY_MS}") == {old}
    assert await ids(f"from={now - 3 * DAY_MS}&to={now - DAY_MS}&cohort={cohort}") == {in_cohort}
    # a trainee's filter narrows their own list, never widens it
    _, listed = await get(server, f"/api/recordings?cohort={cohort}", amara)
    assert listed == []
    for bad in ("from=yesterday", "to=-5", "from=5&to=4", "person=", "cohort=" + "x" * 201):
        status, body = await get(server, f"/api/recordings?{bad}", admin)
        assert (status, body["code"]) == (400, "bad_request"), bad
