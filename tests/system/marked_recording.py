"""Seats publishing marked media to a live server, and their marks found again in
what it recorded: the harness of tests/system/test_recording_sync.py.

A :class:`Seat` is a seat's socket and aiortc client publishing the marked picture
and tone of tests/system/marked_media.py; :func:`watch` is a sink on the server's
producers that tells its capture clock which marks have arrived, and
:func:`watch_the_loop` measures event-loop stalls.  :func:`decode` reads one
segment file back frame for frame and finds its marks on the session clock;
:func:`measure_sync` names each mark found by the captured mark nearest to it and
pairs video with audio, mark by mark.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import statistics
import time
from dataclasses import dataclass
from typing import Any

import av
import numpy as np

from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from storage.catalogue import Segment
from tests.live_server import LiveServer, Participant
from tests.media.media_harness import ClientParticipant
from tests.media.synthetic import COLOUR, SPEED, SentLog
from tests.system.marked_media import (
    FPS,
    MARK_EVERY_FRAMES,
    CaptureClock,
    audio_onsets,
    is_white,
    marked_tracks,
    video_marks,
)
from tests.system.socket_signal import SocketSignal

#: marks this near a segment's edges may be cut by it: neither counted nor required
EDGE_MS = 60
#: a detected mark belongs to the logged mark captured nearest to it, if this near
IDENTIFY_WITHIN_MS = 0.45 * MARK_EVERY_FRAMES * 1000 / FPS


class Seat:
    """A seat's socket and its aiortc client, publishing marked media."""

    def __init__(self, server: LiveServer, room: RoomId, seat: SeatId, sent: SentLog) -> None:
        self.seat = seat
        self.socket = Participant(seat, server.token(room, seat), room)
        self.media = ClientParticipant(
            seat,
            SocketSignal(self.socket),
            sent,
            room=room,
            decode=False,  # nothing here looks at received media; keep the loop free
        )
        self.clock: CaptureClock
        self.clock, tracks = marked_tracks(seat, sent, SPEED[seat])
        self.media.sources.update(tracks)
        self.socket.client.on("media_offer", self.media.on_offer)

    async def join(self, url: str) -> None:
        await self.socket.connect(url)
        assert (await self.socket.join())["ok"]

    async def close(self) -> None:
        await self.media.close()
        await self.socket.close()


# -- reading the recording -------------------------------------------------------------


@dataclass
class Decoded:
    segment: Segment
    packets: int
    invisible: int  # VP8 frames with show_frame = 0: a decoder outputs no picture
    packet_pts: list[int]  # ms, of the frames a decoder shows
    frame_pts: list[float]  # ms, of the frames decoded
    marks: list[float]  # session ms of each mark found (not cut by the segment's start)


def vp8_shown(data: bytes) -> bool:
    return bool(data[0] & 0x10)  # RFC 6386 §9.1: show_frame


def decode(segment: Segment) -> Decoded:
    packets = invisible = 0
    packet_pts: list[int] = []
    frame_pts: list[float] = []
    with av.open(segment.path) as container:
        stream = container.streams.get(**{segment.kind: 0})[0]
        for packet in container.demux(stream):
            if packet.size == 0:
                continue  # the demuxer's flush packet
            packets += 1
            if segment.kind == "video" and not vp8_shown(bytes(packet)):
                invisible += 1
            else:
                assert packet.pts is not None and packet.time_base is not None
                packet_pts.append(int(packet.pts * packet.time_base * 1000))
    video: list[tuple[float, bool]] = []
    audio: list[tuple[float, np.ndarray, int]] = []
    with av.open(segment.path) as container:
        stream = container.streams.get(**{segment.kind: 0})[0]
        for frame in container.decode(stream):
            assert isinstance(frame, av.VideoFrame | av.AudioFrame), frame
            assert frame.pts is not None and frame.time_base is not None
            pts = float(frame.pts * frame.time_base * 1000)
            frame_pts.append(pts)
            t = segment.start_ms + pts
            if isinstance(frame, av.VideoFrame):
                video.append((t, is_white(frame, COLOUR[SeatId(segment.seat)])))
            else:
                samples = frame.to_ndarray()
                if samples.dtype == np.int16:
                    samples = samples / 32768
                if samples.ndim == 2 and frame.format.is_planar:
                    channel = samples[0]
                else:  # packed: interleaved channels in one row
                    channel = samples.reshape(-1)[:: len(frame.layout.channels)]
                audio.append((t, channel, frame.sample_rate))
    marks = video_marks(video) if segment.kind == "video" else audio_onsets(audio)
    # a mark this near the segment's start may have begun before it (cut): not counted
    marks = [m for m in marks if m - segment.start_ms >= EDGE_MS]
    return Decoded(segment, packets, invisible, packet_pts, frame_pts, marks)


