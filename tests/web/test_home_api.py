"""The home page's data and calendars over HTTP, on a real server with signed-in people."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from sqlalchemy import update

from sessions.people import Role
from storage.database import Database
from storage.people import now_ms
from storage.schema import people
from tests.home_rows import MINUTE_MS, cohort_with_coach, note, ran, schedule
from tests.live_server import LiveServer, start_server
from tests.people import SignedIn, sign_in
from web.calendar import escape_text, fold
from web.keys import DATABASE


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    live = await start_server(tmp_path)
    yield live
    await live.stop()


def db(server: LiveServer) -> Database:
    return server.app[DATABASE]


async def get_json(who: SignedIn | None, url: str) -> tuple[int, Any]:
    async with who.session() if who else ClientSession() as http, http.get(url) as response:
        return response.status, await response.json()


async def get_text(who: SignedIn | None, url: str) -> tuple[int, str, str]:
    async with who.session() if who else ClientSession() as http, http.get(url) as response:
        return response.status, response.content_type, await response.text()


# --- a small RFC 5545 reader: enough to check what the server writes -----------------


def parse_ics(text: str) -> list[dict[str, str]]:
    """Components as {name: value} (TEXT unescaped), after checking the line rules."""
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    for physical in text.split("\r\n")[:-1]:
        assert len(physical.encode()) <= 75, physical
    unfolded = re.sub(r"\r\n[ \t]", "", text).split("\r\n")[:-1]
    stack: list[dict[str, str]] = []
    done: list[dict[str, str]] = []
    for line in unfolded:
        name_params, _, value = line.partition(":")
        name = name_params.split(";")[0]
        assert re.fullmatch(r"[A-Z-]+", name), line
        if name == "BEGIN":
            stack.append({"BEGIN": value})
        elif name == "END":
            component = stack.pop()
            assert component["BEGIN"] == value
            done.append(component)
        else:
            assert stack, f"{line!r} outside any component"
            stack[-1][name] = re.sub(
                r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value
            )
    assert not stack
    return done


def test_text_is_escaped_and_long_lines_fold_without_splitting_a_character() -> None:
    value = "Négociation; à 3, \\ voilà\nfin " + "é" * 60
    line = "SUMMARY:" + escape_text(value)
    folded = fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    [event] = parse_ics(f"BEGIN:VEVENT\r\n{folded}\r\nEND:VEVENT\r\n")
    assert event["SUMMARY"] == value


# --- /api/home ------------------------------------------------------------------------


async def test_a_trainee_sees_their_upcoming_simulation_and_when_join_opens(
    server: LiveServer,
) -> None:
    amara = await sign_in(server.app, Role.TRAINEE, name="Amara", time_zone="Africa/Nairobi")
    lin = await sign_in(server.app, Role.TRAINEE, name="Lin", time_zone="Asia/Taipei")
    at = now_ms() + 3 * 60 * MINUTE_MS
    sim = await schedule(db(server), {"mediator": amara.person.id, "party_a": lin.person.id}, at)
    await schedule(db(server), {"party_b": lin.person.id}, at)

    status, home = await get_json(amara, f"{server.url}/api/home")

    assert status == 200
    assert home["person"] == {
        "id": amara.person.id,
        "name": "Amara",
        "time_zone": "Africa/Nairobi",
        "role": "trainee",
    }
    [upcoming] = home["upcoming"]
    assert upcoming["id"] == sim and upcoming["join_url"] == f"/join/{sim}"
    assert (upcoming["scheduled_ms"], upcoming["join_opens_ms"]) == (at, at - 15 * MINUTE_MS)
    assert (upcoming["seat"], upcoming["role"]) == ("mediator", "mediator")
    assert upcoming["with"] == [{"seat": "party_a", "name": "Lin"}]
    assert home["past"] == [] and abs(home["now_ms"] - now_ms()) < 60_000
    assert (await get_json(None, f"{server.url}/api/home"))[0] == 401


async def test_a_coach_sees_the_simulations_they_coach(server: LiveServer) -> None:
    ruth = await sign_in(server.app, Role.COACH, name="Ruth", time_zone="America/Phoenix")
    amara = await sign_in(server.app, Role.TRAINEE, name="Amara")
    cohort = await cohort_with_coach(db(server), ruth.person.id)
    sim = await schedule(
        db(server), {"mediator": amara.person.id}, now_ms() + 60_000, cohort=cohort
    )

    _, home = await get_json(ruth, f"{server.url}/api/home")

    [upcoming] = home["upcoming"]
    assert (upcoming["id"], upcoming["coaching"], upcoming["seat"]) == (sim, True, None)


async def test_past_sessions_show_the_recording_and_only_notes_addressed_to_the_trainee(
    server: LiveServer,
) -> None:
    amara = await sign_in(server.app, Role.TRAINEE, name="Amara")
    lin = await sign_in(server.app, Role.TRAINEE, name="Lin")
    ruth = await sign_in(server.app, Role.COACH, name="Ruth")
    now = now_ms()
    sim = await schedule(
        db(server),
        {"mediator": amara.person.id, "party_a": lin.person.id, "coach": ruth.person.id},
        now - 2 * 60 * MINUTE_MS,
        duration_min=30,
        ended_ms=now - 60 * MINUTE_MS,
    )
    await ran(db(server), sim, {"mediator": (amara.person.id, "Amara")})
    await note(db(server), sim, "Good reframing here", target="mediator", author=ruth.person.id)
    await note(db(server), sim, "Lin: say more about the tree", target="party_a")

    _, home = await get_json(amara, f"{server.url}/api/home")

    [past] = home["past"]
    assert past["recording_url"] == f"/recordings/{sim}"
    assert (past["session_ms"], past["duration_min"], past["took_part"]) == (300_000, 30, True)
    assert past["feedback"]["count"] == 1
    assert [n["text"] for n in past["feedback"]["latest"]] == ["Good reframing here"]
    assert "Lin: say more" not in str(home)
    _, coach_home = await get_json(ruth, f"{server.url}/api/home")
    assert (coach_home["past"][0]["notes"], "feedback" in coach_home["past"][0]) == (2, False)


async def test_slash_is_the_home_page_when_signed_in_and_the_welcome_page_otherwise(
    server: LiveServer,
) -> None:
    amara = await sign_in(server.app, Role.TRAINEE)
    _, _, welcome = await get_text(None, f"{server.url}/")
    _, _, home = await get_text(amara, f"{server.url}/")
    assert 'href="/login"' in welcome and "/static/js/home.js" not in welcome
    assert "/static/js/home.js" in home


# --- calendars ------------------------------------------------------------------------


async def test_a_simulation_ics_is_a_valid_event_for_the_people_in_it_only(
    server: LiveServer,
) -> None:
    amara = await sign_in(server.app, Role.TRAINEE, name="Amara")
    lin = await sign_in(server.app, Role.TRAINEE, name="Lin, Wei; Jr")
    stranger = await sign_in(server.app, Role.COACH, name="Sam")
    admin = await sign_in(server.app, Role.ADMIN, name="Ada")
    at = 1_773_158_400_000  # 2026-03-10 16:00 UTC
    sim = await schedule(
        db(server), {"party_a": amara.person.id, "party_b": lin.person.id}, at, duration_min=90
    )
    url = f"{server.url}/api/simulations/{sim}.ics"

    status, content_type, text = await get_text(amara, url)

    assert (status, content_type) == (200, "text/calendar")
    calendar, *rest = reversed(parse_ics(text))
    [vevent] = rest
    assert (calendar["BEGIN"], calendar["VERSION"]) == ("VCALENDAR", "2.0") and calendar["PRODID"]
    assert vevent["UID"] == f"simulation-{sim}@127.0.0.1"
    assert (vevent["DTSTART"], vevent["DTEND"]) == ("20260310T160000Z", "20260310T173000Z")
    assert re.fullmatch(r"\d{8}T\d{6}Z", vevent["DTSTAMP"])
    assert vevent["SUMMARY"] == "The Fence on Alder Lane — Party A (as Amara Okafor)"
    assert vevent["URL"] == f"{server.url}/join/{sim}"
    assert "With: Lin, Wei; Jr" in vevent["DESCRIPTION"]
    assert "Amara Okafor" in vevent["SUMMARY"] and "pharmacist" not in text  # no brief
    assert (await get_text(amara, url))[2].count(f"UID:simulation-{sim}@") == 1  # stable UID
    assert (await get_text(admin, url))[0] == 200
    assert (await get_json(None, url))[0] == 401
    assert (await get_json(stranger, url))[0] == 404
    for odd in ("nothing", "%00", "%C3%A9t%C3%A9", "x" * 200):
        assert (await get_json(amara, f"{server.url}/api/simulations/{odd}.ics"))[0] == 404
    unscheduled = await schedule(db(server), {"mediator": amara.person.id}, None)
    status, problem = await get_json(amara, f"{server.url}/api/simulations/{unscheduled}.ics")
    assert (status, problem["code"]) == (404, "not_found")


async def test_the_calendar_feed_needs_its_token_not_a_cookie(server: LiveServer) -> None:
    amara = await sign_in(server.app, Role.TRAINEE, name="Amara")
    sam = await sign_in(server.app, Role.TRAINEE, name="Sam")
    now = now_ms()
    coming = await schedule(db(server), {"mediator": amara.person.id}, now + 60 * MINUTE_MS)
    done = await schedule(
        db(server), {"party_a": amara.person.id}, now - 3 * 60 * MINUTE_MS, ended_ms=now
    )
    await schedule(db(server), {"mediator": sam.person.id}, now)
    await schedule(db(server), {"party_b": amara.person.id}, None)  # no time: not in a calendar
    _, home = await get_json(amara, f"{server.url}/api/home")
    feed = home["calendar_feed"]
    assert re.fullmatch(r"/calendar/[\w-]+\.[\w-]+\.ics", feed)

    status, content_type, text = await get_text(None, server.url + feed)

    assert (status, content_type) == (200, "text/calendar")
    components = parse_ics(text)
    uids = {c["UID"] for c in components if c["BEGIN"] == "VEVENT"}
    assert uids == {f"simulation-{coming}@127.0.0.1", f"simulation-{done}@127.0.0.1"}
    assert components[-1]["X-WR-CALNAME"] == "Caucus — Amara"
    person_id, _, mac = feed.removeprefix("/calendar/").removesuffix(".ics").partition(".")
    other_last = "y" if mac.endswith("x") else "x"  # a MAC ends in "x" one time in 64
    forged = [
        f"/calendar/{sam.person.id}.{mac}.ics",
        f"/calendar/{person_id}.{mac[:-1]}{other_last}.ics",
        f"/calendar/{person_id}.ics",
        "/calendar/.ics",
        f"/calendar/{person_id}.{mac[:-1]}%C3%A9.ics",
        "/calendar/%00.x.ics",
    ]
    for path in forged:
        assert (await get_text(None, server.url + path))[0] == 404, path
    async with db(server).transaction() as conn:
        await conn.execute(update(people).where(people.c.id == person_id).values(active=False))
    assert (await get_json(None, server.url + feed))[0] == 404
