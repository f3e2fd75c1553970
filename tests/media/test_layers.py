"""The layer selector (media/layers.py): pure rules, clock passed in."""

from __future__ import annotations

import pytest

from media.layer_knobs import LayerKnobs
from media.layers import PAUSED, LayerSelector, seat_priority

#: two layers as Chromium sends them from a 640x360 camera: 320 and 640 pixels wide
RATES = [150_000, 600_000]
AUDIO = 40_000


#: without the ceiling a short link leaves (its own test below): the waits alone
NO_CEILING = LayerKnobs(ceiling_s=0)
#: A stream's first climb (at climb_s, 2 s) is a try: a link that falls a second later
#: (at 3 s, below) is that try failing, and after its step down nothing is heard for
#: settle_s and report_span_s more (the try's late reports); then the link is judged.
AFTER_A_TRY = LayerKnobs().report_span_s


def selector(*keys: str, knobs: LayerKnobs | None = None) -> LayerSelector:
    chosen = LayerSelector(knobs)
    for key in keys:
        chosen.stream(key, seat_priority(key))
    return chosen


def run(
    chosen: LayerSelector,
    start: float,
    end: float,
    *,
    loss: float | None = None,
    capacity: int | None = None,
    remb: int | None = None,
    rates: dict[str, list[int]] | None = None,
    audio: int = 2,
) -> dict[str, int]:
    """Report every second (as a browser's RTCP does) and choose every half second.

    ``capacity``: a link of that many bit/s; each report's loss is what it drops of
    what the chosen layers and the audio send (``loss``: a fixed fraction instead).
    """
    rates = rates or {key: RATES for key in chosen.streams}
    result: dict[str, int] = {c.key: c.layer for c in chosen.streams.values()}
    t = start
    while t < end:
        if t == int(t):
            if capacity is not None:
                sent = AUDIO * audio + sum(
                    rates[key][layer] for key, layer in result.items() if layer != PAUSED
                )
                chosen.loss(max(0.0, 1 - capacity / sent), t)
            elif loss is not None:
                chosen.loss(loss, t)
            if remb is not None:
                chosen.estimate(remb, t)
        result = chosen.choose(rates, audio, t)
        t += 0.5
    return result


def test_a_new_stream_starts_on_its_lowest_layer_and_climbs_on_a_clear_link() -> None:
    knobs = LayerKnobs()
    chosen = selector("mediator")
    assert run(chosen, 0, knobs.climb_s, loss=0.0) == {"mediator": 0}
    assert run(chosen, knobs.climb_s, 30, loss=0.0) == {"mediator": 1}
    assert chosen.streams["mediator"].switches == 1


def test_a_short_link_takes_the_stream_down_to_the_layer_it_delivers() -> None:
    chosen = selector("mediator")
    run(chosen, 0, 3, loss=0.0)
    # 600k + 2 x 40k audio into a 300 kbit/s link: more than half is lost;
    # the lower layer fits, and it stays there (no try up before probe_s)
    assert run(chosen, 3, 10, capacity=300_000) == {"mediator": 0}
    assert chosen.streams["mediator"].switches == 2  # up (a climb), then down


def test_below_the_lowest_layer_video_pauses_and_audio_is_not_counted_away() -> None:
    chosen = selector("mediator")
    run(chosen, 0, 3, loss=0.0)
    # 100 kbit/s: the audio (80k) fits, no video layer does (down first, then paused)
    assert run(chosen, 3, 7 + AFTER_A_TRY, capacity=100_000) == {"mediator": PAUSED}
    assert chosen.streams["mediator"].pauses == 1


def test_a_paused_stream_tries_its_lowest_layer_again_with_a_growing_wait() -> None:
    knobs = NO_CEILING
    chosen = selector("mediator", knobs=knobs)
    run(chosen, 0, 3, loss=0.0)
    run(chosen, 3, 8 + AFTER_A_TRY, capacity=100_000)
    paused_at = chosen.streams["mediator"].switched_at
    # the loss report goes stale while paused; the wait alone brings it back
    assert run(chosen, 4, paused_at + knobs.resume_s - 0.5) == {"mediator": PAUSED}
    assert run(chosen, paused_at + knobs.resume_s - 0.5, paused_at + knobs.resume_s + 1) == {
        "mediator": 0
    }
    # the try fails at once: paused again, and the next try waits twice as long
    retried = chosen.streams["mediator"].switched_at
    t = retried + knobs.settle_s
    assert run(chosen, t, t + 1.5, capacity=100_000) == {"mediator": PAUSED}
    assert chosen.streams["mediator"].resume_wait_s == 2 * knobs.resume_s


