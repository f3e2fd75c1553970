"""Records one simulation: each recorded seat's audio and video, as segment files.

A segment is one stretch of one track with one visibility. A new segment starts
whenever the visibility changes (joint session ⇄ caucus), recording pauses
(consent, a dropped participant) or media stops arriving for a while, so a
caucus is never in the same file as the joint session and access can be
granted file by file without cutting or re-encoding anything.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from recordings.catalogue_writes import CatalogueWrites, Write
from recordings.track_writer import TrackSummary, TrackWriter, describe_fault
from recordings.writer_thread import DiskWriter, InlineWriter
from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from sessions.phases import LOBBY
from sessions.recording_rules import recorded_seats, visibility_of
from sessions.rooms import Room
from sessions.timeline import Event, EventKind
from storage.catalogue import Catalogue
from storage.faults import StorageUnavailable

logger = logging.getLogger(__name__)

#: media silent this long counts as a pause; the next frame starts a new segment
PAUSE_MS = 1500
#: at most one keyframe request per track this often while a video segment waits for one
KEYFRAME_RETRY_MS = 250
#: an open segment's better anchor is saved once it moved this much, so a segment
#: a crash leaves open sits where its media belongs (not where its first frame landed)
ANCHOR_SAVE_MS = 20

RequestKeyframe = Callable[[SeatId], None]
#: told when the recording fails (with why) and when it records again (None)
OnFault = Callable[[str | None], None]


@dataclass
class _OpenSegment:
    key: tuple[SeatId, MediaKind]
    writer: TrackWriter
    #: the catalogue's id, filled in by the queued insert once it ran
    segment_id: int | None
    #: the start the catalogue has: its first placed frame's arrival, then better anchors
    start_ms: int
    last_arrival_ms: int
    last_keyframe_request_ms: int = -KEYFRAME_RETRY_MS
    #: where the segment's media time 0 lies on the session clock: the earliest
    #: (arrival − media time) of its frames, so one late first frame does not shift it
    anchor_ms: int | None = None
    #: its insert was queued (once its first frame was placed)
    catalogued: bool = False

    def refused(self) -> bool:
        """Its insert ran and the catalogue refused it: nothing may refer to its row."""
        return self.catalogued and self.segment_id is None


class SessionRecorder:
    """Segment bookkeeping on the event loop; the disk work goes to `disk` (a writer thread
    in the server, inline in offline tools and unit tests), the catalogue writes to
    `writes` (queued: never awaited here, so no frame waits for the database)."""

    def __init__(
        self,
        room_id: RoomId,
        folder: Path,
        writes: CatalogueWrites,
        request_keyframe: RequestKeyframe,
        disk: DiskWriter | None = None,
        on_fault: OnFault = lambda reason: None,
    ) -> None:
        self.room_id = room_id
        self.folder = folder
        self._writes = writes
        self._request_keyframe = request_keyframe
        self._disk = disk or InlineWriter()
        self._on_fault = on_fault
        self._recorded: frozenset[SeatId] = frozenset()
        self._phase = LOBBY
        self._open: dict[tuple[SeatId, MediaKind], _OpenSegment] = {}
        #: why recording stopped (a disk fault), or None while it may record
        self.fault: str | None = None
        self.fault_ms = 0
        # numbered past the files already there: a restart never writes over a crashed run's
        try:
            names = [p.name for p in folder.glob("[0-9][0-9][0-9][0-9]-*.webm")]
        except OSError:
            names = []
        self._count = max((int(name[:4]) for name in names), default=0)

    @property
    def recorded(self) -> frozenset[SeatId]:
        return self._recorded

    def update(self, room: Room, now_ms: int) -> None:
        """Follow the room: who is recorded now, and under which visibility."""
        recorded = recorded_seats(room)
        changed = visibility_of(room.phase) != visibility_of(self._phase)
        for key in list(self._open):
            if changed or key[0] not in recorded:
                self._close(key, now_ms)
        self._recorded, self._phase = recorded, room.phase

    def record_frame(
        self,
        seat: SeatId,
        kind: MediaKind,
        codec: str,
        clock_rate: int,
        frame: bytes,
        rtp_timestamp: int,
        now_ms: int,
    ) -> None:
        """One encoded frame a publisher sent (as forwarded, not transcoded)."""
        if seat not in self._recorded or self.fault is not None:
            return
        key = (seat, kind)
        segment = self._open.get(key)
        if segment is not None and now_ms - segment.last_arrival_ms > PAUSE_MS:
            self._pause(key, segment, now_ms)
            segment = None
        if segment is None:
            segment = self._start(key, codec, clock_rate, now_ms)
        placed = segment.writer.timing.place(frame, rtp_timestamp)
        if placed is None:
            # Video waits for a keyframe; ask the publisher rather than wait for its next one.
            if now_ms - segment.last_keyframe_request_ms >= KEYFRAME_RETRY_MS:
                segment.last_keyframe_request_ms = now_ms
                self._request_keyframe(seat)
            return
        written = self._disk.submit(
            functools.partial(segment.writer.mux, frame, *placed),
            functools.partial(self._write_failed, segment),
            frame_bytes=len(frame) or 1,
        )
        if not written:
            self.fail("the disk is too slow: the writer's queue was full", now_ms)
            return
        segment.last_arrival_ms = now_ms
        offset = now_ms - segment.writer.last_ms
        if segment.anchor_ms is None or offset < segment.anchor_ms:
            segment.anchor_ms = offset
        if segment.catalogued:
            if segment.start_ms - segment.anchor_ms >= ANCHOR_SAVE_MS:
                self._store(functools.partial(_move, segment, segment.anchor_ms))
                segment.start_ms = segment.anchor_ms
        else:
            visibility = visibility_of(self._phase, seat)
            segment.start_ms = now_ms
            segment.catalogued = True
            row = functools.partial(
                _insert, self.room_id, segment, kind.value, codec, visibility, now_ms
            )
            if not self._writes.submit(
                row, functools.partial(self._insert_refused, segment, now_ms)
            ):
                return  # refused at once: the recording failed
            self._event(EventKind.TRACK_START, now_ms, seat, kind, segment, visibility=visibility)

    def close(self, now_ms: int) -> None:
        for key in list(self._open):
            self._close(key, now_ms)

    def fail(self, reason: str, now_ms: int) -> None:
        """Stop recording: every open segment is closed and marked failed with `reason`."""
        if self.fault is not None:
            return
        self.fault, self.fault_ms = reason, now_ms
        logger.error("recording of %s failed: %s", self.room_id, reason)
        for key in list(self._open):
            self._close(key, now_ms, failed=reason)
        event = Event(now_ms, EventKind.RECORDING_FAILED, None, {"reason": reason})
        self._store(functools.partial(_append, self.room_id, event))
        self._on_fault(reason)

    def resume(self, now_ms: int) -> None:
        """Record again after a fault: the next frames start new segments."""
        if self.fault is None:
            return
        logger.info("recording of %s resumes after: %s", self.room_id, self.fault)
        event = Event(now_ms, EventKind.RECORDING_RESUMED, None, {"after": self.fault})
        self._store(functools.partial(_append, self.room_id, event))
        self.fault = None
        self._on_fault(None)

    def _insert_refused(
        self, segment: _OpenSegment, now_ms: int, _write: object, exc: StorageUnavailable
    ) -> None:
        """The catalogue refused a segment's row: the recording fails (its file has no row)."""
        self.fail(f"the catalogue is unavailable: {exc.message}", now_ms)

    def _write_failed(self, segment: _OpenSegment, result: object) -> None:
        if isinstance(result, Exception) and self._open.get(segment.key) is segment:
            self.fail(segment.writer.fault or describe_fault(result), segment.last_arrival_ms)

    def _start(
        self, key: tuple[SeatId, MediaKind], codec: str, clock_rate: int, now_ms: int
    ) -> _OpenSegment:
        self._count += 1
        seat, kind = key
        path = self.folder / f"{self._count:04d}-{seat}-{kind.value}.webm"
        writer = TrackWriter(path, kind, codec, clock_rate)
        segment = _OpenSegment(key, writer, None, now_ms, now_ms)
        self._open[key] = segment
        return segment

    def _pause(self, key: tuple[SeatId, MediaKind], segment: _OpenSegment, now_ms: int) -> None:
        self._close(key, segment.last_arrival_ms)
        self._event(
            EventKind.TRACK_PAUSE,
            segment.last_arrival_ms,
            key[0],
            key[1],
            segment,
            until_ms=now_ms,
        )

    def _close(self, key: tuple[SeatId, MediaKind], now_ms: int, failed: str | None = None) -> None:
        segment = self._open.pop(key)
        self._disk.submit(
            segment.writer.close, functools.partial(self._closed, segment, failed, now_ms)
        )
        if segment.catalogued:
            self._event(EventKind.TRACK_STOP, now_ms, key[0], key[1], segment)

    def _closed(
        self, segment: _OpenSegment, failed: str | None, now_ms: int, result: object
    ) -> None:
        """The writer finished (or gave up on) a segment's file: catalogue how it ended."""
        writer = segment.writer
        reason = failed or writer.fault
        if isinstance(result, TrackSummary):
            frames, size, duration_ms = result.frames, result.bytes, result.duration_ms
        else:
            if reason is None:
                reason = describe_fault(result) if isinstance(result, Exception) else "unknown"

            frames, duration_ms = writer.frames_written, writer.written_ms
            size = _size_of(writer.path)
        if segment.catalogued:
            status = "failed" if reason else "complete"
            self._store(
                functools.partial(_finish, segment, duration_ms, frames, size, status, reason)
            )
        if reason and self.fault is None:
            self.fail(reason, now_ms)

    def _store(self, write: Write) -> None:
        """A catalogue write, queued; if the database is unavailable, kept to be retried."""
        self._writes.submit(write)

    def _event(
        self,
        kind: EventKind,
        t_ms: int,
        seat: SeatId,
        media: MediaKind,
        segment: _OpenSegment,
        **extra: str | int,
    ) -> None:
        """A track event naming its segment (by the id its queued insert fills in)."""
        self._store(
            functools.partial(_segment_event, self.room_id, kind, t_ms, seat, media, segment, extra)
        )


