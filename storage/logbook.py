"""Each person's logbook in the database: entries written by completed simulations,
entries written by hand, reflections on both.

A completed simulation's entries are built by `sessions.logbook.completed_entries`
from what the room left behind (`simulations`, `events`, `annotations`, and the
coach scheduled in `seat_assignments` when nobody joined the coach seat), read
straight from those tables; the unique (person, simulation) index makes writing
them idempotent, so the writer may run again at every start. A logbook is the
person's record: deleting the simulation leaves its entries (simulation_id NULL).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import Text, and_, cast, delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from sessions.ids import ScenarioId
from sessions.logbook import (
    Entry,
    FeedbackReceived,
    LogRole,
    Medium,
    Reflections,
    Source,
    completed_entries,
)
from sessions.people import Person
from sessions.scenarios import Scenario, builtin_scenarios
from storage import audit
from storage.completed import SEATED, ScenarioOf, completed
from storage.database import Database
from storage.people import now_ms
from storage.schema import (
    cohort_members,
    events,
    logbook_entries,
    people,
)

MAX_ENTRIES = 2000  # what one list answers; a logbook is years of practice, not more


@dataclass(frozen=True)
class StoredEntry:
    id: str
    person_id: str
    simulation_id: str | None
    entry: Entry
    created_ms: int
    updated_ms: int


class SortBy(StrEnum):
    DATE = "date"
    DURATION = "duration"
    ROLE = "role"


@dataclass(frozen=True)
class Filters:
    role: LogRole | None = None
    medium: Medium | None = None
    source: Source | None = None
    from_ms: int | None = None  # at_ms >= from_ms
    to_ms: int | None = None  # at_ms < to_ms
    text: str = ""  # in the scenario, names or reflections (case-insensitive)
    sort: SortBy = SortBy.DATE
    descending: bool = True


def _entry(row: Any) -> StoredEntry:
    return StoredEntry(
        id=row.id,
        person_id=row.person_id,
        simulation_id=row.simulation_id,
        entry=Entry(
            at_ms=int(row.at_ms),
            duration_min=int(row.duration_min),
            role=LogRole(row.role),
            medium=Medium(row.medium),
            scenario=row.scenario,
            coach=row.coach,
            co_participants=tuple(str(n) for n in (row.co_participants or ())),
            feedback=FeedbackReceived.from_json(row.feedback),
            reflections=Reflections(row.went_well, row.challenging, row.next_steps),
            source=Source(row.source),
        ),
        created_ms=int(row.created_ms),
        updated_ms=int(row.updated_ms),
    )


def _values(entry: Entry) -> dict[str, Any]:
    return {
        "source": entry.source.value,
        "at_ms": entry.at_ms,
        "duration_min": entry.duration_min,
        "role": entry.role.value,
        "medium": entry.medium.value,
        "scenario": entry.scenario,
        "coach": entry.coach,
        "co_participants": list(entry.co_participants),
        "feedback": entry.feedback.to_json(),
        "went_well": entry.reflections.went_well,
        "challenging": entry.reflections.challenging,
        "next_steps": entry.reflections.next_steps,
    }


# --- written by a completed simulation ---------------------------------------------------


@cache
def _shipped_scenarios() -> dict[ScenarioId, Scenario]:
    return builtin_scenarios()


def _shipped(scenario_id: str) -> Scenario | None:
    return _shipped_scenarios().get(ScenarioId(scenario_id))


async def record_completed(
    db: Database, room_id: str, scenario_of: ScenarioOf | None = None
) -> int:
    """Write the entries of simulation `room_id` if it has ended: one per participant who
    is a signed-in person (an identity that is a people.id), none for guests. Writing
    again writes nothing new. Returns how many entries were added. Scenarios are
    looked up with `scenario_of` (the shipped ones by default), then in the database."""
    lookup = scenario_of or _shipped
    async with db.reading() as conn:
        facts = await completed(conn, room_id, lookup)
    if facts is None:
        return 0
    identities = {e["identity"] for e in facts.timeline if isinstance(e.get("identity"), str)}
    if not identities:
        return 0
    now = now_ms()
    try:
        async with db.transaction() as conn:
            known = set(
                (await conn.scalars(select(people.c.id).where(people.c.id.in_(identities)))).all()
            )
            written = set(
                (
                    await conn.scalars(
                        select(logbook_entries.c.person_id).where(
                            logbook_entries.c.simulation_id == room_id
                        )
                    )
                ).all()
            )
            added = 0
            for person_id, entry in completed_entries(facts, known.__contains__).items():
                if person_id in written:
                    continue
                await conn.execute(
                    insert(logbook_entries).values(
                        id=secrets.token_urlsafe(9),
                        person_id=person_id,
                        simulation_id=room_id,
                        created_ms=now,
                        updated_ms=now,
                        **_values(entry),
                    )
                )
                added += 1
    except IntegrityError:  # another writer got there first: its entries stand
        return 0
    return added


async def unwritten(db: Database) -> list[str]:
    """Simulations a signed-in person sat in that have no logbook entry yet (ended or not:
    `record_completed` decides)."""
    has_entry = exists().where(logbook_entries.c.simulation_id == events.c.simulation_id)
    query = (
        select(events.c.simulation_id)
        .join(people, people.c.id == events.c.identity)
        .where(events.c.kind.in_(SEATED), ~has_entry)
        .distinct()
    )
    async with db.reading() as conn:
        return list((await conn.scalars(query)).all())


# --- reading and writing by hand ------------------------------------------------------------


def _matches(text: str) -> Any:
    """Entries whose scenario, coach, co-participants or reflections contain `text`
    (case-insensitive; SQLite folds the case of ASCII letters only)."""
    needle = text.lower()
    columns = (
        logbook_entries.c.scenario,
        logbook_entries.c.coach,
        logbook_entries.c.went_well,
        logbook_entries.c.challenging,
        logbook_entries.c.next_steps,
    )
    names = func.lower(cast(logbook_entries.c.co_participants, Text))
    # the names are stored as JSON, where a non-ASCII letter is written \uXXXX: the
    # text as typed and in lower case, escaped the same way
    as_json = {json.dumps(t)[1:-1].lower() for t in (text, needle)}
    return or_(
        *(func.lower(c).contains(needle, autoescape=True) for c in columns),
        names.contains(needle, autoescape=True),
        *(names.contains(j, autoescape=True) for j in sorted(as_json)),
    )


def _order(filters: Filters) -> list[Any]:
    column = {
        SortBy.DATE: logbook_entries.c.at_ms,
        SortBy.DURATION: logbook_entries.c.duration_min,
        SortBy.ROLE: logbook_entries.c.role,
    }[filters.sort]
    first = column.desc() if filters.descending else column.asc()
    return [first, logbook_entries.c.at_ms.desc(), logbook_entries.c.id]


async def entries(db: Database, person_id: str, filters: Filters = Filters()) -> list[StoredEntry]:
    """The person's entries that pass `filters`, in its order."""
    conditions = [logbook_entries.c.person_id == person_id]
    if filters.role is not None:
        conditions.append(logbook_entries.c.role == filters.role.value)
    if filters.medium is not None:
        conditions.append(logbook_entries.c.medium == filters.medium.value)
    if filters.source is not None:
        conditions.append(logbook_entries.c.source == filters.source.value)
    if filters.from_ms is not None:
        conditions.append(logbook_entries.c.at_ms >= filters.from_ms)
    if filters.to_ms is not None:
        conditions.append(logbook_entries.c.at_ms < filters.to_ms)
    if filters.text.strip():
        conditions.append(_matches(filters.text.strip()))
    query = select(logbook_entries).where(and_(*conditions)).order_by(*_order(filters))
    async with db.reading() as conn:
        rows = await conn.execute(query.limit(MAX_ENTRIES))
        return [_entry(r) for r in rows]


