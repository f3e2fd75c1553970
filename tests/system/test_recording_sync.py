"""A recorded simulation, played back by its timeline, is whole, on time and in sync.

Four seats (mediator, party A, party B, coach) join a real server over Socket.IO
and publish through its SFU; the trainees consent, the coach runs joint →
caucus:party_a → joint → ended, and the server records every seat's audio and
video as segment files.  Each publisher's picture and tone carry *marks* – a
white picture and a loud 2 kHz burst that start at the same instant of the
publisher's one capture clock (tests/system/marked_media.py), every 833 ms.
Each phase stretch lasts until the server has received at least four marks of
every publisher's audio and video captured after the change (a sink on the
server's producers tells; no sleeps).  Afterwards, from the catalogue and the
files the server left:

1. every segment file decodes, frame for frame (demuxed = catalogued frames;
   decoded = demuxed, less VP8's invisible frames);
2. each seat's segments, kind by kind, span the recorded session (recording
   start = the phase change to joint after everyone consented; end = the
   `ended` phase event) within 100 ms plus the longest event-loop stall (the
   publishers share the loop: a stall holds their frames back), and each segment's duration matches
   its last decoded frame within one frame;
3. placed on the session clock (segment.start_ms + pts, + the sample offset
   within an audio frame), each mark's picture and burst are within 80 ms of
   each other, for every mark of every seat, at least 3 marks per phase stretch.

Every violation is collected and reported together, after tables of the
measured spans and offsets (run with -s to see them).  All participants share
this process's event loop with the server, so the longest loop stall is
reported too: it explains, without excusing, a timeline that goes wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from media.sfu import UnknownParticipant
from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from storage.catalogue import Segment
from tests.live_server import LiveServer, Participant, start_server
from tests.media.media_harness import ClientParticipant
from tests.media.synthetic import COLOUR, SEATS, SPEED, SentLog
from tests.stored import stored
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

TRAINEES = (SeatId("mediator"), SeatId("party_a"), SeatId("party_b"))
#: marks each publisher captures after a phase change before the next one (≥ 3 recorded)
MARKS_PER_STRETCH = 4
FRAME_MS = {"audio": 20.0, "video": 1000 / FPS}
SPAN_TOLERANCE_MS = 100
SYNC_TOLERANCE_MS = 80
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


# -- the test ----------------------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.usefixtures("frozen_heap")
async def test_a_recorded_session_is_whole_on_time_and_in_sync(tmp_path: Path) -> None:
    began = time.monotonic()
    server = await start_server(tmp_path, media=True, ice_addresses="127.0.0.1")
    room = await server.simulation()
    sent = SentLog()
    people = {seat: Seat(server, room, seat, sent) for seat in SEATS}
    phases: list[tuple[str, int]] = []  # (phase, t_ms of its event), as the server replied
    stalls: list[float] = []
    watchdog = asyncio.ensure_future(watch_the_loop(stalls))
    try:
        for person in people.values():
            await person.join(server.url)
        sfu = server.sfu

        def publishing(seat: SeatId) -> bool:
            try:
                producers = sfu.participant(room, seat).producers
            except UnknownParticipant:
                return False
            return all(k in producers and producers[k].frames > 0 for k in MediaKind)

        # Every publisher's audio and video reach the server before recording may start.
        await sent.wait_until(lambda: all(publishing(s) for s in SEATS), timeout=20)
        for seat, person in people.items():
            for producer in sfu.participant(room, seat).producers.values():
                producer.sinks.append(watch(person.clock, sent))

        coach = people[SeatId("coach")].socket
        for seat in TRAINEES:
            assert (await people[seat].socket.call("consent", {"recording": True}))["ok"]

        async def phase(to: str, then_marks: int) -> None:
            reply = await coach.call("phase", {"to": to})
            assert reply["ok"], reply
            phases.append((to, int(reply["t_ms"])))
            since = time.monotonic()
            # the stretch lasts until the server has received `then_marks` marks of
            # each publisher's audio and video captured since the change
            await sent.wait_until(
                lambda: all(
                    p.clock.marks_arrived_since(since, kind) >= then_marks
                    for p in people.values()
                    for kind in MediaKind
                ),
                timeout=15,
            )

        await phase("joint", MARKS_PER_STRETCH)  # all consented: recording starts
        await phase("caucus:party_a", MARKS_PER_STRETCH)
        await phase("joint", MARKS_PER_STRETCH)
        await phase("ended", 0)
        wall_minus_monotonic = time.time() - time.monotonic()
    finally:
        watchdog.cancel()
        for person in people.values():
            await person.close()
        await server.stop()
    live_s = time.monotonic() - began
    # Everyone shares this process's event loop: a stalled loop delays every packet.
    # A stall is no excuse for a wrong timeline, but it explains a flaky run.
    stall_ms = 1000 * max(stalls, default=0.0)
    # A stall holds the publishers' frames before the server sees them, so an edge
    # may be late by it; video against audio (the sync) is not widened.
    span_ms = SPAN_TOLERANCE_MS + stall_ms

    # Read back what the server left on disk, as a reviewer would.
    record = await stored(server.config, lambda catalogue: catalogue.simulation(room))
    timeline = await stored(server.config, lambda catalogue: catalogue.events(room))
    segments = await stored(server.config, lambda catalogue: catalogue.segments(room))
    assert record is not None and record.t0_ms is not None
    t0_ms = record.t0_ms
    assert [(e["phase"], e["t_ms"]) for e in timeline if e["kind"] == "phase"] == phases
    rec_start_ms, end_ms = phases[0][1], phases[-1][1]
    changes = [t for _, t in phases[1:-1]]
    print(f"\nphases (session ms): {phases}; recorded {end_ms - rec_start_ms} ms")
    for event in timeline:
        if event["kind"] == "track_pause":
            print("  pause:", event)

    assert segments and {s.status for s in segments} == {"complete"}
    tracks: dict[tuple[str, str], list[Decoded]] = defaultdict(list)
    for segment in segments:  # catalogue order: by start_ms
        tracks[(segment.seat, segment.kind)].append(decode(segment))
    problems: list[str] = []

    def check(ok: bool, *what: object) -> None:
        if not ok:
            problems.append(" ".join(map(str, what)))

    # 1. every segment decodes, frame for frame
    for (who, kind), decoded in sorted(tracks.items()):
        for d in decoded:
            s = d.segment
            check(d.packets == s.frames > 0, who, kind, s.id, "muxed", d.packets, "of", s.frames)
            check(
                len(d.frame_pts) == d.packets - d.invisible,
                who, kind, s.id, "decoded", len(d.frame_pts), "of", d.packets, "muxed",
            )  # fmt: skip
            check([round(p) for p in d.frame_pts] == d.packet_pts, who, kind, s.id, "pts differ")
            check(d.invisible == 0 or kind == "video", who, kind, s.id, "invisible frames")

    # 2. on the session clock: spans, phase boundaries, durations
    print(
        "seat      kind  segments: visibility start..end (ms)                    "
        "start Δ  end Δ  around changes (end Δ, start Δ)"
    )
    for seat in SEATS:
        for kind in ("audio", "video"):
            segs = [d.segment for d in tracks[(seat, kind)]]
            start_error = segs[0].start_ms - rec_start_ms
            end_error = segs[-1].end_ms - end_ms
            around = [
                (a.end_ms - change, b.start_ms - change)
                for change, a, b in zip(changes, segs, segs[1:], strict=False)
            ]
            print(
                f"{seat:9} {kind:5} "
                + ", ".join(f"{s.visibility[:6]} {s.start_ms}..{s.end_ms}" for s in segs).ljust(60)
                + f"{start_error:+5d} {end_error:+5d}  {around}"
            )
            visibilities = [s.visibility for s in segs]
            # In the caucus, its members' media belongs to it; anyone else's to that seat.
            in_caucus = "caucus:party_a" if seat in ("mediator", "party_a") else f"seat:{seat}"
            check(
                visibilities == ["public", in_caucus, "public"],
                seat, kind, "segments", visibilities,
            )  # fmt: skip
            check(abs(start_error) <= span_ms, seat, kind, "starts", start_error,
                  "ms after the recording started")  # fmt: skip
            check(abs(end_error) <= span_ms, seat, kind, "ends", end_error,
                  "ms after the session ended")  # fmt: skip
            for change, (before, after) in zip(changes, around, strict=False):
                check(
                    abs(before) <= span_ms and abs(after) <= span_ms,
                    seat, kind, "around the change at", change, "ms: ends", before,
                    "ms, next starts", after, "ms from it",
                )  # fmt: skip
            for d in tracks[(seat, kind)]:
                last = max(d.frame_pts)
                check(
                    abs(d.segment.duration_ms - last) <= FRAME_MS[kind],
                    seat, kind, d.segment.id, "duration", d.segment.duration_ms,
                    "ms, last frame at", last,
                )  # fmt: skip

    # 3. A/V sync, mark by mark
    sync = {
        seat: measure_sync(tracks, seat, people[seat].clock, t0_ms, wall_minus_monotonic)
        for seat in SEATS
    }
    print(
        "seat      pairs per stretch  video − audio ms: mean   max|·|   "
        "capture → timeline ms: video  audio"
    )
    for seat, m in sync.items():
        print(
            f"{seat:9} {m.per_stretch!s:18} {mean(m.offsets):+15.1f} "
            f"{max(map(abs, m.offsets), default=math.nan):8.1f}   "
            f"{mean(m.latency['video']):+27.1f} {mean(m.latency['audio']):+6.1f}"
        )
        print(f"          offsets: {[round(o, 1) for o in m.offsets]}")
        check(not m.unidentified, seat, "marks at no captured mark's time", m.unidentified)
        check(not m.missed, seat, "marks recorded but not found", m.missed)
        check(min(m.per_stretch, default=0) >= 3, seat, "marks paired per stretch", m.per_stretch)
        for o in m.offsets:
            check(abs(o) <= SYNC_TOLERANCE_MS, seat, "video − audio", round(o, 1), "ms")
    print(
        f"live session {live_s:.1f} s, checked by {time.monotonic() - began:.1f} s; "
        f"longest event-loop stall {stall_ms:.0f} ms"
    )
    assert not problems, (
        f"{len(problems)} problems (longest event-loop stall {stall_ms:.0f} ms):\n"
        + "\n".join(problems)
    )


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
