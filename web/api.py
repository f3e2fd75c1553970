"""The admin REST API: scenarios, simulations and join tokens (Bearer admin token)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from rooms.directory import UnknownRoom
from sessions.errors import DomainError, UnknownSeat
from sessions.ids import RoomId, ScenarioId, SeatId
from sessions.roles import MAX_OBSERVERS
from sessions.rooms import Room
from sessions.scenarios import Scenario, ScenarioCatalogue
from signaling import safe_json
from signaling.admission import DEFAULT_TTL_S, default_name, join_link, seat_links, seat_token
from web.console_access import require_staff
from web.errors import BadRequest, UnsupportedMediaType
from web.keys import CATALOGUE, DIRECTORY, PUBLIC_URL, SCENARIOS, SECRET
from web.viewers import require_admin

routes = web.RouteTableDef()

MAX_TTL_S = 90 * 24 * 3600


class UnknownScenario(DomainError):
    code = "unknown_scenario"


async def body(request: web.Request, allowed: set[str]) -> Mapping[str, Any]:
    """The request's JSON object, with no keys beyond `allowed`; {} without a body.

    Anything else is the client's mistake, answered 400 (415 for another media
    type, 413 past the size limit), never a 500.
    """
    if not request.can_read_body:
        return {}
    if request.content_type != "application/json":
        raise UnsupportedMediaType("send the body as application/json")
    raw = await request.read()
    try:
        data = safe_json.loads(raw.decode("utf-8"))
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise BadRequest(f"the body is not JSON: {str(exc)[:120]}") from None
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    extra = set(data) - allowed
    if extra:
        raise BadRequest(f"unknown fields: {', '.join(sorted(extra))}")
    return data


def _int(data: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadRequest(f"'{key}' must be an integer from {low} to {high}")
    return value


def _str(data: Mapping[str, Any], key: str, max_chars: int, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value.strip() or len(value) > max_chars:
        raise BadRequest(f"'{key}' must be a non-empty string of at most {max_chars} characters")
    return value


def scenario_summary(scenario: Scenario) -> dict[str, Any]:
    return {
        "id": scenario.id,
        "title": scenario.title,
        "summary": scenario.summary,
        "parties": [{"seat": p.seat, "name": p.name, "label": p.label} for p in scenario.parties],
        "rubric": [
            {"id": s.id, "name": s.name, "description": s.description} for s in scenario.rubric
        ],
        "plan": [{"phase": str(s.phase), "minutes": s.minutes} for s in scenario.plan],
        "observers": scenario.observer_view.value,
    }


def base_url(request: web.Request) -> str:
    return (request.app[PUBLIC_URL] or str(request.url.origin())).rstrip("/")


async def _room(request: web.Request) -> Room:
    """The simulation's room: live if anyone has joined, else as created (not started)."""
    record = await request.app[CATALOGUE].simulation(request.match_info["room"])
    if record is None:
        raise UnknownRoom(f"there is no simulation {request.match_info['room']!r}")
    live = request.app[DIRECTORY].peek(record.id)
    if live is not None:
        return live.room
    return Room.create(record.id, request.app[SCENARIOS][record.scenario_id], record.observers)


@routes.get("/api/scenarios")
async def list_scenarios(request: web.Request) -> web.Response:
    await require_staff(request)  # admin (person or token), or a coach
    scenarios = request.app[SCENARIOS]
    live = scenarios if isinstance(scenarios, ScenarioCatalogue) else None
    return web.json_response(
        [
            scenario_summary(s) | {"builtin": live is None or live.is_builtin(s.id)}
            for s in scenarios.values()
        ]
    )


@routes.post("/api/simulations")
async def create_simulation(request: web.Request) -> web.Response:
    require_admin(request)
    data = await body(request, {"scenario", "observers", "ttl_s"})
    scenario_id = ScenarioId(_str(data, "scenario", 64))
    scenario = request.app[SCENARIOS].get(scenario_id)
    if scenario is None:
        raise UnknownScenario(f"there is no scenario {scenario_id!r}")
    observers = _int(data, "observers", 1, 0, MAX_OBSERVERS)
    ttl_s = _int(data, "ttl_s", DEFAULT_TTL_S, 60, MAX_TTL_S)
    record = await request.app[CATALOGUE].create_simulation(scenario_id, observers)
    room = Room.create(record.id, scenario, observers)
    links = seat_links(
        request.app[SECRET], base_url(request), record.id, scenario, room.seats, ttl_s
    )
    return web.json_response(
        {"id": record.id, "scenario": scenario_id, "seats": list(room.seats), "links": links},
        status=201,
    )


@routes.get("/api/simulations")
async def list_simulations(request: web.Request) -> web.Response:
    require_admin(request)
    return web.json_response(
        [
            {
                "id": r.id,
                "scenario": r.scenario_id,
                "observers": r.observers,
                "created_ms": r.created_ms,
                "t0_ms": r.t0_ms,
            }
            for r in await request.app[CATALOGUE].simulations()
        ]
    )


@routes.get("/api/simulations/{room}")
async def get_simulation(request: web.Request) -> web.Response:
    require_admin(request)
    room = await _room(request)
    return web.json_response(
        {
            "id": room.id,
            "scenario": room.scenario.id,
            "seats": list(room.seats),
            "phase": str(room.phase),
            "participants": [
                {"seat": p.seat, "name": p.name, "connected": p.connected}
                for p in room.participants.values()
            ],
        }
    )


@routes.get("/api/simulations/{room}/timeline")
async def get_timeline(request: web.Request) -> web.Response:
    require_admin(request)
    room = await _room(request)
    return web.json_response(await request.app[CATALOGUE].events(RoomId(room.id)))


@routes.post("/api/simulations/{room}/tokens")
async def issue_token(request: web.Request) -> web.Response:
    require_admin(request)
    room = await _room(request)
    data = await body(request, {"seat", "name", "identity", "ttl_s"})
    seat = SeatId(_str(data, "seat", 32))
    if seat not in room.seats:
        raise UnknownSeat(f"simulation {room.id} has no seat {seat!r}")
    name = _str(data, "name", 80, default_name(room.scenario, seat))
    identity = _str(data, "identity", 128, f"{room.id}:{seat}")
    ttl_s = _int(data, "ttl_s", DEFAULT_TTL_S, 60, MAX_TTL_S)
    token, expires_at = seat_token(request.app[SECRET], room.id, seat, name, identity, ttl_s)
    return web.json_response(
        {
            "token": token,
            "link": join_link(base_url(request), room.id, token),
            "seat": seat,
            "expires_at": expires_at,
        },
        status=201,
    )
