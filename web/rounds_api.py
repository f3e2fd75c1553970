"""Practice rounds over HTTP: propose (a draft), read, swap two people, publish, delete.

An admin manages every cohort's rounds, a coach those of the cohorts they coach
(any other round or cohort does not exist for them: 404), trainees none (403).
A proposal is computed by the pure matcher (`sessions.matching.propose_round`)
from what storage holds (`storage.rounds.inputs`) and stored as a draft with
everything it was computed from, so a swap re-scores against the same facts.
Publishing creates one simulation per group in one transaction; each person seated
is told by mail (if SMTP is configured) and finds it on their home page and
calendar feed, which list scheduled simulations.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from aiohttp import web

from sessions.availability import Window
from sessions.errors import DomainError
from sessions.ids import ScenarioId
from sessions.match_model import GRIDS_MINUTES, GroupShape, Proposal
from sessions.matching import propose_round, swap
from sessions.roles import MAX_OBSERVERS
from sessions.round_json import instant, proposal_from_json, proposal_to_json, rule_to_json
from sessions.scenarios import Scenario
from sessions.schedule import (
    MAX_DURATION_MIN,
    MIN_DURATION_MIN,
    BadDuration,
    BadTimeZone,
    zone,
)
from storage import cohorts as cohort_store
from storage import rounds
from storage.people import now_ms
from storage.rounds import NewSimulation, Round
from web.api import UnknownScenario, base_url, body
from web.callers import Staff, staff_of
from web.errors import BadRequest, NotFound
from web.keys import DATABASE, SCENARIOS
from web.mail import Mailer
from web.round_mail import round_message
from web.round_view import seats_of, summary, view

routes = web.RouteTableDef()

MAILER: web.AppKey[Mailer | None] = web.AppKey("rounds_mailer")

MAX_WINDOW_DAYS = 31
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
FIELDS = {"cohort", "scenario", "from", "to", "duration_min", "observers", "grid_minutes"}


class BadWindow(DomainError):
    code = "bad_window"


class WindowInThePast(DomainError):
    code = "in_the_past"


class ScenarioNotInCohort(DomainError):
    code = "scenario_not_in_cohort"


class RoundStale(DomainError):
    """The draft no longer fits: a group's time has passed, or someone was booked since."""

    code = "round_stale"
    status = 409


# --- reading a request --------------------------------------------------------------


def cohort_id_of(staff: Staff, raw: Any) -> str:
    if not isinstance(raw, str) or not _ID.fullmatch(raw):
        raise BadRequest("'cohort' is a cohort's id")
    if not staff.admin and raw not in staff.cohorts:
        raise NotFound(f"there is no cohort {raw!r} you coach")
    return raw


def _day(data: Mapping[str, Any], key: str) -> date:
    raw = data.get(key)
    try:
        day = date.fromisoformat(raw) if isinstance(raw, str) and _DATE.fullmatch(raw) else None
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2999:
        raise BadWindow(f"'{key}' is a date, YYYY-MM-DD")
    return day


def _int(data: Mapping[str, Any], key: str, default: int) -> int:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadRequest(f"'{key}' must be an integer")
    return value


