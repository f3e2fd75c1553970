"""Soak: rooms come and go for a long time; the server's footprint must stay flat.

Runs `caucus serve` as a subprocess on loopback (recording on) and, in this
process, a churn of simulations: every --room-every-s a new room gets four real
aiortc participants (mediator, two parties, coach: Socket.IO + peer connection,
synthetic Opus and VP8 at --fps) that join, consent, start the joint session,
publish for --stay-s and leave. Left empty, a room ends itself after
--empty-timeout-s (CAUCUS_EMPTY_TIMEOUT_S). Every --report-every-s it prints the
server's RSS, open descriptors, asyncio tasks, threads, peer connections (held by
the SFU, and RTCPeerConnection objects alive after a collection), live rooms and
connected participants, from /healthz?heap=1.

It first runs one room alone and waits until it is released (the baseline: idle
after the first room), then churns, then waits until every room is released again
(the end: idle after all rooms) and prints both and their difference.

    .venv/bin/python bench/soak.py                  # an hour, a room every 30 s
    .venv/bin/python bench/soak.py --minutes 10     # what docs/PERFORMANCE.md reports

tests/system/test_soak_slice.py runs the same code for about a minute.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project, run as a script

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import aiohttp  # noqa: E402

from caucus.config import Config  # noqa: E402
from sessions.ids import RoomId, SeatId  # noqa: E402
from signaling.admission import seat_token  # noqa: E402
from tests.server_process import ServerProcess  # noqa: E402
from tests.stored import create_simulation  # noqa: E402
from tests.system.recorded_seats import JOIN_ORDER, RecordedRoom  # noqa: E402

MIB = 1024 * 1024
PING_INTERVAL_S = 5.0
SETUP_TIMEOUT_S = 60.0  # four peer connections on a busy two-core machine


@dataclass(frozen=True)
class Sample:
    t_s: float
    rss_mib: float
    fds: int
    tasks: int
    threads: int
    peer_connections: int
    pc_objects: int
    rooms_live: int
    participants: int

    @classmethod
    def of(cls, t_s: float, health: dict[str, Any]) -> Sample:
        return cls(
            t_s,
            health["rss_bytes"] / MIB,
            health["fds"],
            health["tasks"],
            health["threads"],
            health["peer_connections"],
            health.get("peer_connection_objects", 0),
            health["rooms_live"],
            health["participants_connected"],
        )

    def line(self, label: str = "") -> str:
        return (
            f"{label}{self.t_s / 60:6.1f} min  rss {self.rss_mib:7.1f} MiB  fds {self.fds:4d}"
            f"  tasks {self.tasks:4d}  threads {self.threads:3d}  pcs {self.peer_connections:3d}"
            f" (objects {self.pc_objects:3d})  rooms {self.rooms_live:3d}"
            f"  connected {self.participants:3d}"
        )


@dataclass
class SoakResult:
    baseline: Sample  # idle after the first room was released
    end: Sample  # idle after every room was released
    samples: list[Sample]
    rooms: int
    failures: list[str]


@dataclass(frozen=True)
class Churn:
    minutes: float = 60.0
    room_every_s: float = 30.0
    stay_s: float = 75.0
    empty_timeout_s: float = 10.0
    fps: int = 10
    report_every_s: float = 60.0


class Server:
    """The server subprocess and how to make rooms in its database."""

    def __init__(self, data_dir: Path, churn: Churn) -> None:
        self.config = Config(data_dir=data_dir).with_secrets()
        self.process = ServerProcess(
            data_dir,
            CAUCUS_MEDIA="1",
            CAUCUS_ICE_ADDRESSES="127.0.0.1",
            CAUCUS_EMPTY_TIMEOUT_S=str(churn.empty_timeout_s),
            # A closed socket's engine.io ping task sleeps out one interval before it
            # ends: a short interval lets "idle" mean idle within seconds.
            CAUCUS_PING_INTERVAL_S=str(PING_INTERVAL_S),
        )

    @property
    def url(self) -> str:
        return self.process.url

    async def new_room(self) -> tuple[RoomId, dict[str, str]]:
        room = await create_simulation(self.config)
        tokens = {
            str(seat): seat_token(self.config.secret, room, SeatId(seat), f"Soak {seat}")[0]
            for seat in JOIN_ORDER
        }
        return room, tokens

    async def health(self, http: aiohttp.ClientSession) -> dict[str, Any]:
        async with http.get(f"{self.url}/healthz", params={"heap": "1"}) as r:
            body: dict[str, Any] = await r.json()
            return body


async def run_room(server: Server, churn: Churn, failures: list[str]) -> None:
    room, tokens = await server.new_room()
    seats = RecordedRoom(server.url, room, tokens, fps=churn.fps)
    try:
        await seats.start(SETUP_TIMEOUT_S)
        await asyncio.sleep(churn.stay_s)  # a timer: how long people stay is the load
    except Exception as exc:  # noqa: BLE001 - counted and reported, the soak goes on
        failures.append(f"room {room}: {type(exc).__name__}: {exc}")
    finally:
        try:
            async with asyncio.timeout(30):
                await seats.leave()
        except Exception as exc:  # noqa: BLE001
            failures.append(f"room {room} could not leave: {type(exc).__name__}: {exc}")


async def idle(server: Server, http: aiohttp.ClientSession, timeout: float) -> dict[str, Any]:
    """Wait (bounded) until the server holds no live room; its health then."""
    deadline = time.monotonic() + timeout
    while True:
        health = await server.health(http)
        if health["rooms_live"] == 0 and health["peer_connections"] == 0:
            await asyncio.sleep(PING_INTERVAL_S + 1)  # closed sockets' ping tasks end
            return await server.health(http)
        if time.monotonic() > deadline:
            raise TimeoutError(f"rooms still live after {timeout} s: {health}")
        await asyncio.sleep(0.5)  # another process's state: polling is the only way


async def soak(data_dir: Path, churn: Churn, report: Callable[[str], None] = print) -> SoakResult:
    server = Server(data_dir, churn)
    failures: list[str] = []
    samples: list[Sample] = []
    rooms = 0
    await server.process.start()
    began = time.monotonic()
    try:
        async with aiohttp.ClientSession() as http:

            async def sample(label: str = "") -> Sample:
                s = Sample.of(time.monotonic() - began, await server.health(http))
                samples.append(s)
                report(s.line(label))
                return s

            settle_s = churn.empty_timeout_s + 30
            await run_room(server, churn, failures)
            rooms += 1
            await idle(server, http, settle_s)
            baseline = await sample("baseline ")

            running: set[asyncio.Task[None]] = set()
            churn_end = time.monotonic() + churn.minutes * 60
            next_room = next_report = time.monotonic()
            while time.monotonic() < churn_end:
                now = time.monotonic()
                if now >= next_room:
                    task = asyncio.create_task(run_room(server, churn, failures))
                    running.add(task)
                    task.add_done_callback(running.discard)
                    rooms += 1
                    next_room += churn.room_every_s
                if now >= next_report:
                    await sample()
                    next_report += churn.report_every_s
                await asyncio.sleep(max(0.0, min(next_room, next_report, churn_end) - now))
            if running:  # the last rooms: set-up, their stay, and leaving
                await asyncio.wait(running, timeout=SETUP_TIMEOUT_S + churn.stay_s + 60)
            await idle(server, http, settle_s)
            end = await sample("end      ")
    finally:
        server.process.stop()
    report(
        f"{rooms} rooms; idle after the first room → idle after all:"
        f" rss {end.rss_mib - baseline.rss_mib:+.1f} MiB, fds {end.fds - baseline.fds:+d},"
        f" tasks {end.tasks - baseline.tasks:+d}, threads {end.threads - baseline.threads:+d},"
        f" pc objects {end.pc_objects - baseline.pc_objects:+d}; {len(failures)} failures"
    )
    for failure in failures:
        report(f"  {failure}")
    return SoakResult(baseline, end, samples, rooms, failures)


def main() -> None:
    defaults = Churn()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=defaults.minutes)
    parser.add_argument("--room-every-s", type=float, default=defaults.room_every_s)
    parser.add_argument("--stay-s", type=float, default=defaults.stay_s)
    parser.add_argument("--empty-timeout-s", type=float, default=defaults.empty_timeout_s)
    parser.add_argument("--fps", type=int, default=defaults.fps)
    parser.add_argument("--report-every-s", type=float, default=defaults.report_every_s)
    parser.add_argument("--data-dir", type=Path, help="default: a temporary directory")
    args = parser.parse_args()
    churn = Churn(
        args.minutes,
        args.room_every_s,
        args.stay_s,
        args.empty_timeout_s,
        args.fps,
        args.report_every_s,
    )
    print(f"soak: {churn}", flush=True)
    with contextlib.ExitStack() as stack:
        data_dir = args.data_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        result = asyncio.run(soak(data_dir, churn, lambda line: print(line, flush=True)))
    sys.exit(1 if result.failures else 0)


if __name__ == "__main__":
    main()
