"""Issue 17's must-show at full size: 12 four-seat rooms of synthetic aiortc
participants on three `caucus serve` nodes (one Redis, one PostgreSQL, one
recordings directory); SIGKILL the node holding the most rooms, and measure how
soon each of its rooms is live again on the others (every seat taken back), with
every check of tests/system/failover.py (seats resumed with their consent, notes
acknowledged and stored, new recorded segments).

    .venv/bin/python bench/failover.py [--rooms 12] [--nodes 3] [--client-processes 3]

PostgreSQL is a throwaway cluster started here (as the tests do), Redis a
throwaway redis-server; everything on loopback. The clients run in
--client-processes processes (rooms dealt out in turn).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.postgres_server import postgres_cluster
from tests.system.failover import failover


async def main(rooms: int, nodes: int, processes: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, postgres_cluster() as base_url:
        figures = await failover(Path(tmp), base_url, rooms, nodes, processes)
    moved = sorted(figures.moved_in_s)
    print(f"rooms {rooms} on {nodes} nodes, per node {figures.rooms_per_node}")
    print(f"killed node's {len(moved)} rooms live again in (s): {[round(s, 2) for s in moved]}")
    print(f"max {moved[-1]:.2f} s")
    print(f"media flowing again to every seat of them {figures.media_back_s:.1f} s after the kill")
    print(f"notes acknowledged {figures.notes_acknowledged}, stored {figures.notes_stored}")
    print(f"new segments after the kill: {figures.new_segments}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=12)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--client-processes", type=int, default=3)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    asyncio.run(main(args.rooms, args.nodes, args.client_processes))
