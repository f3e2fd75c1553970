"""The composite render's soundtrack: every seat's audio segments mixed on the session clock.

Segments are decoded only while the mix passes through them, so a three-hour
session needs a few open decoders at a time, never the whole track in memory.
Voices are summed and clipped rather than averaged (as `amix` would): people
in a mediation mostly take turns, and averaging would make one speaker four
times quieter in a four-seat room.
"""

from __future__ import annotations

import fractions
import logging
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from recordings.render_fill import FillSegment
from storage.catalogue import Segment

logger = logging.getLogger(__name__)

SAMPLE_RATE = 48_000
#: a frame this far from where its timestamp puts it is re-placed; closer ones run on
#: contiguously, so millisecond-rounded timestamps never click
RESYNC_SAMPLES = SAMPLE_RATE // 100

Samples = npt.NDArray[np.float32]


class AudioSource:
    """One audio segment, decoded on demand into stereo float samples at 48 kHz."""

    def __init__(self, segment: Segment, origin_ms: int) -> None:
        self.segment = segment
        #: sample index (from the render's origin) where the segment's first frame belongs
        self.start = (segment.start_ms - origin_ms) * SAMPLE_RATE // 1000
        self._container: av.container.InputContainer | None = None
        self._frames: Iterator[av.AudioFrame] | None = None
        self._resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
        self._pending: deque[tuple[int, Samples]] = deque()
        self._cursor: int | None = None
        self.exhausted = False
        self._tick_samples = 0.0
        #: a browser-copy stand-in is heard only over the hole it fills (samples)
        self._window: tuple[int, int] | None = None
        if isinstance(segment, FillSegment):
            self._window = (
                (segment.from_ms - origin_ms) * SAMPLE_RATE // 1000,
                (segment.to_ms - origin_ms) * SAMPLE_RATE // 1000,
            )

    def _decode(self) -> bool:
        """Decode one more frame into the pending queue; False when the file has no more."""
        if self.exhausted:
            return False
        try:
            if self._frames is None:
                self._container = av.open(self.segment.path)
                stream = self._container.streams.audio[0]
                self._tick_samples = float(stream.time_base or 0) * SAMPLE_RATE
                self._frames = self._container.decode(stream)
            frame = next(self._frames)
        except StopIteration:
            return self._finish()
        except (av.error.FFmpegError, OSError) as exc:
            # An interrupted segment may end in a half-written cluster: keep what decoded.
            logger.info("audio segment %s ends early: %s", self.segment.path, exc)
            return self._finish()
        if frame.pts is not None:
            placed = self.start + int(frame.pts * self._tick_samples)
            if self._cursor is None or abs(placed - self._cursor) > RESYNC_SAMPLES:
                self._cursor = placed
        elif self._cursor is None:
            self._cursor = self.start
        for converted in self._resampler.resample(frame):
            self._push(np.asarray(converted.to_ndarray(), np.float32))
        return True

    def _push(self, samples: Samples) -> None:
        assert self._cursor is not None
        self._pending.append((self._cursor, samples))
        self._cursor += samples.shape[1]

    def _finish(self) -> bool:
        if self._cursor is not None:
            for converted in self._resampler.resample(None):
                self._push(np.asarray(converted.to_ndarray(), np.float32))
        self.exhausted = True
        self.close()
        return False

    def add_into(self, out: Samples, start: int) -> None:
        """Add this segment's samples that fall in [start, start + len(out)) into `out`."""
        end = start + out.shape[1]
        while not self._pending or self._pending[-1][0] + self._pending[-1][1].shape[1] < end:
            if not self._decode():
                break
        while self._pending:
            position, samples = self._pending[0]
            stop = position + samples.shape[1]
            lo, hi = max(position, start), min(stop, end)
            if self._window is not None:
                lo, hi = max(lo, self._window[0]), min(hi, self._window[1])
            if lo < hi:
                out[:, lo - start : hi - start] += samples[:, lo - position : hi - position]
            if stop > end:
                break
            self._pending.popleft()

    @property
    def finished(self) -> bool:
        return self.exhausted and not self._pending

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None


class AudioMixer:
    """Mixes segments block by block, in order; each block follows the previous one."""

    def __init__(self, segments: Sequence[Segment], origin_ms: int) -> None:
        sources = sorted(
            (AudioSource(s, origin_ms) for s in segments if Path(s.path).exists()),
            key=lambda source: source.start,
        )
        self._waiting = deque(sources)
        self._active: list[AudioSource] = []

    def mix(self, start: int, count: int) -> Samples:
        """Stereo samples [start, start + count) of the mix, clipped to [-1, 1]."""
        out = np.zeros((2, count), np.float32)
        while self._waiting and self._waiting[0].start < start + count:
            self._active.append(self._waiting.popleft())
        for source in self._active:
            source.add_into(out, start)
        self._active = [source for source in self._active if not source.finished]
        np.clip(out, -1.0, 1.0, out=out)
        return out

    def close(self) -> None:
        for source in (*self._active, *self._waiting):
            source.close()


def audio_frame(samples: Samples, pts: int) -> av.AudioFrame:
    frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="stereo")
    frame.sample_rate = SAMPLE_RATE
    frame.pts = pts
    frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
    return frame