def test_a_paused_stream_stays_paused_while_it_may_not_resume() -> None:
    knobs = NO_CEILING
    chosen = selector("mediator", knobs=knobs)
    run(chosen, 0, 3, loss=0.0)
    run(chosen, 3, 8 + AFTER_A_TRY, capacity=100_000)
    resumes_at = chosen.streams["mediator"].switched_at + knobs.resume_s
    later = resumes_at + 10
    # a voice still lacks its RED copy (media.voice_redundancy): audio comes back first
    assert chosen.choose({"mediator": RATES}, 2, later, may_resume=False) == {"mediator": PAUSED}
    assert chosen.choose({"mediator": RATES}, 2, later + 0.5) == {"mediator": 0}


def test_paused_streams_try_again_one_at_a_time_each_judged_before_the_next() -> None:
    knobs = NO_CEILING
    chosen = selector("mediator", "party_a", knobs=knobs)
    run(chosen, 0, 3, loss=0.0)
    run(chosen, 3, 8 + AFTER_A_TRY, capacity=60_000)
    assert {c.layer for c in chosen.streams.values()} == {PAUSED}
    t = max(c.switched_at for c in chosen.streams.values()) + knobs.resume_s
    rates = {key: RATES for key in chosen.streams}
    assert chosen.choose(rates, 2, t) == {"mediator": 0, "party_a": PAUSED}
    assert chosen.choose(rates, 2, t + knobs.settle_s - 0.5) == {"mediator": 0, "party_a": PAUSED}
    assert chosen.choose(rates, 2, t + knobs.settle_s) == {"mediator": 0, "party_a": 0}


def test_the_mediators_video_is_kept_before_a_partys() -> None:
    chosen = selector("party_a", "mediator")
    run(chosen, 0, 3, loss=0.0)
    # two top layers (1.2M) and two audio streams into 300 kbit/s
    result = run(chosen, 3, 10, capacity=300_000)
    assert result["mediator"] == 0
    assert result["party_a"] == PAUSED


def test_with_no_loss_a_lower_layer_tries_the_next_one_up_after_the_probe_wait() -> None:
    knobs = NO_CEILING
    chosen = selector("mediator", knobs=knobs)
    run(chosen, 0, 3, loss=0.0)
    run(chosen, 3, 5, capacity=300_000)
    down_at = chosen.streams["mediator"].switched_at
    assert run(chosen, 5, down_at + knobs.probe_s - 1, loss=0.0) == {"mediator": 0}
    assert run(chosen, down_at + knobs.probe_s - 1, down_at + knobs.probe_s + 1, loss=0.0) == {
        "mediator": 1
    }


def test_a_failed_try_up_doubles_the_wait_before_the_next() -> None:
    knobs = NO_CEILING
    chosen = selector("mediator", knobs=knobs)
    run(chosen, 0, 3, loss=0.0)
    run(chosen, 3, 5, capacity=300_000)
    down_at = chosen.streams["mediator"].switched_at
    run(chosen, 5, down_at + knobs.probe_s + 1, capacity=300_000)
    assert chosen.streams["mediator"].layer == 1  # tried
    t = chosen.streams["mediator"].switched_at
    run(chosen, t, t + knobs.settle_s + 1.5, capacity=300_000)
    assert chosen.streams["mediator"].layer == 0
    assert chosen.streams["mediator"].probe_wait_s == 2 * knobs.probe_s


