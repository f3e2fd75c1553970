"""The junk of the junk flood (bench/junk_flood.py), in a process of its own so the load
does not compete with the clients for the flood's event loop.

    python bench/junk_spray.py SECONDS RATE SIZE PORT [PORT...]

sends RATE datagrams of SIZE random bytes a second from 127.0.0.2 to each PORT on
127.0.0.1 for SECONDS; it prints ``start`` first and ``sent N`` at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

JUNK_SOURCE = "127.0.0.2"


def spray(seconds: float, rate: int, size: int, ports: Sequence[int]) -> int:
    """``rate`` datagrams/s of random bytes to each of ``ports`` for ``seconds``."""
    junk = [os.urandom(size) for _ in range(64)]
    sent = 0
    tick = 0.01
    per_tick = max(1, round(rate * tick))
    os.nice(10)  # the server under test comes first
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((JUNK_SOURCE, 0))
        print("start", flush=True)
        start = time.monotonic()
        while (now := time.monotonic()) - start < seconds:
            for port in ports:
                for i in range(per_tick):
                    with contextlib.suppress(OSError):  # a closed port: nothing to do
                        sock.sendto(junk[i % len(junk)], ("127.0.0.1", port))
                        sent += 1
            time.sleep(max(0.0, tick - (time.monotonic() - now)))
    return sent


async def start_spray(seconds: float, rate: int, size: int, ports: Sequence[int]) -> Spray:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        str(seconds),
        str(rate),
        str(size),
        *map(str, ports),
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    started = await asyncio.wait_for(proc.stdout.readline(), 60)  # a loaded machine: slow
    if started.strip() != b"start":
        raise RuntimeError(f"the junk spray did not start: {started!r}")
    return Spray(proc)


@dataclass
class Spray:
    proc: asyncio.subprocess.Process

    async def sent(self) -> int:
        """Wait for the spray to end; how many datagrams it sent."""
        out, _ = await asyncio.wait_for(self.proc.communicate(), 120)
        return int(out.decode().split()[-1])

    def kill(self) -> None:
        """Only when something failed: its count is lost."""
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()


if __name__ == "__main__":
    seconds, rate, size, *ports = sys.argv[1:]
    print("sent", spray(float(seconds), int(rate), int(size), [int(p) for p in ports]))
