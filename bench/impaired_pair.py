"""Two seats through the in-process SFU, a one-way delay on each direction: is every
audio frame the mediator sends delivered to party A?  (The check that told the
impaired-links harness's collapse under load from the links: docs/PERFORMANCE.md.)

    .venv/bin/python bench/impaired_pair.py [--seconds 5]

Prints, per delay pair: the mediator's audio frames sent, the SFU's packets in and
party A's audio frames received over the measured seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from media import aiortc_internals  # noqa: E402
from media.sfu import SfuConfig  # noqa: E402
from sessions.media_kinds import MediaKind  # noqa: E402
from tests.impairment import LinkProfile  # noqa: E402
from tests.media.media_harness import MediaRoom  # noqa: E402
from tests.media.synthetic import MEDIATOR, PARTY_A, ROOM, joint  # noqa: E402

PAIR = (MEDIATOR, PARTY_A)
DELAYS_S = [(0.0, 0.0), (0.02, 0.0), (0.0, 0.02), (0.02, 0.02), (0.15, 0.15)]


async def one(up: float, down: float, seconds: float) -> str:
    room = MediaRoom(SfuConfig(ice_host_addresses=["127.0.0.1"], connect_timeout=30))
    try:
        for index, seat in enumerate(PAIR):
            link = (LinkProfile(delay=up), LinkProfile(delay=down))
            await room.add(seat, link=link, seed=index + 1, decode=False)
        await room.sfu.apply_audience(ROOM, joint(PAIR))
        await room.wait_connected(30)
        await asyncio.sleep(2)  # past the first keyframe and the first reports
        subscriber = room.clients[PARTY_A]
        mid = subscriber.mid_of(MEDIATOR, MediaKind.AUDIO)
        assert mid is not None
        sent_log = room.sent.by_track[(MEDIATOR, MediaKind.AUDIO)]
        before = (len(sent_log), room.sfu.stats.packets_in, len(subscriber.arrivals[mid]))
        started = time.monotonic()
        await asyncio.sleep(seconds)  # the measured window
        sent = len(sent_log) - before[0]
        packets_in = room.sfu.stats.packets_in - before[1]
        received = len(subscriber.arrivals[mid]) - before[2]
        took = time.monotonic() - started
        return (
            f"{up * 1000:>4.0f} ms up, {down * 1000:>4.0f} ms down: mediator audio sent {sent},"
            f" SFU packets in {packets_in} (all kinds), party A audio received {received}"
            f" in {took:.1f} s"
        )
    finally:
        await room.close()


async def main(seconds: float) -> None:
    aiortc_internals.install()
    with aiortc_internals.gather_policy(aiortc_internals.LOOPBACK):
        for up, down in DELAYS_S:
            print(await one(up, down, seconds), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured per delay pair")
    asyncio.run(main(parser.parse_args().seconds))
