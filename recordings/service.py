"""Recording for every live room: follows room changes, receives forwarded frames."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path

from recordings.catalogue import Catalogue
from recordings.recorder import SessionRecorder
from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from sessions.phases import PhaseKind
from sessions.rooms import Room

logger = logging.getLogger(__name__)

RequestKeyframe = Callable[[RoomId, SeatId], None]
SessionClock = Callable[[RoomId], int]


class Recordings:
    def __init__(
        self,
        catalogue: Catalogue,
        folder: Path,
        clock: SessionClock,
        request_keyframe: RequestKeyframe = lambda room, seat: None,
    ) -> None:
        self._catalogue = catalogue
        self._folder = folder
        self._clock = clock
        self.request_keyframe = request_keyframe
        self._recorders: dict[RoomId, SessionRecorder] = {}

    def room_changed(self, room: Room, now_ms: int) -> None:
        recorder = self._recorders.get(room.id)
        if recorder is None:
            if room.phase.kind is PhaseKind.ENDED:
                return
            recorder = SessionRecorder(
                room.id,
                self._folder / room.id,
                self._catalogue,
                functools.partial(self._keyframe_for, room.id),
            )
            self._recorders[room.id] = recorder
        recorder.update(room, now_ms)
        if room.phase.kind is PhaseKind.ENDED:
            recorder.close(now_ms)
            del self._recorders[room.id]

    def _keyframe_for(self, room_id: RoomId, seat: SeatId) -> None:
        self.request_keyframe(room_id, seat)

    def on_frame(
        self,
        room_id: RoomId,
        seat: SeatId,
        kind: MediaKind,
        codec: str,
        clock_rate: int,
        frame: bytes,
        rtp_timestamp: int,
    ) -> None:
        """A frame the SFU received from a publisher; recorded if the rules allow."""
        recorder = self._recorders.get(room_id)
        if recorder is not None and seat in recorder.recorded:
            recorder.on_frame(
                seat, kind, codec, clock_rate, frame, rtp_timestamp, self._clock(room_id)
            )

    def close(self) -> None:
        for room_id, recorder in list(self._recorders.items()):
            recorder.close(self._clock(room_id))
        self._recorders.clear()
