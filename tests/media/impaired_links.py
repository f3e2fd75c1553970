"""The must-show impaired-links run, run by bench/impaired_links.py.

Four seats (synthetic aiortc participants, tests/media/media_harness.py) in a
phase of a simulation, each on a link of 300 ms round trip ± 40 ms (150 ms one way,
± 20 ms jitter, FIFO) losing 5 % of its packets each way; one subscriber's
downlink is also capped at 250 kbit/s (tests/impairment.py's token bucket).
Publishers send aiortc's Opus (96 kbit/s stereo; a browser's voice is ~32 kbit/s:
``audio_bps`` sets it) and VP8 at 15 fps, one stream each unless ``simulcast``: a
subscriber whose link is short has it lowered or paused, lowest priority first
(media.downlink).

``red=True``: every seat negotiates RED as Chromium does (publishes each Opus
payload again in the next packet; receives RED and rebuilds a lost packet from
the next one, as Chromium's jitter buffer does).  ``red=False``: stock aiortc
clients, plain Opus, repaired by NACK only.  Opus in-band FEC is not in either
column: aiortc's encoder does not produce it (a Chromium publisher does, see
tests/e2e/test_opus_fec.py), so both columns show what RED and NACK do.

Who receives whom is the product's rule (sessions.audience) for the phase: in the
joint session the trainees hear each other and the coach watches silently, so a
party receives two seats; in a time-out (or the lobby, or the debrief) the coach
speaks to everyone and each seat receives three.

Figures per subscriber: audio frames released by its receiver within 600 ms of
their encoding (frames sent in the judged window, by hash of their bytes), and
video freezes per minute (WebRTC's definition: a gap between shown frames longer
than max(3 × the mean interval, the mean + 150 ms)).

``simulcast=True``: every publisher sends its video as three layers (48×36,
96×72, 192×144, tests/media/simulcast_publisher.py) as Chromium does, and each
subscriber's layers are the SFU's choice (media.layers).  Layer figures per
subscriber: the share of the window (summed over the videos it receives) each
layer was on its screen, a frame counting until the next one, for
``ON_SCREEN_S`` at most; the rest is video paused (or frozen for longer).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass

from media.sfu import SfuConfig
from sessions.audience import Route, audience
from sessions.ids import SeatId
from sessions.media_kinds import MediaKind
from tests.builders import in_phase, room_with
from tests.impairment import LinkProfile
from tests.media.media_harness import MediaRoom
from tests.media.simulcast_publisher import LAYERS
from tests.media.synthetic import PARTY_B, ROOM, SEATS

LINK = LinkProfile(delay=0.15, jitter=0.02, loss=0.05)
CAP_BPS = 250_000
CAPPED = PARTY_B
AUDIO_DEADLINE = 0.6
FPS = 15
WARM_UP_S = 5.0  # the figures start 5 s after every route flows
FREEZE_MIN_GAP = 0.15
#: a frame shows its layer until the next one, for this long at most (then: paused)
ON_SCREEN_S = 2.0


#: a phase, as the coach's requests that reach it from the lobby
PHASES: dict[str, tuple[str, ...]] = {"joint": ("joint",), "timeout": ("joint", "timeout")}


def routes_in(phase: str) -> frozenset[Route]:
    """Who receives whom among the four seats in `phase` (sessions.audience)."""
    routes = audience(in_phase(room_with(*SEATS, observers=0), *PHASES[phase]))
    return frozenset(r for r in routes if r.subscriber in SEATS)  # not the admin's view


@dataclass
class SubscriberFigures:
    seat: SeatId
    capped: bool
    audio_on_time: int
    audio_sent: int
    freezes: int
    minutes: float
    down_kbps: float
    cap_dropped: int
    layer_seconds: tuple[float, ...] = ()
    """Seconds each layer was on screen, lowest first, summed over its videos
    (simulcast only)."""
    video_seconds: float = 0.0
    """The window times the videos it receives."""

    def layer_share(self, layer: int) -> float:
        return self.layer_seconds[layer] / self.video_seconds if self.video_seconds else 0.0

    @property
    def audio_ratio(self) -> float:
        return self.audio_on_time / self.audio_sent if self.audio_sent else 0.0

    @property
    def freezes_per_minute(self) -> float:
        return self.freezes / self.minutes


@dataclass
class RunFigures:
    red: bool
    phase: str
    seconds: float
    subscribers: list[SubscriberFigures]
    audio_recovered: int
    """Audio packets the SFU rebuilt from a later RED packet."""
    load_average: float
    rcvbuf_errors: int | None
    """Datagrams the kernel dropped for full receive buffers meanwhile (whole machine)."""
    simulcast: bool = False

    @property
    def label(self) -> str:
        if self.red:
            return "RED + simulcast" if self.simulcast else "RED"
        return "no FEC/RED/simulcast" if not self.simulcast else "simulcast, no FEC/RED"


def rcvbuf_errors() -> int | None:
    """The kernel's UDP RcvbufErrors counter (Linux), None elsewhere."""
    try:
        with open("/proc/net/snmp") as snmp:
            rows = [line.split() for line in snmp if line.startswith("Udp:")]
    except OSError:
        return None
    if len(rows) < 2 or "RcvbufErrors" not in rows[0]:
        return None
    return int(rows[1][rows[0].index("RcvbufErrors")])


