"""A short slice of ``bench/receive_steps.py``: it runs, times the four receive steps
both ways on the same packets, and the C is the faster of the two in all (the bench's
own figures, with 200,000 packets, are in docs/PERFORMANCE.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "receive_steps.py"


def test_the_bench_times_each_step_both_ways() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--packets", "3000"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rows = {
        cells[1]: cells[2:5]
        for line in done.stdout.splitlines()
        if line.startswith("| ") and (cells := [c.strip() for c in line.split("|")])[2][0].isdigit()
    }
    assert set(rows) == {
        "SRTP unprotect",
        "RTP parse",
        "VP8 depayload",
        "uplink estimate",
        "all four",
    }
    python_ns, c_ns, _ = rows["all four"]
    assert float(c_ns) < float(python_ns), done.stdout
