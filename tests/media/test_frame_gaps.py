"""Freezes as the link sampler sees them: gaps between a video track's frames."""

from __future__ import annotations

from media.link_stats import FrameGaps
from sessions.ids import SeatId
from sessions.media_kinds import MediaKind

SEAT = SeatId("party_a")


def test_a_gap_over_half_a_second_is_a_freeze_and_an_open_one_is_reported_until_now() -> None:
    now = [0.0]
    gaps = FrameGaps(lambda: now[0])
    assert gaps.take(5.0) == []  # nothing published yet: no freeze
    for t in (0.0, 0.1, 0.2, 1.0, 1.4):  # 0.8 s without a frame after 0.2
        now[0] = t
        gaps.sink(SEAT, MediaKind.VIDEO, b"frame")
        gaps.sink(SEAT, MediaKind.AUDIO, b"audio keeps flowing")
    assert gaps.take(1.5) == [(0.2, 1.0)]
    assert gaps.take(1.8) == []  # taken once; 0.4 s since the last frame is no freeze
    assert gaps.take(3.0) == [(1.4, 3.0)]  # still frozen: reported up to now, again
    now[0] = 3.5
    gaps.sink(SEAT, MediaKind.VIDEO, b"frame")
    assert gaps.take(3.6) == [(1.4, 3.5)]  # and its real end once a frame came
