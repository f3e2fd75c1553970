"""Who counts as staff: decided once, by the seat's role."""

from __future__ import annotations

import pytest

from sessions.ids import SeatId
from sessions.roles import is_staff


@pytest.mark.parametrize(
    ("seat", "staff"),
    [
        ("coach", True),
        ("admin", True),
        ("mediator", False),
        ("party_a", False),
        ("party_d", False),
        ("observer_1", False),
    ],
)
def test_only_the_coach_and_the_admin_are_staff(seat: str, staff: bool) -> None:
    assert is_staff(SeatId(seat)) is staff
