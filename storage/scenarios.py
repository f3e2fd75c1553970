"""Scenarios written in the console, in the database (the shipped ones are files).

A document is stored as `Scenario.to_dict` wrote it after validation, so what
is read back parses. A scenario a simulation has used is never changed in
place: its recordings keep the briefs, rubric and plan they ran with.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from sessions.errors import DomainError, InvalidScenario
from sessions.scenarios import Scenario, ScenarioCatalogue, builtin_scenarios
from storage import audit
from storage.database import Database
from storage.people import now_ms
from storage.schema import cohort_scenarios, scenarios, simulations

logger = logging.getLogger(__name__)


class UnknownScenario(DomainError):
    code = "unknown_scenario"


class ScenarioExists(DomainError):
    code = "scenario_exists"


class ScenarioInUse(DomainError):
    code = "scenario_in_use"


@dataclass(frozen=True)
class Stored:
    scenario: Scenario
    created_ms: int
    updated_ms: int
    created_by: str | None


async def uses(conn: AsyncConnection, scenario_id: str) -> int:
    """How many simulations were created from the scenario."""
    count = await conn.scalar(
        select(func.count())
        .select_from(simulations)
        .where(simulations.c.scenario_id == scenario_id)
    )
    return int(count or 0)


async def used(db: Database, scenario_id: str) -> bool:
    async with db.reading() as conn:
        return await uses(conn, scenario_id) > 0


async def written(db: Database) -> list[Stored]:
    """Every stored scenario that parses (one that does not is logged and left out)."""
    async with db.reading() as conn:
        rows = list(await conn.execute(select(scenarios).order_by(scenarios.c.id)))
    found = []
    for row in rows:
        try:
            scenario = Scenario.from_dict(row.document)
        except InvalidScenario as exc:
            logger.error("stored scenario %s does not parse: %s", row.id, exc.message)
            continue
        found.append(Stored(scenario, row.created_ms, row.updated_ms, row.created_by))
    return found


async def get(db: Database, scenario_id: str) -> Stored | None:
    async with db.reading() as conn:
        row = (await conn.execute(select(scenarios).where(scenarios.c.id == scenario_id))).first()
    if row is None:
        return None
    return Stored(Scenario.from_dict(row.document), row.created_ms, row.updated_ms, row.created_by)


async def add(db: Database, scenario: Scenario, created_by: str | None) -> None:
    now = now_ms()
    try:
        async with db.transaction() as conn:
            await conn.execute(
                insert(scenarios).values(
                    id=scenario.id,
                    document=scenario.to_dict(),
                    created_ms=now,
                    updated_ms=now,
                    created_by=created_by,
                )
            )
    except IntegrityError:
        raise ScenarioExists(f"there is already a scenario {scenario.id!r}") from None


async def replace(db: Database, scenario: Scenario) -> None:
    """Store a new version of an unused scenario (`ScenarioInUse` once a simulation ran it)."""
    async with db.transaction() as conn:
        await _unused(conn, scenario.id)
        await conn.execute(
            update(scenarios)
            .where(scenarios.c.id == scenario.id)
            .values(document=scenario.to_dict(), updated_ms=now_ms())
        )


async def remove(db: Database, scenario_id: str, actor: str) -> None:
    """Delete an unused scenario (and its place in cohorts' lists), with an audit row."""
    async with db.transaction() as conn:
        await _unused(conn, scenario_id)
        title = (
            await conn.execute(select(scenarios.c.document).where(scenarios.c.id == scenario_id))
        ).scalar_one()["title"]
        await conn.execute(
            delete(cohort_scenarios).where(cohort_scenarios.c.scenario_id == scenario_id)
        )
        await conn.execute(delete(scenarios).where(scenarios.c.id == scenario_id))
        await audit.record(conn, actor, "scenario.delete", scenario_id, {"title": title})


async def _unused(conn: AsyncConnection, scenario_id: str) -> None:
    found = (
        await conn.execute(
            select(scenarios.c.id).where(scenarios.c.id == scenario_id).with_for_update()
        )
    ).first()
    if found is None:
        raise UnknownScenario(f"there is no scenario {scenario_id!r} written in the console")
    count = await uses(conn, scenario_id)
    if count:
        raise ScenarioInUse(
            f"{count} simulation(s) ran {scenario_id}, so it cannot change: copy it to change it"
        )


async def catalogue(db: Database) -> ScenarioCatalogue:
    """The shipped scenarios and those written in the console, as the server has them."""
    scenarios = ScenarioCatalogue(builtin_scenarios())
    async with db.reading() as conn:
        # a command run before the server ever upgraded this database (`caucus demo`)
        migrated = await conn.run_sync(lambda sync: inspect(sync).has_table("scenarios"))
    if migrated:
        scenarios.load(stored.scenario for stored in await written(db))
    return scenarios
