"""Cohorts in the database: members by role, scenarios in use, deletion leaves simulations."""

from __future__ import annotations

import datetime

import pytest
from sqlalchemy import insert, select, update

from sessions.cohorts import InvalidCohort, Requirements
from sessions.people import CohortRole, Role
from storage import audit, cohorts
from storage.database import Database
from storage.people import People
from storage.schema import cohort_members, simulations
from storage.schema import people as people_table

SPRING = {"name": "Spring 2027", "starts_on": "2027-03-01", "ends_on": "2027-06-30"}


async def test_a_cohort_is_stored_changed_and_listed(database: Database) -> None:
    made = await cohorts.add(database, SPRING | {"requirements": {"mediator_sessions": 3}})
    assert await cohorts.get(database, made.id) == made
    assert made.requirements == Requirements(mediator_sessions=3)
    changed = await cohorts.change(
        database, made.id, {"name": " Spring 2027 (Nairobi) ", "requirements": {"hours": 12}}
    )
    assert changed.name == "Spring 2027 (Nairobi)"
    assert changed.requirements == Requirements(hours=12)
    assert changed.starts_on == datetime.date(2027, 3, 1)
    assert await cohorts.every(database) == [changed]
    with pytest.raises(InvalidCohort) as refused:
        await cohorts.change(database, made.id, {"ends_on": "2027-02-01"})
    assert refused.value.field == "ends_on"
    with pytest.raises(cohorts.UnknownCohort):
        await cohorts.change(database, "nope", {"name": "x"})


async def test_a_person_coaches_one_cohort_and_trains_in_another(database: Database) -> None:
    people = People(database)
    lin = await people.add("lin@example.org", "Lin Wei", Role.TRAINEE, "Asia/Taipei")
    amara = await people.add("amara@example.org", "Amara", Role.TRAINEE, "Africa/Nairobi")
    first = await cohorts.add(database, SPRING)
    second = await cohorts.add(database, SPRING | {"name": "Advanced"})
    await cohorts.set_members(database, first.id, coaches=[lin.id], trainees=[amara.id])
    await cohorts.set_members(database, second.id, coaches=[], trainees=[lin.id, lin.id])
    assert await cohorts.coaches_cohort(database, lin.id, first.id)
    assert not await cohorts.coaches_cohort(database, lin.id, second.id)
    assert not await cohorts.coaches_cohort(database, amara.id, first.id)
    assert [(m.cohort.id, m.role) for m in await cohorts.cohorts_of(database, lin.id)] == [
        (first.id, CohortRole.COACH),
        (second.id, CohortRole.TRAINEE),
    ]
    assert [(m.person_id, m.role) for m in await cohorts.members(database, first.id)] == [
        (lin.id, CohortRole.COACH),
        (amara.id, CohortRole.TRAINEE),
    ]


async def test_unknown_or_deactivated_people_are_refused_and_nothing_changes(
    database: Database,
) -> None:
    people = People(database)
    lin = await people.add("lin@example.org", "Lin Wei", Role.COACH)
    gone = await people.add("gone@example.org", "Gone", Role.TRAINEE)
    cohort = await cohorts.add(database, SPRING)
    await cohorts.set_members(database, cohort.id, coaches=[lin.id], trainees=[])
    async with database.transaction() as conn:
        await conn.execute(
            update(people_table).where(people_table.c.id == gone.id).values(active=False)
        )
    with pytest.raises(cohorts.UnknownPeople) as refused:
        await cohorts.set_members(database, cohort.id, coaches=[], trainees=[gone.id, "ghost"])
    assert refused.value.ids == [gone.id, "ghost"]
    assert [m.person_id for m in await cohorts.members(database, cohort.id)] == [lin.id]
    with pytest.raises(cohorts.UnknownCohort):
        await cohorts.set_members(database, "nope", coaches=[], trainees=[])


async def test_deleting_a_cohort_keeps_its_simulations_and_writes_an_audit_row(
    database: Database,
) -> None:
    lin = await People(database).add("lin@example.org", "Lin Wei", Role.COACH)
    cohort = await cohorts.add(database, SPRING)
    await cohorts.set_members(database, cohort.id, coaches=[lin.id], trainees=[])
    await cohorts.set_scenarios(database, cohort.id, ["bakery-supply", "boundary-fence"])
    assert await cohorts.scenarios_of(database, cohort.id) == ["bakery-supply", "boundary-fence"]
    async with database.transaction() as conn:
        await conn.execute(
            insert(simulations).values(
                id="sim1", scenario_id="bakery-supply", observers=1, created_ms=1,
                cohort_id=cohort.id,
            )
        )  # fmt: skip
    await cohorts.remove(database, cohort.id, lin.id)
    assert await cohorts.get(database, cohort.id) is None
    async with database.reading() as conn:
        assert (await conn.execute(select(simulations.c.cohort_id))).all() == [(None,)]
        assert (await conn.execute(select(cohort_members))).all() == []
        (entry,) = await audit.entries(conn)
    assert (entry["actor"], entry["action"], entry["target"]) == (
        lin.id,
        "cohort.delete",
        cohort.id,
    )
    assert entry["detail"] == {"name": "Spring 2027", "simulations_detached": 1}
    with pytest.raises(cohorts.UnknownCohort):
        await cohorts.remove(database, cohort.id, lin.id)
