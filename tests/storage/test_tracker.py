"""The tracker's facts in the database (SQLite and PostgreSQL): which entries and notes
count, notes marked read only by their addressee, certificates issued once and revoked."""

from __future__ import annotations

import asyncio
import datetime
from dataclasses import replace

import pytest
from sqlalchemy import select

from sessions.ids import ScenarioId
from sessions.logbook import Entry, LogRole, Medium, Reflections, Source
from sessions.people import Role
from sessions.scenarios import Scenario, builtin_scenarios
from sessions.tracker import Requirement
from storage import certificates, cohorts, logbook, tracker
from storage.database import Database
from storage.people import People, now_ms
from storage.schema import audit_log, simulations
from tests.logbook_rows import HOUR_MS, finished, note

SHIPPED = builtin_scenarios()
DAY_MS = 24 * HOUR_MS


def scenario_of(scenario_id: str) -> Scenario | None:
    return SHIPPED.get(ScenarioId(scenario_id))


def around_today(days: int, after: int | None = None) -> dict[str, str]:
    """Dates from `days` before today to `after` (default: `days`) after it."""
    today = datetime.datetime.now(datetime.UTC).date()
    return {
        "starts_on": (today - datetime.timedelta(days=days)).isoformat(),
        "ends_on": (today + datetime.timedelta(days=days if after is None else after)).isoformat(),
    }


async def test_progress_counts_the_cohorts_sessions_notes_read_and_reflections(
    database: Database,
) -> None:
    store = People(database)
    amara = await store.add("amara@example.org", "Amara", Role.TRAINEE, "Africa/Nairobi")
    lin = await store.add("lin@example.org", "Lin", Role.TRAINEE, "Asia/Taipei")
    bo = await store.add("bo@example.org", "Bo", Role.TRAINEE, "Europe/London")
    cohort = await cohorts.add(
        database,
        {
            "name": "Winter course",
            # 15 days gone of 21: in every trainee's own zone, at any hour, between 2/3 and
            # 3/4 of the way, so one mediated session of two is expected by now
            **around_today(15, 5),
            "requirements": {"mediator_sessions": 2, "feedback_read": True, "reflections": True},
        },
    )
    await cohorts.set_members(database, cohort.id, [], [amara.id, lin.id, bo.id])
    sim = await finished(
        database,
        {"mediator": (amara.id, "Amara"), "party_a": (lin.id, "Lin"), "party_b": (bo.id, "Bo")},
    )
    async with database.transaction() as conn:
        await conn.execute(
            simulations.update().where(simulations.c.id == sim).values(cohort_id=cohort.id)
        )
    to_amara = await note(database, sim, "Good opening", target="mediator")
    coach_only = await note(database, sim, "Hesitant", target="mediator", visibility="coach")
    # addressed to party_b but inside party_a's caucus (60–120 s): Bo may not see it
    in_caucus = await note(database, sim, "In a caucus", t_ms=90_000, target="party_b")
    assert await logbook.record_completed(database, sim, scenario_of) == 3
    now = now_ms()

    p = await tracker.progress_of(database, amara, cohort, now, scenario_of)
    by = {i.requirement: i for i in p.items}
    assert (by[Requirement.MEDIATOR_SESSIONS].done, by[Requirement.MEDIATOR_SESSIONS].needed) == (
        1,
        2,
    )
    assert (by[Requirement.FEEDBACK_READ].done, by[Requirement.FEEDBACK_READ].needed) == (0, 1)
    assert (by[Requirement.REFLECTIONS].done, by[Requirement.REFLECTIONS].needed) == (0, 1)
    assert not p.complete

    # only the addressee marks a note read, and only a note they may see
    assert await tracker.mark_read(database, amara.id, coach_only, now, scenario_of) is None
    assert await tracker.mark_read(database, lin.id, to_amara, now, scenario_of) is None
    assert await tracker.mark_read(database, bo.id, in_caucus, now, scenario_of) is None
    assert await tracker.mark_read(database, amara.id, "no-such-note", now, scenario_of) is None
    assert await tracker.mark_read(database, amara.id, to_amara, now, scenario_of) == now
    assert await tracker.mark_read(database, amara.id, to_amara, now + 5, scenario_of) == now

    with pytest.raises(certificates.RequirementsNotMet) as refused:
        await tracker.issue(database, amara, cohort, now, scenario_of)
    assert {i["requirement"] for i in refused.value.left} == {"mediator_sessions", "reflections"}

    # a reflection on the simulation's entry, and a co-mediation by hand within the dates
    [stored] = await logbook.entries(database, amara.id)
    await logbook.change(
        database, stored, replace(stored.entry, reflections=Reflections(went_well="Calm"))
    )
    await logbook.add(
        database,
        amara.id,
        Entry(
            now - DAY_MS,
            60,
            LogRole.CO_MEDIATOR,
            Medium.FACE_TO_FACE,
            "Community case",
            reflections=Reflections(challenging="Silence"),
            source=Source.MANUAL,
        ),
    )
    p = await tracker.progress_of(database, amara, cohort, now, scenario_of)
    assert p.complete and p.counted == 2

    cert, issued = await tracker.issue(database, amara, cohort, now, scenario_of)
    assert issued and cert.valid and cert.snapshot["name"] == "Amara"
    assert cert.snapshot["cohort"] == "Winter course"
    again, issued_again = await tracker.issue(database, amara, cohort, now, scenario_of)
    assert again.id == cert.id and not issued_again

    # the cohort at a glance: who is behind first (Lin and Bo mediated nothing, past halfway:
    # equally short of one session of two, then by name)
    rows = await tracker.of_cohort(database, cohort, now, scenario_of)
    assert [r.name for r in rows] == ["Bo", "Lin", "Amara"]
    assert rows[0].progress.lag == rows[1].progress.lag == 0.5
    assert rows[0].progress.behind and not rows[2].progress.behind
    assert rows[2].certificate is not None and rows[2].certificate.id == cert.id
    [(mine_cohort, mine, mine_cert)] = await tracker.mine(database, amara, now, scenario_of)
    assert mine_cohort.id == cohort.id and mine.complete and mine_cert == cert

    revoked = await certificates.revoke(database, cert.id, "admin-person", now + 10)
    assert not revoked.valid and revoked.revoked_ms == now + 10
    async with database.reading() as conn:
        actions = (await conn.scalars(select(audit_log.c.action))).all()
    assert "certificate.revoke" in actions
    with pytest.raises(certificates.CertificateRevoked):
        await tracker.issue(database, amara, cohort, now, scenario_of)
    found = await certificates.certificate(database, cert.id)
    assert found is not None and not found.valid
    with pytest.raises(certificates.UnknownCertificate):
        await certificates.revoke(database, "nope", "admin-person", now)


