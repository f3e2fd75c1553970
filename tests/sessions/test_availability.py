"""Weekly availability in a person's own zone, expanded to UTC across daylight saving."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessions.availability import (
    Availability,
    Interval,
    InvalidAvailability,
    LocalRange,
    WeeklySlot,
    Window,
    common_starts,
    expand,
)

ZONES = ("Europe/London", "America/New_York", "America/Phoenix", "Africa/Nairobi", "Asia/Taipei")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def spans(availability: Availability, first: date, days: int) -> list[tuple[datetime, datetime]]:
    return [(i.start, i.end) for i in expand(availability, Window.days_from(first, days))]


@pytest.mark.parametrize(
    ("zone", "slot", "first", "expected"),
    [
        pytest.param(
            "America/New_York",
            "tue 09:00-11:00",
            date(2027, 3, 8),
            [
                (utc(2027, 3, 9, 14), utc(2027, 3, 9, 16)),
                (utc(2027, 3, 16, 13), utc(2027, 3, 16, 15)),
            ],
            id="New York 09:00 stays 09:00 across the March 2027 change",
        ),
        pytest.param(
            "America/New_York",
            "tue 09:00-11:00",
            date(2027, 11, 1),
            [
                (utc(2027, 11, 2, 13), utc(2027, 11, 2, 15)),
                (utc(2027, 11, 9, 14), utc(2027, 11, 9, 16)),
            ],
            id="New York 09:00 stays 09:00 across the November 2027 change",
        ),
        pytest.param(
            "Europe/London",
            "mon 18:00-21:00",
            date(2027, 3, 22),
            [
                (utc(2027, 3, 22, 18), utc(2027, 3, 22, 21)),
                (utc(2027, 3, 29, 17), utc(2027, 3, 29, 20)),
            ],
            id="London 18:00 stays 18:00 across the March 2027 change",
        ),
        pytest.param(
            "America/Phoenix",
            "tue 18:00-21:00",
            date(2027, 3, 8),
            [
                (utc(2027, 3, 10, 1), utc(2027, 3, 10, 4)),
                (utc(2027, 3, 17, 1), utc(2027, 3, 17, 4)),
            ],
            id="Phoenix keeps UTC-7 while New York changes",
        ),
        pytest.param(
            "Africa/Nairobi",
            "mon 18:00-21:00",
            date(2027, 3, 22),
            [
                (utc(2027, 3, 22, 15), utc(2027, 3, 22, 18)),
                (utc(2027, 3, 29, 15), utc(2027, 3, 29, 18)),
            ],
            id="Nairobi is UTC+3 all year",
        ),
        pytest.param(
            "Asia/Taipei",
            "sat 09:00-12:00",
            date(2027, 3, 8),
            [
                (utc(2027, 3, 13, 1), utc(2027, 3, 13, 4)),
                (utc(2027, 3, 20, 1), utc(2027, 3, 20, 4)),
            ],
            id="Taipei is UTC+8 all year",
        ),
        pytest.param(
            "America/New_York",
            "sun 01:00-04:00",
            date(2027, 3, 14),
            [(utc(2027, 3, 14, 6), utc(2027, 3, 14, 8))],
            id="the skipped hour is in no slot: 01:00-04:00 lasts two hours that night",
        ),
        pytest.param(
            "America/New_York",
            "sun 02:15-02:45",
            date(2027, 3, 14),
            [],
            id="a slot wholly inside the skipped hour is empty that night",
        ),
        pytest.param(
            "America/New_York",
            "sun 01:00-02:00",
            date(2027, 11, 7),
            [(utc(2027, 11, 7, 5), utc(2027, 11, 7, 7))],
            id="the repeated hour counts twice: 01:00-02:00 lasts two hours that night",
        ),
        pytest.param(
            "Europe/London",
            "sun 00:30-01:30",
            date(2027, 3, 28),
            [(utc(2027, 3, 28, 0, 30), utc(2027, 3, 28, 1))],
            id="London's skipped hour cuts a slot that reaches into it",
        ),
        pytest.param(
            "America/Phoenix",
            "fri 22:00-02:00",
            date(2027, 3, 13),
            [(utc(2027, 3, 13, 5), utc(2027, 3, 13, 9))],
            id="a slot that crosses midnight ends on the next day",
        ),
        pytest.param(
            "Asia/Taipei",
            "wed 00:00-00:00",
            date(2027, 3, 10),
            [(utc(2027, 3, 10, 0), utc(2027, 3, 10, 16))],
            id="00:00-00:00 is the whole day",
        ),
    ],
)
def test_weekly_slots_expand_to_utc_by_the_wall_clock_rule(
    zone: str, slot: str, first: date, expected: list[tuple[datetime, datetime]]
) -> None:
    # one week either side of a change, or the one day of it
    days = 14 if first.weekday() == 0 else 1
    stated = Availability(zone, (WeeklySlot.parse(slot),))
    assert spans(stated, first, days) == expected


def test_unavailable_ranges_win_over_weekly_slots_and_extra_ranges() -> None:
    stated = Availability(
        "Africa/Nairobi",
        weekly=(WeeklySlot.parse("mon 18:00-21:00"),),
        unavailable=(LocalRange(datetime(2027, 3, 8, 19), datetime(2027, 3, 10)),),
        extra=(
            LocalRange(datetime(2027, 3, 9, 8), datetime(2027, 3, 9, 10)),
            LocalRange(datetime(2027, 3, 13, 8), datetime(2027, 3, 13, 10)),
        ),  # fmt: skip
    )
    assert spans(stated, date(2027, 3, 8), 7) == [
        (utc(2027, 3, 8, 15), utc(2027, 3, 8, 16)),
        (utc(2027, 3, 13, 5), utc(2027, 3, 13, 7)),
    ]


def test_common_starts_lie_on_the_grid_inside_everyone_s_availability() -> None:
    window = Window.days_from(date(2027, 3, 8), 7)
    london = expand(Availability("Europe/London", (WeeklySlot.parse("mon 09:00-12:00"),)), window)
    nairobi = expand(Availability("Africa/Nairobi", (WeeklySlot.parse("mon 11:00-14:00"),)), window)
    starts = common_starts([london, nairobi], timedelta(minutes=60), timedelta(minutes=30), window)
    # London 09:00-12:00 UTC, Nairobi 08:00-11:00 UTC: shared 09:00-11:00, an hour long
    assert starts == (utc(2027, 3, 8, 9), utc(2027, 3, 8, 9, 30), utc(2027, 3, 8, 10))


@pytest.mark.parametrize(
    "build",
    [
        lambda: Availability("Mars/Olympus"),
        lambda: WeeklySlot(7, time(9), time(10)),
        lambda: WeeklySlot.parse("someday 09:00-10:00"),
        lambda: LocalRange(datetime(2027, 3, 9), datetime(2027, 3, 8)),
        lambda: LocalRange(datetime(2027, 3, 8, tzinfo=UTC), datetime(2027, 3, 9, tzinfo=UTC)),
        lambda: Window(utc(2027, 3, 8), utc(2027, 6, 8)),
        lambda: Window(datetime(2027, 3, 8), datetime(2027, 3, 9)),
        lambda: Interval(utc(2027, 3, 8, 10), utc(2027, 3, 8, 9)),
    ],
)
def test_malformed_availability_is_refused_with_its_own_code(build: object) -> None:
    assert callable(build)
    with pytest.raises(InvalidAvailability) as caught:
        build()
    assert caught.value.code == "invalid_availability"


# -- properties ------------------------------------------------------------------

WINDOW_STARTS = (date(2027, 3, 10), date(2027, 3, 25), date(2027, 10, 28), date(2027, 11, 4))
QUARTER = timedelta(minutes=15)


@st.composite
def slots(draw: st.DrawFn) -> WeeklySlot:
    start = draw(st.integers(0, 95)) * 15
    length = draw(st.integers(1, 48)) * 15
    end = (start + length) % 1440
    return WeeklySlot(
        draw(st.integers(0, 6)), time(start // 60, start % 60), time(end // 60, end % 60)
    )


@st.composite
def local_ranges(draw: st.DrawFn, first: date) -> LocalRange:
    start = datetime.combine(first, time()) + draw(st.integers(-8, 8 * 96)) * QUARTER
    return LocalRange(start, start + draw(st.integers(1, 96)) * QUARTER)


@st.composite
def availabilities(draw: st.DrawFn, first: date) -> Availability:
    return Availability(
        draw(st.sampled_from(ZONES)),
        weekly=tuple(draw(st.lists(slots(), max_size=5))),
        unavailable=tuple(draw(st.lists(local_ranges(first), max_size=2))),
        extra=tuple(draw(st.lists(local_ranges(first), max_size=2))),
    )


def inside(intervals: tuple[Interval, ...], t: datetime) -> bool:
    return any(i.start <= t < i.end for i in intervals)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_expansion_holds_exactly_the_instants_the_person_s_own_clock_allows(
    data: st.DataObject,
) -> None:
    first = data.draw(st.sampled_from(WINDOW_STARTS))
    stated = data.draw(availabilities(first))
    window = Window.days_from(first, 8)
    got = expand(stated, window)
    assert all(a.end < b.start for a, b in zip(got, got[1:], strict=False)), "merged, sorted"
    zone = ZoneInfo(stated.time_zone)
    # every boundary of these zones' slots and transitions falls on a UTC quarter hour,
    # so the first and the last minute of each quarter decide it
    t = window.start
    while t < window.end:
        for probe in (t, t + QUARTER - timedelta(minutes=1)):
            wall = probe.astimezone(zone).replace(tzinfo=None)
            assert inside(got, probe) == stated.available_at_wall(wall), (probe, wall)
        t += QUARTER


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_common_starts_are_exactly_the_grid_starts_everyone_can_make(data: st.DataObject) -> None:
    first = data.draw(st.sampled_from(WINDOW_STARTS))
    people = [data.draw(availabilities(first)) for _ in range(data.draw(st.integers(1, 3)))]
    minutes = data.draw(st.sampled_from((30, 60, 90)))
    window = Window.days_from(first, 4)
    expanded = [expand(p, window) for p in people]
    starts = set(common_starts(expanded, timedelta(minutes=minutes), 2 * QUARTER, window))
    t = window.start
    while t + timedelta(minutes=minutes) <= window.end:
        quarters = [t + k * QUARTER for k in range(minutes // 15)]
        everyone = all(p.available_at(q) for p in people for q in quarters)
        assert (t in starts) == everyone, t
        t += 2 * QUARTER
