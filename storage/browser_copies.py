"""The browser copies' catalogue: one row per uploaded chunk (the file is the caller's)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from sessions.ids import RoomId, SeatId
from storage.database import Database
from storage.faults import reading, transaction
from storage.schema import browser_copies


@dataclass(frozen=True)
class CopyChunk:
    id: int
    simulation_id: RoomId
    seat: SeatId
    n: int
    start_ms: int
    duration_ms: int
    visibility: str
    content_type: str
    path: str
    bytes: int
    sha256: str

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.duration_ms


class ChunkExists(Exception):
    """Another upload stored chunk n of this seat first."""


def _chunk(row: Any) -> CopyChunk:
    return CopyChunk(
        id=row.id,
        simulation_id=RoomId(row.simulation_id),
        seat=SeatId(row.seat),
        n=row.n,
        start_ms=row.start_ms,
        duration_ms=row.duration_ms,
        visibility=row.visibility,
        content_type=row.content_type,
        path=row.path,
        bytes=row.bytes,
        sha256=row.sha256,
    )


class BrowserCopies:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def add(
        self,
        room_id: RoomId,
        seat: SeatId,
        n: int,
        start_ms: int,
        duration_ms: int,
        visibility: str,
        content_type: str,
        path: str,
        size: int,
        sha256: str,
    ) -> int:
        """Catalogue chunk n; raises ChunkExists if it already is."""
        try:
            async with transaction(self.database) as conn:
                result = await conn.execute(
                    insert(browser_copies).values(
                        simulation_id=room_id,
                        seat=seat,
                        n=n,
                        start_ms=start_ms,
                        duration_ms=duration_ms,
                        visibility=visibility,
                        content_type=content_type,
                        path=path,
                        bytes=size,
                        sha256=sha256,
                        created_ms=int(time.time() * 1000),
                    )
                )
                (chunk_id,) = result.inserted_primary_key or (0,)
        except IntegrityError:
            raise ChunkExists(f"chunk {n} of {seat} is already stored") from None
        return int(chunk_id)

    async def chunk(self, room_id: RoomId, seat: SeatId, n: int) -> CopyChunk | None:
        query = select(browser_copies).where(
            browser_copies.c.simulation_id == room_id,
            browser_copies.c.seat == seat,
            browser_copies.c.n == n,
        )
        async with reading(self.database) as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else _chunk(row)

    async def by_id(self, chunk_id: int) -> CopyChunk | None:
        async with reading(self.database) as conn:
            row = (
                await conn.execute(select(browser_copies).where(browser_copies.c.id == chunk_id))
            ).first()
        return None if row is None else _chunk(row)

    async def chunks(self, room_id: RoomId, seat: SeatId | None = None) -> list[CopyChunk]:
        query = select(browser_copies).where(browser_copies.c.simulation_id == room_id)
        if seat is not None:
            query = query.where(browser_copies.c.seat == seat)
        async with reading(self.database) as conn:
            rows = (await conn.execute(query.order_by(browser_copies.c.start_ms))).all()
        return [_chunk(row) for row in rows]

    async def usage(self, room_id: RoomId, seat: SeatId) -> tuple[int, int]:
        """Bytes stored for (the seat, the whole session)."""
        total = func.coalesce(func.sum(browser_copies.c.bytes), 0)
        in_room = browser_copies.c.simulation_id == room_id
        async with reading(self.database) as conn:
            seat_bytes = await conn.scalar(
                select(total).where(in_room, browser_copies.c.seat == seat)
            )
            room_bytes = await conn.scalar(select(total).where(in_room))
        return int(seat_bytes or 0), int(room_bytes or 0)
