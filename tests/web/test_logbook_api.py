"""The logbook over HTTP on a real server: written when a room ends, read and changed only
by its owner, read by their coach, exported as CSV, a printable page and a PDF."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from aiohttp import ClientSession
from sqlalchemy import insert

from caucus.logbook_writer import LOGBOOK_WRITER
from sessions.ids import RoomId, SeatId
from sessions.people import Role
from signaling.admission import seat_token
from storage import logbook
from storage.database import Database
from storage.people import now_ms
from storage.schema import cohort_members
from tests.home_rows import cohort_with_coach
from tests.live_server import LiveServer, Participant, start_server
from tests.logbook_rows import HOUR_MS, finished, rated
from tests.pdf_text import pdf_text
from tests.people import SignedIn, sign_in
from web.keys import DATABASE


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    live = await start_server(tmp_path)
    yield live
    await live.stop()


def db(server: LiveServer) -> Database:
    return server.app[DATABASE]


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
        return response.status, await response.read()


def manual(**fields: Any) -> dict[str, Any]:
    return {
        "at_ms": now_ms() - 24 * HOUR_MS,
        "duration_min": 90,
        "role": "co-mediator",
        "medium": "face-to-face",
        "scenario": "Neighbour dispute at the community centre",
        "coach": "Ruth Diaz",
        "co_participants": ["Kip", "Mei"],
        **fields,
    }


# --- written when the room ends -------------------------------------------------------------


async def test_a_room_that_ends_writes_an_entry_for_each_signed_in_participant(
    server: LiveServer,
) -> None:
    amara = await sign_in(server.app, Role.TRAINEE, name="Amara")
    ruth = await sign_in(server.app, Role.COACH, name="Ruth")
    room = await server.simulation()
    seated: dict[str, Participant] = {}
    for seat, who, name in (
        ("mediator", amara.person.id, "Amara"),
        ("party_a", None, "Guest"),  # joined by link: no logbook
        ("coach", ruth.person.id, "Ruth"),
    ):
        token = seat_token(server.config.secret, RoomId(room), SeatId(seat), name, identity=who)[0]
        p = Participant(seat, token, room)
        await p.connect(server.url)
        assert (await p.join())["ok"]
        seated[seat] = p
    coach = seated["coach"]
    assert (await coach.call("phase", {"to": "joint"}))["ok"]
    assert (await coach.call("phase", {"to": "ended"}))["ok"]

    # the room's end started the write in the background; wait for it
    await asyncio.wait_for(server.app[LOGBOOK_WRITER].settle(), 10)
    status, body = await call(amara, "GET", f"{server.url}/api/logbook")
    assert status == 200
    [entry] = body["entries"]
    assert (entry["role"], entry["source"], entry["medium"]) == (
        "lead-mediator",
        "caucus",
        "online",
    )
    assert entry["scenario"] == "The Fence on Alder Lane" and entry["coach"] == "Ruth"
    assert entry["co_participants"] == ["Guest"] and entry["actions"] == ["reflect"]
    [coached] = (await call(ruth, "GET", f"{server.url}/api/logbook"))[1]["entries"]
    assert coached["role"] == "coach"
    for p in seated.values():
        await p.close()
    assert len(await logbook.entries(db(server), amara.person.id)) == 1


async def test_entries_missed_while_the_server_was_down_are_written_at_the_next_start(
    tmp_path: Path,
) -> None:
    first = await start_server(tmp_path)
    amara = await sign_in(first.app, Role.TRAINEE, name="Amara")
    sim = await finished(db(first), {"mediator": (amara.person.id, "Amara")})
    await first.stop()
    again = await start_server(tmp_path)
    try:
        await asyncio.wait_for(again.app[LOGBOOK_WRITER].settle(), 10)
        [entry] = await logbook.entries(db(again), amara.person.id)
        assert entry.simulation_id == sim
    finally:
        await again.stop()


# --- who may do what ------------------------------------------------------------------------


async def test_only_signed_in_people_reach_a_logbook_and_only_their_own_entries(
    server: LiveServer,
) -> None:
    amara = await sign_in(server.app, Role.TRAINEE, name="Amara")
    lin = await sign_in(server.app, Role.TRAINEE, name="Lin")
    url = f"{server.url}/api/logbook"
    for method, path in (
        ("GET", ""),
        ("POST", ""),
        ("GET", ".csv"),
        ("GET", ".pdf"),
        ("PATCH", "/x"),
        ("DELETE", "/x"),
    ):
        status, body = await call(None, method, url + path, json={})
        assert (status, body["code"]) == (401, "unauthorized"), (method, path)
    async with (
        ClientSession() as http,
        http.get(f"{server.url}/logbook", allow_redirects=False) as r,
    ):
        assert (r.status, unquote(r.headers["Location"])) == (302, "/login?next=/logbook")

    status, made = await call(amara, "POST", url, manual())
    assert status == 201 and made["actions"] == ["reflect", "edit", "delete"]
    status, body = await call(lin, "PATCH", f"{url}/{made['id']}", {"went_well": "mine now"})
    assert (status, body["code"]) == (404, "not_found")
    assert (await call(lin, "DELETE", f"{url}/{made['id']}"))[0] == 404
    assert (await call(lin, "GET", f"{url}?person={amara.person.id}"))[0] == 403
    for odd in ("%00", "%C3%A9t%C3%A9", "x" * 65):
        assert (await call(lin, "GET", f"{url}?person={odd}"))[0] == 404
        assert (await call(amara, "PATCH", f"{url}/{odd}", {"went_well": "x"}))[0] == 404
    assert (await call(lin, "GET", url))[1]["entries"] == []
    status, body = await call(amara, "POST", url, manual(), csrf=False)
    assert (status, body["code"]) == (403, "csrf")


async def test_a_coach_reads_a_trainees_logbook_in_their_cohort_and_cannot_change_it(
    server: LiveServer,
) -> None:
    amara = await sign_in(server.app, Role.TRAINEE, name="Amara", time_zone="Africa/Nairobi")
    ruth = await sign_in(server.app, Role.COACH, name="Ruth")
    other = await sign_in(server.app, Role.COACH, name="Other coach")
    admin = await sign_in(server.app, Role.ADMIN, name="Admin")
    cohort = await cohort_with_coach(db(server), ruth.person.id)
    async with db(server).transaction() as conn:
        await conn.execute(
            insert(cohort_members).values(
                cohort_id=cohort, person_id=amara.person.id, role="trainee"
            )
        )
    url = f"{server.url}/api/logbook"
    made = (await call(amara, "POST", url, manual(went_well="listened")))[1]

    status, read = await call(ruth, "GET", f"{url}?person={amara.person.id}")
    assert status == 200 and read["own"] is False
    assert read["person"] == {"id": amara.person.id, "name": "Amara", "time_zone": "Africa/Nairobi"}
    [seen] = read["entries"]
    assert seen["went_well"] == "listened" and seen["actions"] == []
    assert (await call(ruth, "PATCH", f"{url}/{made['id']}", {"went_well": "x"}))[0] == 404
    assert (await call(ruth, "DELETE", f"{url}/{made['id']}"))[0] == 404
    assert (await call(ruth, "GET", f"{url}.csv?person={amara.person.id}"))[0] == 200
    assert (await call(other, "GET", f"{url}?person={amara.person.id}"))[0] == 403
    assert (await call(admin, "GET", f"{url}?person={amara.person.id}"))[0] == 200
    status, body = await call(admin, "GET", f"{url}?person=nobody")
    assert (status, body["code"]) == (404, "not_found")


async def test_a_simulations_entry_changes_only_its_reflections_and_stays(
    server: LiveServer,
) -> None:
    amara = await sign_in(server.app, Role.TRAINEE, name="Amara")
    sim = await finished(db(server), {"mediator": (amara.person.id, "Amara")})
    await logbook.record_completed(db(server), sim)
    url = f"{server.url}/api/logbook"
    [entry] = (await call(amara, "GET", url))[1]["entries"]
    status, changed = await call(
        amara,
        "PATCH",
        f"{url}/{entry['id']}",
        {"went_well": "Calm opening", "next_steps": "Caucus"},
    )
    assert status == 200
    assert (changed["went_well"], changed["challenging"], changed["next_steps"]) == (
        "Calm opening",
        "",
        "Caucus",
    )
    status, body = await call(amara, "PATCH", f"{url}/{entry['id']}", {"duration_min": 600})
    assert (status, body["code"]) == (409, "read_only")
    status, body = await call(amara, "DELETE", f"{url}/{entry['id']}")
    assert (status, body["code"]) == (409, "read_only")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"duration_min": 0}, "invalid_entry"),
        ({"duration_min": 601}, "invalid_entry"),
        ({"duration_min": "90"}, "invalid_entry"),
        ({"role": "judge"}, "invalid_entry"),
        ({"medium": "telepathy"}, "invalid_entry"),
        ({"at_ms": now_ms() + 3 * 24 * HOUR_MS}, "invalid_entry"),
        ({"scenario": " "}, "invalid_entry"),
        ({"went_well": "x" * 4001}, "invalid_entry"),
        ({"co_participants": "Kip"}, "invalid_entry"),
        ({"scenario": "fence\x00"}, "invalid_entry"),  # PostgreSQL keeps no NUL
        ({"went_well": "\ud800"}, "invalid_entry"),  # a lone surrogate is no text
        ({"co_participants": ["Kip\x00"]}, "invalid_entry"),
        ({"colour": "red"}, "bad_request"),
    ],
)
async def test_a_bad_manual_entry_is_refused_with_its_code(
    server: LiveServer, fields: dict[str, Any], code: str
) -> None:
    amara = await sign_in(server.app, Role.TRAINEE)
    status, body = await call(amara, "POST", f"{server.url}/api/logbook", manual(**fields))
    assert (status, body["code"]) == (400, code), body
    assert (await call(amara, "GET", f"{server.url}/api/logbook"))[1]["entries"] == []


async def test_a_manual_entry_is_edited_in_every_field_and_deleted(server: LiveServer) -> None:
    amara = await sign_in(server.app, Role.TRAINEE)
    url = f"{server.url}/api/logbook"
    made = (await call(amara, "POST", url, manual()))[1]
    status, changed = await call(amara, "PATCH", f"{url}/{made['id']}", {"role": "advocate"})
    assert status == 200 and changed["role"] == "advocate" and changed["duration_min"] == 90
    status, body = await call(amara, "PATCH", f"{url}/{made['id']}", {"role": "judge"})
    assert (status, body["code"]) == (400, "invalid_entry")
    assert (await call(amara, "DELETE", f"{url}/{made['id']}"))[0] == 200
    assert (await call(amara, "GET", url))[1]["entries"] == []


@pytest.mark.parametrize(
    "query",
    [
        "role=judge",
        "medium=paper",
        "source=imported",
        "sort=name",
        "order=up",
        "from=2026-13-01",
        "to=yesterday",
        "from=2026-05-02&to=2026-05-01",
        "colour=red",
        "q=" + "x" * 201,
        "q=a%00b",
        "from=0001-01-01",
        "to=9999-12-31",
        "from=2026-5-1",
    ],
)
async def test_a_bad_query_answers_bad_request(server: LiveServer, query: str) -> None:
    amara = await sign_in(server.app, Role.TRAINEE)
    for path in ("/api/logbook", "/api/logbook.csv"):
        status, body = await call(amara, "GET", f"{server.url}{path}?{query}")
        assert (status, body["code"]) == (400, "bad_request"), (query, body)


async def test_filters_and_dates_are_read_in_the_owners_time_zone(server: LiveServer) -> None:
    # 2026-05-01 22:30 UTC is already 2 May in Taipei
    lin = await sign_in(server.app, Role.TRAINEE, time_zone="Asia/Taipei")
    url = f"{server.url}/api/logbook"
    late = 1_777_674_600_000  # 2026-05-01T22:30:00Z
    made = (await call(lin, "POST", url, manual(at_ms=late, role="advocate")))[1]
    await call(
        lin, "POST", url, manual(at_ms=late - 5 * 24 * HOUR_MS, role="party", medium="online")
    )
    body = (await call(lin, "GET", f"{url}?from=2026-05-02&to=2026-05-02"))[1]
    assert [e["id"] for e in body["entries"]] == [made["id"]]
    assert body["period"] == "2026-05-02 to 2026-05-02"
    assert (await call(lin, "GET", f"{url}?to=2026-05-01&role=advocate"))[1]["entries"] == []
    body = (await call(lin, "GET", f"{url}?sort=role&order=asc"))[1]
    assert [e["role"] for e in body["entries"]] == ["advocate", "party"]
    assert body["totals"]["sessions"] == 2 and body["totals"]["minutes"] == 180


# --- exports ----------------------------------------------------------------------------------


async def test_the_csv_is_rfc4180_with_a_bom_and_no_formula_runs(server: LiveServer) -> None:
    amara = await sign_in(server.app, Role.TRAINEE, name="Amara Odhiambo")
    url = f"{server.url}/api/logbook"
    await call(
        amara,
        "POST",
        url,
        manual(
            scenario='=HYPERLINK("http://evil.example","click")',
            coach="@coach",
            co_participants=["+1 555", "-minus", 'Mei, "the" mediator'],
            went_well="Line one\nline two, with a comma",
            challenging="Négociation 調解",
        ),
    )
    async with amara.session() as http, http.get(f"{url}.csv") as response:
        assert response.status == 200 and response.content_type == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        raw = await response.read()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8")[1:]
    assert text.endswith("\r\n")
    header, row = list(csv.reader(io.StringIO(text, newline="")))
    assert header[0] == "Date" and len(row) == len(header)
    cells = dict(zip(header, row, strict=True))
    assert cells["Scenario"] == '\'=HYPERLINK("http://evil.example","click")'
    assert cells["Coach"] == "'@coach"
    assert cells["Co-participants"] == '\'+1 555; -minus; Mei, "the" mediator'
    assert cells["Went well"] == "Line one\nline two, with a comma"
    assert cells["Challenging"] == "Négociation 調解"
    assert (cells["Role"], cells["Medium"], cells["Duration (min)"]) == (
        "Co-mediator",
        "Face-to-face",
        "90",
    )


async def test_the_pdf_and_the_print_page_show_the_person_totals_and_every_entry(
    server: LiveServer,
) -> None:
    amara = await sign_in(
        server.app, Role.TRAINEE, name="Amara Odhiambo", time_zone="Africa/Nairobi"
    )
    sim = await finished(db(server), {"mediator": (amara.person.id, "Amara Odhiambo")})
    await rated(db(server), sim, "mediator", "opening_statement", 4)
    await logbook.record_completed(db(server), sim)
    url = f"{server.url}/api/logbook"
    await call(amara, "POST", url, manual(went_well="Reframed <b>positions</b> as interests"))

    status, pdf = await call(amara, "GET", f"{url}.pdf")
    assert status == 200 and pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    for expected in (
        "Mediation logbook",
        "Amara Odhiambo",
        "Neighbour dispute at the community centre",
        "The Fence on Alder Lane",  # the shipped scenarios are the writer's default
        "Reframed <b>positions</b> as interests",
        "Co-mediator",
        "Lead mediator",
        "Opening statement: 4 (1)",
        "I confirm that this logbook is a true record of my mediation practice.",
    ):
        assert expected in text, (expected, text[:2000])

    async with amara.session() as http, http.get(f"{server.url}/logbook/print") as response:
        assert response.status == 200 and response.content_type == "text/html"
        page = await response.text()
    assert "Reframed &lt;b&gt;positions&lt;/b&gt; as interests" in page
    assert "<b>positions" not in page
    assert "Africa/Nairobi" in page and "Amara Odhiambo" in page
    assert re.search(r"<th scope='row'>All</th><td>2</td><td>[0-9.]+</td>", page)
