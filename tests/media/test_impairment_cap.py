"""The test links' bandwidth cap (tests/impairment.py): a token bucket with a bounded queue."""

from __future__ import annotations

import random

import pytest

from tests.impairment import LinkProfile, TokenBucket, _Direction

RATE_BPS = 250_000
PACKET = 1000  # bytes


def _offer(direction: _Direction, bps: float, seconds: float) -> list[tuple[float, float]]:
    """Packets of PACKET bytes offered at ``bps``: (sent, delivered) for those not dropped."""
    out = []
    interval = PACKET * 8 / bps
    for i in range(int(seconds / interval)):
        now = i * interval
        due = direction.schedule(now, PACKET)
        if due is not None:
            out.append((now, due))
    return out


def test_under_the_cap_nothing_waits() -> None:
    direction = _Direction(LinkProfile(rate_bps=RATE_BPS), random.Random(1))
    delivered = _offer(direction, RATE_BPS * 0.8, 10)
    assert all(due == sent for sent, due in delivered)
    assert direction.stats.overflowed == 0


def test_over_the_cap_the_rate_is_held_and_the_queue_is_bounded() -> None:
    profile = LinkProfile(rate_bps=RATE_BPS, queue_bytes=8000)
    direction = _Direction(profile, random.Random(1))
    delivered = _offer(direction, RATE_BPS * 2, 10)
    # what got through left at the cap (after the first burst)
    span = delivered[-1][1] - delivered[0][1]
    rate = (len(delivered) - 1) * PACKET * 8 / span
    assert rate == pytest.approx(RATE_BPS, rel=0.02)
    # about half was dropped at the full queue, none lost at random
    assert direction.stats.overflowed == pytest.approx(direction.stats.packets / 2, rel=0.05)
    assert direction.stats.dropped == 0
    # the queue never holds more than its limit: waits stay under limit / rate (+1 packet)
    worst = max(due - sent for sent, due in delivered)
    assert worst <= (8000 + PACKET) * 8 / RATE_BPS
    assert worst > 0.2  # it did queue


def test_delivery_stays_in_order_with_delay_jitter_and_the_cap() -> None:
    profile = LinkProfile(delay=0.15, jitter=0.04, rate_bps=RATE_BPS)
    direction = _Direction(profile, random.Random(7))
    dues = [due for _, due in _offer(direction, RATE_BPS * 1.5, 5)]
    assert dues == sorted(dues)
    assert min(d - s for s, d in _offer(_Direction(profile, random.Random(8)), 1e5, 1)) >= 0.11


def test_a_burst_after_a_quiet_spell_passes_up_to_the_buckets_depth() -> None:
    bucket = TokenBucket(rate=RATE_BPS / 8, burst=3000, queue_limit=0, now=0.0)
    assert [bucket.admit(1.0, PACKET) for _ in range(3)] == [1.0, 1.0, 1.0]
    assert bucket.admit(1.0, PACKET) is None  # no queue at all: the fourth is dropped


@pytest.mark.parametrize("bad", [dict(rate_bps=0), dict(rate_bps=1000, queue_bytes=-1)])
def test_nonsense_caps_are_refused(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        LinkProfile(**bad)  # type: ignore[arg-type]
