"""Scheduling rules: local times in a zone, the join window, seats and durations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sessions.errors import UnknownSeat
from sessions.ids import ScenarioId, SeatId
from sessions.scenarios import builtin_scenarios
from sessions.schedule import (
    BadDuration,
    BadTime,
    BadTimeZone,
    InThePast,
    PersonTwice,
    check_duration,
    check_seats,
    check_start,
    local_iso,
    opens_ms,
    seat_label,
    token_expiry_ms,
    utc_ms,
)

SEATS = (SeatId("mediator"), SeatId("party_a"), SeatId("party_b"), SeatId("coach"))


def test_nine_in_phoenix_is_sixteen_utc_and_nineteen_in_nairobi() -> None:
    ms = utc_ms("2027-03-10T09:00", "America/Phoenix")
    assert datetime.fromtimestamp(ms / 1000, UTC) == datetime(2027, 3, 10, 16, 0, tzinfo=UTC)
    assert local_iso(ms, "Africa/Nairobi") == "2027-03-10T19:00"
    assert local_iso(ms, "UTC") == "2027-03-10T16:00"


def test_a_time_the_clocks_skip_does_not_exist() -> None:
    with pytest.raises(BadTime):
        utc_ms("2027-03-14T02:30", "America/New_York")  # spring forward: 02:00 → 03:00
    # the repeated autumn hour means the first one (EDT, UTC-4)
    first = utc_ms("2027-11-07T01:30", "America/New_York")
    assert datetime.fromtimestamp(first / 1000, UTC).hour == 5


@pytest.mark.parametrize(
    ("local", "zone", "error"),
    [
        ("tomorrow at nine", "UTC", BadTime),
        ("2027-03-10T09:00+02:00", "UTC", BadTime),
        ("2027-03-10T09:00", "Mars/Olympus", BadTimeZone),
        ("2027-03-10T09:00", "../../etc/passwd", BadTimeZone),
        ("2027-03-10T09:00", "", BadTimeZone),
    ],
)
def test_what_is_not_a_time_in_a_zone_is_refused(local: str, zone: str, error: type) -> None:
    with pytest.raises(error):
        utc_ms(local, zone)


def test_the_start_is_not_in_the_past_nor_years_ahead() -> None:
    now = 1_800_000_000_000
    assert check_start(now - 60_000, now) == now - 60_000  # a form sent a minute late
    with pytest.raises(InThePast):
        check_start(now - 3600_000, now)
    with pytest.raises(BadTime):
        check_start(now + 3 * 365 * 24 * 3600_000, now)


@pytest.mark.parametrize("minutes", [14, 241, 0, -5])
def test_a_duration_is_fifteen_minutes_to_four_hours(minutes: int) -> None:
    with pytest.raises(BadDuration):
        check_duration(minutes)
    assert check_duration(15) == 15 and check_duration(240) == 240


def test_seats_exist_and_each_person_sits_once() -> None:
    assert check_seats({"mediator": "p1", "coach": "p2"}, SEATS) == {
        "mediator": "p1",
        "coach": "p2",
    }
    with pytest.raises(UnknownSeat):
        check_seats({"party_c": "p1"}, SEATS)
    with pytest.raises(PersonTwice):
        check_seats({"mediator": "p1", "party_a": "p1"}, SEATS)


def test_the_room_opens_fifteen_minutes_early_and_tokens_last_two_hours_past_the_end() -> None:
    assert opens_ms(1_000_000_000) == 1_000_000_000 - 15 * 60_000
    assert token_expiry_ms(0, 90) == 90 * 60_000 + 2 * 3600_000


def test_the_console_names_seats_by_role_and_character() -> None:
    fence = builtin_scenarios()[ScenarioId("boundary-fence")]
    labels = [seat_label(fence, SeatId(s)) for s in ("mediator", "party_a", "coach", "observer_2")]
    assert labels == ["Mediator", "Party A (Amara Okafor)", "Coach", "Observer 2"]