def delivered_within(
    room: MediaRoom,
    publisher: SeatId,
    subscriber: SeatId,
    kind: MediaKind,
    start: float,
    end: float,
    deadline: float,
) -> tuple[int, int]:
    """(frames released within ``deadline`` of their sending, frames sent in [start, end))."""
    client = room.clients[subscriber]
    mid = client.mid_of(publisher, kind)
    assert mid is not None
    arrived: dict[int, list[float]] = defaultdict(list)
    for arrival in client.arrivals[mid]:
        arrived[arrival.key].append(arrival.time)
    sent = [(t, key) for t, key in room.sent.by_track[(publisher, kind)] if start <= t < end]
    on_time = 0
    for t, key in sent:
        times = sorted(arrived.get(key, ()))
        i = bisect_left(times, t)
        if i < len(times) and times[i] - t <= deadline:
            on_time += 1
    return on_time, len(sent)


def freezes(shown: list[float]) -> int:
    """Gaps longer than max(3 × mean interval, mean + 150 ms) between shown frames."""
    if len(shown) < 3:
        return 0
    gaps = [b - a for a, b in zip(shown, shown[1:], strict=False)]
    mean = sum(gaps) / len(gaps)
    limit = max(3 * mean, mean + FREEZE_MIN_GAP)
    return sum(1 for gap in gaps if gap > limit)


def on_screen(shown: list[tuple[float, int]], end: float, layers: int) -> list[float]:
    """Seconds each layer was on screen until ``end``: from each shown (time, layer)
    to the next, for ``ON_SCREEN_S`` at most."""
    seconds = [0.0] * layers
    for (t, layer), (later, _) in zip(shown, [*shown[1:], (end, 0)], strict=False):
        seconds[layer] += min(later, t + ON_SCREEN_S) - t
    return seconds


def _not_flowing(room: MediaRoom, routes: frozenset[Route]) -> list[str]:
    """Routes whose subscriber has received nothing yet."""
    missing = []
    for route in sorted(routes):
        client = room.clients[route.subscriber]
        mid = client.mid_of(route.publisher, route.kind)
        if mid is None or not client.arrivals[mid]:
            missing.append(f"{route.publisher}->{route.subscriber} {route.kind.value}")
    return missing


