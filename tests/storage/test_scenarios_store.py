"""Scenarios written in the console: stored as validated, frozen once a simulation used them."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from sessions.ids import ScenarioId
from sessions.scenarios import Scenario, builtin_scenarios
from storage import audit, cohorts
from storage import scenarios as store
from storage.database import Database
from storage.schema import simulations


def written(scenario_id: str = "harbour-lease", title: str = "Harbour lease") -> Scenario:
    document = builtin_scenarios()[ScenarioId("boundary-fence")].to_dict()
    return Scenario.from_dict(document | {"id": scenario_id, "title": title})


async def test_a_scenario_is_stored_read_back_and_replaced_while_unused(
    database: Database,
) -> None:
    await store.add(database, written(), created_by=None)
    (found,) = await store.written(database)
    assert found.scenario == written()
    with pytest.raises(store.ScenarioExists):
        await store.add(database, written(), created_by=None)
    await store.replace(database, written(title="Harbour lease, second draft"))
    again = await store.get(database, "harbour-lease")
    assert again is not None and again.scenario.title == "Harbour lease, second draft"
    with pytest.raises(store.UnknownScenario):
        await store.replace(database, written("nothing-here"))


async def test_a_used_scenario_is_neither_changed_nor_deleted(database: Database) -> None:
    await store.add(database, written(), created_by=None)
    async with database.transaction() as conn:
        await conn.execute(
            insert(simulations).values(
                id="sim1", scenario_id="harbour-lease", observers=1, created_ms=1
            )
        )
    assert await store.used(database, "harbour-lease")
    with pytest.raises(store.ScenarioInUse):
        await store.replace(database, written(title="Changed"))
    with pytest.raises(store.ScenarioInUse):
        await store.remove(database, "harbour-lease", "someone")
    found = await store.get(database, "harbour-lease")
    assert found is not None and found.scenario.title == "Harbour lease"


async def test_deleting_an_unused_scenario_leaves_an_audit_row_and_cohorts_lists(
    database: Database,
) -> None:
    await store.add(database, written(), created_by=None)
    cohort = await cohorts.add(
        database, {"name": "C", "starts_on": "2027-01-01", "ends_on": "2027-01-02"}
    )
    await cohorts.set_scenarios(database, cohort.id, ["harbour-lease", "bakery-supply"])
    await store.remove(database, "harbour-lease", audit.ADMIN_TOKEN)
    assert await store.get(database, "harbour-lease") is None
    assert await cohorts.scenarios_of(database, cohort.id) == ["bakery-supply"]
    async with database.reading() as conn:
        (entry,) = await audit.entries(conn)
    assert (entry["actor"], entry["action"], entry["target"], entry["detail"]) == (
        "admin-token",
        "scenario.delete",
        "harbour-lease",
        {"title": "Harbour lease"},
    )
    with pytest.raises(store.UnknownScenario):
        await store.remove(database, "harbour-lease", audit.ADMIN_TOKEN)
