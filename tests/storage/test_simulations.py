"""Scheduled simulations in the database: created with people in seats, listed, moved, ended."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select, update

from sessions.ids import SeatId
from sessions.people import Role
from storage.database import Database
from storage.people import People
from storage.schema import audit_log, cohort_members, cohorts, people
from storage.simulations import InactivePerson, Simulations, UnknownCohort, UnknownPerson

HOUR = 3600_000
T = 1_804_000_000_000  # 2027-03-03, a fixed planned start


async def _cohort(database: Database, cohort_id: str, coach: str | None = None) -> None:
    async with database.transaction() as conn:
        await conn.execute(
            insert(cohorts).values(
                id=cohort_id,
                name=cohort_id.title(),
                starts_on="2027-01-01",
                ends_on="2027-06-30",
                requirements={},
                created_ms=0,
            )
        )
        if coach is not None:
            await conn.execute(
                insert(cohort_members).values(cohort_id=cohort_id, person_id=coach, role="coach")
            )


async def test_a_simulation_is_created_with_its_people_seated_and_read_back(
    database: Database,
) -> None:
    folk = People(database)
    amara = await folk.add("amara@example.org", "Amara", Role.TRAINEE, "Africa/Nairobi")
    ben = await folk.add("ben@example.org", "Ben", Role.TRAINEE)
    await _cohort(database, "spring")
    store = Simulations(database)
    created = await store.create(
        "boundary-fence",
        1,
        cohort_id="spring",
        scheduled_ms=T,
        duration_min=90,
        seats={SeatId("mediator"): amara.id, SeatId("party_a"): ben.id},
        created_by=None,
    )
    found = await store.get(created.id)
    assert found == created
    assert (found.cohort_id, found.scheduled_ms, found.duration_min) == ("spring", T, 90)
    assert {(s.seat, s.name) for s in found.seated} == {("mediator", "Amara"), ("party_a", "Ben")}
    assert found.seat_of(amara.id) == "mediator" and not found.started
    assert [s.id for s in await store.of_person(ben.id)] == [created.id]


async def test_an_unknown_or_deactivated_person_or_cohort_creates_nothing(
    database: Database,
) -> None:
    folk = People(database)
    gone = await folk.add("gone@example.org", "Gone", Role.TRAINEE)
    async with database.transaction() as conn:
        await conn.execute(update(people).where(people.c.id == gone.id).values(active=False))
    store = Simulations(database)
    with pytest.raises(UnknownPerson):
        await store.create("boundary-fence", 1, seats={SeatId("mediator"): "nobody"})
    with pytest.raises(InactivePerson):
        await store.create("boundary-fence", 1, seats={SeatId("mediator"): gone.id})
    with pytest.raises(UnknownCohort):
        await store.create("boundary-fence", 1, cohort_id="no-such-cohort")
    assert await store.find() == []


async def test_listing_is_by_planned_time_and_cohort(database: Database) -> None:
    folk = People(database)
    coach = await folk.add("coach@example.org", "Lin", Role.COACH)
    await _cohort(database, "spring", coach=coach.id)
    await _cohort(database, "autumn")
    store = Simulations(database)
    late = await store.create("boundary-fence", 1, cohort_id="spring", scheduled_ms=T + 5 * HOUR)
    early = await store.create("boundary-fence", 1, cohort_id="autumn", scheduled_ms=T)
    assert [s.id for s in await store.find(T - HOUR, T + 10 * HOUR)] == [early.id, late.id]
    assert [s.id for s in await store.find(T + HOUR)] == [late.id]
    assert [s.id for s in await store.find(cohort_ids={"spring"})] == [late.id]
    assert await store.coached_cohorts(coach.id) == {"spring"}
    assert await store.cohort_of([late.id, early.id]) == {late.id: "spring", early.id: "autumn"}


async def test_rescheduling_and_reseating_replace_what_was_there(database: Database) -> None:
    folk = People(database)
    amara = await folk.add("amara@example.org", "Amara", Role.TRAINEE)
    ben = await folk.add("ben@example.org", "Ben", Role.TRAINEE)
    store = Simulations(database)
    created = await store.create(
        "boundary-fence", 1, scheduled_ms=T, duration_min=60, seats={SeatId("mediator"): amara.id}
    )
    moved = await store.update(
        created.id,
        scheduled_ms=T + HOUR,
        seats={SeatId("party_b"): ben.id, SeatId("mediator"): amara.id},
    )
    assert moved.scheduled_ms == T + HOUR and moved.duration_min == 60
    assert {(s.seat, s.person_id) for s in moved.seated} == {
        ("mediator", amara.id),
        ("party_b", ben.id),
    }
    cleared = await store.update(created.id, seats={})
    assert cleared.seated == ()


async def test_ending_is_noted_once_with_an_audit_row(database: Database) -> None:
    store = Simulations(database)
    created = await store.create("boundary-fence", 1)
    assert await store.mark_ended(created.id, T, actor="admin-token")
    assert not await store.mark_ended(created.id, T + HOUR)  # the room noticed it too
    found = await store.get(created.id)
    assert found is not None and found.ended_ms == T and found.started
    async with database.reading() as conn:
        rows = (await conn.execute(select(audit_log.c.action, audit_log.c.target))).all()
    assert [tuple(r) for r in rows] == [("simulation.end", created.id)]
