"""Recording for every live room: follows room changes, receives forwarded frames.

Nothing here may raise into its callers: `frame_forwarded` runs inside the SFU's
forwarding of a packet and `room_changed` after a room change was committed. A
fault (the disk full or failing, the writer's queue full, the catalogue
unavailable) fails that room's recording – its segments are closed and marked
`failed`, a `recording_failed` event goes on the timeline and `on_status` tells
the room – while forwarding and signalling go on.

After a fault, recording starts again by itself (new segments) at the first room
change (a phase change, a join, a consent) or recorded frame that comes at least
`retry_s` after the fault, provided the recordings' file system has
`min_free_bytes` free by then. Catalogue writes go through one ordered queue
(`CatalogueWrites`: no frame waits for the database); writes the database
refused are retried at the same moments and at shutdown.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from recordings.catalogue_writes import CatalogueWrites
from recordings.recorder import SessionRecorder
from recordings.writer_thread import DiskWriter, WriterThread
from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from sessions.phases import PhaseKind
from sessions.rooms import Room
from sessions.timeline import Event
from storage.catalogue import Catalogue

logger = logging.getLogger(__name__)

RequestKeyframe = Callable[[RoomId, SeatId], None]
SessionClock = Callable[[RoomId], int]
#: a room's recording failed (reason) or records again (None)
OnStatus = Callable[[RoomId, str | None], None]

RETRY_S = 30.0
MIN_FREE_BYTES = 16 * 1024 * 1024
#: at most one log line per this many seconds about unexpected errors on the frame path
_LOG_EVERY_S = 10.0


def free_bytes(folder: Path) -> int:
    """Free space for `folder`'s file system (its nearest existing ancestor); 0 if unknown."""
    for candidate in (folder, *folder.parents):
        try:
            stats = os.statvfs(candidate)
        except OSError:
            continue
        return stats.f_bavail * stats.f_frsize
    return 0


