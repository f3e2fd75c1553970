"""The accountability tracker's facts in the database: logbook entries, the feedback
notes addressed to a trainee and which of them they read; certificates of completion
are `storage.certificates`.

Progress itself is `sessions.tracker.progress` (pure). The notes a trainee must read
are the notes addressed to the seat they sat in (their last join, else the seat
assigned to them) in the simulations whose logbook entries count toward the cohort,
that they may see: `sessions.annotations.may_see`, the rule the playback page and
the home page apply, decides; nothing here re-derives it. A note is read once
(the first time wins).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from sessions.annotations import may_see
from sessions.cohorts import Cohort
from sessions.ids import SeatId
from sessions.people import CohortRole, Person
from sessions.review import phase_bands
from sessions.scenarios import ObserverView, Scenario
from sessions.tracker import Logged, Progress, in_scope, progress, window
from storage import logbook
from storage.certificates import Certificate, certificate_for
from storage.certificates import issue as issue_certificate
from storage.cohorts import get as get_cohort
from storage.completed import SEATED, ScenarioOf
from storage.database import Database
from storage.schema import (
    cohort_members,
    events,
    note_reads,
    notes,
    people,
    scenarios,
    seat_assignments,
    simulations,
)


@dataclass(frozen=True)
class TraineeProgress:
    person_id: str
    name: str
    progress: Progress
    certificate: Certificate | None


# --- the notes addressed to a trainee ------------------------------------------------------


def _scenario_from(document: Any) -> Scenario | None:
    try:
        return Scenario.from_dict(document)
    except Exception:  # a malformed console document: its notes are judged joint-only
        return None


async def _views(
    conn: AsyncConnection, sim_ids: Sequence[str], scenario_of: ScenarioOf
) -> dict[str, ObserverView]:
    rows = await conn.execute(
        select(simulations.c.id, simulations.c.scenario_id).where(simulations.c.id.in_(sim_ids))
    )
    scenario_ids = {r.id: r.scenario_id for r in rows}
    known = {s: scenario_of(s) for s in set(scenario_ids.values())}
    missing = [s for s, found in known.items() if found is None]
    if missing:
        for row in await conn.execute(
            select(scenarios.c.id, scenarios.c.document).where(scenarios.c.id.in_(missing))
        ):
            known[row.id] = _scenario_from(row.document)
    views = {}
    for sim_id, scenario_id in scenario_ids.items():
        scenario = known.get(scenario_id)
        views[sim_id] = scenario.observer_view if scenario else ObserverView.JOINT_ONLY
    return views


async def _seats(conn: AsyncConnection, person_id: str, sim_ids: Sequence[str]) -> dict[str, str]:
    """The seat the person held in each simulation: the last one joined, else the assigned one."""
    seats: dict[str, str] = {}
    for row in await conn.execute(
        select(seat_assignments.c.simulation_id, seat_assignments.c.seat).where(
            seat_assignments.c.person_id == person_id,
            seat_assignments.c.simulation_id.in_(sim_ids),
        )
    ):
        seats[row.simulation_id] = row.seat
    for row in await conn.execute(
        select(events.c.simulation_id, events.c.seat)
        .where(
            events.c.identity == person_id,
            events.c.kind.in_(SEATED),
            events.c.simulation_id.in_(sim_ids),
        )
        .order_by(events.c.id)
    ):
        if row.seat:
            seats[row.simulation_id] = row.seat
    return seats


async def addressed(
    conn: AsyncConnection, person_id: str, sim_ids: Iterable[str], scenario_of: ScenarioOf
) -> dict[str, set[str]]:
    """Per simulation, the ids of the notes addressed to the person's seat that they may
    see (not their own)."""
    wanted = sorted(set(sim_ids))
    if not wanted:
        return {}
    seats = await _seats(conn, person_id, wanted)
    views = await _views(conn, wanted, scenario_of)
    timelines: dict[str, list[dict[str, Any]]] = {}
    last: dict[str, int] = {}
    for row in await conn.execute(
        select(events.c.simulation_id, events.c.t_ms, events.c.kind, events.c.detail)
        .where(events.c.simulation_id.in_(wanted))
        .order_by(events.c.id)
    ):
        last[row.simulation_id] = max(last.get(row.simulation_id, 0), int(row.t_ms))
        if row.kind == "phase":
            detail = row.detail if isinstance(row.detail, Mapping) else {}
            timelines.setdefault(row.simulation_id, []).append(
                {**detail, "t_ms": int(row.t_ms), "kind": "phase"}
            )
    by_sim: dict[str, list[dict[str, Any]]] = {}
    for row in await conn.execute(select(notes).where(notes.c.simulation_id.in_(wanted))):
        by_sim.setdefault(row.simulation_id, []).append(dict(row._mapping))
    found: dict[str, set[str]] = {}
    for sim_id, sim_notes in by_sim.items():
        seat = seats.get(sim_id)
        if seat is None:
            continue
        # the last phase lasts past every note, so no note falls outside the bands
        end = max([last.get(sim_id, 0), *(int(n["t_ms"]) for n in sim_notes)]) + 1
        bands = phase_bands(timelines.get(sim_id, []), end)
        found[sim_id] = {
            str(n["id"])
            for n in sim_notes
            if n["target"] == seat
            and n["author"] != person_id
            and may_see(n, SeatId(seat), person_id, bands, views[sim_id])
        }
    return found


async def read_ids(conn: AsyncConnection, person_id: str) -> set[str]:
    rows = await conn.scalars(
        select(note_reads.c.note_id).where(note_reads.c.person_id == person_id)
    )
    return set(rows.all())


async def mark_read(
    db: Database, person_id: str, note_id: str, now_ms: int, scenario_of: ScenarioOf
) -> int | None:
    """Record that the person opened note `note_id`; the moment it was first read, or None
    when the note is not addressed to them or not theirs to see (as if it did not exist)."""
    try:
        async with db.transaction() as conn:
            sim_id = await conn.scalar(select(notes.c.simulation_id).where(notes.c.id == note_id))
            if sim_id is None:
                return None
            visible = await addressed(conn, person_id, [sim_id], scenario_of)
            if note_id not in visible.get(sim_id, set()):
                return None
            first = await _first_read(conn, person_id, note_id)
            if first is not None:
                return first
            await conn.execute(
                insert(note_reads).values(person_id=person_id, note_id=note_id, read_ms=now_ms)
            )
            return now_ms
    except IntegrityError:  # the same note marked at the same moment by another request
        async with db.reading() as conn:
            return await _first_read(conn, person_id, note_id)


async def _first_read(conn: AsyncConnection, person_id: str, note_id: str) -> int | None:
    first = await conn.scalar(
        select(note_reads.c.read_ms).where(
            note_reads.c.person_id == person_id, note_reads.c.note_id == note_id
        )
    )
    return None if first is None else int(first)


# --- progress ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Book:
    """A trainee's logbook as the tracker reads it."""

    logged: list[tuple[str | None, Logged]]  # (simulation id, entry)
    addressed: dict[str, set[str]]
    read: set[str]


