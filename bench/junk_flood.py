"""Junk flood (issue 11): junk UDP at a pending connection's port and a connected one.

    python bench/junk_flood.py --seconds 60 [--rate 10000] [--size 1200]

A real ``caucus serve`` subprocess on loopback (tests/server_process.py) with its
SFU and recorder.  In this process, over Socket.IO: the mediator, party A and
the coach join with real aiortc peer connections publishing the synthetic tone
and picture (tests/media/media_harness.py), the trainees consent and the coach
starts the joint session; party B joins too but never answers its media offer,
so its peer connection stays *pending* until the server's connect timeout
(30 s after the offer) closes it.  Then a second subprocess (``bench/junk_spray.py``)
sends ``--rate`` junk datagrams of ``--size`` bytes per second from 127.0.0.2
to each of two server ports, taken from the offers: party B's (pending) and
the mediator's (connected; its media must keep reaching party A).  The junk
runs ``--seconds`` at the connected port and, at the pending one, until that
port closes.

Printed: the server's RSS (VmRSS of /proc/PID/status) before, at most during and
after the flood; junk sent; when the pending connection's port closed, counted
from its offer; the mediator's video frames received by party A per second of
the flood.  Figures only; tests/system/test_hostile_packets.py runs a slice and
asserts on them.

The junk itself is ``bench/junk_spray.py``, in a process of its own so the load
does not compete with the clients for this process's event loop.

    python bench/junk_flood.py hot-path

times ``StunProtocol.datagram_received`` per datagram, stock aioice and guarded,
for an SRTP-sized datagram from the selected pair and for junk from elsewhere.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.junk_spray import JUNK_SOURCE, Spray, start_spray
from bench.process_figures import cpu_seconds, rss_bytes
from caucus.config import Config
from media import aiortc_internals
from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from signaling.admission import seat_token
from tests.live_server import Participant
from tests.media.media_harness import ClientParticipant
from tests.media.synthetic import COACH, MEDIATOR, PARTY_A, PARTY_B, SentLog
from tests.server_process import ServerProcess
from tests.stored import create_simulation
from tests.system.socket_signal import SocketSignal

#: the server's CAUCUS_MEDIA_CONNECT_TIMEOUT_S (its default: a pending port is flooded this long)
SERVER_CONNECT_TIMEOUT_S = 30.0
CONNECT_S = 30.0
RSS_EVERY_S = 0.25
BEFORE_S = 3.0
CLOSE_SLACK_S = 10.0  # a loaded machine runs the server's timers late


# -- the scenario ------------------------------------------------------------------------


@dataclass
class Figures:
    seconds: float
    rate: int
    size: int
    connect_timeout_s: float = SERVER_CONNECT_TIMEOUT_S
    rss_before_mb: float = 0.0
    rss_max_mb: float = 0.0
    rss_after_mb: float = 0.0
    junk_sent_pending: int = 0
    junk_sent_connected: int = 0
    pending_closed_after_s: float | None = None
    server_cpu_s: float = 0.0
    """CPU time the server used during the flood."""
    frames_per_s_before: float = 0.0
    """The mediator's video frames/s at party A in the BEFORE_S before the flood."""
    frames_per_s: list[int] = field(default_factory=list)
    """The same, each second of the flood."""
    longest_gap_s: float = 0.0
    """The longest time without a frame at party A during the flood."""

    @property
    def rss_growth_mb(self) -> float:
        return self.rss_max_mb - self.rss_before_mb

    def lines(self) -> list[str]:
        fps = self.frames_per_s
        return [
            f"junk: {self.rate}/s x {self.size} B from {JUNK_SOURCE}; connected port"
            f" {self.seconds:.0f} s ({self.junk_sent_connected} sent), pending port until"
            f" closed ({self.junk_sent_pending} sent)",
            f"server RSS: {self.rss_before_mb:.1f} MB before, {self.rss_max_mb:.1f} MB at most"
            f" (+{self.rss_growth_mb:.1f} MB), {self.rss_after_mb:.1f} MB after",
            f"pending connection closed {self.pending_closed_after_s} s after its offer"
            f" (connect timeout {self.connect_timeout_s:.0f} s)",
            f"server CPU during the flood: {self.server_cpu_s:.1f} s"
            f" ({100 * self.server_cpu_s / self.seconds:.0f} % of one core)",
            f"mediator video at party A: {self.frames_per_s_before:.1f} frames/s before;"
            f" during the flood min {min(fps, default=0)},"
            f" median {sorted(fps)[len(fps) // 2] if fps else 0}, max {max(fps, default=0)}"
            f" frames/s over {len(fps)} s, longest gap {self.longest_gap_s:.2f} s",
        ]


def rss_mb(pid: int) -> float:
    return rss_bytes(pid) / 2**20


