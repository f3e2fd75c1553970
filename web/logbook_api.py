"""Each person's logbook over HTTP: list, add by hand, reflect, delete, export.

A signed-in person reads and writes only their own logbook. A coach may read
(never change) the logbook of anyone in a cohort they coach, an admin anyone's,
with `?person=<id>`. An entry a simulation wrote changes only its reflections
and is never deleted by hand; a hand-written one changes in every field.
Queries are checked: a value outside its vocabulary answers 400 `bad_request`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiohttp import web

from sessions.errors import NotPermitted
from sessions.logbook import (
    MAX_TEXT_CHARS,
    LogRole,
    Medium,
    Source,
    manual_entry,
    reflections,
    storable,
    totals,
)
from sessions.people import Person
from storage import logbook
from storage.logbook import Filters, SortBy, StoredEntry
from storage.people import now_ms
from web.api import body
from web.auth import person_of, require_person
from web.errors import BadRequest, NotFound, json_error
from web.keys import DATABASE
from web.logbook_export import Logbook, to_csv, to_html
from web.pages import STATIC_DIR

routes = web.RouteTableDef()

REFLECTION_FIELDS = frozenset({"went_well", "challenging", "next_steps"})
MANUAL_FIELDS = (
    frozenset({"at_ms", "duration_min", "role", "medium", "scenario", "coach", "co_participants"})
    | REFLECTION_FIELDS
)
#: dates a logbook query may name (beyond them a time zone's arithmetic overflows)
FIRST_YEAR, LAST_YEAR = 1900, 2999
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: the shape of the ids this server makes; anything else is nobody's, answered before the database
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
QUERY_KEYS = frozenset({"person", "role", "medium", "source", "from", "to", "q", "sort", "order"})


def _choice(query: Mapping[str, str], key: str, allowed: list[str]) -> str | None:
    value = query.get(key)
    if value is None or value == "":
        return None
    if value not in allowed:
        raise BadRequest(f"'{key}' must be one of: {', '.join(allowed)}")
    return value


def _day(query: Mapping[str, str], key: str) -> date | None:
    value = query.get(key)
    if not value:
        return None
    try:
        day = date.fromisoformat(value) if _DATE.fullmatch(value) else None
    except ValueError:
        day = None
    if day is None or not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise BadRequest(f"'{key}' must be a date as YYYY-MM-DD ({FIRST_YEAR} to {LAST_YEAR})")
    return day


def _start_ms(day: date, zone: str) -> int:
    return int(datetime.combine(day, time(), ZoneInfo(zone)).timestamp() * 1000)


def filters_of(query: Mapping[str, str], time_zone: str) -> tuple[Filters, str]:
    """The list's filters from the query string (dates are days in `time_zone`, `to`
    included), and the period they cover in words."""
    unknown = set(query) - QUERY_KEYS
    if unknown:
        raise BadRequest(f"unknown query parameters: {', '.join(sorted(unknown))}")
    role = _choice(query, "role", [r.value for r in LogRole])
    medium = _choice(query, "medium", [m.value for m in Medium])
    source = _choice(query, "source", [s.value for s in Source])
    sort = _choice(query, "sort", [s.value for s in SortBy]) or SortBy.DATE.value
    order = _choice(query, "order", ["asc", "desc"]) or "desc"
    first, last = _day(query, "from"), _day(query, "to")
    if first and last and last < first:
        raise BadRequest("'to' is before 'from'")
    text = query.get("q", "")
    if len(text) > MAX_TEXT_CHARS or not storable(text):
        raise BadRequest(f"'q' is text of at most {MAX_TEXT_CHARS} characters")
    found = Filters(
        role=LogRole(role) if role else None,
        medium=Medium(medium) if medium else None,
        source=Source(source) if source else None,
        from_ms=_start_ms(first, time_zone) if first else None,
        to_ms=_start_ms(last + timedelta(days=1), time_zone) if last else None,
        text=text,
        sort=SortBy(sort),
        descending=order == "desc",
    )
    if first or last:
        begin = first.isoformat() if first else "the start"
        period = f"{begin} to {last.isoformat() if last else 'today'}"
    else:
        period = "all entries"
    return found, period


async def _owner(request: web.Request, reader: Person) -> dict[str, Any]:
    """Whose logbook the request reads: the reader's own, or `?person=` if they may."""
    wanted = request.query.get("person") or reader.id
    if not _ID.fullmatch(wanted):
        raise NotFound("there is no such person")
    db = request.app[DATABASE]
    if not await logbook.may_read(db, reader, wanted):
        raise NotPermitted("you may read only your own logbook, or those of people you coach")
    owner = await logbook.person(db, wanted)
    if owner is None:
        raise NotFound("there is no such person")
    return dict(owner)


