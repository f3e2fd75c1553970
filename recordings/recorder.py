"""Records one simulation: each recorded seat's audio and video, as segment files.

A segment is one stretch of one track with one visibility. A new segment starts
whenever the visibility changes (joint session ⇄ caucus), recording pauses
(consent, a dropped participant) or media stops arriving for a while, so a
caucus is never in the same file as the joint session and access can be
granted file by file without cutting or re-encoding anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from recordings.catalogue import Catalogue
from recordings.track_writer import TrackWriter
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


@dataclass
class _OpenSegment:
    writer: TrackWriter
    segment_id: int | None  # catalogued once the first frame is written
    #: the start the catalogue has: its first written frame's arrival, then better anchors
    start_ms: int
    last_arrival_ms: int
    last_keyframe_request_ms: int = -KEYFRAME_RETRY_MS
    #: where the segment's media time 0 lies on the session clock: the earliest
    #: (arrival − media time) of its frames, so one late first frame does not shift it
    anchor_ms: int | None = None


class SessionRecorder:
    def __init__(
        self,
        room_id: RoomId,
        folder: Path,
        catalogue: Catalogue,
        request_keyframe: RequestKeyframe,
    ) -> None:
        self.room_id = room_id
        self.folder = folder
        self._catalogue = catalogue
        self._request_keyframe = request_keyframe
        self._recorded: frozenset[SeatId] = frozenset()
        self._phase = LOBBY
        self._open: dict[tuple[SeatId, MediaKind], _OpenSegment] = {}
        # numbered past the files already there: a restart never writes over a crashed run's
        self._count = max(
            (int(p.name[:4]) for p in folder.glob("[0-9][0-9][0-9][0-9]-*.webm")), default=0
        )

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

    def on_frame(
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
        if seat not in self._recorded:
            return
        key = (seat, kind)
        segment = self._open.get(key)
        if segment is not None and now_ms - segment.last_arrival_ms > PAUSE_MS:
            self._pause(key, segment, now_ms)
            segment = None
        if segment is None:
            segment = self._start(key, codec, clock_rate, now_ms)
        if not segment.writer.write(frame, rtp_timestamp):
            # Video waits for a keyframe; ask the publisher rather than wait for its next one.
            if now_ms - segment.last_keyframe_request_ms >= KEYFRAME_RETRY_MS:
                segment.last_keyframe_request_ms = now_ms
                self._request_keyframe(seat)
            return
        segment.last_arrival_ms = now_ms
        offset = now_ms - segment.writer.last_ms
        if segment.anchor_ms is None or offset < segment.anchor_ms:
            segment.anchor_ms = offset
        if segment.segment_id is not None:
            if segment.start_ms - segment.anchor_ms >= ANCHOR_SAVE_MS:
                self._catalogue.move_segment(segment.segment_id, segment.anchor_ms)
                segment.start_ms = segment.anchor_ms
        else:
            visibility = visibility_of(self._phase, seat)
            segment.start_ms = now_ms
            segment.segment_id = self._catalogue.open_segment(
                self.room_id,
                seat,
                kind.value,
                codec,
                visibility,
                str(segment.writer.path),
                now_ms,
            )
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

    def _start(
        self, key: tuple[SeatId, MediaKind], codec: str, clock_rate: int, now_ms: int
    ) -> _OpenSegment:
        self._count += 1
        seat, kind = key
        path = self.folder / f"{self._count:04d}-{seat}-{kind.value}.webm"
        segment = _OpenSegment(TrackWriter(path, kind, codec, clock_rate), None, now_ms, now_ms)
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

    def _close(self, key: tuple[SeatId, MediaKind], now_ms: int) -> None:
        segment = self._open.pop(key)
        summary = segment.writer.close()
        if segment.segment_id is None:
            return  # never got a frame it could write
        self._catalogue.close_segment(
            segment.segment_id,
            summary.duration_ms,
            summary.frames,
            summary.bytes,
            start_ms=segment.anchor_ms,
        )
        self._event(EventKind.TRACK_STOP, now_ms, key[0], key[1], segment.segment_id)

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
        self._catalogue.append_event(self.room_id, Event(t_ms, kind, seat, detail))
