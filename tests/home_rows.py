"""Rows the home page reads, written straight into the tables (as scheduling and rooms would)."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import insert

from storage.database import Database
from storage.people import now_ms
from storage.schema import (
    cohort_members,
    cohorts,
    events,
    notes,
    seat_assignments,
    segments,
    simulations,
)

MINUTE_MS = 60_000


async def schedule(
    db: Database,
    seats: dict[str, str],
    scheduled_ms: int | None,
    *,
    duration_min: int = 60,
    scenario: str = "boundary-fence",
    cohort: str | None = None,
    ended_ms: int | None = None,
) -> str:
    """A simulation with `seats` (seat → person id) assigned; returns its id."""
    sim_id = secrets.token_urlsafe(6)
    async with db.transaction() as conn:
        await conn.execute(
            insert(simulations).values(
                id=sim_id,
                scenario_id=scenario,
                observers=1,
                created_ms=now_ms(),
                cohort_id=cohort,
                scheduled_ms=scheduled_ms,
                duration_min=duration_min,
                ended_ms=ended_ms,
            )
        )
        for seat, person in seats.items():
            await conn.execute(
                insert(seat_assignments).values(simulation_id=sim_id, seat=seat, person_id=person)
            )
    return sim_id


async def cohort_with_coach(db: Database, coach_id: str) -> str:
    cohort_id = secrets.token_urlsafe(6)
    async with db.transaction() as conn:
        await conn.execute(
            insert(cohorts).values(
                id=cohort_id,
                name="Spring mediation course",
                starts_on="2026-03-01",
                ends_on="2026-06-30",
                requirements={},
                created_ms=now_ms(),
            )
        )
        await conn.execute(
            insert(cohort_members).values(cohort_id=cohort_id, person_id=coach_id, role="coach")
        )
    return cohort_id


async def event(
    db: Database,
    sim_id: str,
    t_ms: int,
    kind: str,
    seat: str | None = None,
    identity: str | None = None,
    **detail: Any,
) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            insert(events).values(
                simulation_id=sim_id,
                t_ms=t_ms,
                kind=kind,
                seat=seat,
                detail=detail,
                identity=identity,
            )
        )


async def ran(db: Database, sim_id: str, sitters: dict[str, tuple[str, str]]) -> None:
    """The room's timeline: each seat joined (seat → (identity, name)); joint session
    from 1 s, a caucus with party_a from 60 s to 120 s, ended at 300 s; one recorded segment."""
    for seat, (identity, name) in sitters.items():
        await event(db, sim_id, 500, "join", seat, identity, name=name)
    await event(db, sim_id, 1_000, "phase", phase="joint")
    await event(db, sim_id, 60_000, "phase", phase="caucus:party_a")
    await event(db, sim_id, 120_000, "phase", phase="joint")
    await event(db, sim_id, 300_000, "phase", phase="ended")
    async with db.transaction() as conn:
        await conn.execute(
            insert(segments).values(
                simulation_id=sim_id,
                seat="mediator",
                kind="audio",
                codec="opus",
                visibility="public",
                path=f"{sim_id}/mediator-0.webm",
                start_ms=1_000,
                duration_ms=299_000,
                status="complete",
            )
        )


async def note(
    db: Database,
    sim_id: str,
    text: str,
    *,
    t_ms: int = 30_000,
    target: str | None = None,
    visibility: str = "target",
    author: str = "coach-identity",
    author_seat: str = "coach",
    created_ms: int | None = None,
) -> str:
    note_id = secrets.token_urlsafe(6)
    async with db.transaction() as conn:
        await conn.execute(
            insert(notes).values(
                id=note_id,
                simulation_id=sim_id,
                author=author,
                author_seat=author_seat,
                t_ms=t_ms,
                text=text,
                target=target,
                visibility=visibility,
                created_ms=created_ms if created_ms is not None else now_ms(),
            )
        )
    return note_id