def candidate_ports(sdp: str) -> list[int]:
    return sorted(
        {int(line.split()[5]) for line in sdp.splitlines() if line.startswith("a=candidate:")}
    )


async def port_closed(port: int) -> bool:
    """Whether the kernel refuses datagrams to ``port`` on 127.0.0.1 (ICMP unreachable)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.setblocking(False)
        probe.connect(("127.0.0.1", port))
        probe.send(b"\x80")
        try:
            await asyncio.wait_for(asyncio.get_running_loop().sock_recv(probe, 16), 0.2)
        except ConnectionRefusedError:
            return True
        except TimeoutError:
            return False
    return False


class Seat:
    """A Socket.IO seat; with ``media``, an aiortc client that answers its offers."""

    def __init__(
        self, seat: SeatId, token: str, room: RoomId, sent: SentLog, media: bool, publish: bool
    ) -> None:
        self.socket = Participant(seat, token, room)
        self.socket.rejoin = False
        #: (when it arrived, the offer)
        self.offers: asyncio.Queue[tuple[float, dict[str, Any]]] = asyncio.Queue()
        self.media: ClientParticipant | None = None
        if media:
            self.media = ClientParticipant(
                seat,
                SocketSignal(self.socket),
                sent,
                room=room,
                publish=publish,
                decode=False,  # party A only counts the frames it gets; spare the CPU
                fps=15,
            )
        self.socket.client.on("media_offer", self._on_offer)

    async def _on_offer(self, payload: dict[str, Any]) -> None:
        self.offers.put_nowait((time.monotonic(), payload))
        if self.media is not None:
            await self.media.on_offer(payload)

    async def close(self) -> None:
        if self.media is not None:
            await self.media.close()
        await self.socket.close()


async def _call_ok(seat: Seat, event: str, data: Any) -> None:
    reply = await seat.socket.call(event, data)
    if not reply.get("ok"):
        raise RuntimeError(f"{seat.socket.seat} {event}: {reply}")


async def junk_flood(
    data_dir: Path,
    seconds: float,
    rate: int = 10_000,
    size: int = 1200,
    connect_timeout_s: float = SERVER_CONNECT_TIMEOUT_S,
) -> Figures:
    """Run the scenario against a fresh server in ``data_dir``; see the module docstring."""
    # this process's clients: on loopback only, guarded like the server
    aiortc_internals.install()
    with aiortc_internals.gather_policy(aiortc_internals.LOOPBACK):
        return await _flood(data_dir, Figures(seconds, rate, size, connect_timeout_s))


async def _flood(data_dir: Path, figures: Figures) -> Figures:
    seconds, rate, size = figures.seconds, figures.rate, figures.size
    config = Config(data_dir=data_dir).with_secrets()
    room = await create_simulation(config)
    server = ServerProcess(
        data_dir,
        CAUCUS_MEDIA="1",
        CAUCUS_ICE_ADDRESSES="127.0.0.1",
        CAUCUS_MEDIA_CONNECT_TIMEOUT_S=str(figures.connect_timeout_s),
    )
    await server.start()
    assert server.proc is not None
    pid = server.proc.pid
    sent = SentLog()
    seats: dict[SeatId, Seat] = {}
    sprays: list[Spray] = []
    try:
        for seat_id in (MEDIATOR, PARTY_A, PARTY_B, COACH):
            token = seat_token(config.secret, room, seat_id, f"Person {seat_id}")[0]
            # one publisher is enough to watch, and spares this process's CPU
            seat = seats[seat_id] = Seat(
                seat_id, token, room, sent, media=seat_id != PARTY_B, publish=seat_id == MEDIATOR
            )
            await seat.socket.connect(server.url)
            reply = await seat.socket.join()
            if not reply.get("ok"):
                raise RuntimeError(f"{seat_id} could not join: {reply}")
        for trainee in (MEDIATOR, PARTY_A, PARTY_B):
            await _call_ok(seats[trainee], "consent", {"recording": True})
        await _call_ok(seats[COACH], "phase", {"to": "joint"})
        async with asyncio.timeout(CONNECT_S):
            for seat in seats.values():
                if seat.media is not None:
                    await seat.media.connected.wait()
            offered_at, pending_offer = await seats[PARTY_B].offers.get()
            _, connected_offer = await seats[MEDIATOR].offers.get()
        (pending_port,) = candidate_ports(pending_offer["sdp"])
        (connected_port,) = candidate_ports(connected_offer["sdp"])
        subscriber = seats[PARTY_A].media
        assert subscriber is not None

        def frames() -> list[float]:
            return sorted(
                a.time
                for arrivals in subscriber.arrivals.values()
                for a in arrivals
                if a.publisher == MEDIATOR and a.kind is MediaKind.VIDEO
            )

        await subscriber.wait_until(lambda: bool(frames()), CONNECT_S)
        before = time.monotonic()
        await asyncio.sleep(BEFORE_S)  # the baseline's measuring period
        figures.rss_before_mb = rss_mb(pid)
        cpu_before = cpu_seconds(pid)
        started = time.monotonic()
        figures.frames_per_s_before = sum(1 for t in frames() if t >= before) / (started - before)
        pending_left = figures.connect_timeout_s + 2 - (started - offered_at)
        sprays = [
            await start_spray(pending_left, rate, size, [pending_port]),
            await start_spray(seconds, rate, size, [connected_port]),
        ]
        rss_max = figures.rss_before_mb
        pending_closed_at: float | None = None
        end = started + max(seconds, pending_left + CLOSE_SLACK_S)
        while time.monotonic() < end:
            rss_max = max(rss_max, rss_mb(pid))
            if pending_closed_at is None and await port_closed(pending_port):
                pending_closed_at = time.monotonic()
            if pending_closed_at is not None and time.monotonic() > started + seconds:
                break
            await asyncio.sleep(RSS_EVERY_S)  # the sampling period
        figures.rss_max_mb = rss_max
        figures.server_cpu_s = cpu_seconds(pid) - cpu_before
        figures.junk_sent_pending = await sprays[0].sent()
        figures.junk_sent_connected = await sprays[1].sent()
        figures.rss_after_mb = rss_mb(pid)
        if pending_closed_at is not None:
            figures.pending_closed_after_s = round(pending_closed_at - offered_at, 1)
        flood_end = started + seconds
        arrivals = frames()
        figures.frames_per_s = [
            sum(1 for t in arrivals if started + s <= t < started + s + 1)
            for s in range(int(seconds))
        ]
        during = [started, *(t for t in arrivals if started < t < flood_end), flood_end]
        figures.longest_gap_s = max(b - a for a, b in zip(during, during[1:], strict=False))
    finally:
        for spray_ in sprays:
            spray_.kill()
        for seat in seats.values():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(seat.close(), 10)
        server.stop()
    return figures


def hot_path(n: int = 200_000) -> list[str]:
    """Per-datagram cost of the guard on an aioice pair on loopback (the patch's own
    functions are timed, so this reaches into port_guard's privates)."""
    from aioice.ice import Connection

    from media.aiortc_internals import port_guard

    async def run() -> list[str]:
        a = Connection(ice_controlling=True, use_ipv6=False)
        b = Connection(ice_controlling=False, use_ipv6=False)
        await asyncio.gather(a.gather_candidates(), b.gather_candidates())
        for one, other in ((a, b), (b, a)):
            one.remote_username, one.remote_password = other.local_username, other.local_password
            for candidate in other.local_candidates:
                await one.add_remote_candidate(candidate)
            await one.add_remote_candidate(None)
        await asyncio.gather(a.connect(), b.connect())
        pair = a._nominated[1]
        protocol, peer = pair.protocol, pair.remote_addr
        datagram = b"\x80" + bytes(1199)
        lines = []
        for label, receive, addr in (
            ("stock, from the peer", port_guard._original_datagram_received, peer),
            ("guarded, from the peer", port_guard._guarded_datagram_received, peer),
            (
                "guarded, junk from elsewhere",
                port_guard._guarded_datagram_received,
                (JUNK_SOURCE, 9),
            ),
        ):
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                for i in range(n):
                    receive(protocol, datagram, addr)
                    if i % 512 == 0:
                        while not a._queue.empty():
                            a._queue.get_nowait()
                best = min(best, (time.perf_counter() - started) / n)
            while not a._queue.empty():
                a._queue.get_nowait()
            lines.append(f"{label}: {best * 1e6:.2f} us per datagram")
        await a.close()
        await b.close()
        return lines

    with aiortc_internals.gather_policy(aiortc_internals.LOOPBACK):
        return asyncio.run(run())


def main(argv: list[str]) -> None:
    if argv[:1] == ["hot-path"]:
        aiortc_internals.install()
        for line in hot_path():
            print(line)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=int, default=10_000, help="datagrams/s per port")
    parser.add_argument("--size", type=int, default=1200, help="bytes per datagram")
    parser.add_argument(
        "--data-dir", type=Path, help="the server's (kept); default: a temporary one"
    )
    args = parser.parse_args(argv)
    if args.data_dir is not None:
        args.data_dir.mkdir(parents=True, exist_ok=True)
        figures = asyncio.run(junk_flood(args.data_dir, args.seconds, args.rate, args.size))
    else:
        with tempfile.TemporaryDirectory(prefix="junk-flood-") as tmp:
            figures = asyncio.run(junk_flood(Path(tmp), args.seconds, args.rate, args.size))
    for line in figures.lines():
        print(line)


if __name__ == "__main__":
    main(sys.argv[1:])
