"""Scheduled simulations and who sits where, in the database.

A simulation row is the one the room directory opens (scenario, observers, t0);
scheduling adds its cohort, planned start and length, who created it, when it
ended, and the people assigned to its seats (`seat_assignments`). The rules
(which seats exist, one seat per person, times) are checked by the caller with
`sessions.schedule`; here a person must exist and be active when seated.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from sessions.errors import DomainError
from sessions.ids import RoomId, SeatId
from storage import audit
from storage.database import Database
from storage.people import now_ms
from storage.schema import cohort_members, cohorts, people, seat_assignments, simulations


class UnknownPerson(DomainError):
    code = "unknown_person"
    status = 400  # named in the request's body, not its path


class InactivePerson(DomainError):
    code = "inactive_person"


class UnknownCohort(DomainError):
    code = "unknown_cohort"


class UnknownSimulation(DomainError):
    code = "not_found"


@dataclass(frozen=True)
class SeatedPerson:
    seat: SeatId
    person_id: str
    name: str
    active: bool


@dataclass(frozen=True)
class Simulation:
    id: RoomId
    scenario_id: str
    observers: int
    created_ms: int
    t0_ms: int | None
    cohort_id: str | None
    scheduled_ms: int | None
    duration_min: int | None
    ended_ms: int | None
    created_by: str | None
    seated: tuple[SeatedPerson, ...] = field(default=())

    @property
    def started(self) -> bool:
        """Someone opened its room (its session clock runs), or it was ended."""
        return self.t0_ms is not None or self.ended_ms is not None

    def seat_of(self, person_id: str) -> SeatId | None:
        for seated in self.seated:
            if seated.person_id == person_id:
                return seated.seat
        return None

    def person_in(self, seat: str) -> SeatedPerson | None:
        for seated in self.seated:
            if seated.seat == seat:
                return seated
        return None


#: a keyword argument left out of `update` (None means "clear it")
class _Unset:
    pass


UNSET: Any = _Unset()


def _simulation(row: Any, seated: tuple[SeatedPerson, ...]) -> Simulation:
    return Simulation(
        RoomId(row.id),
        row.scenario_id,
        int(row.observers),
        int(row.created_ms),
        row.t0_ms,
        row.cohort_id,
        row.scheduled_ms,
        row.duration_min,
        row.ended_ms,
        row.created_by,
        seated,
    )


async def _seated(conn: AsyncConnection, ids: list[str]) -> dict[str, list[SeatedPerson]]:
    found: dict[str, list[SeatedPerson]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = await conn.execute(
        select(
            seat_assignments.c.simulation_id,
            seat_assignments.c.seat,
            seat_assignments.c.person_id,
            people.c.name,
            people.c.active,
        )
        .join(people, people.c.id == seat_assignments.c.person_id)
        .where(seat_assignments.c.simulation_id.in_(ids))
        .order_by(seat_assignments.c.seat)
    )
    for row in rows:
        found[row.simulation_id].append(
            SeatedPerson(SeatId(row.seat), row.person_id, row.name, bool(row.active))
        )
    return found


async def _check_people(conn: AsyncConnection, person_ids: Collection[str]) -> None:
    if not person_ids:
        return
    rows = await conn.execute(
        select(people.c.id, people.c.active).where(people.c.id.in_(list(person_ids)))
    )
    active = {row.id: bool(row.active) for row in rows}
    for person_id in person_ids:
        if person_id not in active:
            raise UnknownPerson(f"there is no person {person_id[:40]!r}")
        if not active[person_id]:
            raise InactivePerson(f"person {person_id} is deactivated and cannot be seated")


async def _check_cohort(conn: AsyncConnection, cohort_id: str | None) -> None:
    if cohort_id is None:
        return
    found = (await conn.execute(select(cohorts.c.id).where(cohorts.c.id == cohort_id))).first()
    if found is None:
        raise UnknownCohort(f"there is no cohort {cohort_id[:40]!r}")


async def _seat(conn: AsyncConnection, simulation_id: str, seats: Mapping[SeatId, str]) -> None:
    await _check_people(conn, list(seats.values()))
    await conn.execute(
        delete(seat_assignments).where(seat_assignments.c.simulation_id == simulation_id)
    )
    if seats:
        await conn.execute(
            insert(seat_assignments),
            [
                {"simulation_id": simulation_id, "seat": seat, "person_id": person}
                for seat, person in seats.items()
            ],
        )


async def insert_simulation(
    conn: AsyncConnection,
    scenario_id: str,
    observers: int,
    *,
    cohort_id: str | None = None,
    scheduled_ms: int | None = None,
    duration_min: int | None = None,
    seats: Mapping[SeatId, str] | None = None,
    created_by: str | None = None,
) -> str:
    """A new simulation with its people seated, inside the caller's transaction (a
    practice round publishes all its groups in one); its id."""
    simulation_id = secrets.token_urlsafe(9)
    await _check_cohort(conn, cohort_id)
    await conn.execute(
        insert(simulations).values(
            id=simulation_id,
            scenario_id=scenario_id,
            observers=observers,
            created_ms=now_ms(),
            cohort_id=cohort_id,
            scheduled_ms=scheduled_ms,
            duration_min=duration_min,
            created_by=created_by,
        )
    )
    await _seat(conn, simulation_id, seats or {})
    return simulation_id


class Simulations:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def create(
        self,
        scenario_id: str,
        observers: int,
        *,
        cohort_id: str | None = None,
        scheduled_ms: int | None = None,
        duration_min: int | None = None,
        seats: Mapping[SeatId, str] | None = None,
        created_by: str | None = None,
    ) -> Simulation:
        """A new simulation with its people seated (all of it, or nothing)."""
        async with self.db.transaction() as conn:
            simulation_id = await insert_simulation(
                conn,
                scenario_id,
                observers,
                cohort_id=cohort_id,
                scheduled_ms=scheduled_ms,
                duration_min=duration_min,
                seats=seats,
                created_by=created_by,
            )
        found = await self.get(simulation_id)
        assert found is not None
        return found

    async def get(self, simulation_id: str) -> Simulation | None:
        async with self.db.reading() as conn:
            row = (
                await conn.execute(select(simulations).where(simulations.c.id == simulation_id))
            ).first()
            if row is None:
                return None
            seated = await _seated(conn, [row.id])
        return _simulation(row, tuple(seated[row.id]))

    async def find(
        self,
        from_ms: int | None = None,
        to_ms: int | None = None,
        cohort_ids: Collection[str] | None = None,
        limit: int = 500,
    ) -> list[Simulation]:
        """Simulations whose planned start (or, unscheduled, creation) is in [from, to),
        soonest first; only those of `cohort_ids` when given."""
        when = func.coalesce(simulations.c.scheduled_ms, simulations.c.created_ms)
        query = select(simulations).order_by(when, simulations.c.id).limit(limit)
        if from_ms is not None:
            query = query.where(when >= from_ms)
        if to_ms is not None:
            query = query.where(when < to_ms)
        if cohort_ids is not None:
            query = query.where(simulations.c.cohort_id.in_(list(cohort_ids)))
        async with self.db.reading() as conn:
            rows = list(await conn.execute(query))
            seated = await _seated(conn, [row.id for row in rows])
        return [_simulation(row, tuple(seated[row.id])) for row in rows]

    async def update(
        self,
        simulation_id: str,
        *,
        cohort_id: str | None = UNSET,
        scheduled_ms: int | None = UNSET,
        duration_min: int | None = UNSET,
        seats: Mapping[SeatId, str] | None = UNSET,
    ) -> Simulation:
        """Change what is given; `seats` replaces every assignment."""
        values: dict[str, Any] = {}
        if cohort_id is not UNSET:
            values["cohort_id"] = cohort_id
        if scheduled_ms is not UNSET:
            values["scheduled_ms"] = scheduled_ms
        if duration_min is not UNSET:
            values["duration_min"] = duration_min
        async with self.db.transaction() as conn:
            if cohort_id is not UNSET:
                await _check_cohort(conn, cohort_id)
            if values:
                changed = await conn.execute(
                    update(simulations).where(simulations.c.id == simulation_id).values(**values)
                )
                if changed.rowcount == 0:
                    raise UnknownSimulation(f"there is no simulation {simulation_id!r}")
            if seats is not UNSET:
                await _seat(conn, simulation_id, seats or {})
        found = await self.get(simulation_id)
        if found is None:
            raise UnknownSimulation(f"there is no simulation {simulation_id!r}")
        return found

    async def mark_ended(self, simulation_id: str, at_ms: int, actor: str | None = None) -> bool:
        """Note when it ended (the first time only); `actor` ended it by hand, which
        leaves an audit row (who, when). Whether `ended_ms` was set now."""
        async with self.db.transaction() as conn:
            changed = await conn.execute(
                update(simulations)
                .where(simulations.c.id == simulation_id, simulations.c.ended_ms.is_(None))
                .values(ended_ms=at_ms)
            )
            if actor is not None:
                await audit.record(conn, actor, "simulation.end", simulation_id, {})
        return bool(changed.rowcount)

    async def coached_cohorts(self, person_id: str) -> frozenset[str]:
        """The cohorts `person_id` coaches (a cohort_members row with role coach)."""
        async with self.db.reading() as conn:
            rows = await conn.execute(
                select(cohort_members.c.cohort_id).where(
                    cohort_members.c.person_id == person_id, cohort_members.c.role == "coach"
                )
            )
            return frozenset(row.cohort_id for row in rows)

    async def cohort_of(self, simulation_ids: Collection[str]) -> dict[str, str | None]:
        if not simulation_ids:
            return {}
        async with self.db.reading() as conn:
            rows = await conn.execute(
                select(simulations.c.id, simulations.c.cohort_id).where(
                    simulations.c.id.in_(list(simulation_ids))
                )
            )
            return {row.id: row.cohort_id for row in rows}

    async def of_person(self, person_id: str, from_ms: int | None = None) -> list[Simulation]:
        """The simulations `person_id` has a seat in (planned start from `from_ms`)."""
        when = func.coalesce(simulations.c.scheduled_ms, simulations.c.created_ms)
        query = (
            select(simulations)
            .join(seat_assignments, seat_assignments.c.simulation_id == simulations.c.id)
            .where(seat_assignments.c.person_id == person_id)
            .order_by(when)
        )
        if from_ms is not None:
            query = query.where(when >= from_ms)
        async with self.db.reading() as conn:
            rows = list(await conn.execute(query))
            seated = await _seated(conn, [row.id for row in rows])
        return [_simulation(row, tuple(seated[row.id])) for row in rows]
