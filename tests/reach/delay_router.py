"""A router namespace that holds every forwarded packet for a one-way delay (no netem here).

Run inside a router namespace (``python -m tests.reach.delay_router --delay-ms 200``):
it creates two TUN devices.  Policy routing sends everything arriving from the
router's links into ``dly-in``; this process reads each IP packet there and
writes it, ``delay`` later and in order, into ``dly-out``, where the kernel
receives it and routes it on by destination.  Each direction crosses the router
once, so a round trip through it takes twice the delay — TCP, UDP and ICMP alike,
which is what a long international path does to TURN over TLS and to direct
media.  It prints ``ready`` once the devices are up, and runs until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import struct
import subprocess
import sys

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


async def run(delay_s: float) -> None:
    loop = asyncio.get_running_loop()
    inbound, outbound = open_tun(IN_DEVICE), open_tun(OUT_DEVICE)
    links = [d for d in os.listdir("/sys/class/net") if d not in ("lo", IN_DEVICE, OUT_DEVICE)]
    route_through(links)

    def readable() -> None:
        while True:
            try:
                packet = os.read(inbound, 65535)
            except BlockingIOError:
                return
            # call_at keeps the order of equal deadlines: a direction never reorders
            loop.call_at(loop.time() + delay_s, deliver, packet)

    def deliver(packet: bytes) -> None:
        try:
            os.write(outbound, packet)
        except OSError:
            pass  # the device's queue is full: the packet is lost, as at a real bottleneck

    loop.add_reader(inbound, readable)
    print("ready", flush=True)
    await asyncio.Event().wait()  # until killed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay-ms", type=float, default=200.0, help="one-way delay")
    args = parser.parse_args()
    try:
        asyncio.run(run(args.delay_ms / 1000))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
