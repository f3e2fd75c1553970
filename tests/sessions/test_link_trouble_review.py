"""Who sees which seat's link trouble when reviewing: caucus privacy holds for it too."""

from __future__ import annotations

from typing import Any

import pytest

from sessions.ids import SeatId
from sessions.review import phase_bands, review_timeline, trouble_visible
from sessions.scenarios import ObserverView

EVENTS: list[dict[str, Any]] = [
    {"t_ms": 0, "kind": "phase", "phase": "joint"},
    {"t_ms": 4000, "kind": "phase", "phase": "caucus:party_a"},
    {"t_ms": 8000, "kind": "phase", "phase": "joint"},
]
BANDS = phase_bands(EVENTS, 12_000)


def trouble(seat: str, start: int = 3000, end: int = 9000) -> dict[str, Any]:
    return {"t_ms": start, "kind": "trouble", "seat": seat, "end_ms": end, "what": "20 % loss"}


WHOLE = [(3000, 9000)]
OUTSIDE_THE_CAUCUS = [(3000, 4000), (8000, 9000)]


@pytest.mark.parametrize(
    ("seat", "viewer", "observers", "expected"),
    [
        ("party_b", None, ObserverView.ALL, WHOLE),  # the admin
        ("party_b", "coach", ObserverView.ALL, WHOLE),
        ("party_b", "party_b", ObserverView.ALL, WHOLE),  # one's own link, always
        # party_b waited outside the caucus: nobody saw its link then
        ("party_b", "party_a", ObserverView.ALL, OUTSIDE_THE_CAUCUS),
        ("party_b", "mediator", ObserverView.ALL, OUTSIDE_THE_CAUCUS),
        ("party_a", "mediator", ObserverView.ALL, WHOLE),  # both were in the caucus
        ("party_a", "party_b", ObserverView.ALL, OUTSIDE_THE_CAUCUS),
        ("party_a", "observer_1", ObserverView.ALL, WHOLE),
        ("party_a", "observer_1", ObserverView.JOINT_ONLY, OUTSIDE_THE_CAUCUS),
        ("mediator", "party_b", ObserverView.ALL, OUTSIDE_THE_CAUCUS),
    ],
)
def test_a_stretch_shows_where_the_viewer_could_watch_that_seat(
    seat: str, viewer: str | None, observers: ObserverView, expected: list[tuple[int, int]]
) -> None:
    who = None if viewer is None else SeatId(viewer)
    parts = trouble_visible(trouble(seat), who, observers, BANDS)
    assert [(p["t_ms"], p["end_ms"]) for p in parts] == expected
    assert all(p["seat"] == seat and p["what"] == "20 % loss" for p in parts)


def test_a_stretch_inside_a_hidden_caucus_vanishes_and_other_events_keep_their_rules() -> None:
    events = [*EVENTS, trouble("party_a", 5000, 7000), trouble("party_b", 9000, 11000)]
    shown = review_timeline(events, SeatId("party_b"), ObserverView.ALL, BANDS)
    assert [e for e in shown if e["kind"] == "trouble"] == [trouble("party_b", 9000, 11000)]
    assert [e["kind"] for e in shown].count("phase") == 3
