"""Practice rounds in the database, and the matcher's inputs read from it.

`inputs` gathers what `sessions.matching.propose_round` needs for a cohort and a
window: its trainees (with their experience levels) and coaches, each one's stated
availability in their own zone, the history of groups (the seats of the cohort's
simulations planned before the window: earlier rounds' groups, and simulations
scheduled by hand), and every booking of these people that overlaps the window
(any simulation with a planned time, any cohort), so nobody is double-booked.

A round is a draft until published; publishing creates one simulation per group,
all of them in one transaction with the round's status, and an audit row.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from sessions.availability import Availability, Interval
from sessions.errors import DomainError
from sessions.ids import SeatId
from sessions.match_model import Coach, PastGroup, Trainee
from sessions.round_json import instant
from storage import audit
from storage.availability import availabilities
from storage.database import Database
from storage.people import now_ms
from storage.schema import (
    cohort_members,
    experience_levels,
    people,
    practice_rounds,
    seat_assignments,
    simulations,
)
from storage.simulations import insert_simulation

#: the longest planned simulation (sessions.match_model.GroupShape): bookings that start
#: this long before a window may still reach into it
LONGEST_MS = 480 * 60_000
DRAFT, PUBLISHED = "draft", "published"


class UnknownRound(DomainError):
    code = "not_found"


class RoundPublished(DomainError):
    code = "round_published"
    status = 409


@dataclass(frozen=True)
class Inputs:
    trainees: tuple[Trainee, ...]
    coaches: tuple[Coach, ...]
    availability: Mapping[str, Availability]
    history: tuple[PastGroup, ...]
    busy: Mapping[str, tuple[Interval, ...]]


@dataclass(frozen=True)
class Round:
    id: str
    cohort_id: str
    scenario_id: str
    window_start_ms: int
    window_end_ms: int
    duration_min: int
    status: str
    proposal: Mapping[str, Any]
    created_by: str | None
    created_ms: int
    published_ms: int | None


@dataclass(frozen=True)
class NewSimulation:
    """One group of a round, as the simulation publishing creates."""

    scheduled_ms: int
    duration_min: int
    observers: int
    seats: Mapping[SeatId, str]


def _round(row: Any) -> Round:
    return Round(
        row.id,
        row.cohort_id,
        row.scenario_id,
        int(row.window_start_ms),
        int(row.window_end_ms),
        int(row.duration_min),
        row.status,
        dict(row.proposal),
        row.created_by,
        int(row.created_ms),
        row.published_ms,
    )


async def _members(conn: AsyncConnection, cohort_id: str) -> tuple[list[str], list[str]]:
    """Active trainees and coaches of the cohort; someone in both roles coaches."""
    rows = await conn.execute(
        select(cohort_members.c.person_id, cohort_members.c.role)
        .join(people, people.c.id == cohort_members.c.person_id)
        .where(cohort_members.c.cohort_id == cohort_id, people.c.active.is_(True))
        .order_by(cohort_members.c.person_id)
    )
    trainees: list[str] = []
    coaches: list[str] = []
    for row in rows:
        (coaches if row.role == "coach" else trainees).append(row.person_id)
    return [t for t in trainees if t not in coaches], coaches


def past_group(seats: Mapping[str, str]) -> PastGroup | None:
    """A simulation's seats (seat → person) as a group of the history; None without a
    mediator (nobody practised mediating in it)."""
    mediator = seats.get("mediator")
    if mediator is None:
        return None
    parties = tuple(p for s, p in sorted(seats.items()) if s.startswith("party_"))
    observers = tuple(p for s, p in sorted(seats.items()) if s.startswith("observer_"))
    return PastGroup(mediator, parties, observers, seats.get("coach"))


async def _history(conn: AsyncConnection, cohort_id: str, before_ms: int) -> list[PastGroup]:
    when = func.coalesce(simulations.c.scheduled_ms, simulations.c.created_ms)
    rows = await conn.execute(
        select(
            seat_assignments.c.simulation_id, seat_assignments.c.seat, seat_assignments.c.person_id
        )
        .join(simulations, simulations.c.id == seat_assignments.c.simulation_id)
        .where(simulations.c.cohort_id == cohort_id, when < before_ms)
        .order_by(when, seat_assignments.c.simulation_id)
    )
    seats: dict[str, dict[str, str]] = {}
    for row in rows:
        seats.setdefault(row.simulation_id, {})[row.seat] = row.person_id
    return [g for s in seats.values() if (g := past_group(s)) is not None]


async def _busy(
    conn: AsyncConnection, person_ids: Sequence[str], start_ms: int, end_ms: int
) -> dict[str, tuple[Interval, ...]]:
    rows = await conn.execute(
        select(
            seat_assignments.c.person_id,
            simulations.c.scheduled_ms,
            simulations.c.duration_min,
        )
        .join(simulations, simulations.c.id == seat_assignments.c.simulation_id)
        .where(
            seat_assignments.c.person_id.in_(list(person_ids)),
            simulations.c.scheduled_ms.is_not(None),
            simulations.c.ended_ms.is_(None),
            simulations.c.scheduled_ms < end_ms,
            simulations.c.scheduled_ms > start_ms - LONGEST_MS,
        )
    )
    busy: dict[str, list[Interval]] = {}
    for row in rows:
        begin = int(row.scheduled_ms)
        finish = begin + int(row.duration_min or 60) * 60_000
        if finish > start_ms:
            busy.setdefault(row.person_id, []).append(Interval(instant(begin), instant(finish)))
    return {pid: tuple(spans) for pid, spans in busy.items()}


async def inputs(db: Database, cohort_id: str, start_ms: int, end_ms: int) -> Inputs:
    """What the matcher needs for `cohort_id` over [start_ms, end_ms)."""
    async with db.reading() as conn:
        trainee_ids, coach_ids = await _members(conn, cohort_id)
        rows = await conn.execute(
            select(experience_levels.c.person_id, experience_levels.c.level).where(
                experience_levels.c.cohort_id == cohort_id
            )
        )
        levels = {row.person_id: int(row.level) for row in rows}
        everyone = [*trainee_ids, *coach_ids]
        stated = await availabilities(conn, everyone)
        history = await _history(conn, cohort_id, start_ms)
        busy = await _busy(conn, everyone, start_ms, end_ms)
    return Inputs(
        tuple(Trainee(t, levels.get(t, 0)) for t in trainee_ids),
        tuple(Coach(c) for c in coach_ids),
        stated,
        tuple(history),
        busy,
    )


async def set_levels(db: Database, cohort_id: str, levels: Mapping[str, int]) -> None:
    """Set trainees' experience levels in a cohort (0 = newest)."""
    async with db.transaction() as conn:
        for person_id, level in levels.items():
            await conn.execute(
                delete(experience_levels).where(
                    experience_levels.c.cohort_id == cohort_id,
                    experience_levels.c.person_id == person_id,
                )
            )
            await conn.execute(
                insert(experience_levels).values(
                    cohort_id=cohort_id, person_id=person_id, level=level
                )
            )


