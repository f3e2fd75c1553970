"""Which recorded sessions a signed-in person reviews, and the recordings list's filters."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select

from sessions.ids import RoomId, SeatId
from sessions.people import CohortRole
from sessions.roles import COACH_SEAT
from storage.database import Database
from storage.schema import cohort_members, events, people, seat_assignments, simulations

_JOINS = ("join", "resume", "replace")


@dataclass(frozen=True)
class RecordingFilter:
    """`?cohort=`, `?person=` (id, email, part of a name, or a token identity), `?from=`/`?to=`."""

    cohort: str | None = None
    person: str | None = None
    from_ms: int | None = None
    to_ms: int | None = None


async def seats_of_person(db: Database, person_id: str) -> dict[RoomId, SeatId]:
    """Every session `person_id` may review, with the seat they review it from."""
    coached = (
        select(simulations.c.id)
        .join(cohort_members, cohort_members.c.cohort_id == simulations.c.cohort_id)
        .where(
            cohort_members.c.person_id == person_id,
            cohort_members.c.role == CohortRole.COACH.value,
        )
    )
    assigned = select(seat_assignments.c.simulation_id, seat_assignments.c.seat).where(
        seat_assignments.c.person_id == person_id
    )
    joined = (
        select(events.c.simulation_id, events.c.seat)
        .where(events.c.identity == person_id, events.c.kind.in_(_JOINS))
        .order_by(events.c.id)
    )
    seats: dict[RoomId, SeatId] = {}
    async with db.reading() as conn:
        # later wins: a seat assigned, then the seat actually taken (the last one held),
        # then coaching the cohort (a coach reviews their cohort's sessions as its coach)
        for room, seat in (await conn.execute(assigned)).all():
            seats[RoomId(room)] = SeatId(seat)
        for room, seat in (await conn.execute(joined)).all():
            if seat is not None:
                seats[RoomId(room)] = SeatId(seat)
        for (room,) in (await conn.execute(coached)).all():
            seats[RoomId(room)] = COACH_SEAT
    return seats


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
