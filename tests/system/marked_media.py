"""Synthetic publishers whose audio and video carry simultaneous marks.

Each publisher has one :class:`CaptureClock`; its :class:`MarkedVideo` and
:class:`MarkedAudio` derive every frame's capture time from that clock, as a
browser's camera and microphone share one media clock.  At each mark (every
:data:`MARK_EVERY_FRAMES` video frames) the picture turns white for a few frames
and, from the very same instant, a loud 2 kHz burst plays over the seat's quiet
tone.  :func:`video_marks` and :func:`audio_onsets` find those marks again in
*decoded* media, so the recording's A/V sync can be measured mark by mark.

Marks are not aligned with audio frames (the burst starts part-way into a 20 ms
Opus frame, at an offset that changes from mark to mark), so finding the onset
exercises the sample offset within a frame, not just frame timestamps.
"""

from __future__ import annotations

import asyncio
import fractions
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import av
import numpy as np

from sessions.ids import SeatId
from sessions.media_kinds import MediaKind
from tests.media.synthetic import COLOUR, HEIGHT, TONE_HZ, WIDTH, EncodedTrack, SentLog

FPS = 30
AUDIO_RATE = 48_000
AUDIO_SAMPLES = 960  # 20 ms Opus frames
SAMPLES_PER_VIDEO_FRAME = AUDIO_RATE // FPS  # 1600

#: a mark every 25 video frames (833 ms); the first at frame 10 of the capture clock
MARK_EVERY_FRAMES = 25
FIRST_MARK_FRAME = 10
#: the white picture lasts this many frames (detection needs only the first)
MARK_VIDEO_FRAMES = 3
#: the tone burst: 40 ms of 2 kHz, loud, over the seat's quiet tone
BURST_SAMPLES = 40 * AUDIO_RATE // 1000
BURST_HZ = 2000
BURST_AMPLITUDE = 20_000
TONE_AMPLITUDE = 1_500
WHITE = (235, 128, 128)


def mark_index(video_frame: int) -> int | None:
    """Which mark (0, 1, ...) starts at this capture-clock video frame, if any."""
    offset = video_frame - FIRST_MARK_FRAME
    if offset < 0 or offset % MARK_EVERY_FRAMES:
        return None
    return offset // MARK_EVERY_FRAMES


@dataclass
class Mark:
    index: int
    kind: MediaKind
    captured: float  # time.monotonic() of the mark's instant on the capture clock


@dataclass
class CaptureClock:
    """One publisher's media clock: both of its sources pace and stamp from it.

    It also remembers, by hash of the encoded bytes, when each frame sent was
    captured, so that a server-side sink can tell how far into the capture
    timeline the server has got (:meth:`arrived`, :meth:`marks_arrived_since`).
    """

    origin: float | None = None
    marks: list[Mark] = field(default_factory=list)
    captured: dict[int, float] = field(default_factory=dict)  # hash(bytes) -> seconds
    latest: dict[MediaKind, float] = field(default_factory=dict)  # captured, last arrived

    def elapsed(self) -> float:
        now = time.monotonic()
        if self.origin is None:
            self.origin = now
        return now - self.origin

    async def at(self, t: float) -> None:
        """Pace: return once `t` seconds after the origin have passed (real time)."""
        assert self.origin is not None
        delay = self.origin + t - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def marked(self, index: int, kind: MediaKind, t: float) -> None:
        assert self.origin is not None
        self.marks.append(Mark(index, kind, self.origin + t))

    def encoded(self, data: bytes, t: float) -> None:
        """The frame captured at `t` (s after the origin) was encoded to `data`."""
        self.captured[hash(data)] = t

    def arrived(self, kind: MediaKind, data: bytes) -> None:
        """A frame of ours, as it reached the server."""
        t = self.captured.get(hash(data))
        if t is not None and t > self.latest.get(kind, -1.0):
            self.latest[kind] = t

    def marks_arrived_since(self, since: float, kind: MediaKind) -> int:
        """Marks captured after the time.monotonic() instant `since` whose frames the
        server has received (or later frames of the same track)."""
        if self.origin is None or kind not in self.latest:
            return 0
        upto = self.origin + self.latest[kind]
        return sum(1 for m in self.marks if m.kind is kind and since <= m.captured <= upto)


