"""The logbook in the database (SQLite and PostgreSQL): written once per completed
simulation, filtered and sorted, and kept when the simulation is deleted."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import delete, func, insert, select

from sessions.ids import ScenarioId
from sessions.logbook import Entry, LogRole, Medium, Reflections, Source, manual_entry
from sessions.people import Role
from sessions.scenarios import Scenario, builtin_scenarios
from storage import logbook
from storage.database import Database
from storage.people import People, now_ms
from storage.schema import audit_log, cohort_members, events, logbook_entries, simulations
from tests.home_rows import cohort_with_coach, event
from tests.logbook_rows import HOUR_MS, finished, note, rated

SHIPPED = builtin_scenarios()


def scenario_of(scenario_id: str) -> Scenario | None:
    return SHIPPED.get(ScenarioId(scenario_id))


async def test_a_completed_simulation_writes_one_entry_per_signed_in_person_once(
    database: Database,
) -> None:
    store = People(database)
    amara = await store.add("amara@example.org", "Amara", Role.TRAINEE, "Africa/Nairobi")
    lin = await store.add("lin@example.org", "Lin", Role.TRAINEE, "Asia/Taipei")
    ruth = await store.add("ruth@example.org", "Ruth", Role.COACH, "America/Phoenix")
    olu = await store.add("olu@example.org", "Olu", Role.TRAINEE)
    t0 = now_ms() - 2 * HOUR_MS
    sim = await finished(
        database,
        {
            "mediator": (amara.id, "Amara"),
            "party_a": (lin.id, "Lin"),
            "party_b": ("sim:party_b", "Guest Bo"),  # a guest by link: no logbook
            "coach": (ruth.id, "Ruth"),
            "observer_1": (olu.id, "Olu"),
        },
        t0_ms=t0,
    )
    await rated(database, sim, "mediator", "opening_statement", 4)
    await rated(database, sim, "mediator", "opening_statement", 3)
    await rated(database, sim, "mediator", "active_listening", 5, visibility="all")
    await rated(database, sim, "mediator", "active_listening", 1, visibility="coach")  # unseen
    await note(database, sim, "inside the caucus", t_ms=90_000, target="party_b", visibility="all")
    await note(database, sim, "Lin: slow down", target="party_a")

    assert await logbook.record_completed(database, sim, scenario_of) == 4
    assert await logbook.record_completed(database, sim, scenario_of) == 0

    [mine] = await logbook.entries(database, amara.id)
    entry = mine.entry
    assert mine.simulation_id == sim and entry.source is Source.CAUCUS
    assert (entry.role, entry.medium) == (LogRole.LEAD_MEDIATOR, Medium.ONLINE)
    assert entry.at_ms == t0 + 1_000 and entry.duration_min == 5  # 1 s to 300 s
    assert entry.scenario == "The Fence on Alder Lane" and entry.coach == "Ruth"
    assert entry.co_participants == ("Lin", "Guest Bo")  # never the observer, to a trainee
    assert entry.feedback.count == 3
    ratings = {r.skill: (r.average, r.count, r.name) for r in entry.feedback.ratings}
    assert ratings == {
        "active_listening": (5.0, 1, "Active listening and reflecting"),
        "opening_statement": (3.5, 2, "Opening statement"),
    }
    [lins] = await logbook.entries(database, lin.id)
    assert (lins.entry.role, lins.entry.feedback.count) == (LogRole.PARTY, 1)
    [coach] = await logbook.entries(database, ruth.id)
    assert coach.entry.role is LogRole.COACH
    assert coach.entry.co_participants == ("Amara", "Lin", "Guest Bo", "Olu")
    [observer] = await logbook.entries(database, olu.id)
    assert observer.entry.role is LogRole.OBSERVER
    async with database.reading() as conn:
        assert await conn.scalar(select(func.count()).select_from(logbook_entries)) == 4
    assert await logbook.unwritten(database) == []


async def test_a_simulation_that_has_not_ended_writes_nothing_and_waits_to_be_written(
    database: Database,
) -> None:
    amara = await People(database).add("amara@example.org", "Amara", Role.TRAINEE)
    sim = await finished(database, {"mediator": (amara.id, "Amara")})
    async with database.transaction() as conn:  # as if it had not ended yet
        await conn.execute(delete(events).where(events.c.kind == "phase", events.c.t_ms == 300_000))
    assert await logbook.record_completed(database, sim, scenario_of) == 0
    assert await logbook.unwritten(database) == [sim]
    await event(database, sim, 400_000, "ended", reason="abandoned")
    assert await logbook.record_completed(database, sim, scenario_of) == 1
    [entry] = await logbook.entries(database, amara.id)
    assert entry.entry.duration_min == 7  # 1 s to 400 s, rounded
    assert await logbook.unwritten(database) == []


async def test_the_scheduled_coach_is_named_when_nobody_sat_in_the_coach_seat(
    database: Database,
) -> None:
    store = People(database)
    amara = await store.add("amara@example.org", "Amara", Role.TRAINEE)
    ruth = await store.add("ruth@example.org", "Ruth Diaz", Role.COACH)
    sim = await finished(
        database,
        {"mediator": (amara.id, "Amara")},
        seats={"mediator": amara.id, "coach": ruth.id},
    )
    await logbook.record_completed(database, sim, scenario_of)
    [entry] = await logbook.entries(database, amara.id)
    assert entry.entry.coach == "Ruth Diaz"
    assert await logbook.entries(database, ruth.id) == []  # never joined: no practice logged


async def test_deleting_the_simulation_leaves_the_persons_entry(database: Database) -> None:
    amara = await People(database).add("amara@example.org", "Amara", Role.TRAINEE)
    sim = await finished(database, {"mediator": (amara.id, "Amara")})
    await logbook.record_completed(database, sim, scenario_of)
    async with database.transaction() as conn:
        await conn.execute(delete(simulations).where(simulations.c.id == sim))
    [entry] = await logbook.entries(database, amara.id)
    assert entry.simulation_id is None and entry.entry.scenario == "The Fence on Alder Lane"
    # the gone simulation is never written again
    assert await logbook.record_completed(database, sim, scenario_of) == 0


async def test_entries_are_filtered_and_sorted(database: Database) -> None:
    amara = await People(database).add("amara@example.org", "Amara", Role.TRAINEE)
    now = now_ms()

    def manual(
        days_ago: int, minutes: int, role: str, medium: str, scenario: str, **kw: str
    ) -> Entry:
        return manual_entry(
            {
                "at_ms": now - days_ago * 24 * HOUR_MS,
                "duration_min": minutes,
                "role": role,
                "medium": medium,
                "scenario": scenario,
                **kw,
            },
            now,
        )

    a = await logbook.add(database, amara.id, manual(3, 90, "co-mediator", "hybrid", "Family"))
    b = await logbook.add(
        database,
        amara.id,
        manual(1, 30, "advocate", "face-to-face", "Lease", went_well="100% of_the rent"),
    )
    b = await logbook.change(
        database, b, replace(b.entry, co_participants=("Wanjiku Ōtieno", "林 美"))
    )
    sim = await finished(database, {"party_a": (amara.id, "Amara")}, t0_ms=now - 2 * 24 * HOUR_MS)
    await logbook.record_completed(database, sim, scenario_of)
    [c] = [e for e in await logbook.entries(database, amara.id) if e.simulation_id == sim]

    async def ids(**kw: Any) -> list[str]:
        return [e.id for e in await logbook.entries(database, amara.id, logbook.Filters(**kw))]

    assert await ids() == [b.id, c.id, a.id]  # newest first
    assert await ids(descending=False) == [a.id, c.id, b.id]
    assert await ids(sort=logbook.SortBy.DURATION) == [a.id, b.id, c.id]
    assert await ids(sort=logbook.SortBy.ROLE, descending=False) == [b.id, a.id, c.id]
    assert await ids(role=LogRole.PARTY) == [c.id]
    assert await ids(medium=Medium.HYBRID) == [a.id]
    assert await ids(source=Source.MANUAL) == [b.id, a.id]
    assert await ids(from_ms=now - 2 * 24 * HOUR_MS) == [b.id, c.id]
    assert await ids(to_ms=now - 2 * 24 * HOUR_MS) == [a.id]
    assert await ids(text="alder") == [c.id]  # the scenario's title
    assert await ids(text="100%") == [b.id]  # LIKE's wildcards are plain text
    assert await ids(text="of_the") == [b.id]
    assert await ids(text="o%_") == []
    assert await ids(text="Ōtieno") == [b.id]  # a name stored as JSON, non-ASCII
    assert await ids(text="林") == [b.id]
    assert await ids(text="wanjiku") == [b.id]


async def test_reflections_change_and_a_manual_entry_is_deleted_with_an_audit_row(
    database: Database,
) -> None:
    amara = await People(database).add("amara@example.org", "Amara", Role.TRAINEE)
    lin = await People(database).add("lin@example.org", "Lin", Role.TRAINEE)
    now = now_ms()
    new = manual_entry(
        {"at_ms": now, "duration_min": 60, "role": "observer", "medium": "online", "scenario": "X"},
        now,
    )
    stored = await logbook.add(database, amara.id, new)
    assert await logbook.entry(database, lin.id, stored.id) is None  # someone else's
    reflected = replace(stored.entry, reflections=Reflections("calm", "silence", "next"))
    changed = await logbook.change(database, stored, reflected)
    again = await logbook.entry(database, amara.id, stored.id)
    assert again is not None and again.entry.reflections == Reflections("calm", "silence", "next")
    assert again.updated_ms >= changed.created_ms
    await logbook.remove(database, again, amara.id)
    assert await logbook.entries(database, amara.id) == []
    async with database.reading() as conn:
        row = (await conn.execute(select(audit_log))).one()
    assert (row.actor, row.action, row.target) == (amara.id, "logbook.delete", stored.id)


async def test_a_coach_reads_the_logbooks_of_their_cohorts_and_an_admin_all(
    database: Database,
) -> None:
    store = People(database)
    amara = await store.add("amara@example.org", "Amara", Role.TRAINEE)
    lin = await store.add("lin@example.org", "Lin", Role.TRAINEE)
    ruth = await store.add("ruth@example.org", "Ruth", Role.COACH)
    boss = await store.add("boss@example.org", "Boss", Role.ADMIN)
    cohort = await cohort_with_coach(database, ruth.id)
    async with database.transaction() as conn:
        await conn.execute(
            insert(cohort_members).values(cohort_id=cohort, person_id=amara.id, role="trainee")
        )
    assert await logbook.may_read(database, ruth, amara.id)
    assert not await logbook.may_read(database, ruth, lin.id)
    assert not await logbook.may_read(database, lin, amara.id)
    assert await logbook.may_read(database, boss, lin.id)
    assert await logbook.may_read(database, lin, lin.id)
