"""The session timeline: every event stamped in ms since the session's t0."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from sessions.ids import SeatId


class EventKind(StrEnum):
    JOIN = "join"
    RESUME = "resume"  # back in the seat after a drop
    REPLACE = "replace"  # a second connection took over the seat
    DROP = "drop"  # connection lost; the seat is held for the grace period
    LEAVE = "leave"
    PHASE = "phase"
    WHISPER = "whisper"
    CONSENT = "consent"
    TRACK_START = "track_start"  # a recorded segment's first frame
    TRACK_STOP = "track_stop"
    TRACK_PAUSE = "track_pause"  # no media arrived for a while
    INTERRUPTED = "interrupted"  # the server stopped without closing the recording
    MEDIA_LOST = "media_lost"  # a seat's media path died (detail: reason)
    MEDIA_RESTORED = "media_restored"  # its media flows again (detail: reason, gap_ms)
    TROUBLE = "trouble"  # a troubled stretch of a seat's link, t_ms to end_ms (link_trouble.py)
    RECORDING_FAILED = "recording_failed"  # the disk refused it; detail: reason
    RECORDING_RESUMED = "recording_resumed"  # recording again after a failure
    ENDED = "ended"  # the room ended without anyone ending it; detail: reason ("abandoned")


@dataclass(frozen=True)
class Event:
    t_ms: int
    kind: EventKind
    seat: SeatId | None = None
    detail: Mapping[str, str | int | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.t_ms < 0:
            raise ValueError(f"an event cannot precede t0 ({self.t_ms} ms)")


def ms_since(t0_ms: int, now_ms: int) -> int:
    """Session time of the wall-clock instant `now_ms` (clamped at t0)."""
    return max(0, now_ms - t0_ms)
