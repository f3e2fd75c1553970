"""The catalogue in the embedded database: simulations and their timelines, in SQLite."""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recordings.storage import GuardedConnection
from sessions.ids import RoomId, ScenarioId, SeatId
from sessions.timeline import Event

SCHEMA = """
CREATE TABLE IF NOT EXISTS simulations (
    id TEXT PRIMARY KEY,
    scenario_id TEXT NOT NULL,
    observers INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    t0_ms INTEGER
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    simulation_id TEXT NOT NULL REFERENCES simulations(id) ON DELETE CASCADE,
    t_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    seat TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_simulation ON events (simulation_id, t_ms);
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY,
    simulation_id TEXT NOT NULL REFERENCES simulations(id) ON DELETE CASCADE,
    seat TEXT NOT NULL,
    kind TEXT NOT NULL,
    codec TEXT NOT NULL,
    -- "public" or "caucus:<party seat>": who may later watch this stretch
    visibility TEXT NOT NULL,
    path TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    frames INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    -- "recording" while open; "complete" when closed; "interrupted" after a crash;
    -- "failed" when the disk refused it (reason says why)
    status TEXT NOT NULL DEFAULT 'recording',
    reason TEXT
);
CREATE INDEX IF NOT EXISTS segments_by_simulation ON segments (simulation_id, start_ms);
"""


@dataclass(frozen=True)
class Segment:
    """A stretch of one seat's audio or video track, in one file, with one visibility."""

    id: int
    simulation_id: RoomId
    seat: SeatId
    kind: str
    codec: str
    visibility: str
    path: str
    start_ms: int
    duration_ms: int
    frames: int
    bytes: int
    status: str
    reason: str | None = None

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.duration_ms


@dataclass(frozen=True)
class SimulationRecord:
    id: RoomId
    scenario_id: ScenarioId
    observers: int
    created_ms: int
    t0_ms: int | None


def new_room_id() -> RoomId:
    return RoomId(secrets.token_urlsafe(9))


class Catalogue:
    """Small synchronous SQLite access; each write is one short transaction."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db = GuardedConnection(db)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(segments)")}
        if "reason" not in columns:  # a database from before failed segments had reasons
            self._db.execute("ALTER TABLE segments ADD COLUMN reason TEXT")

    def close(self) -> None:
        self._db.close()

    def create_simulation(self, scenario_id: ScenarioId, observers: int) -> SimulationRecord:
        record = SimulationRecord(
            new_room_id(), scenario_id, observers, int(time.time() * 1000), None
        )
        self._db.execute(
            "INSERT INTO simulations (id, scenario_id, observers, created_ms) VALUES (?, ?, ?, ?)",
            (record.id, record.scenario_id, record.observers, record.created_ms),
        )
        return record

    def simulation(self, room_id: str) -> SimulationRecord | None:
        row = self._db.execute(
            "SELECT id, scenario_id, observers, created_ms, t0_ms FROM simulations WHERE id = ?",
            (room_id,),
        ).fetchone()
        if row is None:
            return None
        return SimulationRecord(RoomId(row[0]), ScenarioId(row[1]), row[2], row[3], row[4])

    def simulations(self) -> list[SimulationRecord]:
        rows = self._db.execute(
            "SELECT id, scenario_id, observers, created_ms, t0_ms FROM simulations "
            "ORDER BY created_ms DESC"
        ).fetchall()
        return [SimulationRecord(RoomId(r[0]), ScenarioId(r[1]), r[2], r[3], r[4]) for r in rows]

    def start_clock(self, room_id: RoomId, t0_ms: int) -> int:
        """Set the session's t0 unless it already has one; return the t0 in force."""
        self._db.execute(
            "UPDATE simulations SET t0_ms = ? WHERE id = ? AND t0_ms IS NULL", (t0_ms, room_id)
        )
        row = self._db.execute("SELECT t0_ms FROM simulations WHERE id = ?", (room_id,)).fetchone()
        return int(row[0])

    def append_event(self, room_id: RoomId, event: Event) -> None:
        self._db.execute(
            "INSERT INTO events (simulation_id, t_ms, kind, seat, detail) VALUES (?, ?, ?, ?, ?)",
            (room_id, event.t_ms, event.kind.value, event.seat, json.dumps(dict(event.detail))),
        )

    def events(self, room_id: RoomId) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT t_ms, kind, seat, detail FROM events WHERE simulation_id = ? ORDER BY id",
            (room_id,),
        ).fetchall()
        return [{"t_ms": r[0], "kind": r[1], "seat": r[2], **json.loads(r[3])} for r in rows]

    # --- recorded segments ----------------------------------------------------------

    _SEGMENT_COLUMNS = (
        "id, simulation_id, seat, kind, codec, visibility, path, start_ms, duration_ms, frames,"
        " bytes, status, reason"
    )

    def open_segment(
        self,
        room_id: RoomId,
        seat: SeatId,
        kind: str,
        codec: str,
        visibility: str,
        path: str,
        start_ms: int,
    ) -> int:
        cursor = self._db.execute(
            "INSERT INTO segments (simulation_id, seat, kind, codec, visibility, path, start_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (room_id, seat, kind, codec, visibility, path, start_ms),
        )
        return int(cursor.lastrowid or 0)

    def move_segment(self, segment_id: int, start_ms: int) -> None:
        """Place a segment that is still being written at a better-known start."""
        self._db.execute("UPDATE segments SET start_ms = ? WHERE id = ?", (start_ms, segment_id))

    def close_segment(
        self,
        segment_id: int,
        duration_ms: int,
        frames: int,
        size: int,
        status: str = "complete",
        start_ms: int | None = None,
        reason: str | None = None,
    ) -> None:
        """Record how a segment ended; `start_ms` re-anchors it when known better."""
        self._db.execute(
            "UPDATE segments SET duration_ms = ?, frames = ?, bytes = ?, status = ?,"
            " start_ms = COALESCE(?, start_ms), reason = ? WHERE id = ?",
            (duration_ms, frames, size, status, start_ms, reason, segment_id),
        )

    def segments(self, room_id: RoomId | None = None, status: str | None = None) -> list[Segment]:
        query = f"SELECT {self._SEGMENT_COLUMNS} FROM segments WHERE 1 = 1"
        args: list[object] = []
        if room_id is not None:
            query += " AND simulation_id = ?"
            args.append(room_id)
        if status is not None:
            query += " AND status = ?"
            args.append(status)
        rows = self._db.execute(query + " ORDER BY start_ms, id", args).fetchall()
        return [Segment(*row) for row in rows]

    def delete_simulation(self, room_id: RoomId) -> None:
        self._db.execute("DELETE FROM simulations WHERE id = ?", (room_id,))

    def seats_of(self, identity: str) -> dict[RoomId, SeatId]:
        """Every simulation `identity` took a seat in, with that seat (the last one held)."""
        rows = self._db.execute(
            "SELECT simulation_id, seat FROM events WHERE kind IN ('join', 'resume', 'replace')"
            " AND json_extract(detail, '$.identity') = ? ORDER BY id",
            (identity,),
        ).fetchall()
        return {RoomId(room): SeatId(seat) for room, seat in rows}

    def segment(self, segment_id: int) -> Segment | None:
        row = self._db.execute(
            f"SELECT {self._SEGMENT_COLUMNS} FROM segments WHERE id = ?", (segment_id,)
        ).fetchone()
        return None if row is None else Segment(*row)
