"""A practice round as the API shows it: its groups with the people in them (name,
time zone, role), scores, rules and reasons; and a group as its simulation's seats."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from sessions.ids import ScenarioId, SeatId
from sessions.roles import PARTY_SEATS
from storage import cohorts as cohort_store
from storage.people import cards
from storage.rounds import Round
from web.api import base_url
from web.callers import Staff
from web.keys import DATABASE, SCENARIOS


def seats_of(group: Mapping[str, Any]) -> dict[SeatId, str]:
    """A group of a proposal as the seats of its simulation."""
    seats = {SeatId("mediator"): group["mediator"], SeatId("coach"): group["coach"]}
    for seat, person in zip(PARTY_SEATS, group["parties"], strict=False):
        seats[seat] = person
    for n, person in enumerate(group["observers"], start=1):
        seats[SeatId(f"observer_{n}")] = person
    return seats


async def _people(request: web.Request, ids: set[str]) -> dict[str, dict[str, Any]]:
    return await cards(request.app[DATABASE], ids)


async def view(request: web.Request, found: Round, staff: Staff) -> dict[str, Any]:
    proposal = found.proposal
    req = proposal["request"]
    trainees = {t["id"] for t in req["trainees"]}
    coaches = set(req["coaches"])
    who = await _people(request, trainees | coaches)
    for pid, person in who.items():
        person["role"] = "coach" if pid in coaches else "trainee"
        person["stated"] = pid in req["availability"]
    cohort = await cohort_store.get(request.app[DATABASE], found.cohort_id)
    scenario = request.app[SCENARIOS].get(ScenarioId(found.scenario_id))
    simulations = proposal.get("simulations") or [None] * len(proposal["groups"])
    base = base_url(request)
    groups = []
    for g, sim in zip(proposal["groups"], simulations, strict=True):
        groups.append(
            {
                **g,
                "simulation": sim,
                "join_url": None if sim is None else f"{base}/join/{sim}",
            }
        )
    return {
        "id": found.id,
        "cohort": {"id": found.cohort_id, "name": cohort.name if cohort else found.cohort_id},
        "scenario": {
            "id": found.scenario_id,
            "title": scenario.title if scenario is not None else found.scenario_id,
        },
        "window_start_ms": found.window_start_ms,
        "window_end_ms": found.window_end_ms,
        "duration_min": found.duration_min,
        "observers": req["shape"]["observers"],
        "status": found.status,
        "created_ms": found.created_ms,
        "published_ms": found.published_ms,
        "people": who,
        "groups": groups,
        "unplaced": proposal["unplaced"],
        "rules": proposal["rules"],
        "viewer_time_zone": staff.person.time_zone if staff.person is not None else "UTC",
    }


def summary(found: Round) -> dict[str, Any]:
    return {
        "id": found.id,
        "cohort_id": found.cohort_id,
        "scenario_id": found.scenario_id,
        "window_start_ms": found.window_start_ms,
        "window_end_ms": found.window_end_ms,
        "status": found.status,
        "groups": len(found.proposal["groups"]),
        "unplaced": len(found.proposal["unplaced"]),
        "created_ms": found.created_ms,
        "published_ms": found.published_ms,
    }
