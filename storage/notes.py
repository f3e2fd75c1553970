"""Notes (annotations) stored durably: a write returns only after its transaction committed.

A note belongs to its simulation (ON DELETE CASCADE): deleting a recording
deletes its feedback too.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict
from typing import Any

from sqlalchemy import delete, insert, or_, select, update

from sessions.annotations import Draft
from sessions.ids import RoomId
from storage.database import Database
from storage.faults import reading, transaction
from storage.schema import notes

_NAMES = [column.name for column in notes.columns]


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _note(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _NAMES}


class Notes:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def add(
        self, room_id: RoomId, draft: Draft, author: str | None, author_seat: str | None
    ) -> dict[str, Any]:
        note = {
            "id": uuid.uuid4().hex,
            "simulation_id": room_id,
            "author": author,
            "author_seat": author_seat,
            **asdict(draft),
            "created_ms": _now_ms(),
            "edited_ms": None,
        }
        note["visibility"] = str(note["visibility"])
        async with transaction(self.database) as conn:
            await conn.execute(insert(notes).values({name: note[name] for name in _NAMES}))
        return {name: note[name] for name in _NAMES}

    async def get(self, room_id: RoomId, note_id: str) -> dict[str, Any] | None:
        query = select(notes).where(notes.c.simulation_id == room_id, notes.c.id == note_id)
        async with reading(self.database) as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else _note(row)

    async def for_session(self, room_id: RoomId) -> list[dict[str, Any]]:
        query = (
            select(notes)
            .where(notes.c.simulation_id == room_id)
            .order_by(notes.c.t_ms, notes.c.created_ms)
        )
        async with reading(self.database) as conn:
            rows = (await conn.execute(query)).all()
        return [_note(row) for row in rows]

    async def update(self, room_id: RoomId, note_id: str, draft: Draft) -> dict[str, Any]:
        async with transaction(self.database) as conn:
            await conn.execute(
                update(notes)
                .where(notes.c.simulation_id == room_id, notes.c.id == note_id)
                .values(
                    t_ms=draft.t_ms,
                    text=draft.text,
                    skill=draft.skill,
                    rating=draft.rating,
                    target=draft.target,
                    visibility=str(draft.visibility),
                    edited_ms=_now_ms(),
                )
            )
            row = (
                await conn.execute(
                    select(notes).where(notes.c.simulation_id == room_id, notes.c.id == note_id)
                )
            ).first()
        assert row is not None
        return _note(row)

    async def delete(self, room_id: RoomId, note_id: str) -> None:
        """Delete the note and the replies to it."""
        async with transaction(self.database) as conn:
            await conn.execute(
                delete(notes).where(
                    or_(
                        (notes.c.simulation_id == room_id) & (notes.c.id == note_id),
                        notes.c.reply_to == note_id,
                    )
                )
            )
