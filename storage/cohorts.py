"""Cohorts in the database: the course runs, who coaches and trains in each, their scenarios.

A person may coach one cohort and be a trainee in another (cohort_members.role);
their standing in the organisation (people.role) is a separate thing.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from sessions.cohorts import Cohort, Requirements
from sessions.errors import DomainError
from sessions.people import CohortRole
from storage import audit
from storage.database import Database
from storage.people import now_ms
from storage.schema import cohort_members, cohort_scenarios, cohorts, people, simulations

#: members of one cohort in one role, at most
MEMBERS_MAX = 500
SCENARIOS_MAX = 100


class UnknownCohort(DomainError):
    code = "unknown_cohort"


class UnknownPeople(DomainError):
    """Some ids name nobody, or somebody deactivated; `ids` lists them."""

    code = "unknown_people"

    def __init__(self, ids: Sequence[str]) -> None:
        super().__init__(f"no active person has the id {', '.join(ids)}")
        self.ids = list(ids)


@dataclass(frozen=True)
class Member:
    person_id: str
    name: str
    email: str
    role: CohortRole


@dataclass(frozen=True)
class Membership:
    """A cohort and the part a person plays in it."""

    cohort: Cohort
    role: CohortRole


def new_cohort_id() -> str:
    return secrets.token_urlsafe(9)


def _cohort(row: Any) -> Cohort:
    return Cohort(
        row.id,
        row.name,
        datetime.date.fromisoformat(row.starts_on),
        datetime.date.fromisoformat(row.ends_on),
        Requirements.from_dict(dict(row.requirements)),
        row.created_ms,
    )


def _values(cohort: Cohort) -> dict[str, Any]:
    return {
        "name": cohort.name,
        "starts_on": cohort.starts_on.isoformat(),
        "ends_on": cohort.ends_on.isoformat(),
        "requirements": cohort.requirements.to_dict(),
    }


async def add(db: Database, data: Mapping[str, Any]) -> Cohort:
    """A new cohort from a request's fields (validated by `Cohort.from_dict`)."""
    cohort = Cohort.from_dict(new_cohort_id(), data, now_ms())
    async with db.transaction() as conn:
        await conn.execute(
            insert(cohorts).values(id=cohort.id, created_ms=cohort.created_ms, **_values(cohort))
        )
    return cohort


async def get(db: Database, cohort_id: str) -> Cohort | None:
    async with db.reading() as conn:
        row = (await conn.execute(select(cohorts).where(cohorts.c.id == cohort_id))).first()
    return None if row is None else _cohort(row)


async def every(db: Database) -> list[Cohort]:
    async with db.reading() as conn:
        rows = await conn.execute(select(cohorts).order_by(cohorts.c.starts_on, cohorts.c.name))
    return [_cohort(row) for row in rows]


async def change(db: Database, cohort_id: str, data: Mapping[str, Any]) -> Cohort:
    """The cohort with some of name, starts_on, ends_on, requirements changed."""
    async with db.transaction() as conn:
        row = (
            await conn.execute(select(cohorts).where(cohorts.c.id == cohort_id).with_for_update())
        ).first()
        if row is None:
            raise UnknownCohort(f"there is no cohort {cohort_id!r}")
        cohort = _cohort(row).changed(data)
        await conn.execute(update(cohorts).where(cohorts.c.id == cohort_id).values(_values(cohort)))
    return cohort


async def remove(db: Database, cohort_id: str, actor: str) -> None:
    """Delete a cohort, its memberships and scenario list; its simulations stay, unattached."""
    async with db.transaction() as conn:
        row = (await conn.execute(select(cohorts).where(cohorts.c.id == cohort_id))).first()
        if row is None:
            raise UnknownCohort(f"there is no cohort {cohort_id!r}")
        # ON DELETE SET NULL would do it too; done here so the audit row can say how many.
        detached = await conn.execute(
            update(simulations).where(simulations.c.cohort_id == cohort_id).values(cohort_id=None)
        )
        await conn.execute(delete(cohort_members).where(cohort_members.c.cohort_id == cohort_id))
        await conn.execute(
            delete(cohort_scenarios).where(cohort_scenarios.c.cohort_id == cohort_id)
        )
        await conn.execute(delete(cohorts).where(cohorts.c.id == cohort_id))
        await audit.record(
            conn,
            actor,
            "cohort.delete",
            cohort_id,
            {"name": row.name, "simulations_detached": detached.rowcount},
        )