async def _book(db: Database, person_id: str, scenario_of: ScenarioOf) -> _Book:
    stored = await logbook.entries(db, person_id)
    sim_ids = sorted({s.simulation_id for s in stored if s.simulation_id})
    async with db.reading() as conn:
        cohort_of: dict[str, str | None] = {}
        if sim_ids:
            rows = await conn.execute(
                select(simulations.c.id, simulations.c.cohort_id).where(
                    simulations.c.id.in_(sim_ids)
                )
            )
            cohort_of = {r.id: r.cohort_id for r in rows}
        notes_of = await addressed(conn, person_id, sim_ids, scenario_of)
        read = await read_ids(conn, person_id)
    logged = [
        (
            s.simulation_id,
            Logged(s.entry, cohort_of.get(s.simulation_id) if s.simulation_id else None),
        )
        for s in stored
    ]
    return _Book(logged, notes_of, read)


def _progress(book: _Book, cohort: Cohort, time_zone: str, now_ms: int) -> Progress:
    dates = window(cohort, time_zone)
    counting = {sim for sim, e in book.logged if sim and in_scope(e, cohort.id, dates)}
    notes_to_read = set().union(*(book.addressed.get(sim, set()) for sim in counting))
    return progress(
        cohort, [e for _, e in book.logged], notes_to_read, book.read, time_zone, now_ms
    )


async def progress_of(
    db: Database, person: Person, cohort: Cohort, now_ms: int, scenario_of: ScenarioOf
) -> Progress:
    return _progress(await _book(db, person.id, scenario_of), cohort, person.time_zone, now_ms)


async def _trainee_cohorts(db: Database, person_id: str) -> list[str]:
    async with db.reading() as conn:
        rows = await conn.scalars(
            select(cohort_members.c.cohort_id).where(
                cohort_members.c.person_id == person_id,
                cohort_members.c.role == CohortRole.TRAINEE.value,
            )
        )
        return list(rows.all())


async def mine(
    db: Database, person: Person, now_ms: int, scenario_of: ScenarioOf
) -> list[tuple[Cohort, Progress, Certificate | None]]:
    """The person's progress in every cohort they train in (latest start first)."""
    book = await _book(db, person.id, scenario_of)
    found = []
    for cohort_id in await _trainee_cohorts(db, person.id):
        cohort = await get_cohort(db, cohort_id)
        if cohort is None:
            continue
        cert = await certificate_for(db, person.id, cohort.id)
        found.append((cohort, _progress(book, cohort, person.time_zone, now_ms), cert))
    return sorted(found, key=lambda f: (f[0].starts_on, f[0].name), reverse=True)


async def of_cohort(
    db: Database, cohort: Cohort, now_ms: int, scenario_of: ScenarioOf
) -> list[TraineeProgress]:
    """Every trainee of the cohort with their progress: who is behind first."""
    async with db.reading() as conn:
        rows = list(
            await conn.execute(
                select(people.c.id, people.c.name, people.c.time_zone)
                .join(cohort_members, cohort_members.c.person_id == people.c.id)
                .where(
                    cohort_members.c.cohort_id == cohort.id,
                    cohort_members.c.role == CohortRole.TRAINEE.value,
                )
            )
        )
    found: dict[str, TraineeProgress] = {}
    for row in rows:
        book = await _book(db, row.id, scenario_of)
        found[row.id] = TraineeProgress(
            row.id,
            row.name,
            _progress(book, cohort, row.time_zone, now_ms),
            await certificate_for(db, row.id, cohort.id),
        )
    # who is behind first, the furthest behind first, then by name (as `behind_first`)
    return sorted(
        found.values(), key=lambda t: (not t.progress.behind, -t.progress.lag, t.name.casefold())
    )


# --- certificates --------------------------------------------------------------------------


async def issue(
    db: Database, person: Person, cohort: Cohort, now_ms: int, scenario_of: ScenarioOf
) -> tuple[Certificate, bool]:
    """The person's certificate for the cohort, if their progress now meets every
    requirement (`storage.certificates.issue` says how)."""
    done = await progress_of(db, person, cohort, now_ms, scenario_of)
    return await issue_certificate(db, person, cohort, done, now_ms)
