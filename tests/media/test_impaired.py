"""Long, lossy links: 200 ms one way ± 30 ms jitter, 3 % loss, both directions.

Every participant's link to the SFU is impaired (so publisher -> subscriber
crosses two such links: ~400 ms and ~6 % raw loss end to end).  Frames count as
delivered when the subscriber's receiver releases them to its decoder within
1 s of the publisher's encoder emitting them.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from media.sfu import SfuConfig
from sessions.audience import Route
from sessions.ids import SeatId
from sessions.media_kinds import MediaKind
from tests.impairment import LinkProfile
from tests.media.impaired_links import delivered_within
from tests.media.media_harness import MediaRoom, media_room
from tests.media.synthetic import PARTY_A, ROOM, SEATS, caucus, joint

LINK = LinkProfile(delay=0.2, jitter=0.03, loss=0.03)
MEDIA_SECONDS = float(os.environ.get("CAUCUS_IMPAIRED_SECONDS", "30"))
DEADLINE = 1.0
# Each re-opened picture waits for a keyframe from its publisher (~3 one-way
# trips, 0.6 s here); one in ~30 of those keyframes is lost on the way up and
# costs a repair round trip more (~1.1 s).  Several caucuses give the median
# enough samples (8 routes each) to measure the rule, not that luck.
CAUCUSES = 4
FPS = 15  # halves the clients' VP8 encoding; the room runs in this one process


class LoopLag:
    """How late the event loop wakes up: this machine is shared, and a starved
    loop delays every packet of every participant at once."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        while True:
            started = time.monotonic()
            await asyncio.sleep(0.01)  # the probe itself: how late does it wake?
            self.samples.append(time.monotonic() - started - 0.01)

    def stop(self) -> str:
        self._task.cancel()
        ordered = sorted(self.samples) or [0.0]
        return (
            f"event loop lag p50 {ordered[len(ordered) // 2] * 1000:.1f} ms,"
            f" p99 {ordered[int(len(ordered) * 0.99)] * 1000:.0f} ms,"
            f" max {ordered[-1] * 1000:.0f} ms"
        )


def _all_flowing(room: MediaRoom) -> bool:
    for subscriber, client in room.clients.items():
        for publisher in SEATS:
            if publisher == subscriber:
                continue
            mid = client.mid_of(publisher, MediaKind.VIDEO)
            if mid is None or not client.arrivals[mid]:
                return False
    return True


def _first_picture(room: MediaRoom, route: Route, since: float, sent_after: float) -> float | None:
    """Seconds from ``since`` to the first frame shown that was sent after
    ``sent_after`` (not a frame from before the caucus, released late)."""
    client = room.clients[route.subscriber]
    mid = client.mid_of(route.publisher, MediaKind.VIDEO)
    assert mid is not None
    return next(
        (
            a.time - since
            for a in client.arrivals[mid]
            if a.time >= since and a.sent is not None and a.sent >= sent_after
        ),
        None,
    )


def _pictures_back_after(
    room: MediaRoom, routes: frozenset[Route], since: float, sent_after: float
) -> list[float | None]:
    return [_first_picture(room, r, since, sent_after) for r in routes if r.kind is MediaKind.VIDEO]


def _sent_inside_and_shown(
    room: MediaRoom, routes: frozenset[Route], start: float, end: float
) -> list[str]:
    """Video frames sent between ``start`` and ``end`` that reached a closed route
    (video only: every video frame is unique, a looped tone's are not)."""
    shown = []
    for route in (r for r in routes if r.kind is MediaKind.VIDEO):
        client = room.clients[route.subscriber]
        mid = client.mid_of(route.publisher, route.kind)
        assert mid is not None
        shown += [
            f"{route.publisher}->{route.subscriber} sent {a.sent - start:.2f} s"
            for a in client.arrivals[mid]
            if a.sent is not None and start <= a.sent <= end
        ]
    return shown


def _longest_freeze(
    room: MediaRoom, publisher: SeatId, subscriber: SeatId, start: float, end: float
) -> float:
    client = room.clients[subscriber]
    mid = client.mid_of(publisher, MediaKind.VIDEO)
    assert mid is not None
    shown = [start] + [a.time for a in client.arrivals[mid] if start <= a.time <= end] + [end]
    return max(b - a for a, b in zip(shown, shown[1:], strict=False))


