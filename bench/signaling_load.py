"""Signalling load: N clients in rooms of four join, then coaches drive phases and whisper.

Runs the server as a separate process (`caucus serve`) on loopback and the
clients in this one. Prints join latency p50/p99 (join emitted → ack) and
throughput of acknowledged phase/whisper events and of room_state deliveries.

    .venv/bin/python bench/signaling.py --clients 100 1000 --rounds 20
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder would come first on sys.path and its name
# would shadow the `signaling` package; put the project root there instead.
sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import tempfile
import time

import aiohttp
import socketio

from caucus.config import Config
from sessions.ids import SeatId
from signaling.admission import seat_token
from tests.stored import create_simulation

SEATS = ("mediator", "party_a", "party_b", "coach")
PHASES = ("joint", "caucus:party_a", "caucus:party_b", "joint")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Client:
    def __init__(self, url: str, room: str, seat: str, token: str) -> None:
        self.url, self.room, self.seat, self.token = url, room, seat, token
        self.sio = socketio.AsyncClient(reconnection=False)
        self.states = 0
        self.sio.on("room_state", self._state)

    async def _state(self, data: object) -> None:
        self.states += 1

    async def connect(self) -> None:
        await self.sio.connect(self.url, transports=["websocket"], wait_timeout=30)

    async def join(self) -> float:
        start = time.perf_counter()
        reply = await self.sio.call("join", {"token": self.token, "room": self.room}, timeout=60)
        assert reply["ok"], reply
        return time.perf_counter() - start


async def wait_healthy(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(f"{url}/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)  # polling a starting process: no event to await
    raise RuntimeError("server did not start")


async def run(n: int, rounds: int, data_dir: Path) -> dict[str, float]:
    config = Config(data_dir=data_dir).with_secrets()
    rooms = [await create_simulation(config, observers=0) for _ in range(max(1, n // len(SEATS)))]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "caucus", "serve", "--workers", "1", "--port", str(port)]
        + ["--data-dir", str(data_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "CAUCUS_PING_INTERVAL_S": "60"},
    )
    try:
        await wait_healthy(url)
        clients = [
            Client(url, room, seat, seat_token(config.secret, room, SeatId(seat), f"{seat} {i}")[0])
            for i, room in enumerate(rooms)
            for seat in SEATS
        ][:n]
        gate = asyncio.Semaphore(50)

        async def connect(c: Client) -> None:
            async with gate:
                await c.connect()

        await asyncio.gather(*(connect(c) for c in clients))
        cpu0 = server_cpu(server.pid)
        t0 = time.perf_counter()
        joins = await asyncio.gather(*(c.join() for c in clients))
        join_wall = time.perf_counter() - t0

        coaches = [c for c in clients if c.seat == "coach"]
        states_before = sum(c.states for c in clients)
        t1 = time.perf_counter()

        async def drive(coach: Client) -> int:
            sent = 0
            for r in range(rounds):
                reply = await coach.sio.call("phase", {"to": PHASES[r % len(PHASES)]}, timeout=60)
                assert reply["ok"] or reply["code"] == "invalid_transition", reply
                reply = await coach.sio.call("whisper", {"text": f"note {r}"}, timeout=60)
                assert reply["ok"] or reply["code"] == "not_seated", reply
                sent += 2
            return sent

        acked = sum(await asyncio.gather(*(drive(c) for c in coaches)))
        wall = time.perf_counter() - t1
        cpu = server_cpu(server.pid) - cpu0
        delivered = sum(c.states for c in clients) - states_before
        await asyncio.gather(*(c.sio.disconnect() for c in clients))
        return {
            "clients": len(clients),
            "join_p50_ms": 1000 * statistics.median(joins),
            "join_p99_ms": 1000 * pct(joins, 0.99),
            "join_wall_s": join_wall,
            "acked_events_per_s": acked / wall,
            "room_states_per_s": delivered / wall,
            "server_cpu_s": cpu,
        }
    finally:
        server.terminate()
        server.wait(10)


def server_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--rounds", type=int, default=20, help="phase+whisper pairs per coach")
    args = parser.parse_args()
    print(
        f"{'N':>6} {'join p50 ms':>12} {'join p99 ms':>12} {'acked ev/s':>11} "
        f"{'states/s':>9} {'server CPU s':>13}"
    )
    for n in args.clients:
        with tempfile.TemporaryDirectory() as tmp:
            r = asyncio.run(run(n, args.rounds, Path(tmp)))
        print(
            f"{r['clients']:>6} {r['join_p50_ms']:>12.1f} {r['join_p99_ms']:>12.1f} "
            f"{r['acked_events_per_s']:>11.0f} {r['room_states_per_s']:>9.0f} "
            f"{r['server_cpu_s']:>13.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