def test_a_try_that_overfills_the_link_goes_back_to_its_layer_never_to_a_pause() -> None:
    """The loss a try up meets measures the link with the try's keyframe in it: the
    layer it came from, which the link carried, is where it goes back to, however
    little that loss leaves for video."""
    knobs = NO_CEILING
    chosen = selector("mediator", knobs=knobs)
    run(chosen, 0, 1, loss=0.0)
    assert chosen.streams["mediator"].layer == 0
    run(chosen, 1, knobs.climb_s + 1.5, loss=0.0)
    assert chosen.streams["mediator"].layer == 1  # the try
    t = chosen.streams["mediator"].switched_at
    # the link answers with so much loss that not even the lowest layer fits what it
    # delivered
    assert run(chosen, t, t + knobs.settle_s + 1.5, loss=0.9) == {"mediator": 0}
    assert chosen.streams["mediator"].pauses == 0
    assert chosen.streams["mediator"].probe_wait_s == knobs.probe_s
    # loss that goes on after the try's own reports is a short link's, judged from the
    # lowest layer
    t = chosen.streams["mediator"].switched_at
    after = t + knobs.settle_s + knobs.report_span_s
    assert run(chosen, t, after, loss=0.9) == {"mediator": 0}
    assert run(chosen, after, after + 1.5, loss=0.9) == {"mediator": PAUSED}


def test_a_remb_that_covers_the_next_layer_raises_it_after_the_hold() -> None:
    knobs = LayerKnobs()
    chosen = selector("mediator")
    run(chosen, 0, 3, loss=0.0)
    run(chosen, 3, 5, capacity=300_000)
    t = chosen.streams["mediator"].switched_at + knobs.settle_s + AFTER_A_TRY
    result = run(chosen, t, t + knobs.up_hold_s + 1.5, loss=0.0, remb=int(RATES[1] * 1.5))
    assert result == {"mediator": 1}
    assert t + knobs.up_hold_s + 1.5 < t + knobs.probe_s  # sooner than a try would


def test_a_low_remb_alone_never_lowers_a_picture() -> None:
    chosen = selector("mediator")
    assert run(chosen, 0, 20, loss=0.0, remb=20_000) == {"mediator": 1}


def test_a_layer_that_stops_arriving_is_left_for_one_that_arrives() -> None:
    chosen = selector("mediator")
    run(chosen, 0, 3, loss=0.0)
    assert run(chosen, 3, 5, loss=0.0, rates={"mediator": [150_000, 0]}) == {"mediator": 0}


def test_when_its_layer_stops_arriving_a_stream_takes_the_nearest_one_below() -> None:
    chosen = selector("mediator")
    three = [80_000, 150_000, 600_000]
    run(chosen, 0, 3, loss=0.0, rates={"mediator": three})
    run(chosen, 3, 4, capacity=300_000, rates={"mediator": three})
    assert chosen.streams["mediator"].layer == 1
    # the publisher drops the middle layer for a while: down to the lowest, not up
    assert run(chosen, 4, 6, loss=0.0, rates={"mediator": [80_000, 0, 600_000]}) == {"mediator": 0}


def test_loss_is_smoothed_over_reports() -> None:
    chosen = LayerSelector()
    chosen.loss(0.4, 0.0)
    chosen.loss(0.0, 1.0)
    assert chosen.last_loss == 0.2


@pytest.mark.parametrize(
    ("seat", "rank"), [("mediator", 0), ("party_a", 1), ("party_c", 1), ("coach", 2)]
)
def test_priority_by_role(seat: str, rank: int) -> None:
    assert seat_priority(seat) == rank


def test_knobs_refuse_nonsense() -> None:
    with pytest.raises(ValueError):
        LayerKnobs(loss_clear=0.2, loss_short=0.1)
    with pytest.raises(ValueError):
        LayerKnobs(up_margin=0.5)


def report(
    chosen: LayerSelector, start: float, end: float, *, loss: float, rtt: float
) -> dict[str, int]:
    """Reports (loss and round trip) every second, choices every half second."""
    rates = {key: RATES for key in chosen.streams}
    result: dict[str, int] = {}
    t = start
    while t < end:
        if t == int(t):
            chosen.loss(loss, t)
            chosen.rtt(rtt, t)
        result = chosen.choose(rates, 2, t)
        t += 0.5
    return result


