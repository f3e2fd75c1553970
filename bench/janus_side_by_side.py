"""Caucus against Janus VideoRoom, the same load, alternated in one sitting.

    python bench/janus_side_by_side.py --rooms 1 5 7 --seconds 30 --rounds 2   # root

Per R and round, one Janus run (``bench/janus_load.py``: Debian's ``janus``
1.1.2, VideoRoom over its HTTP API) then one Caucus run (``bench/forwarding.py``:
the SFU in its own process), each with R rooms x 4 aiortc participants
publishing the same pre-encoded Opus + ~500 kbit/s VP8 and receiving the other
three.  Both are measured the same way: the server process's CPU (all its
threads), RTP packets received by the subscribers in the window, delivered
frames / (sent frames x 3), and RSS growth per participant.  On a shared
machine only the ratio of runs taken back to back means much, so each run
prints the load average it met.

Janus never offers a loopback candidate (``src/ice.c`` skips loopback
interfaces), so the Janus runs happen in two network namespaces this script
makes (``tests/netns.py``): Janus in one, its participants in the other, a
veth pair between them (10.76.0.1 / 10.76.0.2; removed at exit).  The Caucus
runs stay on loopback.  Needs root, ``ip`` and ``janus``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.netns import Lab, lab_available  # noqa: E402

JANUS_ADDRESS, CLIENT_ADDRESS = "10.76.0.1", "10.76.0.2"


def measure(command: list[str], timeout: float) -> dict[str, Any]:
    """Run one bench process; its figures are the ``RESULT {json}`` line it prints."""
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        out = done.stdout + done.stderr
    except subprocess.TimeoutExpired as exc:
        print(f"  timed out: {' '.join(command)}", flush=True)
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
    for line in out.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[len("RESULT ") :])
            return result
    print(out[-2000:], flush=True)
    return {}


def per_1000(result: dict[str, Any]) -> float:
    cpu, packets = float(result["cpu"]), int(result["packets_received"])
    return cpu / max(1, packets) * 1000


def per_participant_mib(result: dict[str, Any]) -> float:
    grown = int(result["rss"]) - int(result["rss_start"])
    return grown / int(result["participants"]) / 2**20


def line(result: dict[str, Any]) -> str:
    return (
        f"{result['server']:>6} R={result['rooms']:<2} load {result['load']:5.1f}"
        f"  {result['packets_received'] / result['seconds']:7.0f} pkt/s received"
        f"  CPU {result['cpu'] / result['seconds']:5.0%} of a core"
        f"  {per_1000(result):.3f} CPU s/1000 pkts"
        f"  delivery {result['delivery']:7.2%}"
        f"  RSS {result['rss_start'] / 2**20:.0f}->{result['rss'] / 2**20:.0f} MiB"
        f" ({per_participant_mib(result):.2f} MiB/participant)"
        # added forwarding delay is measured inside Caucus only
        + (f"  delay p99 {result['delay_p99_ms']} ms" if result.get("delay_p99_ms") else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, nargs="+", default=[1, 5, 7])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=1, help="Janus/Caucus pairs per R")
    parser.add_argument("--record", action="store_true", help="Caucus records every track")
    args = parser.parse_args()
    if (reason := lab_available()) is not None:
        sys.exit(f"cannot build the namespaces: {reason}")
    python = sys.executable
    rows: list[tuple[dict[str, Any], dict[str, Any]]] = []
    with Lab("jc") as lab:
        janus_ns, load_ns = lab.namespace("janus"), lab.namespace("load")
        lab.link(janus_ns, f"{JANUS_ADDRESS}/24", load_ns, f"{CLIENT_ADDRESS}/24")
        for rooms in args.rooms:
            timeout = args.seconds + 120 + 10 * rooms
            for _ in range(args.rounds):
                janus = measure(
                    [
                        *load_ns.prefix,
                        python,
                        "bench/janus_load.py",
                        f"--rooms={rooms}",
                        f"--seconds={args.seconds}",
                        f"--address={JANUS_ADDRESS}",
                        f"--client-address={CLIENT_ADDRESS}",
                        f"--janus-netns={janus_ns.name}",
                    ],
                    timeout,
                )
                if janus:
                    print(line(janus), flush=True)
                caucus = measure(
                    [
                        python,
                        "bench/forwarding.py",
                        f"--rooms={rooms}",
                        f"--seconds={args.seconds}",
                        *(["--record"] if args.record else []),
                    ],
                    timeout,
                )
                if caucus:
                    print(line(caucus), flush=True)
                if janus and caucus:
                    rows.append((janus, caucus))
    print(
        f"\n{os.cpu_count()} cores; {args.seconds:.0f} s windows"
        f"{'; Caucus recording every track' if args.record else ''}\n"
        "| R | load avg (J / C) | Caucus CPU s / 1000 pkts | Janus | ratio"
        " | delivery C / J | MiB per participant C / J |\n"
        "|---:|---:|---:|---:|---:|---:|---:|"
    )
    for janus, caucus in rows:
        print(
            f"| {caucus['rooms']} | {janus['load']:.1f} / {caucus['load']:.1f}"
            f" | {per_1000(caucus):.3f} | {per_1000(janus):.3f}"
            f" | {per_1000(caucus) / per_1000(janus):.2f}×"
            f" | {caucus['delivery']:.1%} / {janus['delivery']:.1%}"
            f" | {per_participant_mib(caucus):.2f} / {per_participant_mib(janus):.2f} |"
        )


if __name__ == "__main__":
    main()
