"""Annotations stored durably: a write returns only after its transaction committed."""

from __future__ import annotations

import sqlite3
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from recordings.storage import GuardedConnection
from sessions.annotations import Draft
from sessions.ids import RoomId

SCHEMA = """
CREATE TABLE IF NOT EXISTS annotations (
    id TEXT PRIMARY KEY,
    simulation_id TEXT NOT NULL,
    author TEXT,           -- identity; NULL for an admin
    author_seat TEXT,
    t_ms INTEGER NOT NULL,
    text TEXT NOT NULL,
    skill TEXT,
    rating INTEGER,
    target TEXT,
    visibility TEXT NOT NULL,
    reply_to TEXT,
    created_ms INTEGER NOT NULL,
    edited_ms INTEGER
);
CREATE INDEX IF NOT EXISTS annotations_by_simulation ON annotations (simulation_id, t_ms);
"""

_COLUMNS = (
    "id, simulation_id, author, author_seat, t_ms, text, skill, rating, target, visibility,"
    " reply_to, created_ms, edited_ms"
)
_NAMES = [c.strip() for c in _COLUMNS.split(",")]


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class AnnotationStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db = GuardedConnection(db)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: an acknowledged note survives a power cut too, not only a killed process.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def add(
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
        self._db.execute(
            f"INSERT INTO annotations ({_COLUMNS}) VALUES ({', '.join('?' * len(_NAMES))})",
            [note[name] for name in _NAMES],
        )
        return note

    def get(self, room_id: RoomId, note_id: str) -> dict[str, Any] | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM annotations WHERE simulation_id = ? AND id = ?",
            (room_id, note_id),
        ).fetchone()
        return None if row is None else dict(zip(_NAMES, row, strict=True))

    def for_session(self, room_id: RoomId) -> list[dict[str, Any]]:
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM annotations WHERE simulation_id = ? ORDER BY t_ms, created_ms",
            (room_id,),
        ).fetchall()
        return [dict(zip(_NAMES, row, strict=True)) for row in rows]

    def update(self, room_id: RoomId, note_id: str, draft: Draft) -> dict[str, Any]:
        fields = asdict(draft)
        fields["visibility"] = str(fields["visibility"])
        del fields["reply_to"]
        self._db.execute(
            "UPDATE annotations SET t_ms = ?, text = ?, skill = ?, rating = ?, target = ?,"
            " visibility = ?, edited_ms = ? WHERE simulation_id = ? AND id = ?",
            (
                fields["t_ms"],
                fields["text"],
                fields["skill"],
                fields["rating"],
                fields["target"],
                fields["visibility"],
                _now_ms(),
                room_id,
                note_id,
            ),
        )
        note = self.get(room_id, note_id)
        assert note is not None
        return note

    def delete(self, room_id: RoomId, note_id: str) -> None:
        self._db.execute(
            "DELETE FROM annotations WHERE (simulation_id = ? AND id = ?) OR reply_to = ?",
            (room_id, note_id, note_id),
        )