async def entry(db: Database, person_id: str, entry_id: str) -> StoredEntry | None:
    """One of the person's entries (None: no such entry, or someone else's)."""
    async with db.reading() as conn:
        row = (
            await conn.execute(
                select(logbook_entries).where(
                    logbook_entries.c.id == entry_id, logbook_entries.c.person_id == person_id
                )
            )
        ).first()
    return _entry(row) if row is not None else None


async def add(db: Database, person_id: str, new: Entry) -> StoredEntry:
    """A hand-written entry (checked by `sessions.logbook.manual_entry`)."""
    now = now_ms()
    entry_id = secrets.token_urlsafe(9)
    new = replace(new, source=Source.MANUAL)
    async with db.transaction() as conn:
        await conn.execute(
            insert(logbook_entries).values(
                id=entry_id,
                person_id=person_id,
                simulation_id=None,
                created_ms=now,
                updated_ms=now,
                **_values(new),
            )
        )
    return StoredEntry(entry_id, person_id, None, new, now, now)


async def change(db: Database, stored: StoredEntry, new: Entry) -> StoredEntry:
    """Store `new` as the entry's content (the caller decides what may change: on an
    entry a simulation wrote, only the reflections)."""
    now = now_ms()
    async with db.transaction() as conn:
        await conn.execute(
            update(logbook_entries)
            .where(logbook_entries.c.id == stored.id)
            .values(updated_ms=now, **_values(new))
        )
    return replace(stored, entry=new, updated_ms=now)


async def remove(db: Database, stored: StoredEntry, actor: str) -> None:
    """Delete an entry (an audit row says who)."""
    async with db.transaction() as conn:
        await conn.execute(delete(logbook_entries).where(logbook_entries.c.id == stored.id))
        await audit.record(
            conn,
            actor,
            "logbook.delete",
            stored.id,
            {"person": stored.person_id, "source": stored.entry.source.value},
        )


async def may_read(db: Database, reader: Person, person_id: str) -> bool:
    """Whether `reader` may read `person_id`'s logbook: their own, an admin any, a coach
    those of the people in a cohort they coach."""
    if reader.id == person_id or reader.is_admin:
        return True
    coach = cohort_members.alias("coach")
    member = cohort_members.alias("member")
    query = (
        select(func.count())
        .select_from(coach)
        .join(member, member.c.cohort_id == coach.c.cohort_id)
        .where(
            coach.c.person_id == reader.id,
            coach.c.role == "coach",
            member.c.person_id == person_id,
        )
    )
    async with db.reading() as conn:
        return bool(await conn.scalar(query))


async def person(db: Database, person_id: str) -> Mapping[str, Any] | None:
    """A logbook's owner: id, name, email, time zone (None: no such person)."""
    async with db.reading() as conn:
        row = (
            await conn.execute(
                select(people.c.id, people.c.name, people.c.email, people.c.time_zone).where(
                    people.c.id == person_id
                )
            )
        ).first()
    return dict(row._mapping) if row is not None else None