def entry_json(stored: StoredEntry, own: bool) -> dict[str, Any]:
    e = stored.entry
    manual = e.source is Source.MANUAL
    return {
        "id": stored.id,
        "simulation_id": stored.simulation_id,
        "source": e.source.value,
        "at_ms": e.at_ms,
        "duration_min": e.duration_min,
        "role": e.role.value,
        "role_label": e.role.label,
        "medium": e.medium.value,
        "medium_label": e.medium.label,
        "scenario": e.scenario,
        "coach": e.coach,
        "co_participants": list(e.co_participants),
        "feedback": e.feedback.to_json(),
        "went_well": e.reflections.went_well,
        "challenging": e.reflections.challenging,
        "next_steps": e.reflections.next_steps,
        "created_ms": stored.created_ms,
        "updated_ms": stored.updated_ms,
        # what the viewer may do with it (the page derives nothing, ARCHITECTURE.md §13)
        "actions": (["reflect", "edit", "delete"] if manual else ["reflect"]) if own else [],
    }


async def _read(request: web.Request) -> tuple[Person, dict[str, Any], list[StoredEntry], str]:
    reader = require_person(request)
    owner = await _owner(request, reader)
    found, period = filters_of(request.query, str(owner["time_zone"]))
    entries = await logbook.entries(request.app[DATABASE], str(owner["id"]), found)
    return reader, owner, entries, period


def _signed_in_page(request: web.Request) -> None:
    """A page asked for by nobody signed in sends them to sign in, and back here after."""
    if person_of(request) is None:
        raise web.HTTPFound(f"/login?next={quote(request.path_qs, safe='')}")


@routes.get("/logbook")
async def logbook_page(request: web.Request) -> web.FileResponse:
    _signed_in_page(request)
    return web.FileResponse(STATIC_DIR / "logbook.html")


@routes.get("/api/logbook")
async def list_entries(request: web.Request) -> web.Response:
    reader, owner, entries, period = await _read(request)
    own = owner["id"] == reader.id
    t = totals(e.entry for e in entries)
    return web.json_response(
        {
            "person": {"id": owner["id"], "name": owner["name"], "time_zone": owner["time_zone"]},
            "own": own,
            "period": period,
            "entries": [entry_json(e, own) for e in entries],
            "totals": {
                "sessions": t.sessions,
                "minutes": t.minutes,
                "by_role": [
                    {"role": r.value, "label": r.label, "sessions": n, "minutes": m}
                    for r, n, m in t.by_role
                ],
            },
            "vocabulary": {
                "roles": [{"id": r.value, "label": r.label} for r in LogRole],
                "media": [{"id": m.value, "label": m.label} for m in Medium],
            },
        }
    )


def _book(owner: Mapping[str, Any], entries: list[StoredEntry], period: str) -> Logbook:
    return Logbook(
        name=str(owner["name"]),
        email=str(owner["email"]),
        time_zone=str(owner["time_zone"]),
        period=period,
        generated_ms=now_ms(),
        entries=entries,
    )


