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

from recordings.catalogue import Catalogue
from recordings.storage import StorageUnavailable
from recordings.track_writer import TrackSummary, TrackWriter, describe_fault
from recordings.writer_thread import DiskWriter, InlineWriter
from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from sessions.phases import LOBBY
from sessions.recording_rules import recorded_seats, visibility_of
from sessions.rooms import Room
from sessions.timeline import Event, EventKind

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
#: a catalogue write the database refused; the service retries it when it can
Deferred = Callable[[], None]


@dataclass
class _OpenSegment:
    key: tuple[SeatId, MediaKind]
    writer: TrackWriter
    segment_id: int | None  # catalogued once the first frame is placed
    #: the start the catalogue has: its first placed frame's arrival, then better anchors
    start_ms: int
    last_arrival_ms: int
    last_keyframe_request_ms: int = -KEYFRAME_RETRY_MS
    #: where the segment's media time 0 lies on the session clock: the earliest
    #: (arrival − media time) of its frames, so one late first frame does not shift it
    anchor_ms: int | None = None


class SessionRecorder:
    """Segment bookkeeping on the event loop; the disk work goes to `disk` (a writer thread
    in the server, inline in offline tools and unit tests)."""

    def __init__(
        self,
        room_id: RoomId,
        folder: Path,
        catalogue: Catalogue,
        request_keyframe: RequestKeyframe,
        disk: DiskWriter | None = None,
        on_fault: OnFault = lambda reason: None,
        deferred: list[Deferred] | None = None,
    ) -> None:
        self.room_id = room_id
        self.folder = folder
        self._catalogue = catalogue
        self._request_keyframe = request_keyframe
        self._disk = disk or InlineWriter()
        self._on_fault = on_fault
        self._deferred = deferred if deferred is not None else []
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
        if segment.segment_id is not None:
            if segment.start_ms - segment.anchor_ms >= ANCHOR_SAVE_MS:
                self._store(self._catalogue.move_segment, segment.segment_id, segment.anchor_ms)
                segment.start_ms = segment.anchor_ms
        else:
            visibility = visibility_of(self._phase, seat)
            segment.start_ms = now_ms
            try:
                segment.segment_id = self._catalogue.open_segment(
                    self.room_id,
                    seat,
                    kind.value,
                    codec,
                    visibility,
                    str(segment.writer.path),
                    now_ms,
                )
            except StorageUnavailable as exc:
                self.fail(f"the catalogue is unavailable: {exc.message}", now_ms)
                return
            self._event(
                EventKind.TRACK_START,
                now_ms,
                seat,
                kind,
                segment.segment_id,
                visibility=visibility,
            )

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
        self._store(
            self._catalogue.append_event,
            self.room_id,
            Event(now_ms, EventKind.RECORDING_FAILED, None, {"reason": reason}),
        )
        self._on_fault(reason)

    def resume(self, now_ms: int) -> None:
        """Record again after a fault: the next frames start new segments."""
        if self.fault is None:
            return
        logger.info("recording of %s resumes after: %s", self.room_id, self.fault)
        self._store(
            self._catalogue.append_event,
            self.room_id,
            Event(now_ms, EventKind.RECORDING_RESUMED, None, {"after": self.fault}),
        )
        self.fault = None
        self._on_fault(None)

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
            segment.segment_id,
            until_ms=now_ms,
        )

    def _close(self, key: tuple[SeatId, MediaKind], now_ms: int, failed: str | None = None) -> None:
        segment = self._open.pop(key)
        self._disk.submit(
            segment.writer.close, functools.partial(self._closed, segment, failed, now_ms)
        )
        if segment.segment_id is not None:
            self._event(EventKind.TRACK_STOP, now_ms, key[0], key[1], segment.segment_id)

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
        if segment.segment_id is not None:
            self._store(
                self._catalogue.close_segment,
                segment.segment_id,
                duration_ms,
                frames,
                size,
                "failed" if reason else "complete",
                segment.anchor_ms,
                reason,
            )
        if reason and self.fault is None:
            self.fail(reason, now_ms)

    def _store(self, write: Callable[..., None], *args: object) -> None:
        """A catalogue write; if the database is unavailable, kept to be retried."""
        try:
            write(*args)
        except StorageUnavailable as exc:
            logger.warning("catalogue write deferred (%s)", exc.message)
            self._deferred.append(functools.partial(write, *args))

    def _event(
        self,
        kind: EventKind,
        t_ms: int,
        seat: SeatId,
        media: MediaKind,
        segment: int | None,
        **extra: str | int,
    ) -> None:
        detail: dict[str, str | int | None] = {"media": media.value, "segment": segment, **extra}
        self._store(self._catalogue.append_event, self.room_id, Event(t_ms, kind, seat, detail))


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