# --- the queued writes: each reads the segment's id when it runs, after its insert ---------


async def _insert(
    room_id: RoomId,
    segment: _OpenSegment,
    kind: str,
    codec: str,
    visibility: str,
    start_ms: int,
    catalogue: Catalogue,
) -> None:
    path = str(segment.writer.path)
    seat = segment.key[0]
    segment.segment_id = await catalogue.open_segment(
        room_id, seat, kind, codec, visibility, path, start_ms
    )


async def _move(segment: _OpenSegment, start_ms: int, catalogue: Catalogue) -> None:
    if segment.segment_id is not None:
        await catalogue.move_segment(segment.segment_id, start_ms)


async def _finish(
    segment: _OpenSegment,
    duration_ms: int,
    frames: int,
    size: int,
    status: str,
    reason: str | None,
    catalogue: Catalogue,
) -> None:
    if segment.segment_id is not None:
        await catalogue.close_segment(
            segment.segment_id, duration_ms, frames, size, status, segment.anchor_ms, reason
        )


async def _append(room_id: RoomId, event: Event, catalogue: Catalogue) -> None:
    await catalogue.append_event(room_id, event)


async def _segment_event(
    room_id: RoomId,
    kind: EventKind,
    t_ms: int,
    seat: SeatId,
    media: MediaKind,
    segment: _OpenSegment,
    extra: dict[str, str | int],
    catalogue: Catalogue,
) -> None:
    if segment.refused():
        return  # the recording failed at its insert: the event would name no row
    detail: dict[str, str | int | None] = {
        "media": media.value,
        "segment": segment.segment_id,
        **extra,
    }
    await catalogue.append_event(room_id, Event(t_ms, kind, seat, detail))


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
