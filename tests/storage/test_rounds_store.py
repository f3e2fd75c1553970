"""Availability and practice rounds in storage, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from sqlalchemy import func, select, update

from sessions.ids import SeatId
from sessions.people import Role
from sessions.stated_availability import read_statement
from storage import availability, rounds
from storage.database import Database
from storage.people import People, now_ms
from storage.rounds import NewSimulation, RoundPublished
from storage.schema import audit_log, people, simulations
from storage.simulations import InactivePerson, Simulations
from tests.home_rows import schedule
from tests.round_rows import round_cohort

HOUR_MS = 3600_000


async def test_a_statement_is_stored_and_read_back_as_local_wall_times(
    database: Database,
) -> None:
    person = await People(database).add(
        "amani@example.org", "Amani", Role.TRAINEE, "Africa/Nairobi"
    )
    stated = read_statement(
        {
            "weekly": [
                {"weekday": 4, "start": "22:00", "end": "01:00"},
                {"weekday": 0, "start": "18:00", "end": "21:00"},
            ],
            "exceptions": [
                {"kind": "unavailable", "start": "2026-12-24T00:00", "end": "2026-12-27T00:00"},
                {"kind": "extra", "start": "2026-12-28T09:00", "end": "2026-12-28T12:00"},
            ],
        }
    )
    stored = await availability.replace(database, person.id, stated)
    assert stored == stated
    read = await availability.read(database, person.id)
    assert [(s.weekday, s.start, s.end) for s in read.weekly] == [
        (0, time(18), time(21)),
        (4, time(22), time(1)),
    ]
    assert [(e.kind, e.range.start) for e in read.exceptions] == [
        ("unavailable", datetime(2026, 12, 24)),
        ("extra", datetime(2026, 12, 28, 9)),
    ]
    async with database.reading() as conn:
        [(pid, zone_stated)] = (await availability.availabilities(conn, [person.id])).items()
    assert (pid, zone_stated.time_zone) == (person.id, "Africa/Nairobi")
    # a new statement replaces the old one whole
    await availability.replace(database, person.id, read_statement({}))
    assert await availability.read(database, person.id) == read_statement({})
    async with database.reading() as conn:
        assert await availability.availabilities(conn, [person.id]) == {}


async def test_the_matchers_inputs_come_from_members_history_and_bookings(
    database: Database,
) -> None:
    group = await round_cohort(database, trainees_per_zone=1)
    t1, t2, t3, t4 = group.trainees
    coach = group.coaches[0]
    window = (now_ms() + 48 * HOUR_MS, now_ms() + 9 * 24 * HOUR_MS)
    # an earlier simulation of the cohort: history (t1 mediated, t2 and t3 were parties)
    await schedule(
        database,
        {"mediator": t1, "party_a": t2, "party_b": t3, "coach": coach},
        now_ms() - 24 * HOUR_MS,
        cohort=group.cohort,
    )
    # a booking inside the window (another cohort's): t4 is busy then
    booked = window[0] + 5 * HOUR_MS
    await schedule(database, {"party_a": t4}, booked, duration_min=90)
    # one outside it: no busy time
    await schedule(database, {"party_b": t4}, window[1] + HOUR_MS)
    await rounds.set_levels(database, group.cohort, {t2: 3})
    found = await rounds.inputs(database, group.cohort, *window)
    assert {t.id: t.level for t in found.trainees} == {t1: 0, t2: 3, t3: 0, t4: 0}
    assert {c.id for c in found.coaches} == set(group.coaches)
    assert set(found.availability) == {*group.trainees, *group.coaches}
    assert found.availability[t1].time_zone == group.zone_of[t1]
    [past] = found.history
    assert (past.mediator, past.parties, past.coach) == (t1, (t2, t3), coach)
    [busy] = found.busy[t4]
    assert int(busy.start.timestamp() * 1000) == booked
    assert int(busy.end.timestamp() * 1000) == booked + 90 * 60_000
    assert set(found.busy) == {t4}
    # a deactivated trainee is no longer matched
    async with database.transaction() as conn:
        await conn.execute(update(people).where(people.c.id == t3).values(active=False))
    found = await rounds.inputs(database, group.cohort, *window)
    assert t3 not in {t.id for t in found.trainees}


async def test_a_draft_is_swapped_deleted_or_published_all_at_once(database: Database) -> None:
    group = await round_cohort(database, trainees_per_zone=1)
    t1, t2, t3, t4 = group.trainees
    coach = group.coaches[0]
    window = (now_ms() + 48 * HOUR_MS, now_ms() + 72 * HOUR_MS)
    proposal = {"request": {}, "groups": [{"start_ms": window[0]}], "unplaced": [], "rules": []}
    draft = await rounds.add(database, group.cohort, "boundary-fence", window, 60, proposal, None)
    assert draft.status == rounds.DRAFT
    assert [r.id for r in await rounds.of_cohorts(database, [group.cohort])] == [draft.id]
    assert await rounds.of_cohorts(database, ["another"]) == []
    changed = await rounds.replace_proposal(database, draft.id, {**proposal, "unplaced": [1]})
    assert changed.proposal["unplaced"] == [1]

    seats = {SeatId("mediator"): t1, SeatId("party_a"): t2, SeatId("party_b"): t3}
    first = NewSimulation(window[0], 60, 1, {**seats, SeatId("coach"): coach})
    # a deactivated person in the second group: nothing is created, the round stays a draft
    async with database.transaction() as conn:
        await conn.execute(update(people).where(people.c.id == t4).values(active=False))
    second = NewSimulation(window[0] + 2 * HOUR_MS, 60, 1, {SeatId("mediator"): t4})
    async with database.reading() as conn:
        before = await conn.scalar(select(func.count()).select_from(simulations))
    with pytest.raises(InactivePerson):
        await rounds.publish(database, draft, [first, second], "admin-token", None)
    async with database.reading() as conn:
        assert await conn.scalar(select(func.count()).select_from(simulations)) == before
    again = await rounds.get(database, draft.id)
    assert again is not None and again.status == rounds.DRAFT

    ids = await rounds.publish(database, draft, [first], "admin-token", None)
    published = await rounds.get(database, draft.id)
    assert published is not None
    assert (published.status, published.proposal["simulations"]) == (rounds.PUBLISHED, ids)
    assert published.published_ms is not None
    made = await Simulations(database).get(ids[0])
    assert made is not None
    assert (made.cohort_id, made.scheduled_ms, made.duration_min) == (group.cohort, window[0], 60)
    assert {s.seat: s.person_id for s in made.seated} == {**seats, SeatId("coach"): coach}
    with pytest.raises(RoundPublished):
        await rounds.publish(database, draft, [first], "admin-token", None)
    with pytest.raises(RoundPublished):
        await rounds.remove_draft(database, draft.id, "admin-token")
    with pytest.raises(RoundPublished):
        await rounds.replace_proposal(database, draft.id, proposal)

    other = await rounds.add(database, group.cohort, "boundary-fence", window, 60, proposal, None)
    await rounds.remove_draft(database, other.id, "admin-token")
    assert await rounds.get(database, other.id) is None
    async with database.reading() as conn:
        actions = list(await conn.scalars(select(audit_log.c.action).order_by(audit_log.c.id)))
    assert actions[-2:] == ["round.publish", "round.delete"]
