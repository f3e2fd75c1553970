"""The catalogue: simulations, their timelines (events) and recorded segments.

Each write is one short transaction on the shared database (SQLite or
PostgreSQL); a storage failure raises `StorageUnavailable` and changes nothing.
The schema is the migrations' (storage/schema.py): nothing here creates tables.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from sessions.ids import RoomId, ScenarioId, SeatId
from sessions.timeline import Event
from storage.database import Database
from storage.faults import is_storage_fault, reading, transaction, unavailable
from storage.migrate import upgrade
from storage.schema import events, segments, simulations

#: the events that seat someone; their `identity` column names who
SEATING_KINDS = ("join", "resume", "replace")


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
    """12 URL-safe characters, never a leading "-": the id is an argument of
    `caucus token` and `caucus render`, where argparse would take it for an option
    (one id in 64 began with one)."""
    while True:
        room_id = secrets.token_urlsafe(9)
        if not room_id.startswith("-"):
            return RoomId(room_id)


def _record(row: Any) -> SimulationRecord:
    return SimulationRecord(
        RoomId(row.id), ScenarioId(row.scenario_id), row.observers, row.created_ms, row.t0_ms
    )


def _segment(row: Any) -> Segment:
    return Segment(
        id=row.id,
        simulation_id=RoomId(row.simulation_id),
        seat=SeatId(row.seat),
        kind=row.kind,
        codec=row.codec,
        visibility=row.visibility,
        path=row.path,
        start_ms=row.start_ms,
        duration_ms=row.duration_ms,
        frames=row.frames,
        bytes=row.bytes,
        status=row.status,
        reason=row.reason,
    )


def identity_of(kind: str, detail: Mapping[str, Any]) -> str | None:
    """Who a seating event seats (stored in its own column: no JSON path in queries)."""
    identity = detail.get("identity")
    return identity if kind in SEATING_KINDS and isinstance(identity, str) else None


_SIMULATION_COLUMNS = (
    simulations.c.id,
    simulations.c.scenario_id,
    simulations.c.observers,
    simulations.c.created_ms,
    simulations.c.t0_ms,
)


class Catalogue:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def create_simulation(self, scenario_id: ScenarioId, observers: int) -> SimulationRecord:
        record = SimulationRecord(
            new_room_id(), scenario_id, observers, int(time.time() * 1000), None
        )
        async with transaction(self.database) as conn:
            await conn.execute(
                insert(simulations).values(
                    id=record.id,
                    scenario_id=record.scenario_id,
                    observers=record.observers,
                    created_ms=record.created_ms,
                )
            )
        return record

    async def simulation(self, room_id: str) -> SimulationRecord | None:
        async with reading(self.database) as conn:
            row = (
                await conn.execute(select(*_SIMULATION_COLUMNS).where(simulations.c.id == room_id))
            ).first()
        return None if row is None else _record(row)

    async def simulations(self) -> list[SimulationRecord]:
        query = select(*_SIMULATION_COLUMNS).order_by(simulations.c.created_ms.desc())
        async with reading(self.database) as conn:
            rows = (await conn.execute(query)).all()
        return [_record(row) for row in rows]

    async def start_clock(self, room_id: RoomId, t0_ms: int) -> int:
        """Set the session's t0 unless it already has one; return the t0 in force."""
        async with transaction(self.database) as conn:
            await conn.execute(
                update(simulations)
                .where(simulations.c.id == room_id, simulations.c.t0_ms.is_(None))
                .values(t0_ms=t0_ms)
            )
            t0 = await conn.scalar(select(simulations.c.t0_ms).where(simulations.c.id == room_id))
        if t0 is None:
            raise LookupError(f"there is no simulation {room_id!r}")
        return int(t0)

    async def append_event(self, room_id: RoomId, event: Event) -> None:
        detail = dict(event.detail)
        async with transaction(self.database) as conn:
            await conn.execute(
                insert(events).values(
                    simulation_id=room_id,
                    t_ms=event.t_ms,
                    kind=event.kind.value,
                    seat=event.seat,
                    detail=detail,
                    identity=identity_of(event.kind.value, detail),
                )
            )

    async def events(self, room_id: RoomId) -> list[dict[str, Any]]:
        query = (
            select(events.c.t_ms, events.c.kind, events.c.seat, events.c.detail)
            .where(events.c.simulation_id == room_id)
            .order_by(events.c.id)
        )
        async with reading(self.database) as conn:
            rows = (await conn.execute(query)).all()
        return [{"t_ms": r.t_ms, "kind": r.kind, "seat": r.seat, **r.detail} for r in rows]

    # --- recorded segments ----------------------------------------------------------

    async def open_segment(
        self,
        room_id: RoomId,
        seat: SeatId,
        kind: str,
        codec: str,
        visibility: str,
        path: str,
        start_ms: int,
    ) -> int:
        async with transaction(self.database) as conn:
            result = await conn.execute(
                insert(segments).values(
                    simulation_id=room_id,
                    seat=seat,
                    kind=kind,
                    codec=codec,
                    visibility=visibility,
                    path=path,
                    start_ms=start_ms,
                )
            )
            (segment_id,) = result.inserted_primary_key or (0,)
        return int(segment_id)

    async def move_segment(self, segment_id: int, start_ms: int) -> None:
        """Place a segment that is still being written at a better-known start."""
        async with transaction(self.database) as conn:
            await conn.execute(
                update(segments).where(segments.c.id == segment_id).values(start_ms=start_ms)
            )

    async def close_segment(
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
        async with transaction(self.database) as conn:
            await conn.execute(
                update(segments)
                .where(segments.c.id == segment_id)
                .values(
                    duration_ms=duration_ms,
                    frames=frames,
                    bytes=size,
                    status=status,
                    start_ms=func.coalesce(start_ms, segments.c.start_ms),
                    reason=reason,
                )
            )

    async def segments(
        self, room_id: RoomId | None = None, status: str | None = None
    ) -> list[Segment]:
        query = select(segments)
        if room_id is not None:
            query = query.where(segments.c.simulation_id == room_id)
        if status is not None:
            query = query.where(segments.c.status == status)
        async with reading(self.database) as conn:
            rows = (await conn.execute(query.order_by(segments.c.start_ms, segments.c.id))).all()
        return [_segment(row) for row in rows]

    async def segment(self, segment_id: int) -> Segment | None:
        async with reading(self.database) as conn:
            row = (await conn.execute(select(segments).where(segments.c.id == segment_id))).first()
        return None if row is None else _segment(row)

    async def delete_simulation(self, room_id: RoomId) -> None:
        """Delete the simulation; its events, segments and notes go with it (ON DELETE CASCADE)."""
        async with transaction(self.database) as conn:
            await conn.execute(delete(simulations).where(simulations.c.id == room_id))

    async def seats_of(self, identity: str) -> dict[RoomId, SeatId]:
        """Every simulation `identity` took a seat in, with that seat (the last one held)."""
        query = (
            select(events.c.simulation_id, events.c.seat)
            .where(events.c.identity == identity, events.c.kind.in_(SEATING_KINDS))
            .order_by(events.c.id)
        )
        async with reading(self.database) as conn:
            rows = (await conn.execute(query)).all()
        return {RoomId(room): SeatId(seat) for room, seat in rows}


@asynccontextmanager
async def catalogue_at(url: str) -> AsyncIterator[Catalogue]:
    """The catalogue of the database at `url`, migrated first (as `serve` does), for tools."""
    database = Database(url)
    try:
        try:
            await upgrade(database)
        except (SQLAlchemyError, OSError) as exc:
            if is_storage_fault(exc):
                raise unavailable(exc) from exc
            raise
        yield Catalogue(database)
    finally:
        await database.close()
