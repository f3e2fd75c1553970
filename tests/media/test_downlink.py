"""A subscriber's downlink hears its receiver reports once a tick, as their mean.

Every consumer reports the loss on its own stream, ~50 packets a second, so one
report is a small sample; a subscriber of three seats sends about six a second.
The consumers here are stand-ins with only what Downlink reads of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from media.consumer import Consumer
from media.downlink import Downlink
from media.layers import PAUSED
from sessions.media_kinds import MediaKind


@dataclass
class OneStream:
    """A publisher's one video stream (no simulcast), at a fixed bitrate."""

    simulcast: bool = False

    def layer_rates(self, now: float, count: int) -> list[int]:
        return [300_000]


@dataclass
class Copy:
    """What Downlink reads of a consumer, and the layer it was told."""

    publisher: str
    kind: MediaKind
    producer: OneStream = field(default_factory=OneStream)
    forwarding: bool = True
    takes_red: bool = False
    layer: int = 0
    on_estimate: Any = None
    on_loss: Any = None
    on_rtt: Any = None
    sent: tuple[int, int] = (0, 0)

    def set_layer(self, layer: int) -> None:
        self.layer = layer

    def send_redundancy(self, on: bool) -> None:
        pass


def room() -> tuple[Downlink, list[Copy], list[float]]:
    now = [0.0]
    downlink = Downlink("room/party_b", clock=lambda: now[0])
    copies = [Copy(seat, kind) for seat in ("mediator", "party_a", "coach") for kind in MediaKind]
    for copy in copies:
        downlink.watch(cast(Consumer, copy))
    return downlink, copies, now


def tick(
    downlink: Downlink,
    copies: list[Copy],
    now: list[float],
    losses: list[float],
    rtts: list[float] | None = None,
) -> None:
    for copy, loss in zip(copies, losses, strict=False):
        copy.on_loss(loss)
    for copy, rtt in zip(copies, rtts or [], strict=False):
        copy.on_rtt(rtt)
    now[0] += 0.5
    downlink.choose(cast(list[Consumer], copies))


def test_one_unlucky_report_among_a_ticks_reports_pauses_nothing() -> None:
    downlink, copies, now = room()
    for _ in range(10):
        tick(downlink, copies, now, [0.05] * 6)
    tick(downlink, copies, now, [0.05] * 5 + [0.40])  # 2 of 50 packets, then 20 of 50
    tick(downlink, copies, now, [])
    assert all(c.layer != PAUSED for c in copies if c.kind is MediaKind.VIDEO)


def test_loss_on_every_stream_still_pauses_the_lowest_priority_video() -> None:
    downlink, copies, now = room()
    for _ in range(10):
        tick(downlink, copies, now, [0.05] * 6)
    for _ in range(4):
        tick(downlink, copies, now, [0.40] * 6)
    paused = {c.publisher for c in copies if c.kind is MediaKind.VIDEO and c.layer == PAUSED}
    assert "coach" in paused and "mediator" not in paused


def video_paused(copies: list[Copy]) -> set[str]:
    return {c.publisher for c in copies if c.kind is MediaKind.VIDEO and c.layer == PAUSED}


def test_one_slow_report_among_a_ticks_round_trips_marks_no_queue() -> None:
    downlink, copies, now = room()
    for _ in range(10):
        tick(downlink, copies, now, [0.03] * 6, [0.3] * 6)
    for _ in range(4):  # one stream's report delayed 500 ms (a busy host), the rest not
        tick(downlink, copies, now, [0.03] * 6, [0.3] * 5 + [0.8])
    assert video_paused(copies) == set()


def test_a_queue_on_every_stream_pauses_the_lowest_priority_video() -> None:
    downlink, copies, now = room()
    for _ in range(10):
        tick(downlink, copies, now, [0.03] * 6, [0.3] * 6)
    for _ in range(4):  # the bottleneck's queue: 300 ms more, the loss as before
        tick(downlink, copies, now, [0.03] * 6, [0.6] * 6)
    assert video_paused(copies) == {"coach"}


def test_the_audio_is_what_the_voices_took_on_the_wire_not_an_estimate() -> None:
    # the same queue as above, but each voice took ~500 kbit/s (10 packets of 3 kB a
    # tick): of (3 × 300k + 1.5M) × 0.85, 540k are left for video, one stream, so
    # party A's video pauses too; by the per-voice estimate (40 kbit/s each) two fit
    downlink, copies, now = room()
    voices = [c for c in copies if c.kind is MediaKind.AUDIO]

    def talk() -> None:
        for voice in voices:
            payload, packets = voice.sent
            voice.sent = (payload + 30_000, packets + 10)

    for _ in range(10):
        talk()
        tick(downlink, copies, now, [0.03] * 6, [0.3] * 6)
    for _ in range(4):
        talk()
        tick(downlink, copies, now, [0.03] * 6, [0.6] * 6)
    assert video_paused(copies) == {"party_a", "coach"}
