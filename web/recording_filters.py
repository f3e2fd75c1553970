"""Filters of the recordings list: `?cohort=`, `?person=`, `?from=` and `?to=` (UTC ms).

`person` is a person's id, email or part of their name (or an identity typed on a
seat token): the sessions they sat in, by a join under that identity or a seat
assigned to them. `from`/`to` bound the session's start (its clock's t0, else its
planned start, else its creation), inclusive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select

from storage.database import Database
from storage.schema import events, people, seat_assignments, simulations
from web.errors import BadRequest

MAX_TEXT = 200
#: the largest ms a JavaScript number holds exactly
MAX_MS = 2**53 - 1
_JOINS = ("join", "resume", "replace")


@dataclass(frozen=True)
class RecordingFilter:
    cohort: str | None = None
    person: str | None = None
    from_ms: int | None = None
    to_ms: int | None = None


def _text(query: Mapping[str, str], name: str) -> str | None:
    if name not in query:
        return None
    value = query[name].strip()
    if not value or len(value) > MAX_TEXT:
        raise BadRequest(f"{name} must be 1 to {MAX_TEXT} characters")
    return value


def _ms(query: Mapping[str, str], name: str) -> int | None:
    if name not in query:
        return None
    raw = query[name].strip()
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_MS:
        raise BadRequest(f"{name} must be a time in UTC milliseconds (a whole number ≥ 0)")
    return int(raw)


def parse_filter(query: Mapping[str, str]) -> RecordingFilter | None:
    """The filter the query asks for; None if it asks for none. BadRequest on bad values."""
    found = RecordingFilter(
        _text(query, "cohort"), _text(query, "person"), _ms(query, "from"), _ms(query, "to")
    )
    if found.from_ms is not None and found.to_ms is not None and found.from_ms > found.to_ms:
        raise BadRequest("from must not be after to")
    return None if found == RecordingFilter() else found


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def matching(db: Database, wanted: RecordingFilter) -> set[str]:
    """Ids of the simulations that pass every part of `wanted`."""
    conditions: list[ColumnElement[bool]] = []
    if wanted.cohort is not None:
        conditions.append(simulations.c.cohort_id == wanted.cohort)
    started = func.coalesce(
        simulations.c.t0_ms, simulations.c.scheduled_ms, simulations.c.created_ms
    )
    if wanted.from_ms is not None:
        conditions.append(started >= wanted.from_ms)
    if wanted.to_ms is not None:
        conditions.append(started <= wanted.to_ms)
    if wanted.person is not None:
        needle = wanted.person
        persons = select(people.c.id).where(
            or_(
                people.c.id == needle,
                people.c.email == needle.lower(),
                func.lower(people.c.name).like(_like(needle), escape="\\"),
            )
        )
        joined = select(events.c.simulation_id).where(
            events.c.kind.in_(_JOINS),
            or_(events.c.identity == needle, events.c.identity.in_(persons)),
        )
        assigned = select(seat_assignments.c.simulation_id).where(
            seat_assignments.c.person_id.in_(persons)
        )
        conditions.append(or_(simulations.c.id.in_(joined), simulations.c.id.in_(assigned)))
    async with db.reading() as conn:
        return set((await conn.scalars(select(simulations.c.id).where(*conditions))).all())
