"""The cohorts API: who may read and write which cohort, and a code for every bad input."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from sessions.people import Role
from storage import audit
from storage.schema import people
from tests.live_server import LiveServer
from tests.people import sign_in
from tests.web.console_client import Caller
from web.keys import DATABASE

SPRING = {
    "name": "Spring 2027",
    "starts_on": "2027-03-01",
    "ends_on": "2027-06-30",
    "requirements": {"mediator_sessions": 3, "party_sessions": 6, "hours": 12},
}


async def test_only_the_admin_writes_cohorts(server: LiveServer) -> None:
    anonymous = Caller(server)
    trainee = Caller(server, await sign_in(server.app, Role.TRAINEE))
    coach = Caller(server, await sign_in(server.app, Role.COACH))
    admin = Caller(server, await sign_in(server.app, Role.ADMIN))
    token = Caller(server, token=server.config.admin_token)
    seat = Caller(server, token=server.token(await server.simulation(), "mediator"))

    assert (await anonymous.get("/api/cohorts")).status == 401
    assert (await anonymous.post("/api/cohorts", SPRING)).code == "unauthorized"
    assert (await seat.post("/api/cohorts", SPRING)).code == "unauthorized"
    assert (await trainee.post("/api/cohorts", SPRING)).code == "forbidden"
    assert (await coach.post("/api/cohorts", SPRING)).status == 403
    no_csrf = Caller(server, admin.who, csrf=False)
    assert (await no_csrf.post("/api/cohorts", SPRING)).code == "csrf"

    made = await admin.post("/api/cohorts", SPRING)
    assert made.status == 201, made.body
    assert made.body["requirements"] == {
        "mediator_sessions": 3,
        "party_sessions": 6,
        "hours": 12,
        "feedback_read": False,
        "reflections": False,
    }
    by_token = await token.post("/api/cohorts", SPRING | {"name": "Autumn"})
    assert by_token.status == 201
    path = f"/api/cohorts/{made.body['id']}"
    for caller in (trainee, coach):
        assert (await caller.patch(path, {"name": "x"})).status == 403
        assert (await caller.put(f"{path}/members", {"coaches": []})).status == 403
        assert (await caller.put(f"{path}/scenarios", {"scenarios": []})).status == 403
        assert (await caller.delete(path)).status == 403
    changed = await token.patch(path, {"name": "Spring 2027, Nairobi"})
    assert (changed.status, changed.body["name"]) == (200, "Spring 2027, Nairobi")
    # by start date, then name
    assert [c["name"] for c in (await admin.get("/api/cohorts")).body] == [
        "Autumn",
        "Spring 2027, Nairobi",
    ]


async def test_coaches_see_their_cohorts_and_trainees_see_theirs_without_emails(
    server: LiveServer,
) -> None:
    admin = Caller(server, await sign_in(server.app, Role.ADMIN))
    lin = await sign_in(server.app, Role.COACH, "lin@example.org", "Lin Wei")
    ana = await sign_in(server.app, Role.COACH, "ana@example.org", "Ana")
    amara = await sign_in(server.app, Role.TRAINEE, "amara@example.org", "Amara")
    kofi = await sign_in(server.app, Role.TRAINEE, "kofi@example.org", "Kofi")
    ours = (await admin.post("/api/cohorts", SPRING)).body
    theirs = (await admin.post("/api/cohorts", SPRING | {"name": "Other"})).body
    members = {"coaches": [lin.person.id], "trainees": [amara.person.id, kofi.person.id]}
    set_members = await admin.put(f"/api/cohorts/{ours['id']}/members", members)
    assert set_members.status == 200, set_members.body
    assert [t["name"] for t in set_members.body["trainees"]] == ["Amara", "Kofi"]
    await admin.put(f"/api/cohorts/{theirs['id']}/members", {"coaches": [ana.person.id]})
    scenarios = {"scenarios": ["bakery-supply", "boundary-fence"]}
    assert (await admin.put(f"/api/cohorts/{ours['id']}/scenarios", scenarios)).status == 200

    coach_view = (await Caller(server, lin).get("/api/cohorts")).body
    assert [c["id"] for c in coach_view] == [ours["id"]]
    assert coach_view[0]["your_role"] == "coach"
    assert coach_view[0]["trainees"][1] == {
        "id": kofi.person.id,
        "name": "Kofi",
        "email": "kofi@example.org",
    }
    assert coach_view[0]["scenarios"] == ["bakery-supply", "boundary-fence"]

    trainee_view = (await Caller(server, amara).get(f"/api/cohorts/{ours['id']}")).body
    assert trainee_view["your_role"] == "trainee"
    assert trainee_view["coaches"] == [{"id": lin.person.id, "name": "Lin Wei"}]
    assert trainee_view["trainees"] == [
        {"id": amara.person.id, "name": "Amara", "email": "amara@example.org"},
        {"id": kofi.person.id, "name": "Kofi"},
    ]
    # another cohort does not exist for them
    assert (await Caller(server, ana).get(f"/api/cohorts/{ours['id']}")).status == 404
    assert (await Caller(server, amara).get(f"/api/cohorts/{theirs['id']}")).status == 404
    assert len((await admin.get("/api/cohorts")).body) == 2
    assert (await admin.get(f"/api/cohorts/{theirs['id']}")).body["your_role"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": 7}, "name"),
        ({"starts_on": "2027-02-30"}, "starts_on"),
        ({"starts_on": "1 March 2027"}, "starts_on"),
        ({"ends_on": "2027-02-01"}, "ends_on"),
        ({"ends_on": "2047-02-01"}, "ends_on"),
        ({"requirements": {"hours": -1}}, "requirements.hours"),
        ({"requirements": {"hours": 1.5}}, "requirements.hours"),
        ({"requirements": {"mediator_sessions": True}}, "requirements.mediator_sessions"),
        ({"requirements": {"party_sessions": 10_001}}, "requirements.party_sessions"),
        ({"requirements": {"feedback_read": "yes"}}, "requirements.feedback_read"),
        ({"requirements": {"naps": 3}}, "requirements.naps"),
        ({"requirements": [3]}, "requirements"),
    ],
)
async def test_a_malformed_cohort_is_refused_with_its_field(
    server: LiveServer, change: dict[str, Any], field: str
) -> None:
    admin = Caller(server, token=server.config.admin_token)
    refused = await admin.post("/api/cohorts", SPRING | change)
    assert (refused.status, refused.code, refused.body["field"]) == (400, "invalid_cohort", field)
    made = (await admin.post("/api/cohorts", SPRING)).body
    refused = await admin.patch(f"/api/cohorts/{made['id']}", change)
    assert (refused.status, refused.body["field"]) == (400, field)


async def test_every_other_bad_request_gets_its_code(server: LiveServer) -> None:
    admin = Caller(server, token=server.config.admin_token)
    assert (await admin.post("/api/cohorts", {"name": "x"})).body["field"] == "starts_on"
    assert (await admin.post("/api/cohorts", SPRING | {"colour": "red"})).code == "bad_request"
    assert (await admin.post("/api/cohorts", [SPRING])).code == "bad_request"
    not_json = await admin.post("/api/cohorts", data=b"{", headers={"Content-Type": "text/plain"})
    assert (not_json.status, not_json.code) == (415, "unsupported_media_type")
    for method in ("get", "patch", "delete"):
        missing = await getattr(admin, method)("/api/cohorts/nope")
        assert (missing.status, missing.code) == (404, "unknown_cohort")
    assert (await admin.put("/api/cohorts/nope/members", {})).code == "unknown_cohort"
    assert (await admin.put("/api/cohorts/nope/scenarios", {})).code == "unknown_cohort"

    cohort = (await admin.post("/api/cohorts", SPRING)).body["id"]
    lin = await sign_in(server.app, Role.COACH)
    gone = await sign_in(server.app, Role.TRAINEE)
    async with server.app[DATABASE].transaction() as conn:
        await conn.execute(update(people).where(people.c.id == gone.person.id).values(active=False))
    unknown = await admin.put(
        f"/api/cohorts/{cohort}/members",
        {"coaches": [lin.person.id], "trainees": [gone.person.id, "ghost"]},
    )
    assert (unknown.status, unknown.code, unknown.body["ids"]) == (
        400,
        "unknown_people",
        [gone.person.id, "ghost"],
    )
    both = await admin.put(
        f"/api/cohorts/{cohort}/members",
        {"coaches": [lin.person.id], "trainees": [lin.person.id]},
    )
    assert (both.status, both.code, both.body["field"]) == (400, "invalid_cohort", "trainees")
    for bad in ("nope", ["x" * 65], [3], ["a"] * 501):
        refused = await admin.put(f"/api/cohorts/{cohort}/members", {"coaches": bad})
        assert (refused.status, refused.body["field"]) == (400, "coaches")
    scenario = await admin.put(
        f"/api/cohorts/{cohort}/scenarios", {"scenarios": ["bakery-supply", "moon-base"]}
    )
    assert (scenario.status, scenario.code, scenario.body["ids"]) == (
        400,
        "unknown_scenarios",
        ["moon-base"],
    )
    assert (await admin.get(f"/api/cohorts/{cohort}")).body["scenarios"] == []


async def test_deleting_a_cohort_writes_an_audit_row_naming_the_admin(server: LiveServer) -> None:
    ada = await sign_in(server.app, Role.ADMIN)
    admin = Caller(server, ada)
    cohort = (await admin.post("/api/cohorts", SPRING)).body["id"]
    deleted = await admin.delete(f"/api/cohorts/{cohort}")
    assert (deleted.status, deleted.body) == (200, {"ok": True, "deleted": cohort})
    assert (await admin.get(f"/api/cohorts/{cohort}")).status == 404
    async with server.app[DATABASE].reading() as conn:
        (entry,) = await audit.entries(conn)
    assert (entry["actor"], entry["action"], entry["target"]) == (
        ada.person.id,
        "cohort.delete",
        cohort,
    )