def test_a_queue_building_on_a_link_that_loses_little_lowers_the_lower_priority_video() -> None:
    knobs = LayerKnobs()
    chosen = selector("mediator", "party_a")
    # a long link: 300 ms round trip, 3 % lost; both climb to the top
    assert report(chosen, 0, 6, loss=0.03, rtt=0.3) == {"mediator": 1, "party_a": 1}
    # the bottleneck's queue fills (250 ms more) while the loss stays where it was:
    # the link carries at least queue_cut less, party A's video gives way first
    queued = 0.3 + knobs.queue_short_s + 0.1
    assert report(chosen, 6, 9, loss=0.03, rtt=queued) == {"mediator": 1, "party_a": 0}


def test_nothing_goes_up_while_a_queue_builds() -> None:
    knobs = NO_CEILING
    chosen = selector("mediator", knobs=knobs)
    run(chosen, 0, 3, loss=0.0)
    run(chosen, 3, 5, capacity=300_000)
    assert chosen.streams["mediator"].layer == 0
    # the floor: 300 ms (heard once the switch down has settled)
    floor_heard = 8 + AFTER_A_TRY
    assert report(chosen, 5, floor_heard, loss=0.0, rtt=0.3) == {"mediator": 0}
    # no loss, but the round trip 100 ms over its floor: no try up, however long
    building = 0.3 + (knobs.queue_clear_s + knobs.queue_short_s) / 2
    t = floor_heard + 2 * knobs.probe_s
    assert report(chosen, floor_heard, t, loss=0.0, rtt=building) == {"mediator": 0}
    # the queue drained: the next try comes
    assert report(chosen, t, t + knobs.probe_s, loss=0.0, rtt=0.3) == {"mediator": 1}


def test_nothing_goes_up_before_a_report_describes_the_link_after_sending_less() -> None:
    knobs = LayerKnobs()
    chosen = selector("mediator", "party_a")
    run(chosen, 0, 1, loss=0.0)
    # 10 % lost: neither short nor clear, both hold their lowest layer
    assert run(chosen, 1, 10, loss=0.10) == {"mediator": 0, "party_a": 0}
    # a burst of loss pauses party A; the loss heard so far is forgotten (it counts
    # packets sent before) but that is no sign of a clear link: the mediator holds
    run(chosen, 10, 10.5, loss=0.5)
    assert chosen.streams["party_a"].layer == PAUSED
    assert run(chosen, 10.5, 10 + knobs.settle_s) == {"mediator": 0, "party_a": PAUSED}


def test_the_round_trip_floor_forgets_what_is_older_than_its_window() -> None:
    knobs = LayerKnobs()
    chosen = LayerSelector()
    chosen.rtt(0.2, 0.0)
    for t in range(1, 10):
        chosen.rtt(0.5, float(t))
    assert chosen.queued(9.0) > 0.25  # still measured from 0.2
    later = knobs.rtt_floor_s + 5
    for t in range(10, int(later) + 1):
        chosen.rtt(0.5, float(t))
    assert chosen.queued(later) < 0.01  # the floor is 0.5 now


def test_after_a_short_link_nothing_tries_far_past_what_it_delivered_for_long() -> None:
    knobs = LayerKnobs()
    chosen = selector("mediator", knobs=knobs)
    run(chosen, 0, 3, loss=0.0)
    run(chosen, 3, 5, capacity=300_000)  # the top layer (600k) was too much
    assert chosen.streams["mediator"].layer == 0
    assert chosen.ceiling(5) is not None
    down_at = chosen.streams["mediator"].switched_at
    # a clear link, long past the probe wait: the top layer (4 × the lowest) is still
    # over the ceiling, which grows by a fraction of itself a second
    quiet = down_at + 60
    assert run(chosen, 5, quiet, loss=0.0) == {"mediator": 0}
    assert quiet > down_at + 2 * knobs.probe_s  # without the ceiling it had tried
    # once forgotten, the ceiling no longer holds the try back
    later = down_at + knobs.ceiling_s
    assert run(chosen, quiet, later + knobs.probe_s, loss=0.0) == {"mediator": 1}
    assert chosen.ceiling(later + knobs.probe_s) is None