async def _caucus_and_back(room: MediaRoom) -> list[float]:
    """A short caucus with party A; then each re-opened picture's delay, seconds.

    Also checks the caucus stayed private: nothing its members sent well inside
    it (past the frame in progress when it began, and early enough to reach the
    SFU before it ended) reaches a seat outside it, late repairs included."""
    caucus_at = time.monotonic()
    await room.sfu.apply_audience(ROOM, caucus(PARTY_A))
    await asyncio.sleep(0.5)  # the caucus lasts half a second
    reopened = joint() - caucus(PARTY_A)
    opened_at = time.monotonic()
    await room.sfu.apply_audience(ROOM, joint())

    def back() -> bool:
        return None not in _pictures_back_after(room, reopened, opened_at, caucus_at)

    await room.wait_until(back, 10)
    leaked = _sent_inside_and_shown(room, reopened, caucus_at + 0.1, opened_at - 0.3)
    assert not leaked, leaked
    return [d for d in _pictures_back_after(room, reopened, opened_at, caucus_at) if d is not None]


@pytest.mark.usefixtures("frozen_heap")
async def test_on_long_lossy_links_frames_arrive_within_a_second() -> None:
    config = SfuConfig(ice_host_addresses=["127.0.0.1"], connect_timeout=30)
    # no decoding here (the routing test identifies seats by decoding): the
    # frames released to the decoder are what is measured, and the whole room
    # shares one process on a 2-core machine
    async with media_room(link=(LINK, LINK), sfu_config=config, decode=False, fps=FPS) as room:
        await room.sfu.apply_audience(ROOM, joint())
        await room.wait_connected(30)
        await room.wait_until(lambda: _all_flowing(room), timeout=20)
        start = time.monotonic()
        lag = LoopLag()
        await asyncio.sleep(MEDIA_SECONDS)  # the measurement window
        end = time.monotonic()
        lag_report = lag.stop()
        # frames sent in the last second may still be on their way: judge the rest
        judged_end = end - DEADLINE
        stats = room.sfu.stats.snapshot()
        lost = {seat: c.impairment for seat, c in room.clients.items()}
        # caucuses, then joint again: how soon do the re-opened pictures appear?
        picture_delays = sorted(
            [delay for _ in range(CAUCUSES) for delay in await _caucus_and_back(room)]
        )

    lines = [
        f"\n{MEDIA_SECONDS:.0f} s, video {FPS} fps, links {LINK}, per hop, both ways",
        f"{lag_report}; machine load average {os.getloadavg()[0]:.1f}",
    ]
    worst = {MediaKind.AUDIO: 1.0, MediaKind.VIDEO: 1.0}
    freezes = []
    for subscriber in SEATS:
        for publisher in SEATS:
            if publisher == subscriber:
                continue
            row = []
            for kind in MediaKind:
                on_time, sent = delivered_within(
                    room, publisher, subscriber, kind, start, judged_end, DEADLINE
                )
                ratio = on_time / sent
                worst[kind] = min(worst[kind], ratio)
                row.append(f"{kind.value} {on_time}/{sent} = {ratio:.1%}")
            freeze = _longest_freeze(room, publisher, subscriber, start, end)
            freezes.append(freeze)
            lines.append(
                f"{publisher:>9} -> {subscriber:<9} "
                + ", ".join(row)
                + f", longest freeze {freeze:.2f} s"
            )
    for seat, impairment in lost.items():
        assert impairment is not None
        up, down = impairment.outbound.stats, impairment.inbound.stats
        lines.append(
            f"{seat:>9} link: up {up.dropped}/{up.packets} dropped,"
            f" down {down.dropped}/{down.packets}"
        )
    lines.append(
        f"SFU forwarding delay p50 {stats['delay_p50_ms']} ms, p99 {stats['delay_p99_ms']} ms"
    )
    lines.append(
        f"worst audio {worst[MediaKind.AUDIO]:.1%}, worst video {worst[MediaKind.VIDEO]:.1%},"
        f" longest freeze {max(freezes):.2f} s"
    )
    lines.append(
        f"caucus -> joint: re-opened pictures back after median"
        f" {picture_delays[len(picture_delays) // 2]:.2f} s,"
        f" 90th percentile {picture_delays[len(picture_delays) * 9 // 10]:.2f} s,"
        f" max {picture_delays[-1]:.2f} s"
        f" (n={len(picture_delays)}, {CAUCUSES} caucuses; PLI up, keyframe down: ~3 one-way trips)"
    )
    print("\n".join(lines))
    assert worst[MediaKind.AUDIO] >= 0.97
    assert worst[MediaKind.VIDEO] >= 0.95
    assert max(freezes) <= 2.0
    assert picture_delays[len(picture_delays) // 2] <= 1.0 and picture_delays[-1] <= 2.0
