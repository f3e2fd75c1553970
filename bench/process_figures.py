"""A process's figures for the benches, from /proc (Linux): resident memory, CPU time
(all threads), and where memory allocated since a snapshot lives (tracemalloc)."""

from __future__ import annotations

import asyncio
import os
import time
import tracemalloc
from pathlib import Path


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU of a process and all its threads, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_report(before: tracemalloc.Snapshot, label: str, participants: int) -> None:
    """Where the memory allocated since ``before`` lives, by source line."""
    after = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)]
    )
    diff = after.compare_to(before, "lineno")
    total = sum(d.size_diff for d in diff)
    print(
        f"tracemalloc {label}: {total / 2**20:+.1f} MiB"
        f" ({total / max(1, participants) / 2**20:+.2f} MiB per participant)",
        flush=True,
    )
    for d in diff[:25]:
        frame = d.traceback[0]
        where = f"{Path(frame.filename).parent.name}/{Path(frame.filename).name}:{frame.lineno}"
        print(f"  {d.size_diff / 2**20:+7.2f} MiB {d.count_diff:+8d} blocks  {where}", flush=True)


async def print_rss(every: float) -> None:
    """RSS and load average every ``every`` seconds (is memory flat over a long run?)."""
    started = time.monotonic()
    while True:
        await asyncio.sleep(every)
        print(
            f"SFU RSS {rss_bytes() / 2**20:.1f} MiB at {time.monotonic() - started:.0f} s,"
            f" load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
