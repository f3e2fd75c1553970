"""Forwarding through `caucus serve --workers N`: rooms at >= 99 % delivery, N against N'.

    python bench/forwarding.py --workers 1 2 --rooms 4 6 8 10 12 14 --seconds 20

For each worker count, one real `caucus serve --workers N` (the supervisor, its
front on one port, N nodes) on loopback. This process is the load, as in
`bench/forwarding.py`: 4 aiortc participants per room publishing pre-encoded Opus
and ~500 kbit/s VP8 and counting what they receive from the clear RTP header –
but here each joins with a seat token over Socket.IO through the front
(`/socket.io/?room=…`), its coach starts the joint session, and its media goes
straight to its node's own UDP port. Rooms are added step by step (`--rooms`);
after each step and a warm-up, a window of `--seconds` measures delivery (frames
received / frames sent on the routes open in the joint session) and
every node's CPU. The ramp stops at the first step under 99 %. Printed: per
step, then for each N the most rooms at >= 99 % and their ratio. Figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.forwarding import SEATS  # noqa: E402
from bench.forwarding_load import LoadParticipant, cached, encode_audio, encode_video  # noqa: E402
from bench.process_figures import cpu_seconds  # noqa: E402
from caucus.config import Config  # noqa: E402
from media import aiortc_internals  # noqa: E402
from sessions.ids import RoomId, ScenarioId, SeatId  # noqa: E402
from signaling.admission import seat_token  # noqa: E402
from storage.catalogue import catalogue_at  # noqa: E402
from tests.server_process import ServerProcess  # noqa: E402

GOOD_DELIVERY = 0.99


class SocketSeat(LoadParticipant):
    """A load participant whose offers and answers travel over its Socket.IO seat."""

    def __init__(self, room: RoomId, seat: SeatId, video: list[bytes], audio: list[bytes]) -> None:
        super().__init__(room, seat, self, video, audio)  # type: ignore[arg-type]
        self.client = socketio.AsyncClient(reconnection=False)
        self.client.on("media_offer", self.on_offer)
        self.tally.counting = True  # always: a window is the difference of two readings

    async def send(self, message: dict[str, Any]) -> None:
        """LoadParticipant's control channel: its answer goes up as `media_answer`."""
        if message["op"] == "answer":
            try:
                await self.client.call("media_answer", message["description"], timeout=30)
            except socketio.exceptions.SocketIOError as exc:  # its socket dropped: so be it,
                print(f"{self.room}/{self.seat}: answer not delivered: {exc!r}", flush=True)


class Server(ServerProcess):
    """`caucus serve --workers N` as a subprocess (tests/server_process.py), media on loopback."""

    def __init__(self, workers: int, data_dir: Path) -> None:
        super().__init__(
            data_dir,
            workers=workers,
            CAUCUS_MEDIA="1",
            CAUCUS_ICE_ADDRESSES="127.0.0.1",
            CAUCUS_EMPTY_TIMEOUT_S="3600",
        )

    async def pids(self) -> list[int]:
        """The processes that forward: the nodes (or the one process)."""
        assert self.proc is not None
        if self.workers == 1:
            return [self.proc.pid]
        async with aiohttp.ClientSession() as http, http.get(f"{self.url}/healthz") as r:
            return [int(n["pid"]) for n in (await r.json())["nodes"]]


async def seat_room(
    server: Server, config: Config, room: RoomId, video: list[bytes], audio: list[bytes]
) -> list[SocketSeat]:
    seats = [SocketSeat(room, seat, video, audio) for seat in SEATS]
    for seat in seats:
        token = seat_token(config.secret, room, seat.seat, f"Load {seat.seat}")[0]
        await seat.client.connect(f"{server.url}/?room={room}", transports=["websocket"])
        reply = await seat.client.call("join", {"token": token, "room": room}, timeout=60)
        if not reply.get("ok"):
            raise RuntimeError(f"{room}/{seat.seat} could not join: {reply}")
    coach = seats[-1]
    reply = await coach.client.call("phase", {"to": "joint"}, timeout=60)
    if not reply.get("ok"):
        raise RuntimeError(f"{room}: the coach could not start the joint session: {reply}")
    return seats


