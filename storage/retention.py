"""Retention: recordings (and their feedback) older than N days are deleted.

A simulation's age runs from the last thing known to have happened in it: its
creation, its planned start, the last event of its timeline, its end. A session
created long ago but scheduled for next week, or one that ran yesterday, is kept.
Each deletion is an ordinary :func:`storage.deletion.delete_recording` by the
actor ``retention``, so each leaves its own audit row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from storage import audit
from storage.database import Database
from storage.deletion import Deleted, NoSuchRecording, RecordingInProgress, delete_recording
from storage.schema import events, simulations

logger = logging.getLogger(__name__)

DAY_MS = 24 * 3600 * 1000


async def expired(db: Database, cutoff_ms: int) -> list[str]:
    """Ids of the simulations nothing has happened in since `cutoff_ms` (wall clock)."""
    last_event = (
        select(events.c.simulation_id, func.max(events.c.t_ms).label("t_ms"))
        .group_by(events.c.simulation_id)
        .subquery()
    )
    query = (
        select(
            simulations.c.id,
            simulations.c.created_ms,
            simulations.c.t0_ms,
            simulations.c.scheduled_ms,
            simulations.c.ended_ms,
            last_event.c.t_ms,
        )
        .outerjoin(last_event, last_event.c.simulation_id == simulations.c.id)
        # creation is the earliest of the moments: a cheap first cut
        .where(simulations.c.created_ms < cutoff_ms)
        .order_by(simulations.c.created_ms)
    )
    async with db.reading() as conn:
        rows = (await conn.execute(query)).all()
    old = []
    for row in rows:
        moments = [row.created_ms, row.scheduled_ms, row.ended_ms]
        if row.t0_ms is not None:
            moments += [row.t0_ms, row.t0_ms + (row.t_ms or 0)]
        if max(m for m in moments if m is not None) < cutoff_ms:
            old.append(str(row.id))
    return old


async def apply_retention(
    db: Database,
    recordings_dir: Path,
    days: int,
    now_ms: int,
    live: Callable[[str], bool] = lambda _room: False,
) -> list[Deleted]:
    """Delete every recording older than `days` days (0: keep everything); live rooms stay."""
    if days <= 0:
        return []
    deleted = []
    for room_id in await expired(db, now_ms - days * DAY_MS):
        if live(room_id):
            continue
        try:
            deleted.append(
                await delete_recording(db, recordings_dir, room_id, audit.RETENTION, live=live)
            )
        except (RecordingInProgress, NoSuchRecording) as exc:
            # still being recorded (a room of another process), or deleted meanwhile
            logger.info("retention kept %s: %s", room_id, exc.message)
    if deleted:
        logger.info("retention deleted %d recordings older than %d days", len(deleted), days)
    return deleted
