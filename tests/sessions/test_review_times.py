"""When a recorded session ran and ended, and who was in it, from its timeline alone."""

from __future__ import annotations

from typing import Any

import pytest

from sessions.review import people_in, phase_bands, ran_from_ms, session_end_ms


def phase(t_ms: int, name: str) -> dict[str, Any]:
    return {"t_ms": t_ms, "kind": "phase", "seat": "coach", "phase": name}


def join(t_ms: int, seat: str, name: str) -> dict[str, Any]:
    return {"t_ms": t_ms, "kind": "join", "seat": seat, "identity": seat, "name": name}


def leave(t_ms: int, seat: str) -> dict[str, Any]:
    return {"t_ms": t_ms, "kind": "leave", "seat": seat, "reason": "grace_expired"}


ENDED = [join(0, "mediator", "Li Wei"), phase(3000, "joint"), phase(9000, "ended")]


@pytest.mark.parametrize(
    ("events", "segment_ends", "end"),
    [
        # ended: seats released a grace period later do not lengthen it
        (ENDED + [leave(69_000, "mediator")], [8990], 9000),
        (ENDED, [9004], 9000),  # a segment's last frame a few ms past the end
        # still under way: the latest media or event so far
        (ENDED[:2], [5000], 5000),
        (ENDED[:2] + [leave(7000, "mediator")], [5000], 7000),
        ([], [], 0),
    ],
)
def test_a_session_ends_when_it_was_ended_not_when_the_last_seat_was_released(
    events: list[dict[str, Any]], segment_ends: list[int], end: int
) -> None:
    assert session_end_ms(events, segment_ends) == end


def test_the_ended_band_takes_none_of_the_timeline() -> None:
    events = ENDED + [leave(69_000, "mediator")]
    bands = phase_bands(events, session_end_ms(events, []))
    assert bands[-1] == {"phase": "ended", "start_ms": 9000, "end_ms": 9000}
    assert [b["phase"] for b in bands] == ["lobby", "joint", "ended"]


@pytest.mark.parametrize(
    ("events", "ran"),
    [
        (ENDED, 3000),
        ([join(0, "mediator", "Li Wei")], None),  # never left the lobby
        ([phase(0, "ended")], None),  # ended from the lobby: it never ran
        ([phase(500, "caucus:party_a")], 500),
    ],
)
def test_a_session_ran_from_its_first_phase_past_the_lobby(
    events: list[dict[str, Any]], ran: int | None
) -> None:
    assert ran_from_ms(events) == ran


def test_the_people_are_one_per_seat_under_their_latest_name() -> None:
    events = [
        join(0, "mediator", "Li Wei"),
        join(10, "party_a", "Wanjiru"),
        {"t_ms": 20, "kind": "resume", "seat": "party_a", "identity": "x", "name": "Wanjiru K."},
        leave(30, "mediator"),
    ]
    assert people_in(events) == [
        {"seat": "mediator", "name": "Li Wei"},
        {"seat": "party_a", "name": "Wanjiru K."},
    ]
