"""Forwarding benchmark: R rooms x 4 publishing participants through one SFU process.

    python bench/forwarding.py --rooms 5 --seconds 30

The SFU runs in its own process (``--serve``, started by this script) so its CPU
time is its own (``resource.getrusage``).  This process is the load: 4 aiortc
participants per room, each publishing Opus audio and ~500 kbit/s VP8 video
that were encoded ONCE up front (a 3 s loop replayed with fresh timestamps; a
keyframe request restarts the loop at its keyframe) and receiving the other
three seats without even decrypting (frames are counted from the clear RTP
header).  Everyone hears everyone (the joint audience).

Printed: SFU CPU seconds per 1000 forwarded RTP packets, forwarded packets/s,
added forwarding delay p50/p99 (frame ingress -> last RTP packet handed to the
transport, measured inside the SFU) and delivery (frames received by
subscribers / frames sent x 3).  Figures only: nothing here passes or fails.
Loopback only; the load generator shares the machine with the SFU.

This file is the runner (CLI, the SFU process, the rooms, the figures); the
load it drives (pre-encoded media, participants, control channel) is in
``bench/forwarding_load.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.forwarding_load import (  # noqa: E402
    LOOP_SECONDS,
    Control,
    LoadParticipant,
    cached,
    encode_audio,
    encode_video,
)
from bench.forwarding_recording import BenchRecordings  # noqa: E402
from bench.process_figures import memory_report, print_rss, rss_bytes  # noqa: E402
from caucus import event_loop  # noqa: E402
from media import aiortc_internals  # noqa: E402
from media.sfu import Sfu, SfuConfig  # noqa: E402
from sessions.audience import Route  # noqa: E402
from sessions.ids import RoomId, SeatId  # noqa: E402
from sessions.media_kinds import MediaKind  # noqa: E402

SEATS = [SeatId(s) for s in ("mediator", "party_a", "party_b", "coach")]


# -- the SFU process ------------------------------------------------------------------


async def serve(
    port: int, trace_memory: bool = False, record: bool = False, rss_every: float = 0.0
) -> None:
    """The SFU process: obeys one control connection, pushes offers back on it."""
    if trace_memory:
        tracemalloc.start()
    if rss_every > 0:
        asyncio.ensure_future(print_rss(rss_every))
    recorder = (
        BenchRecordings(Path(tempfile.mkdtemp(prefix="caucus-bench-rec-"))) if record else None
    )
    if recorder is not None:
        await recorder.open()
    writers: list[asyncio.StreamWriter] = []

    async def push(room: RoomId, seat: SeatId, event: str, payload: dict[str, Any]) -> None:
        for writer in writers:
            message = {"op": "offer", "room": room, "seat": seat, "payload": payload}
            writer.write(json.dumps(message).encode() + b"\n")

    async def lost(room: RoomId, seat: SeatId, reason: str) -> None:
        print(f"SFU: {room}/{seat} released: {reason}", flush=True)

    aiortc_internals.install()
    sfu = Sfu(
        push,
        config=SfuConfig(ice_host_addresses=["127.0.0.1"], connect_timeout=60),
        on_lost=lost,
    )
    done = asyncio.Event()
    cpu_mark = 0.0
    rss_start = rss_bytes()
    at_start = at_reset = tracemalloc.take_snapshot() if trace_memory else None

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal cpu_mark, at_reset
        writers.append(writer)
        while line := await reader.readline():
            m = json.loads(line)
            op = m["op"]
            if op == "join":
                offer = await sfu.join(m["room"], m["seat"])
                if recorder is not None:
                    await recorder.attach(m["room"], sfu.participant(m["room"], m["seat"]))
                await push(m["room"], m["seat"], "media_offer", offer)
            elif op == "answer":
                try:
                    await sfu.answer(m["room"], m["seat"], m["description"])
                except (LookupError, ValueError) as exc:  # released meanwhile
                    print(f"SFU: answer from {m['room']}/{m['seat']} refused: {exc}", flush=True)
            elif op == "audience":
                routes = frozenset(
                    Route(SeatId(p), SeatId(s), MediaKind(k)) for p, s, k in m["routes"]
                )
                await sfu.apply_audience(m["room"], routes)
            elif op == "reset":
                sfu.stats.reset()
                cpu_mark = cpu()
                if trace_memory:
                    at_reset = tracemalloc.take_snapshot()
                writer.write(b'{"op": "ok"}\n')
            elif op == "stats":
                if at_start is not None and at_reset is not None:
                    seats = m.get("participants", 1)
                    memory_report(at_start, "since start (all participants joined)", seats)
                    memory_report(at_reset, "during the window (steady membership)", seats)
                reply = {
                    "op": "stats",
                    "cpu": cpu() - cpu_mark,
                    "rss_start": rss_start,
                    "rss": rss_bytes(),
                    "recorded_bytes": recorder.written() if recorder is not None else 0,
                    **sfu.stats.snapshot(),
                }
                writer.write(json.dumps(reply).encode() + b"\n")
            elif op == "quit":
                break
            await writer.drain()
        done.set()  # the load generator quit or died: so does the SFU process

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    print(f"SFU: event loop {type(asyncio.get_running_loop()).__module__}", flush=True)
    async with server:
        await done.wait()
    await sfu.close()
    if recorder is not None:
        await recorder.close()
        print(f"SFU: recorded {recorder.written() / 2**20:.1f} MiB (then removed)", flush=True)
        shutil.rmtree(recorder.folder, ignore_errors=True)


# -- the run ------------------------------------------------------------------------


def _relay(stream: Any) -> None:
    for line in stream:
        print(line, end="", flush=True)


async def run(
    rooms: int,
    seconds: float,
    warmup: float,
    port: int,
    verbose: bool,
    serve_flags: list[str],
    sfu_loop: str,
) -> None:
    aiortc_internals.install()
    started = time.monotonic()
    video, audio = cached("vp8", encode_video), cached("opus", encode_audio)
    video_kbps = sum(len(f) for f in video) * 8 / LOOP_SECONDS / 1000
    print(
        f"pre-encoded {len(video)} VP8 frames ({video_kbps:.0f} kbit/s) and {len(audio)} Opus"
        f" frames in {time.monotonic() - started:.1f} s"
    )
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--port", str(port)]
        + (["--verbose"] if verbose else [])
        + serve_flags,
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "CAUCUS_EVENT_LOOP": sfu_loop},
    )
    try:
        assert server.stdout is not None
        line = await asyncio.to_thread(server.stdout.readline)
        if not line.startswith("PORT "):
            raise RuntimeError(f"SFU process did not start: {line!r}")
        reader, writer = await asyncio.open_connection("127.0.0.1", int(line.split()[1]))
        # the SFU's own messages (released participants...) go on to our stdout
        relay = asyncio.ensure_future(asyncio.to_thread(_relay, server.stdout))
        control = Control(reader, writer)
        reader_task = asyncio.ensure_future(control.run())
        participants = []
        for r in range(rooms):
            room = RoomId(f"room-{r}")
            routes = [[p, s, k.value] for p in SEATS for s in SEATS if p != s for k in MediaKind]
            await control.send({"op": "audience", "room": room, "routes": routes})
            for seat in SEATS:
                participant = LoadParticipant(room, seat, control, video, audio)
                control.participants[(room, seat)] = participant
                participants.append(participant)
                await control.send({"op": "join", "room": room, "seat": seat})
        await asyncio.wait_for(
            asyncio.gather(*(p.connected.wait() for p in participants)), 60 + 5 * rooms
        )
        print(f"{len(participants)} participants connected; warming up {warmup:.0f} s")
        await asyncio.sleep(warmup)  # let keyframes and renegotiations settle

        lags: list[float] = []

        async def probe() -> None:  # how late this (load) process's loop wakes up
            while True:
                started = time.monotonic()
                await asyncio.sleep(0.01)
                lags.append(time.monotonic() - started - 0.01)

        prober = asyncio.ensure_future(probe())
        await control.request({"op": "reset"})
        sent_before = {id(t): t.sent for p in participants for t in p.tracks.values()}
        for p in participants:
            p.tally.counting = True
        t0 = time.monotonic()
        await asyncio.sleep(seconds)  # the measurement window
        for p in participants:
            for track in p.tracks.values():
                track.paused.set()
        sent = sum(t.sent - sent_before[id(t)] for p in participants for t in p.tracks.values())
        stats = await control.request({"op": "stats", "participants": len(participants)})
        elapsed = time.monotonic() - t0
        packets_received = sum(p.tally.packets for p in participants)  # in the window
        prober.cancel()
        await asyncio.sleep(1.0)  # frames in flight when the publishers stopped
        for p in participants:
            p.tally.counting = False
        received = sum(sum(p.tally.frames.values()) for p in participants)
        await control.send({"op": "quit"})
        reader_task.cancel()
        await relay
    finally:
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    for p in participants:
        await p.pc.close()

    packets = stats["packets_out"]
    delivery = received / (sent * (len(SEATS) - 1)) if sent else 0.0
    print(
        f"rooms={rooms} window={elapsed:.1f}s forwarded {packets} RTP packets"
        f" ({packets / elapsed:.0f}/s; {stats['packets_in']} packets in)\n"
        f"  SFU CPU {stats['cpu']:.2f} s = {stats['cpu'] / elapsed * 100:.0f}% of a core,"
        f" {stats['cpu'] / max(1, packets) * 1000:.3f} CPU s per 1000 forwarded packets\n"
        f"  added forwarding delay p50 {stats['delay_p50_ms']} ms, p99 {stats['delay_p99_ms']} ms\n"
        f"  delivery {received}/{sent * (len(SEATS) - 1)} frames = {delivery:.2%}"
        f" (SFU assembled {stats['frames_in']} of {sent} sent frames)"
        f", keyframe requests {stats['keyframe_requests']}\n"
        f"  load generator loop lag p50 {sorted(lags)[len(lags) // 2] * 1000:.1f} ms,"
        f" p99 {sorted(lags)[int(len(lags) * 0.99)] * 1000:.0f} ms;"
        f" machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n"
        f"  RSS {stats['rss_start'] / 2**20:.0f} -> {stats['rss'] / 2**20:.0f} MiB,"
        f" {(stats['rss'] - stats['rss_start']) / len(participants) / 2**20:.2f} MiB per"
        f" participant; subscribers received {packets_received} RTP packets in the window"
    )
    result = {
        "server": "caucus",
        "recording": "--record" in serve_flags,
        "sfu_loop": event_loop.loop_name({"CAUCUS_EVENT_LOOP": sfu_loop}),
        "recorded_bytes": stats["recorded_bytes"],
        "rooms": rooms,
        "participants": len(participants),
        "seconds": elapsed,
        "cpu": stats["cpu"],
        "packets_received": packets_received,
        "frames_sent": sent,
        "frames_received": received,
        "delivery": delivery,
        "rss_start": stats["rss_start"],
        "rss": stats["rss"],
        "delay_p99_ms": stats["delay_p99_ms"],
        "load": os.getloadavg()[0],
    }
    print("RESULT " + json.dumps(result), flush=True)


def main() -> None:
    if "--workers" in sys.argv:  # through `caucus serve --workers N`: bench/forwarding_workers.py
        from bench.forwarding_workers import main as through_workers

        return through_workers()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--port", type=int, default=0, help="control port (0: any)")
    parser.add_argument("--verbose", action="store_true", help="log ICE/DTLS/SFU events")
    parser.add_argument("--record", action="store_true", help="record every track, as served")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="print where the SFU's memory went (slow)"
    )
    parser.add_argument(
        "--rss-every", type=float, default=0.0, help="print the SFU's RSS every N seconds"
    )
    parser.add_argument(
        "--sfu-loop",
        choices=event_loop.CHOICES,
        default=os.environ.get("CAUCUS_EVENT_LOOP", "auto"),
        help="the SFU process's event loop (CAUCUS_EVENT_LOOP; auto: uvloop if installed)",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.WARNING,
        format=f"%(asctime)s {'SFU' if args.serve else 'load'} %(name)s %(message)s",
    )
    if args.verbose:
        for name in ("aioice.ice", "aiortc.rtcdtlstransport", "media"):
            logging.getLogger(name).setLevel(logging.INFO)
    if args.serve:
        event_loop.run(serve(args.port, args.tracemalloc, args.record, args.rss_every))
    else:
        flags = [
            f for f, on in (("--record", args.record), ("--tracemalloc", args.tracemalloc)) if on
        ] + (["--rss-every", str(args.rss_every)] if args.rss_every > 0 else [])
        # this process's clients gather on loopback, where the SFU process listens
        with aiortc_internals.gather_policy(aiortc_internals.LOOPBACK):
            event_loop.run(
                run(
                    args.rooms,
                    args.seconds,
                    args.warmup,
                    args.port,
                    args.verbose,
                    flags,
                    args.sfu_loop,
                )
            )


if __name__ == "__main__":
    main()