def window_of(data: Mapping[str, Any], time_zone: str, now: int) -> tuple[int, int]:
    """[from 00:00, the day after `to` 00:00) in `time_zone`, as UTC ms; starting now at
    the earliest (rounded up to the minute)."""
    first, last = _day(data, "from"), _day(data, "to")
    if last < first:
        raise BadWindow("'to' is on or after 'from'")
    if (last - first).days + 1 > MAX_WINDOW_DAYS:
        raise BadWindow(f"a round's window is at most {MAX_WINDOW_DAYS} days")
    tz = zone(time_zone)
    today = datetime.fromtimestamp(now / 1000, tz).date()
    if last < today:
        raise WindowInThePast("the window has passed; choose dates from today on")
    if first < today:
        raise WindowInThePast("the window starts in the past; choose dates from today on")
    start = int(datetime.combine(first, time(), tz).timestamp() * 1000)
    end = int(datetime.combine(last + timedelta(days=1), time(), tz).timestamp() * 1000)
    return max(start, -(-now // 60_000) * 60_000), end


def planned_minutes(scenario: Scenario) -> int:
    """The scenario's phase plan length, within what a simulation may last."""
    total = sum(step.minutes for step in scenario.plan) or 60
    return min(MAX_DURATION_MIN, max(MIN_DURATION_MIN, total))


def _scenario(request: web.Request, raw: Any) -> Scenario:
    if not isinstance(raw, str) or not 0 < len(raw) <= 64:
        raise BadRequest("'scenario' is a scenario's id")
    found = request.app[SCENARIOS].get(ScenarioId(raw))
    if found is None:
        raise UnknownScenario(f"there is no scenario {raw[:64]!r}")
    return found


async def round_of(request: web.Request, staff: Staff) -> Round:
    round_id = request.match_info["round"]
    missing = NotFound(f"there is no round {round_id[:40]!r}")
    if not _ID.fullmatch(round_id):
        raise missing
    found = await rounds.get(request.app[DATABASE], round_id)
    if found is None or not (staff.admin or found.cohort_id in staff.cohorts):
        raise missing
    return found


# --- routes -------------------------------------------------------------------------


@routes.post("/api/rounds")
async def propose(request: web.Request) -> web.Response:
    """A proposal for a cohort, a scenario and a window of dates, stored as a draft."""
    staff = await staff_of(request)
    data = await body(request, FIELDS)
    cohort_id = cohort_id_of(staff, data.get("cohort"))
    db = request.app[DATABASE]
    cohort = await cohort_store.get(db, cohort_id)
    if cohort is None:
        raise NotFound(f"there is no cohort {cohort_id!r}")
    scenario = _scenario(request, data.get("scenario"))
    allowed = await cohort_store.scenarios_of(db, cohort_id)
    if allowed and scenario.id not in allowed:
        raise ScenarioNotInCohort(
            f"cohort {cohort.name!r} uses {', '.join(allowed)}, not {scenario.id}"
        )
    minutes = _int(data, "duration_min", planned_minutes(scenario))
    if not MIN_DURATION_MIN <= minutes <= MAX_DURATION_MIN:
        raise BadDuration(
            f"a simulation lasts {MIN_DURATION_MIN} to {MAX_DURATION_MIN} minutes, not {minutes}"
        )
    observers = _int(data, "observers", 1)
    if not 0 <= observers <= MAX_OBSERVERS:
        raise BadRequest(f"'observers' must be an integer from 0 to {MAX_OBSERVERS}")
    grid = _int(data, "grid_minutes", 15)
    if grid not in GRIDS_MINUTES:
        raise BadRequest(f"'grid_minutes' is one of {', '.join(map(str, GRIDS_MINUTES))}")
    try:
        viewer_zone = staff.person.time_zone if staff.person is not None else "UTC"
        start_ms, end_ms = window_of(data, viewer_zone, now_ms())
    except BadTimeZone:
        start_ms, end_ms = window_of(data, "UTC", now_ms())
    if end_ms - start_ms < minutes * 60_000:
        raise BadWindow("the window is shorter than one session")
    found = await rounds.inputs(db, cohort_id, start_ms, end_ms)
    proposal = propose_round(
        found.trainees,
        found.coaches,
        GroupShape(len(scenario.parties), observers, minutes),
        found.availability,
        Window(instant(start_ms), instant(end_ms)),
        found.history,
        grid_minutes=grid,
        busy=found.busy,
    )
    stored = await rounds.add(
        db,
        cohort_id,
        scenario.id,
        (start_ms, end_ms),
        minutes,
        proposal_to_json(proposal),
        staff.person.id if staff.person is not None else None,
    )
    return web.json_response(await view(request, stored, staff), status=201)


@routes.get("/api/rounds")
async def listing(request: web.Request) -> web.Response:
    staff = await staff_of(request)
    cohort = request.query.get("cohort")
    cohort_ids: list[str] | None = None if staff.admin else sorted(staff.cohorts)
    if cohort is not None:
        cohort_ids = [cohort_id_of(staff, cohort)]
    found = await rounds.of_cohorts(request.app[DATABASE], cohort_ids)
    return web.json_response([summary(r) for r in found])


@routes.get("/api/rounds/{round}")
async def one(request: web.Request) -> web.Response:
    staff = await staff_of(request)
    found = await round_of(request, staff)
    return web.json_response(await view(request, found, staff))


@routes.post("/api/rounds/{round}/swap")
async def swap_two(request: web.Request) -> web.Response:
    """Exchange two trainees' seats (or two coaches' groups); the answer lists the rules
    the swap made worse (`broken`)."""
    staff = await staff_of(request)
    data = await body(request, {"a", "b"})
    found = await round_of(request, staff)
    a, b = data.get("a"), data.get("b")
    if not isinstance(a, str) or not isinstance(b, str) or not a or not b:
        raise BadRequest("'a' and 'b' are the ids of the two people to swap")
    if found.status != rounds.DRAFT:
        raise rounds.RoundPublished("a published round does not change")
    before: Proposal = proposal_from_json(dict(found.proposal))
    result = swap(before, a[:64], b[:64])
    stored = await rounds.replace_proposal(
        request.app[DATABASE], found.id, proposal_to_json(result.proposal)
    )
    answer = await view(request, stored, staff)
    answer["broken"] = [rule_to_json(r) for r in result.broken]
    return web.json_response(answer)


@routes.post("/api/rounds/{round}/publish")
async def publish(request: web.Request) -> web.Response:
    """Schedule every group's simulation (all or none) and tell everyone seated."""
    staff = await staff_of(request)
    await body(request, set())
    found = await round_of(request, staff)
    if found.status != rounds.DRAFT:
        raise rounds.RoundPublished("this round is already published")
    groups = list(found.proposal["groups"])
    if not groups:
        raise RoundStale("this proposal has no group to publish; propose again")
    now = now_ms()
    if any(g["start_ms"] < now for g in groups):
        raise RoundStale("a group's time has passed; propose the round again")
    db = request.app[DATABASE]
    fresh = await rounds.inputs(db, found.cohort_id, found.window_start_ms, found.window_end_ms)
    for g in groups:
        for person in seats_of(g).values():
            for booked in fresh.busy.get(person, ()):
                b0, b1 = int(booked.start.timestamp() * 1000), int(booked.end.timestamp() * 1000)
                if b0 < g["end_ms"] and g["start_ms"] < b1:
                    raise RoundStale(
                        "someone in this round was booked at the same time since it was "
                        "proposed; propose the round again"
                    )
    observers = int(found.proposal["request"]["shape"]["observers"])
    new = [NewSimulation(g["start_ms"], found.duration_min, observers, seats_of(g)) for g in groups]
    ids = await rounds.publish(
        db, found, new, staff.actor, staff.person.id if staff.person is not None else None
    )
    published = await rounds.get(db, found.id)
    assert published is not None
    answer = await view(request, published, staff)
    mailer = request.app.get(MAILER)
    if mailer is not None:
        title = answer["scenario"]["title"]
        who = answer["people"]
        for g, sim in zip(groups, ids, strict=True):
            for seat, person in seats_of(g).items():
                if person in who:
                    mailer.send(
                        round_message(
                            who[person],
                            str(seat),
                            title,
                            g["start_ms"],
                            found.duration_min,
                            f"{base_url(request)}/join/{sim}",
                        ),
                        "practice round",
                    )
    answer["mailed"] = mailer is not None
    return web.json_response(answer)


@routes.delete("/api/rounds/{round}")
async def remove(request: web.Request) -> web.Response:
    staff = await staff_of(request)
    found = await round_of(request, staff)
    await rounds.remove_draft(request.app[DATABASE], found.id, staff.actor)
    return web.json_response({"ok": True, "id": found.id})


def setup(app: web.Application, mailer: Mailer | None) -> None:
    app[MAILER] = mailer
    app.add_routes(routes)
