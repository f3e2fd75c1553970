"""Weekly availability stated in a person's own time zone, expanded to UTC intervals.

Pure: no storage, no clock. A person says "Mondays 18:00–21:00" in their IANA zone,
plus dated exceptions (ranges they are away, ranges they are free beyond the weekly
pattern); `expand` turns that into concrete UTC intervals over a window.

**The wall-clock rule.** A person is available at instant *t* exactly when their own
clock, at *t*, shows a wall time inside one of their weekly slots or extra ranges,
and not inside an unavailable range. Everything about daylight saving follows:

- a weekly 09:00–11:00 America/New_York slot is 13:00–15:00 UTC in winter and
  14:00–16:00 UTC in summer: the clock on the wall says 09:00 on both sides;
- local times that do not exist (the hour skipped in spring) are in no range, so a
  02:00–04:00 slot on that night is one hour long, and a slot wholly inside the
  gap is empty that night;
- local times that occur twice (the hour repeated in autumn) are in the range both
  times, so a 01:00–02:00 slot on that night is two hours long.

Unavailable ranges win over weekly slots and extra ranges. A slot whose end is not
after its start crosses midnight (18:00–00:00 is six hours; 22:00–02:00 ends on the
next day; 00:00–00:00 is the whole day). Exceptions are naive local wall times in the person's zone.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sessions.errors import DomainError

#: the longest window expanded at once (bounds the work a request may cause)
MAX_WINDOW = timedelta(days=62)
#: transitions are found by sampling the zone's offset this often, then bisecting;
#: two transitions closer than this that cancel out would be missed (none exist today)
_SCAN_STEP_S = 3600
_EPOCH = datetime(1970, 1, 1)
_DAY_S = 86400
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: an interval in whole seconds since the UNIX epoch, start inclusive, end exclusive
Span = tuple[int, int]


class InvalidAvailability(DomainError):
    code = "invalid_availability"


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone `name`, or InvalidAvailability."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidAvailability(f"unknown time zone {name!r}") from exc


@dataclass(frozen=True)
class WeeklySlot:
    """Every week on `weekday` (0 = Monday) from `start` to `end`, local wall time."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise InvalidAvailability(f"weekday is 0 (Monday) to 6, not {self.weekday}")
        for t in (self.start, self.end):
            if t.tzinfo is not None or t.second or t.microsecond:
                raise InvalidAvailability("slot times are naive whole minutes")

    @classmethod
    def parse(cls, text: str) -> WeeklySlot:
        """'mon 18:00-21:00' (weekday abbreviation, then local start-end)."""
        try:
            day, span = text.split()
            start, end = span.split("-")
            return cls(
                _WEEKDAYS.index(day.lower()), time.fromisoformat(start), time.fromisoformat(end)
            )
        except ValueError as exc:
            raise InvalidAvailability(f"not a weekly slot: {text!r}") from exc

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def contains(self, wall: datetime) -> bool:
        """Whether the local wall time `wall` (naive) lies in this slot."""
        t = wall.time()
        if not self.crosses_midnight:
            return wall.weekday() == self.weekday and self.start <= t < self.end
        return (wall.weekday() == self.weekday and t >= self.start) or (
            wall.weekday() == (self.weekday + 1) % 7 and t < self.end
        )


@dataclass(frozen=True)
class LocalRange:
    """A dated range of local wall time (naive datetimes), start inclusive, end exclusive."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise InvalidAvailability("exception ranges are naive local wall times")
        if not self.start < self.end:
            raise InvalidAvailability("an exception range ends after it starts")

    def contains(self, wall: datetime) -> bool:
        return self.start <= wall < self.end


@dataclass(frozen=True)
class Availability:
    """One person's stated availability, in their own zone."""

    time_zone: str
    weekly: tuple[WeeklySlot, ...] = ()
    unavailable: tuple[LocalRange, ...] = ()
    extra: tuple[LocalRange, ...] = ()

    def __post_init__(self) -> None:
        zone_named(self.time_zone)

    def available_at_wall(self, wall: datetime) -> bool:
        """The wall-clock rule for one local wall time (naive): a reference, used by tests."""
        if any(r.contains(wall) for r in self.unavailable):
            return False
        return any(s.contains(wall) for s in self.weekly) or any(
            r.contains(wall) for r in self.extra
        )

    def available_at(self, instant: datetime) -> bool:
        """Whether the person is available at the aware `instant`."""
        wall = instant.astimezone(zone_named(self.time_zone)).replace(tzinfo=None)
        return self.available_at_wall(wall)


@dataclass(frozen=True)
class Interval:
    """A stretch of absolute time, as aware UTC datetimes, start inclusive, end exclusive."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.utcoffset() is None or self.end.utcoffset() is None:
            raise InvalidAvailability("intervals are aware datetimes")
        if not self.start < self.end:
            raise InvalidAvailability("an interval ends after it starts")

    @classmethod
    def from_span(cls, span: Span) -> Interval:
        return cls(datetime.fromtimestamp(span[0], UTC), datetime.fromtimestamp(span[1], UTC))

    def span(self) -> Span:
        return (_seconds(self.start), _seconds(self.end))


@dataclass(frozen=True)
class Window:
    """The stretch of absolute time a round is planned in."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.utcoffset() is None or self.end.utcoffset() is None:
            raise InvalidAvailability("a window is given in aware datetimes")
        if not self.start < self.end:
            raise InvalidAvailability("a window ends after it starts")
        if self.end - self.start > MAX_WINDOW:
            raise InvalidAvailability(f"a window is at most {MAX_WINDOW.days} days")

    @classmethod
    def days_from(cls, first: date, days: int) -> Window:
        """`days` whole UTC days from midnight UTC on `first`."""
        start = datetime.combine(first, time(), UTC)
        return cls(start, start + timedelta(days=days))

    def span(self) -> Span:
        return (_seconds(self.start), _seconds(self.end))


