"""Synthetic media for the media tests: who is who, what they send, how to tell.

Each seat publishes a tone at its own frequency and a picture in its own colour
(with a moving block, so no two frames encode alike); :func:`identify_audio`
and :func:`identify_video` tell the seat back from *decoded* media.  A
:class:`SentLog` remembers every encoded frame published (hash of its bytes,
seat, kind, time): the SFU forwards bytes untouched, so a received frame's hash
names the very frame that was sent.
"""

from __future__ import annotations

import asyncio
import fractions
import functools
import math
import random
import time
from array import array
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import av
from aiortc.codecs.opus import OpusEncoder
from aiortc.codecs.vpx import Vp8Encoder, vp8_depayload
from aiortc.mediastreams import MediaStreamTrack

from sessions.audience import Route
from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind

MEDIATOR, PARTY_A, PARTY_B, COACH = (
    SeatId("mediator"),
    SeatId("party_a"),
    SeatId("party_b"),
    SeatId("coach"),
)
SEATS = (MEDIATOR, PARTY_A, PARTY_B, COACH)
SPEED = {MEDIATOR: 4, PARTY_A: 6, PARTY_B: 10, COACH: 14}  # pixels per frame
TONE_HZ = {MEDIATOR: 300, PARTY_A: 500, PARTY_B: 700, COACH: 900}
# (Y, U, V) per seat: the chroma pair identifies the seat after VP8 coding
COLOUR = {
    MEDIATOR: (81, 90, 240),
    PARTY_A: (145, 54, 34),
    PARTY_B: (41, 240, 110),
    COACH: (210, 16, 146),
}
WIDTH, HEIGHT, FPS = 192, 144, 30
AUDIO_RATE, AUDIO_SAMPLES = 48000, 960
ROOM = RoomId("room-1")
#: a condition to wait for: plain, or a coroutine (one that reads the catalogue)
Predicate = Callable[[], bool | Awaitable[bool]]


async def holds(predicate: Predicate) -> bool:
    result = predicate()
    return bool(await result) if isinstance(result, Awaitable) else bool(result)


def routes_for(pairs: Iterable[tuple[SeatId, SeatId]]) -> frozenset[Route]:
    """Audio and video routes for each (publisher, subscriber) pair."""
    return frozenset(Route(p, s, k) for p, s in pairs for k in MediaKind)


def joint(seats: Iterable[SeatId] = SEATS) -> frozenset[Route]:
    seats = tuple(seats)
    return routes_for((p, s) for p in seats for s in seats if p != s)


def caucus(party: SeatId, seats: Iterable[SeatId] = SEATS) -> frozenset[Route]:
    """Mediator and one party hear each other; the coach hears both; nobody else."""
    inside = {MEDIATOR, party}
    pairs = [(p, s) for p in inside for s in inside if p != s]
    pairs += [(p, COACH) for p in inside if COACH in seats]
    return routes_for(pairs)


def timeout(seats: Iterable[SeatId] = SEATS) -> frozenset[Route]:
    """Only the coach and the mediator talk."""
    return routes_for([(COACH, MEDIATOR), (MEDIATOR, COACH)])


# -- synthetic sources ---------------------------------------------------------