def test_a_paused_stream_resumes_once_the_ceiling_has_grown_to_carry_it() -> None:
    knobs = LayerKnobs()
    chosen = selector("mediator", "party_a", knobs=knobs)
    one = {"mediator": [100_000], "party_a": [100_000]}
    run(chosen, 0, 3, loss=0.0, rates=one)
    # two videos and the audio (280k) into 230k: party A's video pauses
    run(chosen, 3, 6, capacity=230_000, rates=one)
    assert chosen.streams["party_a"].layer == PAUSED
    paused_at = chosen.streams["party_a"].switched_at
    # long past the resume wait (4 s) it stays paused: 280k is 20 % over the ceiling...
    assert run(chosen, 6, paused_at + 30, loss=0.0, rates=one)["party_a"] == PAUSED
    # ...until the ceiling has grown that much (at 0.4 % a second, ~50 s)
    assert run(chosen, paused_at + 30, paused_at + 70, loss=0.0, rates=one)["party_a"] == 0


def test_the_ceiling_is_never_below_the_audio() -> None:
    # a burst's loss (a link's first second: every stream starts with a keyframe) cuts
    # the ceiling to the audio at most, from which it grows: video comes back
    chosen = selector("mediator", knobs=LayerKnobs())
    one = {"mediator": [30_000]}
    for second in range(4):  # settled on its layer
        chosen.choose(one, 2, float(second), audio_bps=190_000)
    chosen.loss(0.6, 4.0)
    assert chosen.choose(one, 2, 4.0, audio_bps=190_000) == {"mediator": PAUSED}
    # (30k + 190k) × 0.4 = 88k, under the audio: grown from there, it would not carry
    # the video for minutes; from the audio (190k), 16 % more takes 40 s
    t, layer = 4.0, PAUSED
    while t < 60 and layer == PAUSED:
        t += 0.5
        chosen.loss(0.0, t)
        layer = chosen.choose(one, 2, t, audio_bps=190_000)["mediator"]
    assert layer == 0 and t > 40


def test_a_step_that_fits_under_the_ceiling_is_taken() -> None:
    chosen = selector("mediator", "party_a")
    run(chosen, 0, 3, loss=0.0)
    # 2 × 600k and the audio into 1 Mbit/s: party A's video comes down, the ceiling
    # (what the link delivered) leaves room for it to come back later at its lowest
    run(chosen, 3, 6, capacity=1_000_000)
    assert chosen.streams["mediator"].layer == 1
    assert chosen.streams["party_a"].layer in (0, PAUSED)
    assert run(chosen, 6, 20, loss=0.0)["party_a"] == 0


