"""From rooms to a certificate on a real server: two simulations run by socket clients
(signed-in people's seat tokens) end, the logbook writes their entries, the tracker
counts them, the trainee reflects, takes her certificate, and its URL answers signed out."""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession

from caucus.logbook_writer import LOGBOOK_WRITER
from sessions.ids import RoomId, SeatId
from sessions.people import Role
from signaling.admission import seat_token
from storage import cohorts
from tests.live_server import LiveServer, Participant, start_server
from tests.people import SignedIn, sign_in
from web.keys import DATABASE


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    live = await start_server(tmp_path)
    yield live
    await live.stop()


async def run_room(server: LiveServer, seats: dict[str, SignedIn]) -> None:
    """A simulation with these people in these seats: joint session, then the coach ends it."""
    room = await server.simulation()
    joined = []
    for seat, who in seats.items():
        token = seat_token(
            server.config.secret,
            RoomId(room),
            SeatId(seat),
            who.person.name,
            identity=who.person.id,
        )[0]
        p = Participant(seat, token, room)
        await p.connect(server.url)
        assert (await p.join())["ok"]
        joined.append(p)
    coach = next(p for p in joined if p.seat == "coach")
    assert (await coach.call("phase", {"to": "joint"}))["ok"]
    assert (await coach.call("phase", {"to": "ended"}))["ok"]
    await asyncio.wait_for(server.app[LOGBOOK_WRITER].settle(), 10)
    for p in joined:
        await p.close()


async def test_two_ended_rooms_count_and_a_certificate_answers_its_verification_url(
    server: LiveServer,
) -> None:
    app = server.app
    lin = await sign_in(app, Role.TRAINEE, "lin@example.org", "Lin Wei", "Asia/Taipei")
    kip = await sign_in(app, Role.TRAINEE, "kip@example.org", "Kip Mwangi", "Africa/Nairobi")
    ruth = await sign_in(app, Role.COACH, "ruth@example.org", "Ruth Diaz", "America/Phoenix")
    today = datetime.datetime.now(datetime.UTC).date()
    course = await cohorts.add(
        app[DATABASE],
        {
            "name": "Practice programme",
            "starts_on": (today - datetime.timedelta(days=7)).isoformat(),
            "ends_on": (today + datetime.timedelta(days=7)).isoformat(),
            "requirements": {"mediator_sessions": 1, "party_sessions": 1, "reflections": True},
        },
    )
    await cohorts.set_members(
        app[DATABASE], course.id, [ruth.person.id], [lin.person.id, kip.person.id]
    )
    await run_room(server, {"mediator": kip, "party_a": lin, "coach": ruth})
    await run_room(server, {"mediator": lin, "party_a": kip, "coach": ruth})

    async with lin.session() as http:
        async with http.get(f"{server.url}/api/tracker/me") as r:
            [mine] = (await r.json())["cohorts"]
        done = {i["requirement"]: (i["done"], i["needed"]) for i in mine["progress"]["items"]}
        assert done == {
            "mediator_sessions": (1, 1),
            "party_sessions": (1, 1),
            "reflections": (0, 2),
        }
        url = f"{server.url}/api/tracker/me/certificates/{course.id}"
        async with http.post(url, headers=lin.write_headers) as r:
            assert r.status == 409 and (await r.json())["code"] == "requirements_not_met"
        async with http.get(f"{server.url}/api/logbook") as r:
            entries = (await r.json())["entries"]
        assert len(entries) == 2
        for entry in entries:
            async with http.patch(
                f"{server.url}/api/logbook/{entry['id']}",
                json={"went_well": "I kept both sides talking"},
                headers=lin.write_headers,
            ) as r:
                assert r.status == 200
        async with http.post(url, headers=lin.write_headers) as r:
            assert r.status == 201
            certificate = await r.json()
    async with ClientSession() as anyone:
        async with anyone.get(f"{server.url}{certificate['url']}") as r:
            page = await r.text()
            assert r.status == 200 and "Valid" in page and "Lin Wei" in page

    async with ruth.session() as http:
        async with http.get(f"{server.url}/api/tracker/cohorts/{course.id}") as r:
            rows = (await r.json())["trainees"]
    assert {r["name"]: r["progress"]["complete"] for r in rows} == {
        "Lin Wei": True,
        "Kip Mwangi": False,
    }
