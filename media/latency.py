"""Cheap counters for the forwarding path: how much, and how long it took.

Added forwarding delay is measured per RTP packet from its ingress (stamped
when the receiver hands it over, after SRTP) to the egress of its last copy
(handed to the subscribers' transports, after SRTP), once per packet, not per
copy.  It goes into a fixed-bucket
histogram (10 µs buckets up to 200 ms) so recording costs one division and one
list increment, whatever the load.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BUCKET_SECONDS = 10e-6
BUCKETS = 20_000


@dataclass
class LatencyHistogram:
    counts: list[int] = field(default_factory=lambda: [0] * (BUCKETS + 1))
    total: int = 0

    def add(self, seconds: float) -> None:
        index = int(seconds / BUCKET_SECONDS)
        if index < 0:
            index = 0
        elif index > BUCKETS:
            index = BUCKETS
        self.counts[index] += 1
        self.total += 1

    def percentile(self, q: float) -> float | None:
        """Upper edge of the bucket holding quantile ``q`` (0..1), in seconds."""
        if self.total == 0:
            return None
        rank = max(1, int(q * self.total + 0.999999))
        seen = 0
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= rank:
                return (index + 1) * BUCKET_SECONDS
        return (BUCKETS + 1) * BUCKET_SECONDS


@dataclass
class ForwardingStats:
    """Counters shared by every producer and consumer of one Sfu."""

    packets_in: int = 0
    packets_out: int = 0
    frames_in: int = 0
    keyframe_requests: int = 0
    # read by /metrics (caucus/metrics.py); plain increments, never per-packet calls
    bytes_in: int = 0
    bytes_out: int = 0
    #: PLI/FIR from subscribers (relayed upstream, throttled, as keyframe_requests)
    keyframe_requests_received: int = 0
    #: PLIs the server's own receivers sent (a frame given up on, no keyframe yet)
    keyframe_requests_repair: int = 0
    #: NACKs to publishers (RTCP packets) and the sequence numbers they asked for
    nacks_sent: int = 0
    nacked_packets: int = 0
    #: publishers' packets found missing on arrival, later repaired, given up on
    packets_lost: int = 0
    packets_repaired: int = 0
    packets_abandoned: int = 0
    #: packets subscribers NACKed, answered from the history or no longer there
    retransmission_requests: int = 0
    retransmissions: int = 0
    retransmissions_missed: int = 0
    #: RED packets from publishers, those refused (malformed), and audio packets
    #: rebuilt from a later RED packet's redundant block (media.audio_redundancy)
    red_in: int = 0
    red_refused: int = 0
    audio_recovered: int = 0
    delay: LatencyHistogram = field(default_factory=LatencyHistogram)

    def snapshot(self) -> dict[str, float | int | None]:
        return {
            "packets_in": self.packets_in,
            "packets_out": self.packets_out,
            "frames_in": self.frames_in,
            "keyframe_requests": self.keyframe_requests,
            "delay_p50_ms": _ms(self.delay.percentile(0.5)),
            "delay_p99_ms": _ms(self.delay.percentile(0.99)),
        }

    def reset(self) -> None:
        self.packets_in = self.packets_out = self.frames_in = self.keyframe_requests = 0
        self.delay = LatencyHistogram()


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)
