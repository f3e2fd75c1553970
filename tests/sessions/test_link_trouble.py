"""Troubled stretches of a seat's link, from its 2 s samples."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessions.ids import SeatId
from sessions.link_trouble import (
    JOIN_GAP_MS,
    LinkSample,
    Stretch,
    TroubleTracker,
    troubled_stretches,
)

SEAT = SeatId("party_a")
SPAN = 2000


def calm(t_ms: int) -> LinkSample:
    return LinkSample(t_ms, SPAN, expected=150, lost=1, rtt_ms=300, jitter_ms=20, kbps=600)


def lossy(t_ms: int, lost: int = 30) -> LinkSample:
    return LinkSample(t_ms, SPAN, expected=150, lost=lost, rtt_ms=300, jitter_ms=20, kbps=500)


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        pytest.param([calm(t) for t in range(2000, 20001, 2000)], [], id="a calm link"),
        pytest.param(
            [calm(2000), lossy(4000), lossy(6000), calm(8000), calm(10000)],
            [(2000, 6000, 20, 0, "20 % loss")],
            id="two lossy samples make one stretch",
        ),
        pytest.param(
            [calm(2000), lossy(4000), calm(6000), lossy(8000), calm(10000), calm(12000)],
            [(2000, 8000, 20, 0, "20 % loss")],
            id="one calm sample between does not split it",
        ),
        pytest.param(
            [lossy(2000), calm(4000), calm(6000), lossy(8000), calm(12000)],
            [(0, 2000, 20, 0, "20 % loss"), (6000, 8000, 20, 0, "20 % loss")],
            id="two calm samples between split it",
        ),
        pytest.param(
            [
                calm(2000),
                LinkSample(4000, SPAN, expected=150, lost=3, freezes=((3000, 4000),)),
                LinkSample(6000, SPAN, expected=150, lost=27, freezes=((3000, 6200 - 200),)),
                calm(8000),
                calm(12000),
            ],
            [(3000, 6000, 18, 3000, "video frozen 3.0 s — 18 % loss")],
            id="a freeze reported open then closed counts once",
        ),
        pytest.param(
            [LinkSample(2000, SPAN, expected=10, lost=5)],
            [],
            id="too few packets to judge",
        ),
        pytest.param(
            [LinkSample(2000, SPAN, expected=100, rtt_ms=1400), calm(4000)],
            [(0, 2000, 0, 0, "1400 ms round trip")],
            id="a long round trip alone",
        ),
        pytest.param(
            [calm(2000), lossy(4000)],
            [(2000, 4000, 20, 0, "20 % loss")],
            id="flushed at the end",
        ),
    ],
)
def test_stretches_from_samples(
    samples: list[LinkSample], expected: list[tuple[int, int, int, int, str]]
) -> None:
    stretches = troubled_stretches(SEAT, samples)
    assert [(s.start_ms, s.end_ms, s.loss_pct, s.frozen_ms, s.what) for s in stretches] == expected
    assert all(s.seat == SEAT for s in stretches)


def test_a_stretch_closes_once_calm_lasted_the_join_gap() -> None:
    tracker = TroubleTracker(SEAT)
    assert tracker.add(lossy(2000)) == []
    assert tracker.add(calm(4000)) == []  # 2000 ms of calm: maybe more trouble comes
    [closed] = tracker.add(calm(6000))
    assert (closed.start_ms, closed.end_ms) == (0, 2000)
    assert tracker.flush() == []


def test_the_label_reads_as_the_playback_page_shows_it() -> None:
    stretch = Stretch(SEAT, 1000, 4200, loss_pct=18, frozen_ms=3200, rtt_ms=400, jitter_ms=30)
    assert stretch.what == "video frozen 3.2 s — 18 % loss"
    assert stretch.detail()["end_ms"] == 4200


@pytest.mark.parametrize(
    "bad",
    [
        {"t_ms": 1000, "span_ms": 2000},
        {"t_ms": 2000, "span_ms": 0},
        {"t_ms": 2000, "span_ms": 2000, "expected": 5, "lost": 6},
        {"t_ms": 2000, "span_ms": 2000, "freezes": ((1500, 2500),)},
    ],
)
def test_a_nonsense_sample_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        LinkSample(**bad)  # type: ignore[arg-type]


@st.composite
def sample_series(draw: st.DrawFn) -> list[LinkSample]:
    count = draw(st.integers(0, 40))
    samples: list[LinkSample] = []
    ongoing: int | None = None  # a freeze still open at the previous sample is reported again
    for i in range(count):
        t = (i + 1) * SPAN
        expected = draw(st.integers(0, 200))
        lost = draw(st.integers(0, expected))
        freezes: tuple[tuple[int, int], ...] = ()
        if ongoing is not None:
            freezes = ((ongoing, draw(st.integers(t - SPAN, t))),)
        elif draw(st.booleans()) and draw(st.booleans()):
            start = draw(st.integers(t - SPAN, t - 501))
            freezes = ((start, draw(st.integers(start + 501, t))),)
        ongoing = freezes[0][0] if freezes and freezes[0][1] == t else None
        rtt = draw(st.none() | st.integers(0, 2000))
        samples.append(LinkSample(t, SPAN, expected, lost, rtt, None, None, freezes))
    return samples


@settings(max_examples=300, deadline=None)
@given(sample_series())
def test_stretches_are_ordered_apart_and_cover_every_troubled_moment(
    samples: list[LinkSample],
) -> None:
    stretches = troubled_stretches(SEAT, samples)
    for before, after in zip(stretches, stretches[1:], strict=False):
        assert after.start_ms - before.end_ms > JOIN_GAP_MS
    for stretch in stretches:
        assert stretch.frozen_ms <= stretch.end_ms - stretch.start_ms
        assert 0 <= stretch.loss_pct <= 100
        assert stretch.what
    troubled = [(s.start_ms, s.t_ms) for s in samples if s.troubled]
    troubled += [f for s in samples for f in s.freezes]
    for start, end in troubled:
        assert any(s.start_ms <= start and end <= s.end_ms for s in stretches), (start, end)
    if not troubled:
        assert stretches == []
