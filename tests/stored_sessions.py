"""Sessions written straight into the database (and the recordings folder) for tests
that need recordings without running a room: deletion, retention, filters, viewers."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from sqlalchemy import insert

from storage.database import Database
from storage.schema import events, notes, seat_assignments, segments, simulations

DAY_MS = 24 * 3600 * 1000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


async def add_session(
    db: Database,
    recordings_dir: Path,
    *,
    created_ms: int | None = None,
    t0_ms: int | None = None,
    scenario: str = "boundary-fence",
    seats: dict[str, str] | None = None,
    assigned: dict[str, str] | None = None,
    cohort_id: str | None = None,
    note_count: int = 2,
    status: str = "complete",
    room_id: str | None = None,
) -> str:
    """A simulation with `seats` joined ({seat: identity}), `assigned` seats ({seat: person
    id}), one recorded segment file per seat and `note_count` notes; returns its id."""
    room_id = room_id or secrets.token_urlsafe(9)
    created = now_ms() if created_ms is None else created_ms
    seats = {"mediator": f"{room_id}:mediator"} if seats is None else seats
    folder = recordings_dir / room_id
    folder.mkdir(parents=True, exist_ok=True)
    async with db.transaction() as conn:
        await conn.execute(
            insert(simulations).values(
                id=room_id,
                scenario_id=scenario,
                observers=1,
                created_ms=created,
                t0_ms=created if t0_ms is None else t0_ms,
                cohort_id=cohort_id,
            )
        )
        for n, (seat, identity) in enumerate(seats.items(), start=1):
            await conn.execute(
                insert(events).values(
                    simulation_id=room_id,
                    t_ms=n,
                    kind="join",
                    seat=seat,
                    detail={"identity": identity, "name": f"Person {seat}", "seat": seat},
                    identity=identity,
                )
            )
            path = folder / f"{n:04d}-{seat}-audio.webm"
            path.write_bytes(b"\x1aE\xdf\xa3" + secrets.token_bytes(1000))
            await conn.execute(
                insert(segments).values(
                    simulation_id=room_id,
                    seat=seat,
                    kind="audio",
                    codec="opus",
                    visibility="public",
                    path=str(path),
                    start_ms=n,
                    duration_ms=1000,
                    frames=50,
                    bytes=path.stat().st_size,
                    status=status,
                )
            )
        for seat, person_id in (assigned or {}).items():
            await conn.execute(
                insert(seat_assignments).values(
                    simulation_id=room_id, seat=seat, person_id=person_id
                )
            )
        for n in range(note_count):
            await conn.execute(
                insert(notes).values(
                    id=secrets.token_hex(8),
                    simulation_id=room_id,
                    author="coach-ana",
                    author_seat="coach",
                    t_ms=100 * n,
                    text=f"note {n}",
                    visibility="all",
                    created_ms=created,
                )
            )
    return room_id
