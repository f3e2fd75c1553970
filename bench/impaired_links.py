"""Impaired links, with RED and without, in one run: audio on time and video freezes.

    .venv/bin/python bench/impaired_links.py [--seconds 60] [--voice-kbit 32] [--phase joint]
        [--simulcast]

Four synthetic aiortc seats in a phase of a simulation (``--phase``: ``joint``, the
role-play, where the coach watches silently, or ``timeout``, where the coach speaks
to everyone; who hears whom is sessions/audience.py's rule) through an in-process SFU on
loopback, every link at 300 ms round trip ± 40 ms and 5 % loss each way, one
subscriber's downlink capped at 250 kbit/s (tests/media/impaired_links.py says
exactly what runs and how each figure is taken).  The same room runs twice, one
after the other: every seat negotiating RED, then stock aiortc clients (plain
Opus, NACK only).  Printed: per subscriber, audio frames released within 600 ms
of their encoding, video freezes per minute, the downlink's rate and what the
cap dropped; the audio packets the SFU rebuilt from RED.  Figures only, no CI
slice (docs/PERFORMANCE.md says why).

``--voice-kbit``: the publishers' Opus bitrate, as a browser's voice (default:
aiortc's 96 kbit/s stereo, three of which, doubled by RED, overfill the capped link
on their own).

``--simulcast``: in the first column every publisher sends three layers as Chromium
does (tests/media/simulcast_publisher.py) and the share of the time each layer was
on each subscriber's screen is printed; the second column stays the stock client
(one stream, no RED), the figures without FEC/RED/simulcast.

Not here: Opus FEC (aiortc's encoder makes none; Chromium's does).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from media import aiortc_internals  # noqa: E402
from tests.media.impaired_links import PHASES, RunFigures, run, table  # noqa: E402


async def main(seconds: float, voice_kbit: int | None, phase: str, simulcast: bool) -> None:
    aiortc_internals.install()
    logging.getLogger("aioice").setLevel(logging.WARNING)
    runs: list[RunFigures] = []
    with aiortc_internals.gather_policy(aiortc_internals.LOOPBACK):
        for red in (True, False):
            audio_bps = None if voice_kbit is None else voice_kbit * 1000
            layered = simulcast and red  # the plain column is the stock client's
            runs.append(
                await run(
                    red=red,
                    seconds=seconds,
                    audio_bps=audio_bps,
                    phase=phase,
                    simulcast=layered,
                )
            )
    print(table(runs))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured per column")
    parser.add_argument("--voice-kbit", type=int, help="Opus bitrate (default: aiortc's 96)")
    parser.add_argument("--phase", choices=sorted(PHASES), default="joint")
    parser.add_argument(
        "--simulcast", action="store_true", help="the RED column's publishers send three layers"
    )
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.voice_kbit, args.phase, args.simulcast))