async def measure(seats: list[SocketSeat], pids: list[int], seconds: float) -> dict[str, Any]:
    """Delivery and each node's CPU over one window, everyone publishing throughout.

    The routes measured are those that carried frames before the window (the joint
    session's audience: the coach is offered every track but not heard by the
    trainees); each one's expected frames are what its publisher sent in the window.
    """
    routes = [(s, key) for s in seats for key, count in list(s.tally.frames.items()) if count]
    sent_before = {
        (s.room, str(s.seat), k.value): t.sent for s in seats for k, t in s.tracks.items()
    }
    received_before = [s.tally.frames[key] for s, key in routes]
    cpu_before = [cpu_seconds(pid) for pid in pids]
    load_before = cpu_seconds()
    lags: list[float] = []

    async def probe() -> None:  # how late this (load) process's loop wakes up
        while True:
            started = time.monotonic()
            await asyncio.sleep(0.01)
            lags.append(time.monotonic() - started - 0.01)

    prober = asyncio.ensure_future(probe())
    t0 = time.monotonic()
    await asyncio.sleep(seconds)  # the measurement window
    elapsed = time.monotonic() - t0
    prober.cancel()
    lags.sort()
    sent = {(s.room, str(s.seat), k.value): t.sent for s in seats for k, t in s.tracks.items()}
    received = sum(s.tally.frames[key] for s, key in routes) - sum(received_before)
    cpu = [(cpu_seconds(pid) - c) / elapsed for pid, c in zip(pids, cpu_before, strict=True)]
    load_cpu = (cpu_seconds() - load_before) / elapsed
    expected = 0
    for s, (publisher, kind) in routes:
        track = (s.room, publisher, kind)
        expected += sent[track] - sent_before[track]
    return {
        "window_s": elapsed,
        "routes": len(routes),
        "frames_expected": expected,
        "frames_received": received,
        "delivery": received / expected if expected else 0.0,
        "node_cpu": cpu,
        "load_generator_cpu": load_cpu,
        "load_generator_lag_p99_ms": lags[int(len(lags) * 0.99)] * 1000 if lags else 0.0,
        "load": os.getloadavg()[0],
    }


async def ramp(workers: int, steps: list[int], seconds: float, warmup: float) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix=f"caucus-bench-workers{workers}-"))
    config = Config(data_dir=data_dir).with_secrets()
    async with catalogue_at(config.database) as catalogue:
        rooms = [
            (await catalogue.create_simulation(ScenarioId("boundary-fence"), 0)).id
            for _ in range(max(steps))
        ]
    video, audio = cached("vp8", encode_video), cached("opus", encode_audio)
    server = Server(workers, data_dir)
    seats: list[SocketSeat] = []
    best, results = 0, []
    try:
        await server.start()
        pids = await server.pids()
        for step in steps:
            try:
                for room in rooms[len(seats) // len(SEATS) : step]:
                    seats += await seat_room(server, config, room, video, audio)
                await asyncio.wait_for(
                    asyncio.gather(*(s.connected.wait() for s in seats)), 60 + 5 * step
                )
            except (RuntimeError, TimeoutError, socketio.exceptions.SocketIOError) as exc:
                # seating failed under this load: the step did not reach 99 % either
                print(f"workers={workers} rooms={step}: could not seat them: {exc!r}", flush=True)
                results.append({"workers": workers, "rooms": step, "failed": repr(exc)})
                break
            await asyncio.sleep(warmup)  # keyframes and renegotiations settle
            figures = await measure(seats, pids, seconds)
            results.append({"workers": workers, "rooms": step, **figures})
            print(
                f"workers={workers} rooms={step}: delivery {figures['delivery']:.2%}"
                f" ({figures['frames_received']}/{figures['frames_expected']} frames"
                f" on {figures['routes']} routes),"
                f" node CPU {' '.join(f'{c:.0%}' for c in figures['node_cpu'])},"
                f" load generator CPU {figures['load_generator_cpu']:.0%}"
                f" (loop lag p99 {figures['load_generator_lag_p99_ms']:.0f} ms),"
                f" load average {figures['load']:.1f}",
                flush=True,
            )
            if figures["delivery"] < GOOD_DELIVERY:
                break
            best = step
    finally:
        for s in seats:
            await s.client.disconnect()
        server.stop()
        for s in seats:
            await s.pc.close()
    return {"workers": workers, "rooms_at_99": best, "steps": results}


async def run(workers: list[int], steps: list[int], seconds: float, warmup: float) -> None:
    aiortc_internals.install()
    outcomes = [await ramp(n, steps, seconds, warmup) for n in workers]
    base = outcomes[0]["rooms_at_99"]
    for outcome in outcomes:
        ratio = outcome["rooms_at_99"] / base if base else float("nan")
        print(
            f"--workers {outcome['workers']}: {outcome['rooms_at_99']} rooms at >= 99 % delivery"
            f" ({ratio:.2f}x --workers {outcomes[0]['workers']});"
            f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
            flush=True,
        )
    print("RESULT " + json.dumps(outcomes), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rooms", type=int, nargs="+", default=[4, 6, 8, 10, 12, 14])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    args, _ = parser.parse_known_args(argv)
    # this process's clients gather on loopback, where the nodes listen
    with aiortc_internals.gather_policy(aiortc_internals.LOOPBACK):
        asyncio.run(run(args.workers, sorted(args.rooms), args.seconds, args.warmup))


if __name__ == "__main__":
    main()
