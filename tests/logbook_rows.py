"""A simulation that ran and ended, written straight into the tables as a room would."""

from __future__ import annotations

import secrets

from sqlalchemy import insert, update

from storage.database import Database
from storage.people import now_ms
from storage.schema import notes, simulations
from tests.home_rows import note, ran, schedule

HOUR_MS = 3600_000


async def finished(
    db: Database,
    sitters: dict[str, tuple[str, str]],
    *,
    t0_ms: int | None = None,
    seats: dict[str, str] | None = None,
) -> str:
    """A simulation whose seats were held by `sitters` (seat → (identity, name)): joint
    from 1 s, a caucus with party_a from 60 s to 120 s, ended at 300 s; t0 `t0_ms`."""
    sim = await schedule(db, seats or {}, None)
    async with db.transaction() as conn:
        await conn.execute(
            update(simulations)
            .where(simulations.c.id == sim)
            .values(t0_ms=t0_ms if t0_ms is not None else now_ms() - HOUR_MS)
        )
    await ran(db, sim, sitters)
    return sim


async def rated(
    db: Database,
    sim_id: str,
    target: str,
    skill: str,
    rating: int,
    *,
    t_ms: int = 30_000,
    visibility: str = "target",
) -> str:
    note_id = secrets.token_urlsafe(6)
    async with db.transaction() as conn:
        await conn.execute(
            insert(notes).values(
                id=note_id,
                simulation_id=sim_id,
                author="coach-identity",
                author_seat="coach",
                t_ms=t_ms,
                text=f"{skill}: {rating}",
                skill=skill,
                rating=rating,
                target=target,
                visibility=visibility,
                created_ms=now_ms(),
            )
        )
    return note_id


__all__ = ["finished", "note", "rated"]