class Recordings:
    def __init__(
        self,
        catalogue: Catalogue,
        folder: Path,
        clock: SessionClock,
        request_keyframe: RequestKeyframe = lambda room, seat: None,
        disk: DiskWriter | None = None,
        retry_s: float = RETRY_S,
        min_free_bytes: int = MIN_FREE_BYTES,
    ) -> None:
        self.writes = CatalogueWrites(catalogue)
        self._folder = folder
        self._clock = clock
        self.request_keyframe = request_keyframe
        self.disk: DiskWriter = disk if disk is not None else WriterThread()
        self.on_status: OnStatus = lambda room, reason: None
        self.retry_s = retry_s
        self._min_free = min_free_bytes
        self._recorders: dict[RoomId, SessionRecorder] = {}
        self._failed_at: dict[RoomId, float] = {}
        self._retrying: set[RoomId] = set()
        self._last_log = 0.0
        self._closed = False

    def status(self, room_id: RoomId) -> str | None:
        """Why the room's recording failed, or None."""
        recorder = self._recorders.get(room_id)
        return None if recorder is None else recorder.fault

    @property
    def deferred_writes(self) -> int:
        return len(self.writes.deferred)

    def store_event(self, room_id: RoomId, event: Event) -> None:
        """Catalogue an event without waiting (queued in order with the recorders' writes)."""

        async def append(catalogue: Catalogue) -> None:
            await catalogue.append_event(room_id, event)

        self.writes.submit(append)

    def room_changed(self, room: Room, now_ms: int) -> None:
        try:
            self._room_changed(room, now_ms)
        except Exception:
            logger.exception("recording could not follow a change of %s", room.id)

    def _room_changed(self, room: Room, now_ms: int) -> None:
        if self._closed:
            return
        recorder = self._recorders.get(room.id)
        if recorder is None:
            if room.phase.kind is PhaseKind.ENDED:
                return
            recorder = SessionRecorder(
                room.id,
                self._folder / room.id,
                self.writes,
                functools.partial(self._keyframe_for, room.id),
                disk=self.disk,
                on_fault=functools.partial(self._fault, room.id),
            )
            self._recorders[room.id] = recorder
        self._maybe_retry(recorder, now_ms)
        recorder.update(room, now_ms)
        if room.phase.kind is PhaseKind.ENDED:
            recorder.close(now_ms)
            del self._recorders[room.id]
            self._failed_at.pop(room.id, None)

    def _keyframe_for(self, room_id: RoomId, seat: SeatId) -> None:
        self.request_keyframe(room_id, seat)

    def _fault(self, room_id: RoomId, reason: str | None) -> None:
        if reason is None:
            self._failed_at.pop(room_id, None)
        else:
            self._failed_at[room_id] = time.monotonic()
        try:
            self.on_status(room_id, reason)
        except Exception:
            logger.exception("the room could not be told of its recording's status")

    def _maybe_retry(self, recorder: SessionRecorder, now_ms: int) -> None:
        """After a fault, record again once the retry interval passed, the catalogue took
        the writes it refused (retried after the queued ones) and space is back."""
        if recorder.fault is None or recorder.room_id in self._retrying:
            return
        failed_at = self._failed_at.get(recorder.room_id, 0.0)
        if time.monotonic() - failed_at < self.retry_s:
            return
        self._retrying.add(recorder.room_id)
        self.writes.retry_soon(functools.partial(self._retried, recorder, now_ms))

    def _retried(self, recorder: SessionRecorder, now_ms: int, stored: bool) -> None:
        self._retrying.discard(recorder.room_id)
        if self._closed or recorder.fault is None:
            return
        if self._recorders.get(recorder.room_id) is not recorder:
            return  # the room ended meanwhile
        if not stored or free_bytes(self._folder) < self._min_free:
            self._failed_at[recorder.room_id] = time.monotonic()  # look again later
            return
        recorder.resume(now_ms)

    async def retry_deferred(self) -> bool:
        """Store every queued write, then what the catalogue refused earlier, in order,
        until it refuses again; True if nothing is left to store."""
        return await self.writes.retry_deferred()

    def frame_forwarded(
        self,
        room_id: RoomId,
        seat: SeatId,
        kind: MediaKind,
        codec: str,
        clock_rate: int,
        frame: bytes,
        rtp_timestamp: int,
    ) -> None:
        """A frame the SFU received from a publisher; recorded if the rules allow.

        Called on the forwarding path: never blocks on the disk, never raises.
        """
        recorder = self._recorders.get(room_id)
        if recorder is None or seat not in recorder.recorded:
            return
        try:
            now_ms = self._clock(room_id)
            if recorder.fault is not None:
                self._maybe_retry(recorder, now_ms)
                return
            recorder.record_frame(seat, kind, codec, clock_rate, frame, rtp_timestamp, now_ms)
        except Exception as exc:
            self._log_unexpected(room_id)
            try:
                recorder.fail(f"recording error: {type(exc).__name__}: {exc}", self._clock(room_id))
            except Exception:
                logger.debug("could not mark the recording of %s failed", room_id)

    def _log_unexpected(self, room_id: RoomId) -> None:
        now = time.monotonic()
        if now - self._last_log >= _LOG_EVERY_S:
            self._last_log = now
            logger.exception("recording a frame of %s failed", room_id)

    def finish(self) -> None:
        """Close every open segment (drain): the writer finishes the files afterwards."""
        self._closed = True
        for room_id, recorder in list(self._recorders.items()):
            try:
                recorder.close(self._clock(room_id))
            except Exception:
                logger.exception("closing the recording of %s failed", room_id)
        self._recorders.clear()

    async def close(self, limit_s: float = 5.0) -> None:
        """Finish every segment's file and catalogue how it ended (each bounded by `limit_s`)."""
        self.finish()
        self.disk.close(limit_s)
        await self.writes.close(limit_s)
