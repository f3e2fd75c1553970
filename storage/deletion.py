"""Deleting a recording: its session's rows, one audit row, then its files.

The simulation's row goes in one transaction with the audit row that says who
deleted it; ON DELETE CASCADE takes its segments, events, notes and seat
assignments with it (on SQLite and PostgreSQL alike). The files go afterwards:
a crash between the two leaves files no row points at, never a row whose files
are missing. A session that is live, or still being recorded, is refused.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select

from sessions.errors import DomainError
from storage import audit
from storage.database import Database
from storage.schema import notes, segments, simulations

logger = logging.getLogger(__name__)

ACTION = "recording.delete"


class RecordingInProgress(DomainError):
    code = "recording_in_progress"


class NoSuchRecording(DomainError):
    code = "not_found"


@dataclass(frozen=True)
class Deleted:
    room_id: str
    scenario: str
    segments: int
    notes: int
    bytes: int


def _folder_bytes(folder: Path) -> int:
    try:
        return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    except OSError:
        return 0


def recording_folder(recordings_dir: Path, room_id: str) -> Path | None:
    """`recordings_dir/<room id>` (the recorder's layout), or None if the id would leave it."""
    base = recordings_dir.resolve()
    folder = (base / room_id).resolve()
    return folder if folder.parent == base else None


async def delete_recording(
    db: Database,
    recordings_dir: Path,
    room_id: str,
    actor: str,
    *,
    live: Callable[[str], bool] = lambda _room: False,
) -> Deleted:
    """Delete simulation `room_id`, everything recorded and noted in it, and its files.

    `actor` is who asked (a person's id, ``audit.ADMIN_TOKEN``, ``audit.RETENTION``);
    `live` says whether the room is live in this process (refused, like a segment
    still being recorded).
    """
    if live(room_id):
        raise RecordingInProgress("the session is live; end it before deleting its recording")
    folder = recording_folder(recordings_dir, room_id)
    size = 0 if folder is None else await asyncio.to_thread(_folder_bytes, folder)
    async with db.transaction() as conn:
        row = (
            await conn.execute(select(simulations.c.scenario_id).where(simulations.c.id == room_id))
        ).first()
        if row is None:
            raise NoSuchRecording(f"there is no recording {room_id!r}")
        recording = await conn.scalar(
            select(func.count())
            .select_from(segments)
            .where(segments.c.simulation_id == room_id, segments.c.status == "recording")
        )
        if recording:
            raise RecordingInProgress("the session is still being recorded; end it first")
        segment_count = await conn.scalar(
            select(func.count()).select_from(segments).where(segments.c.simulation_id == room_id)
        )
        note_count = await conn.scalar(
            select(func.count()).select_from(notes).where(notes.c.simulation_id == room_id)
        )
        deleted = Deleted(room_id, str(row.scenario_id), segment_count or 0, note_count or 0, size)
        await conn.execute(delete(simulations).where(simulations.c.id == room_id))
        await audit.record(
            conn,
            actor,
            ACTION,
            room_id,
            {
                "scenario": deleted.scenario,
                "segments": deleted.segments,
                "notes": deleted.notes,
                "bytes": deleted.bytes,
            },
        )
    if folder is not None:
        await asyncio.to_thread(shutil.rmtree, folder, True)
    logger.info("%s deleted recording %s (%d bytes)", actor, room_id, size)
    return deleted
