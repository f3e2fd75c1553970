"""The browser copy's rules: kept only with consent, watched as the server's segment would be."""

from __future__ import annotations

import pytest

from sessions.browser_copy import (
    CopyLimits,
    consented_throughout,
    copy_visibility,
    may_copy,
    phases_between,
)
from sessions.ids import SeatId
from sessions.phases import Phase

A, B, M = SeatId("party_a"), SeatId("party_b"), SeatId("mediator")
TIMELINE = [
    {"t_ms": 10, "kind": "consent", "seat": "party_a", "consent": "given"},
    {"t_ms": 100, "kind": "phase", "phase": "joint"},
    {"t_ms": 20_000, "kind": "phase", "phase": "caucus:party_a"},
    {"t_ms": 30_000, "kind": "consent", "seat": "party_a", "consent": "declined"},
    {"t_ms": 40_000, "kind": "phase", "phase": "caucus:party_b"},
]


def test_only_publishing_seats_keep_a_copy() -> None:
    assert may_copy(A) and may_copy(M) and may_copy(SeatId("coach"))
    assert not may_copy(SeatId("observer_1")) and not may_copy(SeatId("admin"))


@pytest.mark.parametrize(
    ("start", "end", "want"),
    [
        (0, 5, False),  # before the answer
        (10, 5000, True),
        (25_000, 29_000, True),
        (25_000, 31_500, True),  # within the slack after the withdrawal
        (25_000, 33_000, False),
        (31_000, 35_000, False),
    ],
)
def test_a_chunk_is_kept_only_while_its_seat_consented(start: int, end: int, want: bool) -> None:
    assert consented_throughout(TIMELINE, A, start, end) is want


def test_staff_need_no_consent_and_the_live_answer_covers_a_lagging_timeline() -> None:
    assert consented_throughout([], SeatId("coach"), 0, 10)
    assert not consented_throughout([], B, 500, 900)
    assert consented_throughout([], B, 500, 900, live_consent="given")


def test_a_chunk_has_the_visibility_of_its_phases_or_only_its_seats() -> None:
    def seen(seat: SeatId, start: int, end: int) -> str:
        return copy_visibility(seat, phases_between(TIMELINE, start, end, None))

    assert seen(A, 1000, 5000) == "public"
    assert seen(A, 21_000, 25_000) == "caucus:party_a"
    assert seen(B, 21_000, 25_000) == "seat:party_b"  # waiting outside the caucus
    assert seen(A, 18_000, 22_000) == "seat:party_a"  # joint into caucus
    assert seen(M, 38_000, 42_000) == "seat:mediator"  # one caucus into another
    # the live room's phase, not yet on the stored timeline
    live = (Phase.parse("caucus:party_a"), 50_000)
    assert copy_visibility(A, phases_between(TIMELINE, 51_000, 52_000, live)) == "caucus:party_a"


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        CopyLimits(chunk_bytes=0)
