"""One recorded track: encoded frames muxed into WebM as they arrive, never transcoded.

The file is written live (no seek back to patch headers, no index at the end)
and each block goes to disk as it is muxed, so a process killed at any moment
leaves a file that plays up to the last closed cluster — at most
`CLUSTER_MS` of media is lost.
"""

from __future__ import annotations

import errno
import fractions
import logging
from dataclasses import dataclass
from pathlib import Path

import av
import av.container

from media.codecs import FORWARDED, vp8_keyframe_size
from sessions.media_kinds import MediaKind

logger = logging.getLogger(__name__)

#: a Matroska cluster is written out when it spans this long (the crash-loss bound)
CLUSTER_MS = 1000
_MS = fractions.Fraction(1, 1000)
_RTP_WRAP = 1 << 32


@dataclass(frozen=True)
class TrackSummary:
    path: Path
    kind: MediaKind
    codec: str
    frames: int
    bytes: int
    duration_ms: int


class RtpClock:
    """RTP timestamps (32-bit, wrapping, random start) as ms since the first one."""

    def __init__(self, clock_rate: int) -> None:
        self._rate = clock_rate
        self._first: int | None = None
        self._last = 0
        self._unwrapped = 0

    def ms(self, timestamp: int) -> int:
        if self._first is None:
            self._first = self._last = timestamp
        delta = (timestamp - self._last) % _RTP_WRAP
        if delta >= _RTP_WRAP // 2:  # a reordered, older frame
            delta -= _RTP_WRAP
        self._last = timestamp
        self._unwrapped += delta
        return self._unwrapped * 1000 // self._rate


class FrameTiming:
    """Where each frame of one track goes in its file; decided without touching the disk.

    The recorder runs this on the event loop (a frame is accepted or not, and placed,
    at once) and hands the placed frame to the writer thread, which muxes it.
    """

    def __init__(self, kind: MediaKind, codec: str, clock_rate: int) -> None:
        self.kind = kind
        self.codec = codec
        self._clock = RtpClock(clock_rate)
        self._first_ms: int | None = None
        self.started = False
        self.frames = 0
        self.last_ms = 0

    def place(self, frame: bytes, rtp_timestamp: int) -> tuple[int, bool] | None:
        """(ms from the file's start, is a keyframe), or None: video waits for a keyframe."""
        keyframe = (
            self.kind is MediaKind.VIDEO
            and self.codec == "vp8"
            and vp8_keyframe_size(frame) is not None
        )
        if not self.started:
            if self.kind is MediaKind.VIDEO and not keyframe:
                return None  # a file must start with a picture a decoder can show
            self.started = True
        ms = self._clock.ms(rtp_timestamp)
        if self._first_ms is None:
            self._first_ms = ms
        ms = max(ms - self._first_ms, self.last_ms)  # Matroska wants monotonic timestamps
        self.frames += 1
        self.last_ms = ms
        return ms, keyframe


class TrackWriter:
    """Muxes one track's encoded frames (Opus or VP8) into a WebM file.

    `mux` and `close` do the disk work (the writer thread calls them); `write` is
    placement and muxing in one call, for callers that own their thread.
    """

    def __init__(self, path: Path, kind: MediaKind, codec: str, clock_rate: int) -> None:
        self.path = path
        self.kind = kind
        self.codec = codec
        self.timing = FrameTiming(kind, codec, clock_rate)
        self._container: av.container.OutputContainer | None = None
        self._stream: av.stream.Stream | None = None  # set with the container
        self._frames = 0
        self._last_ms = 0
        #: the first disk error: later frames are skipped, the file is closed as it is
        self.fault: str | None = None

    @property
    def last_ms(self) -> int:
        """Media time of the last frame placed, ms from the file's start."""
        return self.timing.last_ms

    @property
    def started(self) -> bool:
        return self.timing.started

    @property
    def frames_written(self) -> int:
        """Frames muxed so far (read by the writer's thread, or after it finished)."""
        return self._frames

    @property
    def written_ms(self) -> int:
        return self._last_ms

    def _open(self, width: int = 0, height: int = 0) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        container = av.open(
            str(self.path),
            "w",
            format="webm",
            options={
                "live": "1",  # write as a stream: no seeking back, no trailing index
                "cluster_time_limit": str(CLUSTER_MS),
                "flush_packets": "1",
            },
        )
        if self.kind is MediaKind.VIDEO:
            stream = container.add_mux_stream(self.codec, width=width, height=height)
        else:
            stream = container.add_mux_stream(
                self.codec, rate=FORWARDED[MediaKind.AUDIO].clock_rate
            )
        stream.time_base = _MS
        self._container = container
        self._stream = stream

    def write(self, frame: bytes, rtp_timestamp: int) -> bool:
        """Place and mux one encoded frame; video waits for its first keyframe. True if written."""
        placed = self.timing.place(frame, rtp_timestamp)
        if placed is None:
            return False
        self.mux(frame, *placed)
        return True

    def mux(self, frame: bytes, ms: int, keyframe: bool) -> None:
        """Write one placed frame; raises OSError/av errors if the disk refuses it."""
        if self.fault is not None:
            return  # this file already failed; its recording is being stopped
        try:
            if self._container is None:
                size = vp8_keyframe_size(frame) if keyframe else None
                self._open(*(size or (0, 0)))
            assert self._container is not None and self._stream is not None
            packet = av.Packet(frame)
            packet.stream = self._stream
            packet.time_base = _MS
            packet.pts = packet.dts = ms
            if keyframe:
                packet.is_keyframe = True
            self._container.mux(packet)
        except Exception as exc:
            self.fault = describe_fault(exc)
            raise
        self._frames += 1
        self._last_ms = ms

    def close(self) -> TrackSummary:
        """Finish the file; raises if the disk refuses (the file then ends where it broke)."""
        container, self._container = self._container, None
        if container is not None:
            try:
                container.close()
            except Exception as exc:
                if self.fault is None:
                    self.fault = describe_fault(exc)
                raise
        try:
            size = self.path.stat().st_size if self.path.exists() else 0
        except OSError:
            size = 0
        return TrackSummary(self.path, self.kind, self.codec, self._frames, size, self._last_ms)


def describe_fault(exc: BaseException) -> str:
    """A short reason for the catalogue and the coach: 'No space left on device (ENOSPC)'."""
    errno_ = getattr(exc, "errno", None)
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    name = errno.errorcode.get(errno_, "") if isinstance(errno_, int) else ""
    return f"{text} ({name})" if name else str(text)
