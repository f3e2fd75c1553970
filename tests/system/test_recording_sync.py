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

The marked seats and the reading of marks from the recording are in
tests/system/marked_recording.py.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import defaultdict
from pathlib import Path

import pytest

from media.sfu import UnknownParticipant
from sessions.ids import SeatId
from sessions.media_kinds import MediaKind
from tests.live_server import start_server
from tests.media.synthetic import SEATS, SentLog
from tests.stored import stored
from tests.system.marked_media import FPS
from tests.system.marked_recording import (
    Decoded,
    Seat,
    decode,
    mean,
    measure_sync,
    watch,
    watch_the_loop,
)

TRAINEES = (SeatId("mediator"), SeatId("party_a"), SeatId("party_b"))
#: marks each publisher captures after a phase change before the next one (≥ 3 recorded)
MARKS_PER_STRETCH = 4
FRAME_MS = {"audio": 20.0, "video": 1000 / FPS}
SPAN_TOLERANCE_MS = 100
SYNC_TOLERANCE_MS = 80


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