def _seconds(instant: datetime) -> int:
    return int(instant.timestamp())


def _naive_seconds(wall: datetime) -> int:
    return int((wall - _EPOCH) // timedelta(seconds=1))


def _offset_s(zone: ZoneInfo, t: int) -> int:
    offset = datetime.fromtimestamp(t, zone).utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return int(offset.total_seconds())


@functools.lru_cache(maxsize=256)
def offset_segments(zone_name: str, start: int, end: int) -> tuple[tuple[int, int, int], ...]:
    """[(utc_start, utc_end, offset_s)] covering [start, end): the zone's offset is constant
    within each piece. Transitions are found by sampling every hour and bisecting."""
    zone = zone_named(zone_name)
    pieces: list[tuple[int, int, int]] = []
    seg_start, offset = start, _offset_s(zone, start)
    t = start
    while t < end:
        nxt = min(t + _SCAN_STEP_S, end)
        probe = _offset_s(zone, nxt)
        if probe != offset:
            lo, hi = t, nxt  # offset(lo) == offset, offset(hi) == probe
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset_s(zone, mid) == offset:
                    lo = mid
                else:
                    hi = mid
            pieces.append((seg_start, hi, offset))
            seg_start, offset = hi, probe
        t = nxt
    if seg_start < end:
        pieces.append((seg_start, end, offset))
    return tuple(pieces)


def merge(spans: Iterable[Span]) -> list[Span]:
    """Sorted, disjoint, non-touching spans covering the same instants."""
    out: list[Span] = []
    for a, b in sorted(s for s in spans if s[0] < s[1]):
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def subtract(spans: Sequence[Span], holes: Sequence[Span]) -> list[Span]:
    """`spans` minus `holes` (both merged)."""
    out: list[Span] = []
    j = 0
    for a, b in spans:
        while j < len(holes) and holes[j][1] <= a:
            j += 1
        k, cur = j, a
        while k < len(holes) and holes[k][0] < b:
            if holes[k][0] > cur:
                out.append((cur, holes[k][0]))
            cur = max(cur, holes[k][1])
            k += 1
        if cur < b:
            out.append((cur, b))
    return out


def intersect(left: Sequence[Span], right: Sequence[Span]) -> list[Span]:
    """Instants in both (merged inputs give a merged output)."""
    out: list[Span] = []
    i = j = 0
    while i < len(left) and j < len(right):
        a, b = max(left[i][0], right[j][0]), min(left[i][1], right[j][1])
        if a < b:
            out.append((a, b))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return out


def _local_pieces(local: Span, segments: Sequence[tuple[int, int, int]]) -> Iterable[Span]:
    """The UTC instants whose wall time (in the segments' zone) lies in `local`."""
    for u0, u1, off in segments:
        a, b = max(u0, local[0] - off), min(u1, local[1] - off)
        if a < b:
            yield (a, b)


def expand_spans(availability: Availability, window: Window) -> list[Span]:
    """`expand`, as merged (start, end) seconds since the epoch."""
    w0, w1 = window.span()
    segments = offset_segments(availability.time_zone, w0, w1)
    # local dates whose slots can reach into the window (offsets are within ±26 h)
    first = datetime.fromtimestamp(w0 - 2 * _DAY_S, UTC).date()
    last = datetime.fromtimestamp(w1 + 2 * _DAY_S, UTC).date()
    weekly: list[Span] = []
    day = first
    while day <= last:
        midnight = _naive_seconds(datetime.combine(day, time()))
        for slot in availability.weekly:
            if slot.weekday != day.weekday():
                continue
            a = midnight + slot.start.hour * 3600 + slot.start.minute * 60
            b = midnight + slot.end.hour * 3600 + slot.end.minute * 60
            if slot.crosses_midnight:
                b += _DAY_S
            weekly.extend(_local_pieces((a, b), segments))
        day += timedelta(days=1)
    extra = [
        p
        for r in availability.extra
        for p in _local_pieces((_naive_seconds(r.start), _naive_seconds(r.end)), segments)
    ]
    away = [
        p
        for r in availability.unavailable
        for p in _local_pieces((_naive_seconds(r.start), _naive_seconds(r.end)), segments)
    ]
    free = subtract(merge([*weekly, *extra]), merge(away))
    return intersect(free, [(w0, w1)])


def expand(availability: Availability, window: Window) -> tuple[Interval, ...]:
    """The person's availability inside `window` as sorted, disjoint UTC intervals."""
    return tuple(Interval.from_span(s) for s in expand_spans(availability, window))


def common_starts(
    people: Sequence[Sequence[Interval]],
    duration: timedelta,
    grid: timedelta,
    window: Window,
) -> tuple[datetime, ...]:
    """Every start on the grid (multiples of `grid` since the UNIX epoch, in UTC) at which
    everyone in `people` is free for `duration`, the whole slot inside `window`."""
    d, g = int(duration.total_seconds()), int(grid.total_seconds())
    if d <= 0 or g <= 0:
        raise InvalidAvailability("a slot's duration and grid are positive")
    shared: list[Span] = [window.span()]
    for intervals in people:
        shared = intersect(shared, merge(i.span() for i in intervals))
    starts: list[datetime] = []
    for a, b in shared:
        s = -(-a // g) * g
        while s + d <= b:
            starts.append(datetime.fromtimestamp(s, UTC))
            s += g
    return tuple(starts)
