"""What sampling each seat's link costs the SFU: one ``LinkWatch.sample`` per seat.

    .venv/bin/python bench/link_sampling.py

Four synthetic aiortc seats (tests/media/media_harness.py) publish and receive
each other through an in-process SFU on loopback; once media flows, every seat's
link is sampled 20 times (the server does this every 2 s). Printed: the time one
sample of one seat takes (median, p90): ``pc.getStats()`` over its senders and
receivers, the NACK counters, the freeze sink's gaps, the classifier. Figures
only: nothing here passes or fails.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from media.link_stats import LinkWatch  # noqa: E402
from sessions.timeline import Event  # noqa: E402
from tests.media.media_harness import media_room  # noqa: E402

ROUNDS = 20


async def main() -> None:
    t0 = time.monotonic()
    stored: list[Event] = []
    async with media_room(decode=False) as room:
        await room.wait_connected(20)
        room_id = next(iter(room.clients.values())).room
        watch = LinkWatch(
            lambda r: 10_000 + int((time.monotonic() - t0) * 1000),
            lambda r, e: stored.append(e),
            interval=3600,  # only the samples timed here
        )
        for seat in room.clients:
            watch.watch(room_id, seat, room.sfu.participant(room_id, seat))
        await asyncio.sleep(3)  # media flowing, counters primed
        times: list[float] = []
        for _ in range(ROUNDS):
            for seat in room.clients:
                start = time.perf_counter()
                await watch.sample_seat(room_id, seat)
                times.append(time.perf_counter() - start)
            await asyncio.sleep(0.1)
        await watch.close()
    times.sort()
    print(
        f"seats={len(room.clients)} samples={len(times)}"
        f" median={statistics.median(times) * 1e3:.2f} ms"
        f" p90={times[int(0.9 * len(times))] * 1e3:.2f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
