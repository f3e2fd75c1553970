"""After a crash: close the segments that were being written and mark their sessions."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from pathlib import Path

import av

from sessions.ids import RoomId
from sessions.timeline import Event, EventKind
from storage.catalogue import Catalogue

logger = logging.getLogger(__name__)


def probe(path: Path) -> tuple[int, int]:
    """(duration in ms, frames) of a WebM file cut off mid-write, by demuxing (no decode)."""
    last_ms, frames = 0, 0
    try:
        with av.open(str(path)) as container:
            for packet in container.demux():
                if packet.pts is None or packet.time_base is None:
                    continue
                last_ms = max(last_ms, int(packet.pts * packet.time_base * 1000))
                frames += 1
    except (av.error.FFmpegError, OSError) as exc:
        # The tail of a killed file may be a half-written cluster: keep what demuxed.
        logger.info("%s ends early (%s): kept %d frames", path, exc, frames)
    return last_ms, frames


async def recover_interrupted(
    catalogue: Catalogue, rooms: Collection[RoomId] | None = None
) -> list[RoomId]:
    """Close every segment left open by a crash; return the sessions that were interrupted.

    `rooms`: only those sessions' segments (a worker that died, while the other
    workers go on recording theirs); None: every session (a whole restart).
    """
    interrupted: dict[RoomId, int] = {}
    for segment in await catalogue.segments(status="recording"):
        if rooms is not None and segment.simulation_id not in rooms:
            continue
        path = Path(segment.path)
        # demuxing a file is disk work: off the event loop
        duration_ms, frames = await asyncio.to_thread(probe, path) if path.exists() else (0, 0)
        size = path.stat().st_size if path.exists() else 0
        await catalogue.close_segment(segment.id, duration_ms, frames, size, status="interrupted")
        end = segment.start_ms + duration_ms
        interrupted[segment.simulation_id] = max(interrupted.get(segment.simulation_id, 0), end)
    for room_id, end_ms in interrupted.items():
        await catalogue.append_event(
            room_id,
            Event(end_ms, EventKind.INTERRUPTED, None, {"reason": "server stopped unexpectedly"}),
        )
        logger.warning("recording of %s was interrupted at %d ms", room_id, end_ms)
    return sorted(interrupted)