class MarkedVideo:
    """The seat's colour with a moving block and a frame counter (so no two frames
    encode alike); white for MARK_VIDEO_FRAMES frames at each mark."""

    def __init__(self, clock: CaptureClock, yuv: tuple[int, int, int], speed: int) -> None:
        self.clock = clock
        self._yuv = yuv
        self._speed = speed
        self._n: int | None = None
        self.last_t = 0.0  # capture time (s after the origin) of the last frame

    def _planes(self, n: int, marked: bool) -> tuple[np.ndarray, int, int]:
        y, u, v = WHITE if marked else self._yuv
        ink = 255 - y
        luma = np.full((HEIGHT, WIDTH), y, np.uint8)
        position = (n * self._speed) % (WIDTH - 24)
        luma[8:32, position : position + 24] = ink
        for bit in range(12):
            if n >> bit & 1:
                luma[HEIGHT - 24 : HEIGHT - 8, bit * 16 : bit * 16 + 16] = ink
        return luma, u, v

    async def next(self) -> av.VideoFrame:
        if self._n is None:
            self._n = math.ceil(self.clock.elapsed() * FPS)
        else:
            self._n += 1
        n = self._n
        self.last_t = n / FPS
        await self.clock.at(self.last_t)
        since_mark = (n - FIRST_MARK_FRAME) % MARK_EVERY_FRAMES
        marked = n >= FIRST_MARK_FRAME and since_mark < MARK_VIDEO_FRAMES
        luma, u, v = self._planes(n, marked)
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        frame.planes[0].update(luma.tobytes())
        frame.planes[1].update(bytes([u]) * (WIDTH * HEIGHT // 4))
        frame.planes[2].update(bytes([v]) * (WIDTH * HEIGHT // 4))
        frame.pts = n * (90_000 // FPS)
        frame.time_base = fractions.Fraction(1, 90_000)
        index = mark_index(n)
        if index is not None:
            self.clock.marked(index, MediaKind.VIDEO, n / FPS)
        return frame


class MarkedAudio:
    """The seat's tone, quiet; a loud 2 kHz burst of BURST_SAMPLES at each mark."""

    def __init__(self, clock: CaptureClock, hz: int) -> None:
        self.clock = clock
        self._hz = hz
        self._n: int | None = None
        self.last_t = 0.0

    def _samples(self, first: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """s16 samples [first, first + AUDIO_SAMPLES) and the (mark, sample) bursts
        that start in them."""
        i = np.arange(first, first + AUDIO_SAMPLES)
        wave = TONE_AMPLITUDE * np.sin(2 * np.pi * self._hz * i / AUDIO_RATE)
        starts = []
        last_frame = (first + AUDIO_SAMPLES - 1) // SAMPLES_PER_VIDEO_FRAME
        lowest = (first - BURST_SAMPLES) // SAMPLES_PER_VIDEO_FRAME
        for video_frame in range(max(lowest, 0), last_frame + 1):
            index = mark_index(video_frame)
            if index is None:
                continue
            start = video_frame * SAMPLES_PER_VIDEO_FRAME
            inside = (i >= start) & (i < start + BURST_SAMPLES)
            if inside.any():
                burst = BURST_AMPLITUDE * np.sin(2 * np.pi * BURST_HZ * (i - start) / AUDIO_RATE)
                wave = np.where(inside, burst, wave)
            if first <= start < first + AUDIO_SAMPLES:
                starts.append((index, start))
        return wave.astype(np.int16), starts

    async def next(self) -> av.AudioFrame:
        if self._n is None:
            self._n = math.ceil(self.clock.elapsed() * AUDIO_RATE / AUDIO_SAMPLES)
        else:
            self._n += 1
        first = self._n * AUDIO_SAMPLES
        self.last_t = first / AUDIO_RATE
        await self.clock.at(self.last_t)
        samples, starts = self._samples(first)
        frame = av.AudioFrame(format="s16", layout="mono", samples=AUDIO_SAMPLES)
        frame.planes[0].update(samples.tobytes())
        frame.sample_rate = AUDIO_RATE
        frame.pts = first
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        for index, start in starts:
            self.clock.marked(index, MediaKind.AUDIO, start / AUDIO_RATE)
        return frame


def marked_tracks(
    seat: SeatId, sent: SentLog, speed: int = 6
) -> tuple[CaptureClock, dict[MediaKind, EncodedTrack]]:
    """A capture clock and the two tracks (for ``ClientParticipant.sources``) it drives."""
    clock = CaptureClock()
    sources: dict[MediaKind, MarkedAudio | MarkedVideo] = {
        MediaKind.AUDIO: MarkedAudio(clock, TONE_HZ.get(seat, 1100)),
        MediaKind.VIDEO: MarkedVideo(clock, COLOUR.get(seat, (128, 128, 128)), speed),
    }

    def logger(kind: MediaKind) -> Callable[[bytes], None]:
        source = sources[kind]

        def encoded(data: bytes) -> None:
            clock.encoded(data, source.last_t)
            sent.add(seat, kind, data)

        return encoded

    return clock, {
        kind: EncodedTrack(kind, source, logger(kind)) for kind, source in sources.items()
    }


# -- finding the marks in decoded media ---------------------------------------------


def is_white(frame: av.VideoFrame, yuv: tuple[int, int, int]) -> bool:
    """Whether the picture's centre is nearer to the mark's white than to the seat's
    colour (the midpoint: a codec's transition frame counts once it is half-way)."""
    centre = []
    for index in range(3):  # the middle ninth of each plane: away from block and counter
        plane = _plane(frame, index)
        h, w = plane.shape
        centre.append(float(plane[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3].mean()))
    to_white = sum(abs(a - b) for a, b in zip(centre, WHITE, strict=True))
    to_seat = sum(abs(a - b) for a, b in zip(centre, yuv, strict=True))
    return to_white < to_seat


def _plane(frame: av.VideoFrame, index: int) -> np.ndarray:
    plane = frame.planes[index]
    height = frame.height if index == 0 else (frame.height + 1) // 2
    width = frame.width if index == 0 else (frame.width + 1) // 2
    raw = np.frombuffer(memoryview(plane), np.uint8)[: plane.line_size * height]
    return raw.reshape(height, plane.line_size)[:, :width]


def video_marks(frames: Iterable[tuple[float, bool]]) -> list[float]:
    """Times of the first white frame of each run of white frames."""
    marks, previous = [], False
    for t, white in frames:
        if white and not previous:
            marks.append(t)
        previous = white
    return marks


def audio_onsets(
    frames: Iterable[tuple[float, np.ndarray, int]], threshold: float = 0.5, quiet_ms: float = 100
) -> list[float]:
    """Times of the first sample of each burst: the first sample louder than
    `threshold` × the burst's amplitude after at least `quiet_ms` below it.

    ``frames``: (time in ms of the frame's first sample, samples as floats in
    [-1, 1] of one channel, sample rate).
    """
    level = threshold * BURST_AMPLITUDE / 32768
    onsets: list[float] = []
    last_loud = -math.inf
    for t, samples, rate in frames:
        loud = np.flatnonzero(np.abs(samples) > level)
        if loud.size == 0:
            continue
        times = t + loud * 1000 / rate
        gaps = np.diff(np.concatenate(([last_loud], times)))
        onsets.extend(float(x) for x in times[gaps > quiet_ms])
        last_loud = float(times[-1])
    return onsets
