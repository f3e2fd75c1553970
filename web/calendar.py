"""Calendars: an `.ics` file per simulation, and one subscribable feed per person.

`GET /api/simulations/{id}.ics` needs the session cookie (people in the
simulation, or an admin). Calendar apps subscribe without a cookie, so each
person's feed lives at `/calendar/{token}.ics`, where the token is the person's
id and an HMAC of it under the server secret: nothing to store, nothing to
guess, and it stops working when the person is deactivated. Events are in UTC
(calendar apps show them in the reader's zone); no brief ever goes in one.
Written to RFC 5545: CRLF lines folded at 75 octets, TEXT values escaped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Iterable, Sequence

from aiohttp import web
from yarl import URL

from sessions.ids import ScenarioId
from sessions.people import Role
from sessions.scenarios import Scenario
from storage.home import JOIN_OPENS_BEFORE_MS, Entry, ScenarioOf, agenda, simulation_for
from storage.people import now_ms
from web.api import base_url
from web.auth import PEOPLE, require_person
from web.errors import NotFound
from web.keys import DATABASE, SCENARIOS, SECRET

routes = web.RouteTableDef()

PRODID = "-//Caucus//Mediation training simulations//EN"
_MAC_CHARS = 32
_LINE_OCTETS = 75
#: simulation and person ids are URL-safe random text; anything else names nothing
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def scenario_lookup(app: web.Application) -> ScenarioOf:
    """The shipped scenarios by id (console-written ones are read from the database)."""
    shipped = app[SCENARIOS]

    def scenario_of(scenario_id: str) -> Scenario | None:
        return shipped.get(ScenarioId(scenario_id))

    return scenario_of


def join_path(simulation_id: str) -> str:
    return f"/join/{simulation_id}"


def feed_token(secret: str, person_id: str) -> str:
    mac = hmac.new(secret.encode(), b"calendar-feed:" + person_id.encode(), hashlib.sha256)
    return f"{person_id}.{base64.urlsafe_b64encode(mac.digest()).decode()[:_MAC_CHARS]}"


def feed_path(secret: str, person_id: str) -> str:
    return f"/calendar/{feed_token(secret, person_id)}.ics"


def feed_person(secret: str, token: str) -> str | None:
    """The person id a feed token was made for, or None if it is not genuine."""
    person_id, dot, _ = token.partition(".")
    if not dot or not _ID.fullmatch(person_id):
        return None
    genuine = feed_token(secret, person_id).encode()
    return person_id if hmac.compare_digest(token.encode(), genuine) else None


# --- RFC 5545 ---------------------------------------------------------------------


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon, comma and newlines escaped (RFC 5545 3.3.11)."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> str:
    """One content line folded at 75 octets, never inside a UTF-8 character (RFC 5545 3.1)."""
    pieces: list[str] = []
    current, size, limit = "", 0, _LINE_OCTETS
    for char in line:
        octets = len(char.encode())
        if size + octets > limit:
            pieces.append(current)
            current, size, limit = "", 0, _LINE_OCTETS - 1  # a continuation starts with a space
        current += char
        size += octets
    pieces.append(current)
    return "\r\n ".join(pieces)


def utc_stamp(ms: int) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(ms // 1000))


def seat_label(entry: Entry) -> str:
    if entry.seat is None:  # a cohort's coach (or an admin not in it)
        return "Coach" if entry.coaching else "Staff"
    seat = entry.seat
    if seat.startswith("party_"):
        label = f"Party {seat.removeprefix('party_').upper()}"
    elif seat.startswith("observer_"):
        label = f"Observer {seat.removeprefix('observer_')}"
    else:
        label = seat.replace("_", " ").capitalize()
    return f"{label} (as {entry.character})" if entry.character else label


def vevent(entry: Entry, origin: str, stamp_ms: int, host: str) -> list[str]:
    assert entry.scheduled_ms is not None and entry.end_ms is not None
    join = origin + join_path(entry.id)
    seat = seat_label(entry)
    lines = [
        f"Caucus simulation: {entry.title}",
        f"Your seat: {seat}",
    ]
    if entry.others:
        lines.append("With: " + ", ".join(s.name for s in entry.others))
    lines.append(
        f"Join from {join} (it opens {JOIN_OPENS_BEFORE_MS // 60_000} minutes before the start)."
    )
    return [
        "BEGIN:VEVENT",
        f"UID:simulation-{entry.id}@{host}",
        f"DTSTAMP:{utc_stamp(stamp_ms)}",
        f"DTSTART:{utc_stamp(entry.scheduled_ms)}",
        f"DTEND:{utc_stamp(entry.end_ms)}",
        f"SUMMARY:{escape_text(f'{entry.title} — {seat}')}",
        f"URL:{join}",
        f"DESCRIPTION:{escape_text(chr(10).join(lines))}",
        "END:VEVENT",
    ]


def calendar(events: Iterable[Sequence[str]], name: str | None = None) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    lines.append("METHOD:PUBLISH")
    if name is not None:
        lines += [f"X-WR-CALNAME:{escape_text(name)}", "REFRESH-INTERVAL;VALUE=DURATION:PT1H"]
    for event in events:
        lines += event
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def _ics(body: str, filename: str | None = None) -> web.Response:
    response = web.Response(body=body.encode(), content_type="text/calendar", charset="utf-8")
    response.headers["Cache-Control"] = "no-store"
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _host(request: web.Request) -> str:
    """The UID's domain: the public address's host when one is configured."""
    return URL(base_url(request)).host or "caucus"


@routes.get("/api/simulations/{simulation}.ics")
async def simulation_ics(request: web.Request) -> web.Response:
    """One simulation as a calendar entry, for the people in it (and admins)."""
    person = require_person(request)
    simulation_id = request.match_info["simulation"]
    if not _ID.fullmatch(simulation_id):
        raise NotFound(f"there is no simulation {simulation_id!r}")
    entry = await simulation_for(
        request.app[DATABASE], simulation_id, person.id, now_ms(), scenario_lookup(request.app)
    )
    if entry is None or not (entry.involved or person.role is Role.ADMIN):
        raise NotFound(f"there is no simulation {simulation_id!r} in your calendar")
    if entry.scheduled_ms is None:
        raise NotFound(f"simulation {simulation_id!r} has no scheduled time")
    event = vevent(entry, base_url(request), now_ms(), _host(request))
    return _ics(calendar([event]), f"caucus-{entry.id}.ics")


@routes.get("/calendar/{token}.ics")
async def person_feed(request: web.Request) -> web.Response:
    """Everything scheduled for one person, for a calendar app to subscribe to."""
    person_id = feed_person(request.app[SECRET], request.match_info["token"])
    person = await request.app[PEOPLE].get(person_id) if person_id else None
    if person is None or not person.active:
        raise NotFound("there is no such calendar")
    now = now_ms()
    found = await agenda(request.app[DATABASE], person.id, now, scenario_lookup(request.app))
    origin, host = base_url(request), _host(request)
    events = [
        vevent(e, origin, now, host)
        for e in (*found.upcoming, *found.past)
        if e.scheduled_ms is not None
    ]
    return _ics(calendar(events, f"Caucus — {person.name}"))