def _attachment(name: str, extension: str) -> str:
    """A download's name: ASCII for old clients, the person's name in UTF-8 for the rest."""
    plain = "".join(c if c.isascii() and c.isalnum() else "-" for c in name[:40]).strip("-")
    full = quote(f"logbook-{name[:40]}.{extension}")
    return (
        f"attachment; filename=\"logbook-{plain or 'person'}.{extension}\"; filename*=UTF-8''{full}"
    )


@routes.get("/api/logbook.csv")
async def export_csv(request: web.Request) -> web.Response:
    _, owner, entries, period = await _read(request)
    return web.Response(
        body=to_csv(_book(owner, entries, period)),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": _attachment(str(owner["name"]), "csv")},
    )


@routes.get("/api/logbook.pdf")
async def export_pdf(request: web.Request) -> web.Response:
    # fpdf (numpy, Pillow) takes ~0.7 s to import: the first PDF export loads it
    from web.logbook_pdf import logbook_pdf

    _, owner, entries, period = await _read(request)
    return web.Response(
        # fpdf2 is pure Python: a long logbook is drawn off the event loop
        body=await asyncio.to_thread(logbook_pdf, _book(owner, entries, period)),
        content_type="application/pdf",
        headers={"Content-Disposition": _attachment(str(owner["name"]), "pdf")},
    )


@routes.get("/logbook/print")
async def print_page(request: web.Request) -> web.Response:
    _signed_in_page(request)
    _, owner, entries, period = await _read(request)
    return web.Response(text=to_html(_book(owner, entries, period)), content_type="text/html")


@routes.post("/api/logbook")
async def add_entry(request: web.Request) -> web.Response:
    person = require_person(request)
    data = await body(request, set(MANUAL_FIELDS))
    stored = await logbook.add(request.app[DATABASE], person.id, manual_entry(data, now_ms()))
    return web.json_response(entry_json(stored, True), status=201)


async def _own_entry(request: web.Request, person: Person) -> StoredEntry:
    entry_id = request.match_info["entry"]
    found = None
    if _ID.fullmatch(entry_id):
        found = await logbook.entry(request.app[DATABASE], person.id, entry_id)
    if found is None:
        raise NotFound("there is no such entry in your logbook")
    return found


@routes.patch("/api/logbook/{entry}")
async def change_entry(request: web.Request) -> web.Response:
    person = require_person(request)
    stored = await _own_entry(request, person)
    data = await body(request, set(MANUAL_FIELDS))
    if stored.entry.source is Source.MANUAL:
        e = stored.entry
        current = {
            "at_ms": e.at_ms,
            "duration_min": e.duration_min,
            "role": e.role.value,
            "medium": e.medium.value,
            "scenario": e.scenario,
            "coach": e.coach or "",
            "co_participants": list(e.co_participants),
            "went_well": e.reflections.went_well,
            "challenging": e.reflections.challenging,
            "next_steps": e.reflections.next_steps,
        }
        new = manual_entry({**current, **data}, now_ms())
    else:
        fixed = sorted(set(data) - REFLECTION_FIELDS)
        if fixed:
            return json_error(
                "read_only",
                f"a simulation's entry changes only its reflections, not {', '.join(fixed)}",
                409,
            )
        new = replace(stored.entry, reflections=reflections(data, stored.entry.reflections))
    changed = await logbook.change(request.app[DATABASE], stored, new)
    return web.json_response(entry_json(changed, True))


@routes.delete("/api/logbook/{entry}")
async def delete_entry(request: web.Request) -> web.Response:
    person = require_person(request)
    stored = await _own_entry(request, person)
    if stored.entry.source is not Source.MANUAL:
        return json_error("read_only", "an entry a simulation wrote stays in your logbook", 409)
    await logbook.remove(request.app[DATABASE], stored, person.id)
    return web.json_response({"ok": True, "deleted": stored.id})
