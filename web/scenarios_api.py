"""Scenarios written in the console: read (staff), create, edit, copy, delete (admin).

The list (`GET /api/scenarios`) stays in web/api.py. Every write is validated by
`sessions.scenarios.parse_scenario`, stored, then put in the live catalogue
(`app[SCENARIOS]`), so a simulation can use it at once. The shipped scenarios
are read-only, and a scenario a simulation has run is frozen: copy it to change it.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from sessions.errors import DomainError
from sessions.ids import ScenarioId
from sessions.scenarios import (
    TITLE_MAX,
    ReadOnlyScenario,
    Scenario,
    ScenarioCatalogue,
    ScenarioFieldError,
    parse_scenario,
)
from storage import scenarios as store
from storage.scenarios import ScenarioExists, UnknownScenario
from web.api import body
from web.callers import require_console_admin
from web.console_access import answers, require_staff
from web.keys import DATABASE, SCENARIOS

routes = web.RouteTableDef()

_DOCUMENT = {"id", "title", "summary", "parties", "briefs", "rubric", "phase_plan"} | {
    "observers",
    "coach_hidden",
}
_SLUG_MAX = 48


class NoCatalogue(DomainError):
    code = "unavailable"


def live(request: web.Request) -> ScenarioCatalogue:
    catalogue = request.app[SCENARIOS]
    if not isinstance(catalogue, ScenarioCatalogue):  # an app built with a fixed mapping
        raise NoCatalogue("this server's scenarios are fixed")
    return catalogue


def slug(title: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return words[:_SLUG_MAX].strip("-") or "scenario"


def free_id(catalogue: ScenarioCatalogue, base: str) -> ScenarioId:
    """`base`, or `base-2`, `base-3`… whichever no scenario has."""
    candidate, n = base, 1
    while candidate in catalogue:
        n += 1
        candidate = f"{base}-{n}"
    return ScenarioId(candidate)


async def document(request: web.Request, scenario: Scenario) -> dict[str, Any]:
    """The full document (briefs included) with what the console needs to know of it."""
    catalogue = request.app[SCENARIOS]
    builtin = not isinstance(catalogue, ScenarioCatalogue) or catalogue.is_builtin(scenario.id)
    used = await store.used(request.app[DATABASE], scenario.id)
    return scenario.to_dict() | {
        "builtin": builtin,
        "used": used,
        "editable": not builtin and not used,
    }


def _scenario(request: web.Request) -> Scenario:
    found = request.app[SCENARIOS].get(ScenarioId(request.match_info["scenario"]))
    if found is None:
        raise UnknownScenario(f"there is no scenario {request.match_info['scenario']!r}")
    return found


@routes.get("/api/scenarios/{scenario}")
@answers
async def get_scenario(request: web.Request) -> web.Response:
    await require_staff(request)
    return web.json_response(await document(request, _scenario(request)))


@routes.post("/api/scenarios")
@answers
async def create_scenario(request: web.Request) -> web.Response:
    caller = require_console_admin(request)
    catalogue = live(request)
    data = dict(await body(request, _DOCUMENT))
    if "id" in data:
        if isinstance(data["id"], str) and data["id"] in catalogue:
            raise ScenarioExists(f"there is already a scenario {data['id']!r}")
    else:
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ScenarioFieldError("title", "title must not be empty")
        data["id"] = free_id(catalogue, slug(title))
    scenario = parse_scenario(data)
    await store.add(request.app[DATABASE], scenario, caller.person_id)
    catalogue.put(scenario)
    return web.json_response(await document(request, scenario), status=201)


@routes.put("/api/scenarios/{scenario}")
@answers
async def edit_scenario(request: web.Request) -> web.Response:
    require_console_admin(request)
    catalogue = live(request)
    current = _scenario(request)
    if catalogue.is_builtin(current.id):
        raise ReadOnlyScenario(f"{current.id} is a shipped scenario: copy it to change it")
    data = dict(await body(request, _DOCUMENT))
    if data.setdefault("id", current.id) != current.id:
        raise ScenarioFieldError("id", "a scenario keeps its id: copy it to have another")
    scenario = parse_scenario(data)
    await store.replace(request.app[DATABASE], scenario)
    catalogue.put(scenario)
    return web.json_response(await document(request, scenario))


@routes.post("/api/scenarios/{scenario}/copy")
@answers
async def copy_scenario(request: web.Request) -> web.Response:
    caller = require_console_admin(request)
    catalogue = live(request)
    source = _scenario(request)
    data = await body(request, {"id", "title"})
    title = data.get("title", f"{source.title} (copy)"[:TITLE_MAX])
    if "id" in data:
        if isinstance(data["id"], str) and data["id"] in catalogue:
            raise ScenarioExists(f"there is already a scenario {data['id']!r}")
        new_id = data["id"]
    else:
        new_id = free_id(catalogue, f"{source.id[: _SLUG_MAX - 5]}-copy")
    scenario = parse_scenario(source.to_dict() | {"id": new_id, "title": title})
    await store.add(request.app[DATABASE], scenario, caller.person_id)
    catalogue.put(scenario)
    return web.json_response(await document(request, scenario), status=201)


@routes.delete("/api/scenarios/{scenario}")
@answers
async def delete_scenario(request: web.Request) -> web.Response:
    caller = require_console_admin(request)
    catalogue = live(request)
    scenario_id = request.match_info["scenario"]
    if catalogue.is_builtin(scenario_id):
        raise ReadOnlyScenario(f"{scenario_id} is a shipped scenario and cannot be deleted")
    await store.remove(request.app[DATABASE], scenario_id, caller.actor)
    catalogue.discard(scenario_id)
    return web.json_response({"ok": True, "deleted": scenario_id})