class Pacer:
    """Real-time pacing for a synthetic source (not synchronisation)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.start: float | None = None
        self.count = 0

    async def next(self) -> int:
        now = time.monotonic()
        if self.start is None:
            self.start = now
        due = self.start + self.count * self.interval
        if due > now:
            await asyncio.sleep(due - now)
        self.count += 1
        return self.count - 1


@functools.lru_cache(maxsize=8)
def _tone_frames(hz: int, seed: int) -> tuple[bytes, ...]:
    """3 s of 20 ms s16 frames: a sine at ``hz`` plus low noise (no short loop)."""
    rng = random.Random(seed)
    noise = [rng.randint(-300, 300) for _ in range(4801)]  # prime length
    sine = [int(8000 * math.sin(2 * math.pi * hz * n / AUDIO_RATE)) for n in range(AUDIO_RATE)]
    samples = array("h", [sine[n % AUDIO_RATE] + noise[n % 4801] for n in range(3 * AUDIO_RATE)])
    raw = samples.tobytes()
    size = 2 * AUDIO_SAMPLES
    return tuple(raw[i : i + size] for i in range(0, len(raw), size))


class ToneSource:
    """20 ms frames of a sine at ``hz`` plus low noise (s16 mono, 48 kHz)."""

    def __init__(self, hz: int, seed: int) -> None:
        self._frames = _tone_frames(hz, seed)
        self.pacer = Pacer(AUDIO_SAMPLES / AUDIO_RATE)

    async def next(self) -> av.AudioFrame:
        n = await self.pacer.next()
        frame = av.AudioFrame(format="s16", layout="mono", samples=AUDIO_SAMPLES)
        frame.planes[0].update(self._frames[n % len(self._frames)])
        frame.sample_rate = AUDIO_RATE
        frame.pts = n * AUDIO_SAMPLES
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        return frame


class ColourSource:
    """A solid colour per seat, a block moving at a speed of the seat's own, and a
    frame counter drawn in binary: no two frames – of one seat or of two seats –
    encode to the same bytes (flat, perfectly predicted motion alone would)."""

    def __init__(self, yuv: tuple[int, int, int], speed: int, fps: int = FPS) -> None:
        y, _, _ = yuv
        self._step = 90000 // fps
        self._y = y
        self._ink = 255 - y
        self._speed = speed
        self._u = bytes([yuv[1]]) * (WIDTH * HEIGHT // 4)
        self._v = bytes([yuv[2]]) * (WIDTH * HEIGHT // 4)
        self.pacer = Pacer(1 / fps)

    def _luma(self, n: int) -> bytes:
        rows = bytearray([self._y]) * (WIDTH * HEIGHT)
        position = (n * self._speed) % (WIDTH - 24)
        ink = bytes([self._ink])
        for row in range(8, 32):
            start = row * WIDTH + position
            rows[start : start + 24] = ink * 24
        for bit in range(12):  # the counter: 12 squares of 16x16 along the bottom
            if n >> bit & 1:
                for row in range(HEIGHT - 24, HEIGHT - 8):
                    start = row * WIDTH + bit * 16
                    rows[start : start + 16] = ink * 16
        return bytes(rows)

    async def next(self) -> av.VideoFrame:
        n = await self.pacer.next()
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        frame.planes[0].update(self._luma(n))
        frame.planes[1].update(self._u)
        frame.planes[2].update(self._v)
        frame.pts = n * self._step
        frame.time_base = fractions.Fraction(1, 90000)
        return frame


class FrameSource(Protocol):
    """Raw frames at their own pace: ToneSource, ColourSource, or one made from them."""

    async def next(self) -> av.AudioFrame | av.VideoFrame: ...


class EncodedTrack(MediaStreamTrack):
    """Encodes a synthetic source on the client with aiortc's own encoder (as a
    browser would) and yields ``av.Packet``s for the sender to pack."""

    def __init__(
        self,
        kind: MediaKind,
        source: FrameSource,
        on_encoded: Callable[[bytes], None],
        audio_bps: int | None = None,
    ) -> None:
        """``audio_bps``: the Opus bitrate (aiortc's 96 kbit/s stereo when None; a
        browser's voice is ~32 kbit/s)."""
        super().__init__()
        self.kind = kind.value
        self._source = source
        self._encoder = OpusEncoder() if kind is MediaKind.AUDIO else Vp8Encoder()
        if audio_bps is not None and isinstance(self._encoder, OpusEncoder):
            self._encoder.codec.bit_rate = audio_bps  # before the first frame opens it
        self._codec = "audio/opus" if kind is MediaKind.AUDIO else "video/vp8"
        self._time_base = fractions.Fraction(1, 48000 if kind is MediaKind.AUDIO else 90000)
        self._on_encoded = on_encoded
        self._force_keyframe = False
        self.keyframe_requests = 0

    def request_keyframe(self) -> None:
        self._force_keyframe = True
        self.keyframe_requests += 1

    async def recv(self) -> av.Packet[Any]:
        while True:
            frame = await self._source.next()
            force, self._force_keyframe = self._force_keyframe, False
            payloads, timestamp = self._encoder.encode(frame, force)
            if payloads:
                break
        if self.kind == "video":
            data = b"".join(vp8_depayload(p) for p in payloads)
        else:
            data = b"".join(payloads)
        self._on_encoded(data)
        packet = av.Packet(data)
        packet.pts = timestamp
        packet.time_base = self._time_base
        return packet


def identify_video(frame: av.VideoFrame) -> SeatId | None:
    """The seat whose colour is nearest to the picture's chroma, if any is near."""
    u_plane, v_plane = frame.planes[1], frame.planes[2]
    pos = (frame.height // 2 + 10) // 2 * u_plane.line_size + frame.width // 4
    u, v = memoryview(u_plane)[pos], memoryview(v_plane)[pos]
    seat, distance = min(
        ((s, abs(c[1] - u) + abs(c[2] - v)) for s, c in COLOUR.items()), key=lambda x: x[1]
    )
    return seat if distance < 40 else None


def identify_audio(frame: av.AudioFrame) -> SeatId | None:
    """The seat whose tone matches the zero-crossing rate of the left channel."""
    channels = len(frame.layout.channels)
    # the plane's buffer is padded: only samples * channels values are audio
    samples = memoryview(frame.planes[0]).cast("h")[: frame.samples * channels]
    left = samples[::channels]
    if max(abs(s) for s in left[:200]) < 1000:
        return None  # silence or a concealment frame
    crossings = sum(1 for a, b in zip(left, left[1:], strict=False) if (a < 0) != (b < 0))
    hz = crossings / 2 / (len(left) / frame.sample_rate)
    seat, error = min(((s, abs(f - hz)) for s, f in TONE_HZ.items()), key=lambda x: x[1])
    return seat if error < 60 else None


# -- logs ------------------------------------------------------------------------


@dataclass
class SentLog:
    """Every encoded frame published, by hash of its bytes."""

    by_hash: dict[int, deque[tuple[SeatId, MediaKind, float]]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    by_track: dict[tuple[SeatId, MediaKind], list[tuple[float, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, seat: SeatId, kind: MediaKind, data: bytes) -> None:
        now = time.monotonic()
        key = hash(data)
        self.by_hash[key].append((seat, kind, now))
        self.by_track[(seat, kind)].append((now, key))
        self.changed.set()

    async def wait_until(self, predicate: Predicate, timeout: float) -> None:
        """Wait (bounded) until ``predicate()`` holds (awaited if it is a coroutine, as
        one that reads the catalogue is); re-checked on every frame sent or received by
        anyone sharing this log."""
        async with asyncio.timeout(timeout):
            while not await holds(predicate):
                self.changed.clear()
                await self.changed.wait()

    def origin(self, key: int, before: float) -> tuple[SeatId, MediaKind, float] | None:
        """The latest frame with these bytes sent before ``before`` (sources loop, so
        identical frames recur: every few seconds for a looped tone)."""
        entries = [e for e in self.by_hash.get(key, ()) if e[2] <= before]
        if len({(seat, kind) for seat, kind, _ in entries}) > 1:
            return None  # two tracks produced identical bytes (stream starts): ambiguous
        return entries[-1] if entries else None


@dataclass
class Arrival:
    time: float
    key: int
    publisher: SeatId | None  # from the sent log
    kind: MediaKind | None
    sent: float | None
    size: int = 0
