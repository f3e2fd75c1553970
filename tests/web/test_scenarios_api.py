"""Scenarios written in the console: staff read briefs, the admin writes, a new one runs at once,
a used one is frozen (copy it to change it), and the shipped ones are read-only."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from sessions.people import Role
from sessions.scenarios import BRIEF_MAX
from storage import audit
from tests.live_server import LiveServer, Participant, start_server
from tests.people import sign_in
from tests.web.console_client import Caller
from web.keys import DATABASE

PARTIES = [
    {"seat": "party_a", "name": "Mele Tupou", "label": "Tenant, berth 14"},
    {"seat": "party_b", "name": "Ravi Nair", "label": "Harbour master"},
]
HARBOUR: dict[str, Any] = {
    "title": "The Harbour Lease",
    "summary": "A berth lease ends; the tenant wants to stay, the harbour wants the berth back.",
    "parties": PARTIES,
    "briefs": {
        "mediator": "You mediate between a tenant and the harbour.",
        "party_a": "You are Mele. Your boat is your living.",
        "party_b": "You are Ravi. A ferry company wants berth 14.",
        "coach": "Watch for interests: income, the ferry contract.",
    },
    "rubric": [{"id": "listening", "name": "Listening", "description": "Reflects back."}],
    "phase_plan": [
        {"phase": "joint", "minutes": 10},
        {"phase": "caucus", "seat": "party_b", "minutes": 5},
        {"phase": "debrief", "minutes": 5},
    ],
}


def token(server: LiveServer) -> Caller:
    return Caller(server, token=server.config.admin_token)


async def test_staff_read_scenarios_and_their_briefs_trainees_do_not(server: LiveServer) -> None:
    trainee = Caller(server, await sign_in(server.app, Role.TRAINEE))
    coach = Caller(server, await sign_in(server.app, Role.COACH))
    admin = Caller(server, await sign_in(server.app, Role.ADMIN))
    assert (await Caller(server).get("/api/scenarios")).status == 401
    assert (await Caller(server).get("/api/scenarios/bakery-supply")).status == 401
    assert (await trainee.get("/api/scenarios")).code == "forbidden"
    assert (await trainee.get("/api/scenarios/bakery-supply")).status == 403
    listed = (await coach.get("/api/scenarios")).body
    assert {(s["id"], s["builtin"]) for s in listed} == {
        ("bakery-supply", True),
        ("boundary-fence", True),
        ("workplace-rota", True),
    }
    full = await admin.get("/api/scenarios/bakery-supply")
    assert full.status == 200
    assert set(full.body["briefs"]) == {"mediator", "party_a", "party_b", "coach"}
    assert (full.body["builtin"], full.body["editable"]) == (True, False)
    assert (await coach.get("/api/scenarios/bakery-supply")).body["briefs"] == full.body["briefs"]
    missing = await admin.get("/api/scenarios/moon-base")
    assert (missing.status, missing.code) == (404, "unknown_scenario")


async def test_a_written_scenario_runs_a_simulation_at_once_and_is_then_frozen(
    server: LiveServer,
) -> None:
    admin = Caller(server, await sign_in(server.app, Role.ADMIN))
    made = await admin.post("/api/scenarios", HARBOUR)
    assert made.status == 201, made.body
    assert made.body["id"] == "the-harbour-lease"
    assert (made.body["builtin"], made.body["used"], made.body["editable"]) == (False, False, True)
    assert made.body["phase_plan"][1] == {"phase": "caucus", "seat": "party_b", "minutes": 5}
    listed = {s["id"]: s["builtin"] for s in (await admin.get("/api/scenarios")).body}
    assert listed["the-harbour-lease"] is False
    again = await admin.post("/api/scenarios", HARBOUR)  # same title: the next free id
    assert again.body["id"] == "the-harbour-lease-2"

    edited = await admin.put(
        "/api/scenarios/the-harbour-lease", HARBOUR | {"title": "The Harbour Lease (v2)"}
    )
    assert (edited.status, edited.body["title"]) == (200, "The Harbour Lease (v2)")

    simulation = await token(server).post(
        "/api/simulations", {"scenario": "the-harbour-lease", "observers": 0}
    )
    assert simulation.status == 201, simulation.body
    link = simulation.body["links"]["party_a"]
    tenant = Participant("party_a", link.split("#token=")[1], simulation.body["id"])
    await tenant.connect(server.url)
    try:
        reply = await tenant.join()
        assert reply["ok"], reply
        assert reply["state"]["scenario"]["id"] == "the-harbour-lease"
        assert reply["state"]["scenario"]["title"] == "The Harbour Lease (v2)"
    finally:
        await tenant.close()

    frozen = await admin.put("/api/scenarios/the-harbour-lease", HARBOUR)
    assert (frozen.status, frozen.code) == (409, "scenario_in_use")
    assert "copy it" in frozen.body["message"]
    assert (await admin.delete("/api/scenarios/the-harbour-lease")).code == "scenario_in_use"
    shown = (await admin.get("/api/scenarios/the-harbour-lease")).body
    assert (shown["used"], shown["editable"]) == (True, False)

    copied = await admin.post("/api/scenarios/the-harbour-lease/copy")
    assert copied.status == 201
    assert (copied.body["id"], copied.body["title"]) == (
        "the-harbour-lease-copy",
        "The Harbour Lease (v2) (copy)",
    )
    assert copied.body["briefs"] == shown["briefs"] and copied.body["editable"]
    # what the API adds to a document (builtin, used, editable) is not part of one
    renamed = await admin.put(
        "/api/scenarios/the-harbour-lease-copy", copied.body | {"title": "Harbour, third draft"}
    )
    assert (renamed.status, renamed.code) == (400, "bad_request")
    fields = {k: v for k, v in copied.body.items() if k not in ("builtin", "used", "editable")}
    renamed = await admin.put(
        "/api/scenarios/the-harbour-lease-copy", fields | {"title": "Harbour, third draft"}
    )
    assert renamed.status == 200


async def test_the_shipped_scenarios_are_read_only_but_can_be_copied(server: LiveServer) -> None:
    admin = token(server)
    edit = await admin.put("/api/scenarios/bakery-supply", HARBOUR)
    assert (edit.status, edit.code) == (403, "read_only")
    gone = await admin.delete("/api/scenarios/bakery-supply")
    assert (gone.status, gone.code) == (403, "read_only")
    copy = await admin.post(
        "/api/scenarios/bakery-supply/copy", {"id": "bakery-nakuru", "title": "Bakery, Nakuru"}
    )
    assert (copy.status, copy.body["id"], copy.body["builtin"]) == (201, "bakery-nakuru", False)
    taken = await admin.post("/api/scenarios/bakery-supply/copy", {"id": "bakery-nakuru"})
    assert (taken.status, taken.code) == (409, "scenario_exists")
    bad = await admin.post("/api/scenarios/bakery-supply/copy", {"id": "Bakery Two"})
    assert (bad.status, bad.code, bad.body["field"]) == (400, "invalid_scenario", "id")
    assert (await admin.post("/api/scenarios/moon-base/copy")).status == 404


async def test_deleting_an_unused_scenario_writes_an_audit_row(server: LiveServer) -> None:
    ada = await sign_in(server.app, Role.ADMIN)
    admin = Caller(server, ada)
    made = (await admin.post("/api/scenarios", HARBOUR | {"id": "harbour"})).body
    deleted = await admin.delete(f"/api/scenarios/{made['id']}")
    assert (deleted.status, deleted.body) == (200, {"ok": True, "deleted": "harbour"})
    assert (await admin.get("/api/scenarios/harbour")).status == 404
    assert (await admin.delete("/api/scenarios/harbour")).code == "unknown_scenario"
    refused = await token(server).post("/api/simulations", {"scenario": "harbour"})
    assert refused.code == "unknown_scenario"
    async with server.app[DATABASE].reading() as conn:
        (entry,) = await audit.entries(conn)
    assert (entry["actor"], entry["action"], entry["target"]) == (
        ada.person.id,
        "scenario.delete",
        "harbour",
    )


async def test_only_the_admin_writes_scenarios(server: LiveServer) -> None:
    trainee = Caller(server, await sign_in(server.app, Role.TRAINEE))
    coach = Caller(server, await sign_in(server.app, Role.COACH))
    await token(server).post("/api/scenarios", HARBOUR | {"id": "harbour"})
    for caller, status in ((Caller(server), 401), (trainee, 403), (coach, 403)):
        assert (await caller.post("/api/scenarios", HARBOUR)).status == status
        assert (await caller.put("/api/scenarios/harbour", HARBOUR)).status == status
        assert (await caller.post("/api/scenarios/harbour/copy")).status == status
        assert (await caller.delete("/api/scenarios/harbour")).status == status


def _with(path: str, value: Any) -> dict[str, Any]:
    """HARBOUR with the value at a dotted path (`parties.0.name`) replaced; None deletes it."""
    document: Any = copy.deepcopy(HARBOUR)
    *parents, last = path.split(".")
    node = document
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    elif value is None:
        del node[last]
    else:
        node[last] = value
    return dict(document)


@pytest.mark.parametrize(
    ("document", "field"),
    [
        (_with("title", None), "title"),
        (_with("title", "  "), "title"),
        (_with("title", "x" * 201), "title"),
        (_with("summary", 5), "summary"),
        (_with("id", "Harbour Lease"), "id"),
        (_with("parties", PARTIES[:1]), "parties"),
        (_with("parties", "two"), "parties"),
        (_with("parties.0.name", ""), "parties[0].name"),
        (_with("parties.1.seat", "party_c"), "parties[1].seat"),
        (
            _with("parties.1", {"seat": "party_b", "name": "R", "label": "L", "age": 3}),
            "parties[1].age",
        ),
        (_with("briefs.party_b", None), "briefs.party_b"),
        (_with("briefs.party_c", "who?"), "briefs.party_c"),
        (_with("briefs.mediator", "x" * (BRIEF_MAX + 1)), "briefs.mediator"),
        (_with("rubric", []), "rubric"),
        (_with("rubric.0", {"id": "Active Listening", "name": "x"}), "rubric[0].id"),
        (_with("rubric.0", {"id": "listening", "name": ""}), "rubric[0].name"),
        (_with("phase_plan.0", {"phase": "lobby", "minutes": 5}), "phase_plan[0].phase"),
        (_with("phase_plan.0", {"phase": "joint", "minutes": 0}), "phase_plan[0].minutes"),
        (_with("phase_plan.0", {"phase": "joint", "minutes": "10"}), "phase_plan[0].minutes"),
        (
            _with("phase_plan.1", {"phase": "caucus", "seat": "party_c", "minutes": 5}),
            "phase_plan[1].seat",
        ),
        (
            _with("phase_plan.0", {"phase": "joint", "seat": "party_a", "minutes": 5}),
            "phase_plan[0].seat",
        ),
        (_with("observers", "some"), "observers"),
        (_with("coach_hidden", "no"), "coach_hidden"),
    ],
)
async def test_a_malformed_scenario_is_refused_with_its_field(
    server: LiveServer, document: dict[str, Any], field: str
) -> None:
    admin = token(server)
    refused = await admin.post("/api/scenarios", document)
    assert (refused.status, refused.code, refused.body.get("field")) == (
        400,
        "invalid_scenario",
        field,
    ), refused.body
    await admin.post("/api/scenarios", HARBOUR | {"id": "harbour"})
    if "id" not in document:
        edit = await admin.put("/api/scenarios/harbour", document)
        assert (edit.status, edit.body.get("field")) == (400, field)


async def test_other_bad_scenario_requests_get_their_codes(server: LiveServer) -> None:
    admin = token(server)
    assert (await admin.post("/api/scenarios", HARBOUR | {"id": "bakery-supply"})).status == 409
    assert (await admin.post("/api/scenarios", HARBOUR | {"colour": 1})).code == "bad_request"
    assert (await admin.post("/api/scenarios", [HARBOUR])).code == "bad_request"
    await admin.post("/api/scenarios", HARBOUR | {"id": "harbour"})
    assert (await admin.post("/api/scenarios", HARBOUR | {"id": "harbour"})).status == 409
    moved = await admin.put("/api/scenarios/harbour", HARBOUR | {"id": "elsewhere"})
    assert (moved.status, moved.body["field"]) == (400, "id")
    missing = await admin.put("/api/scenarios/moon-base", HARBOUR)
    assert (missing.status, missing.code) == (404, "unknown_scenario")


async def test_written_scenarios_are_loaded_when_the_server_starts(tmp_path: Path) -> None:
    first = await start_server(tmp_path)
    try:
        assert (await token(first).post("/api/scenarios", HARBOUR)).status == 201
    finally:
        await first.stop()
    second = await start_server(tmp_path)
    try:
        listed = {s["id"]: s["builtin"] for s in (await token(second).get("/api/scenarios")).body}
        assert listed["the-harbour-lease"] is False
        made = await token(second).post("/api/simulations", {"scenario": "the-harbour-lease"})
        assert made.status == 201
    finally:
        await second.stop()


async def test_a_trainee_who_coaches_a_cohort_reads_scenarios_as_staff(server: LiveServer) -> None:
    lin = await sign_in(server.app, Role.TRAINEE, "lin@example.org", "Lin Wei")
    caller = Caller(server, lin)
    assert (await caller.get("/api/scenarios/bakery-supply")).status == 403
    admin = token(server)
    cohort = (
        await admin.post(
            "/api/cohorts", {"name": "C", "starts_on": "2027-01-01", "ends_on": "2027-02-01"}
        )
    ).body["id"]
    await admin.put(f"/api/cohorts/{cohort}/members", {"coaches": [lin.person.id]})
    assert (await caller.get("/api/scenarios/bakery-supply")).status == 200
    assert (await caller.get("/api/scenarios")).status == 200
    assert (await caller.post("/api/scenarios", HARBOUR)).status == 403  # staff, not admin