async def run(
    *,
    red: bool,
    seconds: float,
    link: LinkProfile = LINK,
    cap_bps: int = CAP_BPS,
    simulcast: bool = False,
    audio_bps: int | None = None,
    phase: str = "joint",
) -> RunFigures:
    routes = routes_in(phase)
    config = SfuConfig(ice_host_addresses=["127.0.0.1"], connect_timeout=60)
    room = MediaRoom(config)
    capped = dataclasses.replace(link, rate_bps=cap_bps)
    try:
        for index, seat in enumerate(SEATS):
            down = capped if seat == CAPPED else link
            await room.add(
                seat,
                link=(link, down),
                seed=index + 1,
                decode=False,
                fps=FPS,
                red=red,
                audio_bps=audio_bps,
                simulcast=simulcast,
            )
        await room.sfu.apply_audience(ROOM, routes)
        await room.wait_connected(60)
        # the capped link may carry no video at all (it is paused before its first
        # frame): every route but those must flow before the figures start
        awaited = frozenset(
            r for r in routes if r.kind is MediaKind.AUDIO or r.subscriber != CAPPED
        )
        try:
            await room.wait_until(lambda: not _not_flowing(room, awaited), timeout=60)
        except TimeoutError:
            missing = ", ".join(_not_flowing(room, awaited))
            raise AssertionError(f"never flowing: {missing}") from None
        await asyncio.sleep(WARM_UP_S)  # the figures leave out the first 5 s
        start = time.monotonic()
        overflows = rcvbuf_errors()
        bytes_before = {s: _down(room, s)[0] for s in SEATS}
        await asyncio.sleep(seconds)  # the measurement window
        end = time.monotonic()
        downs = {s: _down(room, s) for s in SEATS}
        recovered = room.sfu.stats.audio_recovered
        overflows_after = rcvbuf_errors()
    finally:
        await room.close()
    subscribers = []
    judged_end = end - AUDIO_DEADLINE  # later frames may still be on their way
    for subscriber in SEATS:
        on_time = sent = frozen = 0
        video_seconds = 0.0
        layers = [0.0] * len(LAYERS) if simulcast else []
        for publisher in sorted({r.publisher for r in routes if r.subscriber == subscriber}):
            got, out = delivered_within(
                room, publisher, subscriber, MediaKind.AUDIO, start, judged_end, AUDIO_DEADLINE
            )
            on_time, sent = on_time + got, sent + out
            client = room.clients[subscriber]
            mid = client.mid_of(publisher, MediaKind.VIDEO)
            assert mid is not None
            shown = [a for a in client.arrivals[mid] if start <= a.time <= end]
            frozen += freezes([a.time for a in shown])
            layered = room.clients[publisher].simulcast
            if layered is not None:
                video_seconds += end - start
                known = [(a.time, layered.layer_of.get(a.key)) for a in shown]
                seen = on_screen([(t, k) for t, k in known if k is not None], end, len(LAYERS))
                layers = [a + b for a, b in zip(layers, seen, strict=True)]
        received, dropped = downs[subscriber]
        subscribers.append(
            SubscriberFigures(
                seat=subscriber,
                capped=subscriber == CAPPED,
                audio_on_time=on_time,
                audio_sent=sent,
                freezes=frozen,
                minutes=(end - start) / 60,
                down_kbps=(received - bytes_before[subscriber]) * 8 / (end - start) / 1000,
                cap_dropped=dropped,
                layer_seconds=tuple(layers),
                video_seconds=video_seconds,
            )
        )
    overflowed = (
        None if overflows is None or overflows_after is None else overflows_after - overflows
    )
    return RunFigures(
        red,
        phase,
        end - start,
        subscribers,
        recovered,
        os.getloadavg()[0],
        overflowed,
        simulcast,
    )


def _down(room: MediaRoom, seat: SeatId) -> tuple[int, int]:
    """(bytes delivered on the seat's downlink, datagrams its cap dropped) so far."""
    impairment = room.clients[seat].impairment
    assert impairment is not None
    stats = impairment.inbound.stats
    return stats.bytes, stats.overflowed


def table(runs: list[RunFigures]) -> str:
    """The figures side by side, one row per subscriber."""
    head = f"{'subscriber':<18}" + "".join(f"| {r.label:^44}" for r in runs)
    sub = f"{'':<18}" + "".join(
        f"| {'audio <= 600 ms':>16} {'freezes/min':>11} {'kbit/s':>7} {'cap':>5}" for _ in runs
    )
    lines = [head, sub]
    for i, seat in enumerate(SEATS):
        label = f"{seat}{' (250k cap)' if seat == CAPPED else ''}"
        row = f"{label:<18}"
        for r in runs:
            s = r.subscribers[i]
            cap = f"-{s.cap_dropped}" if s.capped else ""
            row += (
                f"| {s.audio_on_time:>6}/{s.audio_sent:<5} {s.audio_ratio:>6.1%}"
                f" {s.freezes_per_minute:>11.1f} {s.down_kbps:>7.0f} {cap:>5}"
            )
        lines.append(row)
    if any(r.simulcast for r in runs):
        lines.append("share of the time each video layer was on screen, low/mid/top:")
        for i, seat in enumerate(SEATS):
            row = f"  {seat:<16}"
            for r in runs:
                s = r.subscribers[i]
                shares = " ".join(f"{s.layer_share(k):>6.1%}" for k in range(len(s.layer_seconds)))
                row += f"| {shares or 'one stream':^44}"
            lines.append(row)
    lines.append(
        "SFU rebuilt audio packets from RED: "
        + ", ".join(f"{r.label} {r.audio_recovered}" for r in runs)
    )
    lines.append(
        "measured "
        + ", ".join(
            f"{r.phase}, {r.seconds:.0f} s (load average {r.load_average:.1f})" for r in runs
        )
        + "; cap = datagrams the 250 kbit/s cap dropped"
    )
    lines.append(
        "kernel UDP receive-buffer drops meanwhile (whole machine): "
        + ", ".join(str(r.rcvbuf_errors) for r in runs)
    )
    return "\n".join(lines)
