"""The server's REMB estimator toward a publisher against aiortc's, on the same arrivals.

``media.aiortc_internals.remb.UplinkEstimator`` replaces aiortc's per-packet
bookkeeping, not its algorithm: on a steady stream and behind a bottleneck it
must reach the estimates aiortc's ``RemoteBitrateEstimator`` reaches.
"""

from __future__ import annotations

import random

from aiortc.rate import RemoteBitrateEstimator

from media.aiortc_internals.remb import UplinkEstimator

PACKET = 1100


def arrivals(
    *,
    seconds: float = 20,
    kbps: int = 500,
    fps: int = 30,
    bottleneck: tuple[float, int] | None = None,
) -> list[tuple[int, int, int]]:
    """``(arrival ms, abs-send-time, size)`` of a ~``kbps`` video stream, frames split
    in 1100-byte packets; from ``bottleneck[0]`` s on, a link of ``bottleneck[1]`` kbit/s."""
    rng = random.Random(1)
    out = []
    link_free = 0.0
    for frame in range(int(seconds * fps)):
        at = frame / fps
        size = int(kbps * 1000 / 8 / fps * rng.uniform(0.6, 1.4))
        for i in range(max(1, -(-size // PACKET))):
            sent = at + i * 0.0002
            if bottleneck is not None and at >= bottleneck[0]:
                link_free = max(sent, link_free) + PACKET * 8 / (bottleneck[1] * 1000)
                arrival = link_free + 0.02
            else:
                arrival = sent + 0.02 + rng.uniform(0, 0.002)  # reorders within a frame
            out.append((int(arrival * 1000), int(sent * (1 << 18)) & 0xFFFFFF, PACKET))
    return sorted(out)


def rembs(
    estimator: RemoteBitrateEstimator | UplinkEstimator, trace: list[tuple[int, int, int]]
) -> list[tuple[int, int]]:
    out = []
    for arrival, abs_send_time, size in trace:
        remb = estimator.add(arrival, abs_send_time, size, 1234)
        if remb is not None:
            assert remb[1] == [1234]
            out.append((arrival, remb[0]))
    return out


def latest(sent: list[tuple[int, int]], second: float) -> int:
    return [bitrate for at, bitrate in sent if at <= second * 1000][-1]


def test_a_steady_stream_gets_the_estimate_aiortc_gives_it() -> None:
    trace = arrivals()
    ours, theirs = rembs(UplinkEstimator(), trace), rembs(RemoteBitrateEstimator(), trace)
    assert len(ours) == len(theirs)  # every 500 ms once started
    for second in (4, 8, 12, 19.9):
        assert abs(latest(ours, second) / latest(theirs, second) - 1) < 0.05


def test_a_bottleneck_is_found_and_the_estimate_drops_to_it() -> None:
    trace = arrivals(bottleneck=(8, 300))
    ours, theirs = rembs(UplinkEstimator(), trace), rembs(RemoteBitrateEstimator(), trace)
    assert latest(ours, 7.9) > 700_000
    for second in (9, 12, 19.9):
        assert latest(ours, second) <= 300_000
        assert abs(latest(ours, second) / latest(theirs, second) - 1) < 0.1
    # aiortc sent a REMB on every packet while it saw over-use; ours at most every 200 ms
    assert len(ours) < len(theirs) / 4
    during = [at for at, _ in ours if at >= 8000]
    assert all(b - a >= 200 for a, b in zip(during, during[1:], strict=False))


def test_a_pause_of_a_second_starts_the_rate_afresh() -> None:
    estimator = UplinkEstimator()
    for arrival, abs_send_time, size in arrivals(seconds=3):
        estimator.add(arrival, abs_send_time, size, 1)
    assert estimator.incoming_bitrate(3000) is not None
    assert estimator.incoming_bitrate(4100) is None