async def test_another_cohorts_session_and_a_note_of_it_do_not_count(database: Database) -> None:
    store = People(database)
    amara = await store.add("amara@example.org", "Amara", Role.TRAINEE, "Africa/Nairobi")
    winter = await cohorts.add(
        database,
        {
            "name": "Winter",
            **around_today(5),
            "requirements": {"party_sessions": 1, "feedback_read": True},
        },
    )
    other = await cohorts.add(database, {"name": "Other", **around_today(5)})
    sim = await finished(database, {"party_a": (amara.id, "Amara")})
    async with database.transaction() as conn:
        await conn.execute(
            simulations.update().where(simulations.c.id == sim).values(cohort_id=other.id)
        )
    await note(database, sim, "Well said", target="party_a")
    await logbook.record_completed(database, sim, scenario_of)
    p = await tracker.progress_of(database, amara, winter, now_ms(), scenario_of)
    by = {i.requirement: i for i in p.items}
    assert by[Requirement.PARTY_SESSIONS].done == 0
    assert by[Requirement.FEEDBACK_READ].needed == 0  # that session's notes are Other's
    assert p.counted == 0


async def test_a_note_opened_twice_at_once_is_read_once_at_the_first_moment(
    database: Database,
) -> None:
    lin = await People(database).add("lin@example.org", "Lin", Role.TRAINEE, "Asia/Taipei")
    sim = await finished(database, {"party_a": (lin.id, "Lin")})
    to_lin = await note(database, sim, "Well said", target="party_a")
    now = now_ms()
    moments = await asyncio.gather(
        *(tracker.mark_read(database, lin.id, to_lin, now + i, scenario_of) for i in range(5))
    )
    assert len(set(moments)) == 1 and moments[0] is not None
    async with database.reading() as conn:
        assert await tracker.read_ids(conn, lin.id) == {to_lin}


async def test_two_requests_at_once_issue_one_certificate(database: Database) -> None:
    lin = await People(database).add("lin@example.org", "Lin", Role.TRAINEE, "Asia/Taipei")
    cohort = await cohorts.add(database, {"name": "Open", **around_today(3)})  # asks nothing
    await cohorts.set_members(database, cohort.id, [], [lin.id])
    issued = await asyncio.gather(
        *(tracker.issue(database, lin, cohort, now_ms(), scenario_of) for _ in range(4))
    )
    assert len({cert.id for cert, _ in issued}) == 1
    assert sum(1 for _, new in issued if new) == 1
