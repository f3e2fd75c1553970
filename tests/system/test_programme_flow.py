"""The practice programme end to end, recorded (issue #15's "Must show"): a cohort of
three trainees in three time zones and their coach, signed-in people, sit two
simulations as aiortc clients publishing encoded audio and video over Socket.IO
with seat tokens carrying their person ids; the trainees consent, the coach runs
the joint session and ends it; both are recorded. Then each participant's logbook
holds both sessions, the tracker counts them, a trainee who reflects meets the
cohort's requirements, takes her certificate, and its verification URL answers
without signing in.

Everything is awaited (media flowing, segments begun, the recorder idle, the
logbook writer and the ended-room writes settled); nothing sleeps.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from caucus.app import RECORDINGS
from caucus.logbook_writer import LOGBOOK_WRITER
from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from sessions.people import Role
from signaling.admission import seat_token
from storage import cohorts
from tests.live_server import LiveServer, start_server
from tests.media.synthetic import COACH, MEDIATOR, PARTY_A, PARTY_B
from tests.people import SignedIn, sign_in
from tests.system.recorded_seats import JOIN_ORDER, TRAINEES, RecordedRoom, now
from web.ended_rooms import ENDED_ROOMS
from web.keys import DATABASE

#: generous: two cores shared with other jobs
WAIT_S = 60.0


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    live = await start_server(tmp_path, media=True, ice_addresses="127.0.0.1")
    yield live
    await live.stop()


async def run_recorded(server: LiveServer, seats: Mapping[SeatId, SignedIn]) -> RoomId:
    """One simulation with these people in these seats, recorded, ended by the coach."""
    room = await server.simulation()
    tokens: dict[str, str] = {
        seat: seat_token(server.config.secret, room, seat, who.person.name, identity=who.person.id)[
            0
        ]
        for seat, who in seats.items()
    }
    recorded = RecordedRoom(server.url, room, tokens)
    try:
        await recorded.start(timeout=WAIT_S)  # joined, consented, joint session, media up
        # in the joint session the trainees hear and see each other, the coach all three
        since = now()
        joint = {
            seat: {(other, kind) for other in TRAINEES if other != seat for kind in MediaKind}
            for seat in JOIN_ORDER
        }
        await recorded.wait_receiving(joint, since, WAIT_S)

        async def recording_begun() -> bool:
            begun = {
                (s.seat, s.kind)
                for s in await server.catalogue.segments(room)
                if s.visibility == "public"
            }
            return {(seat, kind.value) for seat in JOIN_ORDER for kind in MediaKind} <= begun

        await recorded.seats[COACH].media.wait_until(recording_begun, timeout=WAIT_S)
        reply = await recorded.coach.call("phase", {"to": "ended"})
        assert reply.get("ok"), f"the coach could not end the simulation: {reply}"
    finally:
        await recorded.close()

    # The recorder's thread finishes the files, the catalogue follows; the ended room
    # is written and the logbook writer writes one entry per signed-in participant.
    recordings = server.app[RECORDINGS]
    assert await asyncio.to_thread(recordings.disk.wait_idle, WAIT_S)
    recordings.disk.deliver_results()
    await recordings.writes.flush()
    await asyncio.wait_for(server.app[ENDED_ROOMS].settle(), WAIT_S)
    await asyncio.wait_for(server.app[LOGBOOK_WRITER].settle(), WAIT_S)
    segments = await server.catalogue.segments(room)
    assert segments and {s.status for s in segments} == {"complete"}
    assert all(s.frames > 0 for s in segments)
    return room


async def get_json(who: SignedIn, url: str) -> Any:
    async with who.session() as http, http.get(url) as r:
        assert r.status == 200, f"GET {url}: {r.status} {await r.text()}"
        return await r.json()


async def test_two_recorded_simulations_fill_the_logbooks_and_tracker_and_earn_a_certificate(
    server: LiveServer,
) -> None:
    app = server.app
    amina = await sign_in(app, Role.TRAINEE, "amina@example.org", "Amina Otieno", "Africa/Nairobi")
    lin = await sign_in(app, Role.TRAINEE, "lin@example.org", "Lin Wei", "Asia/Taipei")
    sam = await sign_in(app, Role.TRAINEE, "sam@example.org", "Sam Begay", "America/Phoenix")
    ruth = await sign_in(app, Role.COACH, "ruth@example.org", "Ruth Hale", "Europe/London")
    today = datetime.datetime.now(datetime.UTC).date()
    course = await cohorts.add(
        app[DATABASE],
        {
            "name": "Practice programme, spring",
            "starts_on": (today - datetime.timedelta(days=7)).isoformat(),
            "ends_on": (today + datetime.timedelta(days=7)).isoformat(),
            "requirements": {
                "mediator_sessions": 1,
                "party_sessions": 1,
                "hours": 0,
                "feedback_read": False,
                "reflections": True,
            },
        },
    )
    trainees = (amina, lin, sam)
    await cohorts.set_members(
        app[DATABASE], course.id, [ruth.person.id], [t.person.id for t in trainees]
    )

    # Two rounds: roles rotate; Sam is a party both times.
    first = await run_recorded(server, {MEDIATOR: amina, PARTY_A: lin, PARTY_B: sam, COACH: ruth})
    second = await run_recorded(server, {MEDIATOR: lin, PARTY_A: sam, PARTY_B: amina, COACH: ruth})

    # Every participant's logbook holds both sessions, in the role they sat in.
    expected_roles = {
        amina.person.id: {first: "lead-mediator", second: "party"},
        lin.person.id: {first: "party", second: "lead-mediator"},
        sam.person.id: {first: "party", second: "party"},
        ruth.person.id: {first: "coach", second: "coach"},
    }
    for who in (*trainees, ruth):
        entries = (await get_json(who, f"{server.url}/api/logbook"))["entries"]
        roles = {e["simulation_id"]: e["role"] for e in entries}
        assert roles == expected_roles[who.person.id], who.person.name
        for e in entries:
            assert e["medium"] == "online" and e["scenario"] and e["coach"] == "Ruth Hale"
            assert e["duration_min"] >= 1
        if who is not ruth:
            others = {n for e in entries for n in e["co_participants"]}
            assert who.person.name not in others and others, who.person.name

    # The tracker counts them; reflections are still to write.
    async def progress(who: SignedIn) -> dict[str, tuple[int, int]]:
        [mine] = (await get_json(who, f"{server.url}/api/tracker/me"))["cohorts"]
        assert mine["cohort"]["id"] == course.id
        return {i["requirement"]: (i["done"], i["needed"]) for i in mine["progress"]["items"]}

    assert await progress(amina) == {
        "mediator_sessions": (1, 1),
        "party_sessions": (1, 1),
        "reflections": (0, 2),
    }
    assert (await progress(sam))["mediator_sessions"] == (0, 1)

    certify = f"{server.url}/api/tracker/me/certificates/{course.id}"
    async with amina.session() as http:
        async with http.post(certify, headers=amina.write_headers) as r:
            assert r.status == 409 and (await r.json())["code"] == "requirements_not_met"
        async with http.get(f"{server.url}/api/logbook") as r:
            entries = (await r.json())["entries"]
        for entry in entries:
            async with http.patch(
                f"{server.url}/api/logbook/{entry['id']}",
                json={
                    "went_well": "Both parties named their interests",
                    "challenging": "Keeping the caucus short",
                    "next_steps": "Summarise before each caucus",
                },
                headers=amina.write_headers,
            ) as r:
                assert r.status == 200, await r.text()
    assert await progress(amina) == {
        "mediator_sessions": (1, 1),
        "party_sessions": (1, 1),
        "reflections": (2, 2),
    }

    async with amina.session() as http, http.post(certify, headers=amina.write_headers) as r:
        assert r.status == 201, await r.text()
        certificate = await r.json()
    assert certificate["url"] == f"/certificates/{certificate['id']}"

    # The verification URL answers anyone, signed out, and says the certificate is valid.
    async with (
        ClientSession() as anyone,
        anyone.get(f"{server.url}/certificates/{certificate['id']}") as r,
    ):
        page = await r.text()
        assert r.status == 200
        assert "Valid" in page and "Amina Otieno" in page and "Practice programme" in page

    # The coach sees her cohort: Amina complete, the others not yet.
    rows = (await get_json(ruth, f"{server.url}/api/tracker/cohorts/{course.id}"))["trainees"]
    assert {r["name"]: r["progress"]["complete"] for r in rows} == {
        "Amina Otieno": True,
        "Lin Wei": False,
        "Sam Begay": False,
    }
    [mine] = [r for r in rows if r["person_id"] == amina.person.id]
    assert mine["certificate"]["id"] == certificate["id"]