async def watch_the_loop(stalls: list[float], period: float = 0.01) -> None:
    """Record how late the event loop wakes up from a short sleep."""
    with contextlib.suppress(asyncio.CancelledError):
        while True:
            before = time.monotonic()
            await asyncio.sleep(period)
            stalls.append(time.monotonic() - before - period)


def watch(clock: CaptureClock, sent: SentLog) -> Any:
    """A sink for a publisher's producers on the server: what has arrived there."""

    def sink(seat: SeatId, kind: MediaKind, packet: av.Packet[Any]) -> None:
        clock.arrived(kind, bytes(packet))
        sent.changed.set()  # wakes wait_until

    return sink


def session_ms(monotonic: float, t0_ms: int, wall_minus_monotonic: float) -> float:
    """The server's session time (wall clock since t0) of a time.monotonic() instant."""
    return (monotonic + wall_minus_monotonic) * 1000 - t0_ms


def mean(values: list[float]) -> float:
    return statistics.mean(values) if values else math.nan


@dataclass
class Sync:
    offsets: list[float]  # video − audio, ms, one per mark found in both
    per_stretch: list[int]  # marks paired, per video segment
    latency: dict[str, list[float]]  # timeline − capture instant, ms, per kind
    unidentified: list[tuple[str, float]]  # marks found that no captured mark explains
    missed: list[tuple[str, int]]  # captured marks well inside a segment, not found


def measure_sync(
    tracks: dict[tuple[str, str], list[Decoded]],
    seat: SeatId,
    clock: CaptureClock,
    t0_ms: int,
    wall_minus_monotonic: float,
) -> Sync:
    """Names each mark found by the captured mark nearest to it, then pairs video
    and audio by name."""
    found: dict[str, dict[int, tuple[float, int]]] = {}
    latency: dict[str, list[float]] = {}
    unidentified: list[tuple[str, float]] = []
    missed: list[tuple[str, int]] = []
    for kind in MediaKind:
        captured = {
            m.index: session_ms(m.captured, t0_ms, wall_minus_monotonic)
            for m in clock.marks
            if m.kind is kind
        }
        decoded = tracks[(seat, kind.value)]
        found[kind.value] = {}
        for stretch, d in enumerate(decoded):
            for t in d.marks:
                index, at = min(captured.items(), key=lambda x: abs(x[1] - t))
                if abs(at - t) > IDENTIFY_WITHIN_MS or index in found[kind.value]:
                    unidentified.append((kind.value, t))
                else:
                    found[kind.value][index] = (t, stretch)
        latency[kind.value] = [t - captured[i] for i, (t, _) in found[kind.value].items()]
        for index, at in captured.items():
            inside = any(
                d.segment.start_ms + EDGE_MS + 40 < at < d.segment.end_ms - 40 for d in decoded
            )
            if inside and index not in found[kind.value]:
                missed.append((kind.value, index))
    video, audio = found["video"], found["audio"]
    pairs = sorted(set(video) & set(audio))
    return Sync(
        offsets=[video[i][0] - audio[i][0] for i in pairs],
        per_stretch=[
            sum(1 for i in pairs if video[i][1] == n) for n in range(len(tracks[(seat, "video")]))
        ],
        latency=latency,
        unidentified=unidentified,
        missed=missed,
    )
