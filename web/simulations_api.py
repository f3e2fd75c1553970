"""Scheduling from the console: simulations with a time, a cohort and people in seats;
guest links for the seats nobody holds; ending a room for everyone.

Who may (`web/callers.py`): an admin does everything; a coach of a simulation's
cohort sees it and may end it; to anyone else it does not exist (404). A signed-in
person's own seat is `web/my_seat.py`; live rooms are `web/live_api.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from rooms.directory import RoomDirectory
from sessions.errors import UnknownSeat
from sessions.ids import RoomId, ScenarioId, SeatId
from sessions.phases import PhaseKind
from sessions.roles import ADMIN_SEAT, MAX_OBSERVERS
from sessions.rooms import Room
from sessions.scenarios import Scenario
from sessions.schedule import (
    DEFAULT_DURATION_MIN,
    BadTime,
    check_duration,
    opens_ms,
    seat_label,
    token_expiry_ms,
)
from signaling.admission import DEFAULT_TTL_S, default_name, join_link, seat_token
from storage.people import now_ms
from storage.simulations import Simulation, Simulations
from web.api import UnknownScenario, base_url, body
from web.callers import SIMULATIONS, admin_of, staff_of
from web.ended_rooms import ENDED_ROOMS, EndedRooms
from web.errors import BadRequest, NotFound
from web.keys import DATABASE, DIRECTORY, SCENARIOS, SECRET
from web.room_owner import sent_to_its_node
from web.schedule_body import integer, optional_str, seats_of, start

logger = logging.getLogger(__name__)

routes = web.RouteTableDef()

#: ends a live room for everyone (the room service's `End` command)
EndRoom = Callable[[RoomId, str], Awaitable[int | None]]
END_ROOM: web.AppKey[EndRoom] = web.AppKey("end_room")

_SCHEDULE_FIELDS = {"scheduled_ms", "local_time", "time_zone", "duration_min", "cohort", "seats"}


def _scenario(request: web.Request, scenario_id: str) -> Scenario:
    scenario = request.app[SCENARIOS].get(ScenarioId(scenario_id))
    if scenario is None:
        raise UnknownScenario(f"there is no scenario {scenario_id[:64]!r}")
    return scenario


def _room(request: web.Request, simulation: Simulation) -> Room:
    scenario = _scenario(request, simulation.scenario_id)
    return Room.create(simulation.id, scenario, simulation.observers)


async def simulation_of(request: web.Request) -> Simulation:
    simulation_id = request.match_info["room"]
    found = await request.app[SIMULATIONS].get(simulation_id)
    if found is None:
        raise NotFound(f"there is no simulation {simulation_id[:40]!r}")
    return found


def conflict(code: str, message: str, **extra: Any) -> web.Response:
    return web.json_response({"ok": False, "code": code, "message": message, **extra}, status=409)


# --- what a simulation looks like ---------------------------------------------------


def ended(directory: RoomDirectory, simulation: Simulation) -> bool:
    live = directory.peek(simulation.id)
    return simulation.ended_ms is not None or (
        live is not None and live.room.phase.kind is PhaseKind.ENDED
    )


def status(directory: RoomDirectory, simulation: Simulation, now: int) -> str:
    """scheduled (not open yet), open (may be joined), live (someone is in it), ended."""
    if ended(directory, simulation):
        return "ended"
    live = directory.peek(simulation.id)
    if live is not None and live.sockets:
        return "live"
    if simulation.scheduled_ms is not None and now < opens_ms(simulation.scheduled_ms):
        return "scheduled"
    return "open"


def view(request: web.Request, simulation: Simulation) -> dict[str, Any]:
    scenario = request.app[SCENARIOS].get(ScenarioId(simulation.scenario_id))
    seats: tuple[SeatId, ...] = ()
    if scenario is not None:
        seats = Room.create(simulation.id, scenario, simulation.observers).seats
    start, minutes = simulation.scheduled_ms, simulation.duration_min
    seat_list = []
    for seat in seats:
        held = simulation.person_in(seat)
        seat_list.append(
            {
                "seat": seat,
                "label": seat_label(scenario, seat) if scenario is not None else seat,
                "person": None
                if held is None
                else {"id": held.person_id, "name": held.name, "active": held.active},
            }
        )
    return {
        "id": simulation.id,
        "scenario": {
            "id": simulation.scenario_id,
            "title": scenario.title if scenario is not None else simulation.scenario_id,
        },
        "cohort_id": simulation.cohort_id,
        "observers": simulation.observers,
        "scheduled_ms": start,
        "duration_min": minutes,
        "opens_ms": None if start is None else opens_ms(start),
        "ends_ms": None if start is None or minutes is None else start + minutes * 60_000,
        "created_ms": simulation.created_ms,
        "started": simulation.t0_ms is not None,
        "ended_ms": simulation.ended_ms,
        "status": status(request.app[DIRECTORY], simulation, now_ms()),
        "seats": seat_list,
        "join_url": f"{base_url(request)}/join/{simulation.id}",
    }


# --- routes -------------------------------------------------------------------------


@routes.post("/api/schedule")
async def create(request: web.Request) -> web.Response:
    staff = await admin_of(request)
    data = await body(request, {"scenario", "observers", *_SCHEDULE_FIELDS})
    scenario_id = data.get("scenario")
    if not isinstance(scenario_id, str) or not 0 < len(scenario_id) <= 64:
        raise BadRequest("'scenario' is a scenario's id")
    scenario = _scenario(request, scenario_id)
    observers = integer(data, "observers")
    observers = 1 if observers is None else observers
    if not 0 <= observers <= MAX_OBSERVERS:
        raise BadRequest(f"'observers' must be an integer from 0 to {MAX_OBSERVERS}")
    zone = staff.person.time_zone if staff.person is not None else "UTC"
    scheduled_ms = start(data, zone)
    minutes = integer(data, "duration_min")
    duration = check_duration(DEFAULT_DURATION_MIN if minutes is None else minutes)
    seats = seats_of(data, Room.create(RoomId("new"), scenario, observers).seats)
    created = await request.app[SIMULATIONS].create(
        scenario.id,
        observers,
        cohort_id=optional_str(data, "cohort", 64),
        scheduled_ms=scheduled_ms,
        duration_min=duration,
        seats=seats,
        created_by=staff.person.id if staff.person is not None else None,
    )
    return web.json_response(view(request, created), status=201)


@routes.get("/api/schedule")
async def listing(request: web.Request) -> web.Response:
    staff = await staff_of(request)
    bounds = []
    for key in ("from", "to"):
        raw = request.query.get(key)
        try:
            bounds.append(None if raw is None else int(raw))
        except ValueError:
            raise BadTime(f"'{key}' is a UTC time in milliseconds") from None
    cohort = request.query.get("cohort")
    cohorts: set[str] | frozenset[str] | None = None if staff.admin else staff.cohorts
    if cohort is not None:
        if cohorts is not None and cohort not in cohorts:
            return web.json_response([])
        cohorts = {cohort}
    found = await request.app[SIMULATIONS].find(bounds[0], bounds[1], cohorts)
    return web.json_response([view(request, s) for s in found])


@routes.get("/api/schedule/scenarios")
async def scenarios(request: web.Request) -> web.Response:
    """The scenarios a simulation can run, each with the seats it would have with
    `observers` observer seats (the console's seat pickers come from here)."""
    await admin_of(request)
    try:
        observers = int(request.query.get("observers", "1"))
    except ValueError:
        raise BadRequest("'observers' is an integer") from None
    if not 0 <= observers <= MAX_OBSERVERS:
        raise BadRequest(f"'observers' must be an integer from 0 to {MAX_OBSERVERS}")
    found = []
    for scenario in request.app[SCENARIOS].values():
        seats = Room.create(RoomId("new"), scenario, observers).seats
        found.append(
            {
                "id": scenario.id,
                "title": scenario.title,
                "seats": [
                    {"seat": seat, "label": seat_label(scenario, seat)}
                    for seat in seats
                    if seat != ADMIN_SEAT
                ],
            }
        )
    return web.json_response(found)


@routes.get("/api/schedule/{room}")
async def one(request: web.Request) -> web.Response:
    staff = await staff_of(request)
    simulation = await simulation_of(request)
    staff.check_sees(simulation)
    return web.json_response(view(request, simulation))


@routes.patch("/api/schedule/{room}")
async def change(request: web.Request) -> web.Response:
    staff = await admin_of(request)
    simulation = await simulation_of(request)
    data = await body(request, _SCHEDULE_FIELDS)
    if simulation.started or ended(request.app[DIRECTORY], simulation):
        return conflict("started", "a simulation that has started cannot be changed")
    changes: dict[str, Any] = {}
    if "scheduled_ms" in data or "local_time" in data:
        zone = staff.person.time_zone if staff.person is not None else "UTC"
        changes["scheduled_ms"] = start(data, zone)
    if "duration_min" in data:
        minutes = integer(data, "duration_min")
        changes["duration_min"] = check_duration(
            DEFAULT_DURATION_MIN if minutes is None else minutes
        )
    if "cohort" in data:
        changes["cohort_id"] = optional_str(data, "cohort", 64)
    if "seats" in data:
        changes["seats"] = seats_of(data, _room(request, simulation).seats)
    updated = await request.app[SIMULATIONS].update(simulation.id, **changes)
    return web.json_response(view(request, updated))


def token_ttl_s(simulation: Simulation, now: int) -> int:
    """Seconds a seat token of this simulation stays valid from `now` (0: its time is over)."""
    if simulation.scheduled_ms is None:
        minutes = simulation.duration_min or DEFAULT_DURATION_MIN
        return minutes * 60 + 2 * 3600
    expiry = token_expiry_ms(
        simulation.scheduled_ms, simulation.duration_min or DEFAULT_DURATION_MIN
    )
    return max(0, (expiry - now) // 1000)


@routes.post("/api/schedule/{room}/links")
async def guest_links(request: web.Request) -> web.Response:
    """A join link for each seat nobody is assigned to (or for the seats named)."""
    await admin_of(request)
    simulation = await simulation_of(request)
    data = await body(request, {"seats"})
    room = _room(request, simulation)
    wanted = data.get("seats")
    if wanted is None:
        wanted = [s for s in room.seats if s != ADMIN_SEAT and simulation.person_in(s) is None]
    if not isinstance(wanted, list) or not all(isinstance(s, str) for s in wanted):
        raise BadRequest("'seats' is a list of seat names")
    for seat in wanted:
        if seat not in room.seats:
            raise UnknownSeat(f"this simulation has no seat {seat[:32]!r}")
        held = simulation.person_in(seat)
        if held is not None:
            return conflict("seat_assigned", f"{held.name} sits in {seat}; no guest link for it")
    if ended(request.app[DIRECTORY], simulation):
        return conflict("ended", "this simulation has ended")
    if simulation.scheduled_ms is None:
        ttl_s = DEFAULT_TTL_S
    else:
        ttl_s = token_ttl_s(simulation, now_ms())
        if ttl_s <= 0:
            return conflict("ended", "this simulation's time is over")
    base, links = base_url(request), []
    for seat in wanted:
        name = default_name(room.scenario, SeatId(seat))
        token, expires_at = seat_token(
            request.app[SECRET], simulation.id, SeatId(seat), name, ttl_s=ttl_s
        )
        links.append(
            {
                "seat": seat,
                "label": seat_label(room.scenario, SeatId(seat)),
                "token": token,
                "link": join_link(base, simulation.id, token),
                "expires_at": expires_at,
            }
        )
    return web.json_response({"links": links}, status=201)


@routes.post("/api/simulations/{room}/end")
@sent_to_its_node
async def end(request: web.Request) -> web.Response:
    """End the room for everyone: the coach's end, from the console. A room placed on
    another node is ended there (the request is sent on, web/room_owner.py)."""
    staff = await staff_of(request)
    simulation = await simulation_of(request)
    staff.check_sees(simulation)
    await body(request, set())
    if ended(request.app[DIRECTORY], simulation):
        return conflict("ended", "this simulation has already ended")
    at = await request.app[END_ROOM](simulation.id, staff.actor)
    store = request.app[SIMULATIONS]
    await store.mark_ended(simulation.id, now_ms(), staff.actor)
    noted = await store.get(simulation.id)  # the room's own observer may have noted it first
    ended_ms = noted.ended_ms if noted is not None else None
    return web.json_response({"ok": True, "id": simulation.id, "ended_ms": ended_ms, "t_ms": at})


# --- wiring -------------------------------------------------------------------------


def setup(app: web.Application, end_room: EndRoom) -> None:
    """Routes, the store (over the app's DATABASE) and the note of ended rooms (whose
    subscription to the rooms' changes is wired in `create_app`)."""
    simulations = Simulations(app[DATABASE])
    app[SIMULATIONS] = simulations
    app[END_ROOM] = end_room
    app[ENDED_ROOMS] = EndedRooms(simulations)

    async def settle(app: web.Application) -> None:
        await app[ENDED_ROOMS].settle()  # before the database closes (cleanup)

    app.on_shutdown.append(settle)
    app.add_routes(routes)
