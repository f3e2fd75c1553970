"""A router namespace that holds every forwarded packet for a one-way delay (no netem here).

Run inside a router namespace (``python -m tests.reach.delay_router --delay-ms 200``):
it creates two TUN devices.  Policy routing sends everything arriving from the
router's links into ``dly-in``; this process reads each IP packet there and
writes it, ``delay`` later and in order, into ``dly-out``, where the kernel
receives it and routes it on by destination.  Each direction crosses the router
once, so a round trip through it takes twice the delay — TCP, UDP and ICMP alike,
which is what a long international path does to TURN over TLS and to direct
media.  It prints ``ready`` once the devices are up, and runs until killed.

``--rate-kbit N --rate-to CIDR`` adds a bottleneck (no netem here either): the
packets bound for CIDR leave, after the delay, one after another at N kbit/s
through a drop-tail queue of ``--queue-ms`` (a packet that would wait longer is
dropped), as at a slow last mile; the rest pass at once.  With ``--cap-on-signal``
the bottleneck waits for SIGUSR1 (a page loads first, then its link narrows).
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import ipaddress
import os
import signal
import struct
import subprocess
import sys
from collections.abc import Callable

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
IN_DEVICE, OUT_DEVICE = "dly-in", "dly-out"
TABLE = "71"


def open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def route_through(links: list[str]) -> None:
    """Send what arrives on the router's links into dly-in; what leaves dly-out routes normally."""
    for device in (IN_DEVICE, OUT_DEVICE):
        ip("link", "set", device, "up")
    for key in ("all", "default", IN_DEVICE, OUT_DEVICE, *links):
        subprocess.run(
            ["sysctl", "-q", "-w", f"net.ipv4.conf.{key}.rp_filter=0"], check=True, timeout=10
        )
    subprocess.run(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"], check=True, timeout=10)
    ip("route", "replace", "default", "dev", IN_DEVICE, "table", TABLE)
    for link in links:
        ip("rule", "add", "iif", link, "lookup", TABLE)


class Bottleneck:
    """``rate`` bit/s with a drop-tail queue of ``queue_s`` seconds, in front of ``deliver``."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        rate: float,
        queue_s: float,
        deliver: Callable[[bytes], None],
    ) -> None:
        self._loop = loop
        self._rate = rate
        self._queue_s = queue_s
        self._deliver = deliver
        self._free_at = 0.0
        self.passed = self.dropped = 0
        self.armed = True

    def offer(self, packet: bytes) -> None:
        if not self.armed:
            self._deliver(packet)
            return
        now = self._loop.time()
        start = max(now, self._free_at)
        if start - now > self._queue_s:
            self.dropped += 1
            return
        self.passed += 1
        self._free_at = start + 8 * len(packet) / self._rate
        self._loop.call_at(self._free_at, self._deliver, packet)


async def run(
    delay_s: float,
    rate: float | None = None,
    rate_to: str | None = None,
    queue_s: float = 0.2,
    on_signal: bool = False,
) -> None:
    loop = asyncio.get_running_loop()
    inbound, outbound = open_tun(IN_DEVICE), open_tun(OUT_DEVICE)
    links = [d for d in os.listdir("/sys/class/net") if d not in ("lo", IN_DEVICE, OUT_DEVICE)]
    route_through(links)

    def deliver(packet: bytes) -> None:
        try:
            os.write(outbound, packet)
        except OSError:
            pass  # the device's queue is full: the packet is lost, as at a real bottleneck

    capped = ipaddress.ip_network(rate_to) if rate_to else None
    bottleneck = Bottleneck(loop, rate, queue_s, deliver) if rate and capped else None
    if bottleneck is not None and on_signal:
        bottleneck.armed = False
        loop.add_signal_handler(signal.SIGUSR1, lambda: setattr(bottleneck, "armed", True))

    def through(packet: bytes) -> None:
        # IPv4 only (the labs address nothing else): the destination is bytes 16-19
        if bottleneck is not None and len(packet) >= 20 and packet[0] >> 4 == 4:
            if ipaddress.IPv4Address(packet[16:20]) in capped:  # type: ignore[operator]
                bottleneck.offer(packet)
                return
        deliver(packet)

    def readable() -> None:
        while True:
            try:
                packet = os.read(inbound, 65535)
            except BlockingIOError:
                return
            # call_at keeps the order of equal deadlines: a direction never reorders
            if delay_s > 0:
                loop.call_at(loop.time() + delay_s, through, packet)
            else:
                through(packet)

    loop.add_reader(inbound, readable)
    print("ready", flush=True)
    await asyncio.Event().wait()  # until killed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay-ms", type=float, default=200.0, help="one-way delay")
    parser.add_argument("--rate-kbit", type=float, default=None, help="bottleneck rate")
    parser.add_argument("--rate-to", default=None, help="CIDR the bottleneck applies to")
    parser.add_argument("--queue-ms", type=float, default=200.0, help="bottleneck queue")
    parser.add_argument("--cap-on-signal", action="store_true", help="cap from SIGUSR1 on")
    args = parser.parse_args()
    rate = None if args.rate_kbit is None else 1000 * args.rate_kbit
    try:
        asyncio.run(
            run(args.delay_ms / 1000, rate, args.rate_to, args.queue_ms / 1000, args.cap_on_signal)
        )
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
