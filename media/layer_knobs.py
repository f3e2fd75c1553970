"""Every knob of the layer selector (:mod:`media.layers`), with what it means: the one
place to tune how a subscriber's simulcast layer follows its link."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LayerKnobs:
    loss_short: float = 0.15
    """Receiver-reported loss above this: the link is short, layers come down (a
    bottleneck fed one layer too many drops far more; a busy host's own drops less)."""
    loss_clear: float = 0.05
    """Loss at or below this: a stream may try the next layer up."""
    audio_bps: int = 40_000
    """What each audio stream the subscriber receives takes (Opus with FEC, headers);
    one sent with its RED copy takes twice this.  Used only where the audio sent is
    not measured."""
    up_margin: float = 1.3
    """A REMB raises a stream to a layer whose bitrate times this it covers..."""
    up_hold_s: float = 2.0
    """...for this long."""
    report_stale_s: float = 4.0
    """A loss report or REMB older than this is not used."""
    settle_s: float = 2.0
    """After a switch, loss is not held against the stream for this long."""
    report_span_s: float = 2.0
    """A report heard describes what was sent up to this long before: a receiver report
    counts the packets since the subscriber's previous one (aiortc's come every
    0.5–1.5 s), its round trip is that of the sender report it answers (sent about as
    long before), and the downlink hears it at its next tick (0.5 s).  After a failed
    try nothing is heard for ``settle_s`` and this long more."""
    climb_s: float = 2.0
    """A stream with no loss climbs one layer after this long at a layer..."""
    probe_s: float = 8.0
    """...and after a climb the link answered with loss, this long (doubling)."""
    probe_max_s: float = 64.0
    resume_s: float = 4.0
    """A paused stream tries its lowest layer again after this."""
    resume_max_s: float = 32.0
    queue_short_s: float = 0.15
    """Round trip above its floor by this much: a queue is building on the link, which
    is short whatever the loss (a drop-tail bottleneck fed a little too much loses a
    few percent, as a long lossy link does anyway, but delays everything)."""
    queue_clear_s: float = 0.05
    """A stream goes up (or resumes) only while the queue is at most this."""
    queue_cut: float = 0.15
    """A link found short by its queue alone carries this fraction less (at least)."""
    rtt_floor_s: float = 30.0
    """The floor is the least round trip over this long."""
    ceiling_growth: float = 0.004
    """What a short link delivered is its ceiling: no stream tries up (or resumes)
    past it (each such try overfills the link for seconds, and the audio pays).  It
    grows by this fraction of itself per second while the link shows no shortage
    (additive increase near the last shortage, as GCC does near its estimate of the
    link: +24 % a minute)..."""
    ceiling_s: float = 300.0
    """...and is forgotten this long after the last shortage (0: no ceiling)."""

    def __post_init__(self) -> None:
        if not 0 <= self.loss_clear < self.loss_short < 1:
            raise ValueError("need 0 <= loss_clear < loss_short < 1")
        if not 0 <= self.queue_clear_s < self.queue_short_s:
            raise ValueError("need 0 <= queue_clear_s < queue_short_s")
        if self.up_margin < 1:
            raise ValueError("up_margin is at least 1")
        if self.ceiling_growth < 0 or self.ceiling_s < 0:
            raise ValueError("the ceiling's growth and lifetime cannot be negative")
        if self.report_span_s < 0:
            raise ValueError("report_span_s cannot be negative")
