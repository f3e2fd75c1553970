"""The catalogue's write path on SQLite and PostgreSQL, side by side.

What the recorder and the rooms ask of the database while sessions run: one
timeline event per write (a join, a phase change, a track start), each its own
transaction, awaited one after another (as the room service commits) and queued
(as the recorder's CatalogueWrites runs them). Prints writes per second and the
latency of an awaited write (p50, p99) for each engine, and the ratio.

    .venv/bin/python bench/storage_writes.py [--writes 2000]

PostgreSQL is a throwaway cluster started here (Debian's postgresql, as the
tests do), on loopback, fsync on.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recordings.catalogue_writes import CatalogueWrites
from sessions.ids import ScenarioId, SeatId
from sessions.timeline import Event, EventKind
from storage.catalogue import Catalogue
from storage.database import Database, default_url
from storage.migrate import upgrade
from tests.postgres_server import fresh_database, postgres_cluster


async def measure(url: str, writes: int) -> dict[str, float]:
    db = Database(url)
    await upgrade(db)
    catalogue = Catalogue(db)
    room = (await catalogue.create_simulation(ScenarioId("boundary-fence"), 1)).id
    latencies = []
    started = time.perf_counter()
    for n in range(writes):
        t = time.perf_counter()
        await catalogue.append_event(
            room, Event(n, EventKind.JOIN, SeatId("party_a"), {"identity": f"p{n}", "name": "A"})
        )
        latencies.append((time.perf_counter() - t) * 1000)
    awaited_s = time.perf_counter() - started
    queue = CatalogueWrites(catalogue)
    started = time.perf_counter()
    for n in range(writes):
        event = Event(n, EventKind.PHASE, None, {"phase": "joint"})

        async def write(c: Catalogue, event: Event = event) -> None:
            await c.append_event(room, event)

        assert queue.submit(write)
    await queue.flush()
    queued_s = time.perf_counter() - started
    await db.close()
    latencies.sort()
    return {
        "awaited_per_s": writes / awaited_s,
        "queued_per_s": writes / queued_s,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
    }


async def main(writes: int) -> None:
    load = os.getloadavg()
    print(f"{writes} writes per engine; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite (WAL, synchronous=FULL)"] = await measure(default_url(Path(tmp)), writes)
    with postgres_cluster(fsync=True) as base:
        results["PostgreSQL 15 (loopback)"] = await measure(await fresh_database(base), writes)
    print(f"{'engine':<32} {'awaited/s':>10} {'queued/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    for name, r in results.items():
        print(
            f"{name:<32} {r['awaited_per_s']:>10.0f} {r['queued_per_s']:>10.0f}"
            f" {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f}"
        )
    sqlite, pg = results.values()
    ratio = pg["awaited_per_s"] / sqlite["awaited_per_s"]
    print(f"PostgreSQL / SQLite, awaited writes per second: {ratio:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=2000)
    asyncio.run(main(parser.parse_args().writes))