class LateReports:
    """A capped link, and the subscriber's receiver reports on it as they come: late.

    The wire carries the layer chosen ``switch_s`` earlier (a switch waits for its
    layer's keyframe; a pause stops at once) into a drop-tail bottleneck of
    ``capacity`` bit/s with 250 ms of buffer.  A report every ``interval`` s (aiortc's
    longest: 1.5 s) counts what was lost of the packets sent since the previous one;
    its round trip (``round_trips``) is that of the sender report sent as that window
    began, queue included (the worst case: sender reports about as often as receiver
    reports).  The downlink hears it at its next tick; it chooses every tick.
    """

    STEP = 0.25  # the fluid queue's time step; the downlink ticks every two
    BASE_RTT = 0.02

    def __init__(
        self,
        chosen: LayerSelector,
        capacity: float,
        *,
        interval: float = 1.5,
        phase: float = 0.0,
        switch_s: float = 1.0,
        round_trips: bool = True,
    ) -> None:
        self.chosen = chosen
        self.capacity = capacity
        self.interval = interval
        self.switch_s = switch_s
        self.round_trips = round_trips
        self.next_report = phase
        self.backlog = 0.0  # bits in the bottleneck's buffer
        self.window = (0.0, 0.0)  # bits sent, and lost, since the last report
        self.heard: list[tuple[float, float]] = []  # reports (loss, round trip) not yet heard
        self.queue_at: dict[float, float] = {}  # the queue's delay at each step
        self.picked: list[tuple[float, int]] = []  # (when, layer) as the selector changed it
        self.layers: list[int] = []  # the layer chosen, tick by tick

    def on_wire(self, t: float) -> int:
        layer = PAUSED
        for when, picked in self.picked:
            if when <= t - self.switch_s or (when <= t and PAUSED in (picked, layer)):
                layer = picked
        return layer

    def run(self, start: float, end: float) -> int:
        """From ``start`` to ``end``; the layer chosen last."""
        t = start
        while t < end:
            if t >= self.next_report:
                sent, lost = self.window
                began = self.next_report - self.interval
                rtt = self.BASE_RTT + self.queue_at.get(began, 0.0)
                self.heard.append((lost / sent if sent else 0.0, rtt))
                self.window = (0.0, 0.0)
                self.next_report += self.interval
            if t % 0.5 == 0:  # a downlink tick: the reports since the last, then a choice
                if self.heard:
                    self.chosen.loss(sum(r[0] for r in self.heard) / len(self.heard), t)
                    if self.round_trips:
                        self.chosen.rtt(sum(r[1] for r in self.heard) / len(self.heard), t)
                    self.heard.clear()
                layer = self.chosen.choose({"mediator": RATES}, 2, t)["mediator"]
                self.layers.append(layer)
                if not self.picked or self.picked[-1][1] != layer:
                    self.picked.append((t, layer))
            # this step's packets through the bottleneck
            self.queue_at[t] = self.backlog / self.capacity
            layer = self.on_wire(t)
            offered = (AUDIO * 2 + (0 if layer == PAUSED else RATES[layer])) * self.STEP
            drained = self.capacity * self.STEP
            accepted = min(offered, self.capacity / 4 - self.backlog + drained)
            self.backlog = max(0.0, self.backlog + accepted - drained)
            self.window = (self.window[0] + offered, self.window[1] + offered - accepted)
            t += self.STEP
        return self.chosen.streams["mediator"].layer


@pytest.mark.parametrize("phase", [0.0, 0.25, 0.5, 0.75, 1.0, 1.25])
@pytest.mark.parametrize(
    ("switch_s", "round_trips"),
    [(1.0, True), (1.5, False)],
    ids=["the try's queue in a round trip", "the try's loss, a slower switch"],
)
def test_a_failed_trys_late_reports_are_not_held_against_the_layer_it_went_back_to(
    phase: float, switch_s: float, round_trips: bool
) -> None:
    """A link of 300 kbit/s carries the lowest layer and the audio (230k), not the top
    (680k).  The try up overfills it and the selector goes back; the switch, the
    queue's draining and the reports' windows bring the try's queue (a round trip
    answering a sender report that waited in it) or its loss to the selector after
    ``settle_s``.  They measured the try, not the lowest layer, which is never paused."""
    knobs = LayerKnobs()
    chosen = selector("mediator", knobs=knobs)
    link = LateReports(chosen, 300_000, phase=phase, switch_s=switch_s, round_trips=round_trips)
    assert link.run(0, knobs.climb_s + 0.5) == 1  # the try
    link.run(knobs.climb_s + 0.5, 60)
    choice = chosen.streams["mediator"]
    assert choice.probe_wait_s > 0  # the try failed...
    assert choice.pauses == 0, link.picked  # ...and was not paid for with a pause
    assert PAUSED not in link.layers, link.picked
    assert link.layers[-10:] == [0] * 10, link.picked


def test_loss_the_lowest_layer_meets_after_a_failed_try_still_pauses_it() -> None:
    """The same link, falling to 150 kbit/s once the try has gone back: the lowest
    layer's own loss pauses it, as on any short link, at the first report that counts
    only packets sent after the switch."""
    knobs = LayerKnobs()
    chosen = selector("mediator", knobs=knobs)
    link = LateReports(chosen, 300_000)
    t = knobs.climb_s + 0.5
    link.run(0, t)
    while chosen.streams["mediator"].layer != 0:
        link.run(t, t + 0.5)
        t += 0.5
    back = chosen.streams["mediator"].switched_at
    link.capacity = 150_000
    assert link.run(t, t + 10) == PAUSED, link.picked
    choice = chosen.streams["mediator"]
    assert choice.pauses == 1
    heard = back + knobs.settle_s + knobs.report_span_s
    assert heard <= choice.switched_at <= heard + link.interval + 0.5, link.picked
