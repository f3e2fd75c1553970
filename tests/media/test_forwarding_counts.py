"""The plain counters /metrics reads (media.latency.ForwardingStats), counted where
the NACK scheduler decides; no server needed.  (What the send history answers is
in test_rtp_header.py, for both of its kinds.)"""

from __future__ import annotations

from aiortc.rtp import RtpPacket

from media.latency import ForwardingStats
from media.nack import NackScheduler


def packet(seq: int) -> RtpPacket:
    return RtpPacket(payload_type=96, sequence_number=seq, ssrc=1234)


def test_a_gap_is_counted_lost_nacked_and_repaired_in_the_shared_counters() -> None:
    now = [0.0]
    stats = ForwardingStats()
    nack = NackScheduler(lambda: now[0], stats=stats)
    assert not nack.add(packet(10))
    assert nack.add(packet(13))  # 11 and 12 missing: NACKed at once
    assert (stats.packets_lost, stats.nacks_sent, stats.nacked_packets) == (2, 1, 2)
    now[0] = 0.1
    nack.add(packet(11))  # a retransmission
    assert stats.packets_repaired == 1
    now[0] = 5.0  # far past max_age: 12 is given up on
    nack.add(packet(14))
    assert stats.packets_abandoned == 1
    # two schedulers (two published tracks) count into the same figures
    other = NackScheduler(lambda: now[0], stats=stats)
    other.add(packet(1))
    other.add(packet(3))
    assert stats.packets_lost == 3


def test_a_scheduler_without_shared_counters_keeps_its_own() -> None:
    nack = NackScheduler(lambda: 0.0)
    nack.add(packet(1))
    nack.add(packet(4))
    assert nack.lost == 2
