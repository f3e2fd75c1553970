"""Each person's stated availability in the database: weekly slots and dated exceptions,
kept as local wall times of the person's own zone (people.time_zone), so a weekly
09:00 stays 09:00 on their clock across daylight-saving changes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, time

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from sessions.availability import Availability, LocalRange, WeeklySlot
from sessions.stated_availability import DatedException, Statement, local
from storage.database import Database
from storage.schema import availability_exceptions, availability_slots, cohort_members, people


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


async def statements(conn: AsyncConnection, person_ids: Collection[str]) -> dict[str, Statement]:
    """The statement of each of `person_ids` (empty for those who stated nothing)."""
    ids = list(person_ids)
    weekly: dict[str, list[WeeklySlot]] = {i: [] for i in ids}
    dated: dict[str, list[DatedException]] = {i: [] for i in ids}
    if ids:
        rows = await conn.execute(
            select(availability_slots)
            .where(availability_slots.c.person_id.in_(ids))
            .order_by(availability_slots.c.weekday, availability_slots.c.start_min)
        )
        for row in rows:
            weekly[row.person_id].append(
                WeeklySlot(row.weekday, _time(row.start_min), _time(row.end_min))
            )
        rows = await conn.execute(
            select(availability_exceptions)
            .where(availability_exceptions.c.person_id.in_(ids))
            .order_by(availability_exceptions.c.starts, availability_exceptions.c.kind)
        )
        for row in rows:
            span = LocalRange(datetime.fromisoformat(row.starts), datetime.fromisoformat(row.ends))
            dated[row.person_id].append(DatedException(row.kind, span))
    return {i: Statement(tuple(weekly[i]), tuple(dated[i])) for i in ids}


async def availabilities(
    conn: AsyncConnection, person_ids: Collection[str]
) -> dict[str, Availability]:
    """Each person's availability in their own zone; those who stated nothing are left out
    (the matcher never places them, and says why)."""
    found = await statements(conn, person_ids)
    rows = await conn.execute(
        select(people.c.id, people.c.time_zone).where(people.c.id.in_(list(person_ids)))
    )
    zones = {row.id: row.time_zone for row in rows}
    return {
        pid: s.in_zone(zones[pid])
        for pid, s in found.items()
        if pid in zones and (s.weekly or any(e.kind == "extra" for e in s.exceptions))
    }


async def read(db: Database, person_id: str) -> Statement:
    async with db.reading() as conn:
        return (await statements(conn, [person_id]))[person_id]


async def replace(db: Database, person_id: str, statement: Statement) -> Statement:
    """Replace everything `person_id` stated with `statement` (one transaction)."""
    async with db.transaction() as conn:
        await conn.execute(
            delete(availability_slots).where(availability_slots.c.person_id == person_id)
        )
        await conn.execute(
            delete(availability_exceptions).where(availability_exceptions.c.person_id == person_id)
        )
        if statement.weekly:
            await conn.execute(
                insert(availability_slots),
                [
                    {
                        "person_id": person_id,
                        "weekday": s.weekday,
                        "start_min": _minutes(s.start),
                        "end_min": _minutes(s.end),
                    }
                    for s in statement.weekly
                ],
            )
        if statement.exceptions:
            await conn.execute(
                insert(availability_exceptions),
                [
                    {
                        "person_id": person_id,
                        "kind": e.kind,
                        "starts": local(e.range.start),
                        "ends": local(e.range.end),
                    }
                    for e in statement.exceptions
                ],
            )
        return (await statements(conn, [person_id]))[person_id]


async def reader_may_see(
    db: Database, person_id: str, cohort_ids: Iterable[str] | None
) -> tuple[str, str, str] | None:
    """(id, name, time zone) of `person_id` if they exist and, unless `cohort_ids` is None
    (an admin asks), belong to one of those cohorts; None otherwise."""
    async with db.reading() as conn:
        row = (
            await conn.execute(
                select(people.c.id, people.c.name, people.c.time_zone).where(
                    people.c.id == person_id
                )
            )
        ).first()
        if row is None:
            return None
        if cohort_ids is not None:
            shared = (
                await conn.execute(
                    select(cohort_members.c.cohort_id).where(
                        cohort_members.c.person_id == person_id,
                        cohort_members.c.cohort_id.in_(list(cohort_ids)),
                    )
                )
            ).first()
            if shared is None:
                return None
    return str(row.id), str(row.name), str(row.time_zone)
