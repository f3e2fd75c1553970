"""``media.sequence.RecentNumbers``: a number is new once, and only within the window."""

from __future__ import annotations

import random

import pytest

from media.sequence import RecentNumbers


@pytest.mark.parametrize("window", [4, 64, 2048])
def test_a_number_is_new_once_and_numbers_before_the_window_count_as_seen(window: int) -> None:
    rng = random.Random(window)
    recent = RecentNumbers(window)
    seen: set[int] = set()
    highest: int | None = None
    base = 70_000  # past 16 bits, as extended numbers are
    for i in range(5 * window + 500):
        arrivals = [base + i]
        if rng.random() < 0.2:  # a duplicate or a late repair, up to 3 windows back
            arrivals.append(base + i - rng.randint(0, 3 * window))
        for ext in arrivals:
            new = ext not in seen and (highest is None or ext > highest - window)
            assert recent.first_time(ext) is new
            if new:
                seen.add(ext)
                highest = ext if highest is None else max(highest, ext)
    assert recent.highest == highest