async def _require(conn: AsyncConnection, cohort_id: str) -> None:
    found = (await conn.execute(select(cohorts.c.id).where(cohorts.c.id == cohort_id))).first()
    if found is None:
        raise UnknownCohort(f"there is no cohort {cohort_id!r}")


async def members(db: Database, cohort_id: str) -> list[Member]:
    query = (
        select(cohort_members.c.role, people.c.id, people.c.name, people.c.email)
        .join(people, people.c.id == cohort_members.c.person_id)
        .where(cohort_members.c.cohort_id == cohort_id)
        .order_by(cohort_members.c.role, people.c.name, people.c.id)
    )
    async with db.reading() as conn:
        rows = await conn.execute(query)
    return [Member(r.id, r.name, r.email, CohortRole(r.role)) for r in rows]


async def set_members(
    db: Database, cohort_id: str, coaches: Sequence[str], trainees: Sequence[str]
) -> None:
    """Replace the cohort's members. Every id must name an active person; nobody is both."""
    wanted = set(coaches) | set(trainees)
    async with db.transaction() as conn:
        await _require(conn, cohort_id)
        found = set()
        if wanted:
            rows = await conn.execute(
                select(people.c.id).where(people.c.id.in_(wanted), people.c.active.is_(True))
            )
            found = {row.id for row in rows}
        missing = [pid for pid in dict.fromkeys([*coaches, *trainees]) if pid not in found]
        if missing:
            raise UnknownPeople(missing)
        await conn.execute(delete(cohort_members).where(cohort_members.c.cohort_id == cohort_id))
        rows_in = [
            {"cohort_id": cohort_id, "person_id": pid, "role": role.value}
            for role, ids in ((CohortRole.COACH, coaches), (CohortRole.TRAINEE, trainees))
            for pid in dict.fromkeys(ids)
        ]
        if rows_in:
            await conn.execute(insert(cohort_members), rows_in)


async def scenarios_of(db: Database, cohort_id: str) -> list[str]:
    async with db.reading() as conn:
        rows = await conn.execute(
            select(cohort_scenarios.c.scenario_id)
            .where(cohort_scenarios.c.cohort_id == cohort_id)
            .order_by(cohort_scenarios.c.scenario_id)
        )
    return [row.scenario_id for row in rows]


async def set_scenarios(db: Database, cohort_id: str, scenario_ids: Iterable[str]) -> None:
    """Replace the scenarios the cohort uses (the caller checks that each exists)."""
    async with db.transaction() as conn:
        await _require(conn, cohort_id)
        await conn.execute(
            delete(cohort_scenarios).where(cohort_scenarios.c.cohort_id == cohort_id)
        )
        rows = [{"cohort_id": cohort_id, "scenario_id": s} for s in dict.fromkeys(scenario_ids)]
        if rows:
            await conn.execute(insert(cohort_scenarios), rows)


async def coaches_cohort(db: Database, person_id: str, cohort_id: str) -> bool:
    """Whether the person is a coach of the cohort (for other slices' permission checks)."""
    async with db.reading() as conn:
        row = (
            await conn.execute(
                select(cohort_members.c.person_id).where(
                    cohort_members.c.cohort_id == cohort_id,
                    cohort_members.c.person_id == person_id,
                    cohort_members.c.role == CohortRole.COACH.value,
                )
            )
        ).first()
    return row is not None


async def cohorts_of(db: Database, person_id: str) -> list[Membership]:
    """Every cohort the person belongs to, with their role in it (coach first, then by date)."""
    query = (
        select(cohorts, cohort_members.c.role.label("member_role"))
        .join(cohort_members, cohort_members.c.cohort_id == cohorts.c.id)
        .where(cohort_members.c.person_id == person_id)
        .order_by(cohort_members.c.role, cohorts.c.starts_on, cohorts.c.name)
    )
    async with db.reading() as conn:
        rows = await conn.execute(query)
    return [Membership(_cohort(row), CohortRole(row.member_role)) for row in rows]


async def coaches_trainee(db: Database, coach_id: str, trainee_id: str) -> bool:
    """Whether `coach_id` coaches a cohort in which `trainee_id` trains."""
    coached = select(cohort_members.c.cohort_id).where(
        cohort_members.c.person_id == coach_id,
        cohort_members.c.role == CohortRole.COACH.value,
    )
    query = select(cohort_members.c.person_id).where(
        cohort_members.c.person_id == trainee_id,
        cohort_members.c.role == CohortRole.TRAINEE.value,
        cohort_members.c.cohort_id.in_(coached),
    )
    async with db.reading() as conn:
        return (await conn.execute(query.limit(1))).first() is not None