async def levels_of(db: Database, cohort_id: str) -> dict[str, int]:
    async with db.reading() as conn:
        rows = await conn.execute(
            select(experience_levels.c.person_id, experience_levels.c.level).where(
                experience_levels.c.cohort_id == cohort_id
            )
        )
        return {row.person_id: int(row.level) for row in rows}


async def add(
    db: Database,
    cohort_id: str,
    scenario_id: str,
    window: tuple[int, int],
    duration_min: int,
    proposal: Mapping[str, Any],
    created_by: str | None,
) -> Round:
    round_id = secrets.token_urlsafe(9)
    async with db.transaction() as conn:
        await conn.execute(
            insert(practice_rounds).values(
                id=round_id,
                cohort_id=cohort_id,
                scenario_id=scenario_id,
                window_start_ms=window[0],
                window_end_ms=window[1],
                duration_min=duration_min,
                status=DRAFT,
                proposal=dict(proposal),
                created_by=created_by,
                created_ms=now_ms(),
            )
        )
    found = await get(db, round_id)
    assert found is not None
    return found


async def get(db: Database, round_id: str) -> Round | None:
    async with db.reading() as conn:
        row = (
            await conn.execute(select(practice_rounds).where(practice_rounds.c.id == round_id))
        ).first()
    return None if row is None else _round(row)


async def of_cohorts(db: Database, cohort_ids: Sequence[str] | None) -> list[Round]:
    """Rounds of `cohort_ids` (every cohort when None), latest window first."""
    query = select(practice_rounds).order_by(
        practice_rounds.c.window_start_ms.desc(), practice_rounds.c.created_ms.desc()
    )
    if cohort_ids is not None:
        query = query.where(practice_rounds.c.cohort_id.in_(list(cohort_ids)))
    async with db.reading() as conn:
        return [_round(row) for row in await conn.execute(query.limit(500))]


async def replace_proposal(db: Database, round_id: str, proposal: Mapping[str, Any]) -> Round:
    """A draft's proposal after a hand swap."""
    async with db.transaction() as conn:
        changed = await conn.execute(
            update(practice_rounds)
            .where(practice_rounds.c.id == round_id, practice_rounds.c.status == DRAFT)
            .values(proposal=dict(proposal))
        )
        if not changed.rowcount:
            raise RoundPublished("a published round does not change")
    found = await get(db, round_id)
    assert found is not None
    return found


async def remove_draft(db: Database, round_id: str, actor: str) -> None:
    async with db.transaction() as conn:
        gone = await conn.execute(
            delete(practice_rounds).where(
                practice_rounds.c.id == round_id, practice_rounds.c.status == DRAFT
            )
        )
        if not gone.rowcount:
            raise RoundPublished("a published round is not deleted; its simulations are")
        await audit.record(conn, actor, "round.delete", round_id, {})


async def publish(
    db: Database,
    practice_round: Round,
    groups: Sequence[NewSimulation],
    actor: str,
    created_by: str | None,
) -> list[str]:
    """Create one simulation per group and mark the round published, all at once; the
    simulations' ids (in the order of `groups`), also written into the proposal."""
    at = now_ms()
    async with db.transaction() as conn:
        taken = await conn.execute(
            update(practice_rounds)
            .where(practice_rounds.c.id == practice_round.id, practice_rounds.c.status == DRAFT)
            .values(status=PUBLISHED, published_ms=at)
        )
        if not taken.rowcount:
            raise RoundPublished("this round is already published")
        ids = [
            await insert_simulation(
                conn,
                practice_round.scenario_id,
                g.observers,
                cohort_id=practice_round.cohort_id,
                scheduled_ms=g.scheduled_ms,
                duration_min=g.duration_min,
                seats=g.seats,
                created_by=created_by,
            )
            for g in groups
        ]
        proposal = dict(practice_round.proposal)
        proposal["simulations"] = ids
        await conn.execute(
            update(practice_rounds)
            .where(practice_rounds.c.id == practice_round.id)
            .values(proposal=proposal)
        )
        await audit.record(
            conn,
            actor,
            "round.publish",
            practice_round.id,
            {"cohort": practice_round.cohort_id, "simulations": ids},
        )
    return ids
