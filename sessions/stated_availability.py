"""What a person states about their availability, read from a form and checked (pure).

A statement is weekly slots ("weekday 0–6, start and end as local HH:MM") and dated
exceptions ("unavailable" or "extra", local "YYYY-MM-DDTHH:MM" start and end), all in
the person's own zone. Each kind of mistake has its own code, so a page can say
what is wrong and where (`field`): overlapping weekly slots are refused, not merged,
because a person who typed two overlapping rows most likely meant something else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sessions.availability import Availability, LocalRange, WeeklySlot
from sessions.errors import DomainError

MAX_SLOTS = 56
MAX_EXCEPTIONS = 100
#: an exception lasts at most this many days (a long absence is several)
MAX_EXCEPTION_DAYS = 62
FIRST_YEAR, LAST_YEAR = 2000, 2999
KINDS = ("unavailable", "extra")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEK_MIN = 7 * 1440


class AvailabilityRefused(DomainError):
    """A statement refused; `field` names the part at fault (`weekly[2].start`)."""

    code = "invalid_availability"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class BadWeekday(AvailabilityRefused):
    code = "bad_weekday"


class BadSlotTime(AvailabilityRefused):
    code = "bad_slot_time"


class SlotsOverlap(AvailabilityRefused):
    code = "slots_overlap"


class BadExceptionKind(AvailabilityRefused):
    code = "bad_exception_kind"


class BadExceptionTime(AvailabilityRefused):
    code = "bad_exception_time"


class ExceptionOrder(AvailabilityRefused):
    code = "exception_order"


class TooMany(AvailabilityRefused):
    code = "too_many"


@dataclass(frozen=True)
class DatedException:
    kind: str  # "unavailable" | "extra"
    range: LocalRange


@dataclass(frozen=True)
class Statement:
    weekly: tuple[WeeklySlot, ...]
    exceptions: tuple[DatedException, ...]

    def in_zone(self, time_zone: str) -> Availability:
        return Availability(
            time_zone,
            self.weekly,
            tuple(e.range for e in self.exceptions if e.kind == "unavailable"),
            tuple(e.range for e in self.exceptions if e.kind == "extra"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "weekly": [
                {"weekday": s.weekday, "start": hhmm(s.start), "end": hhmm(s.end)}
                for s in self.weekly
            ],
            "exceptions": [
                {"kind": e.kind, "start": local(e.range.start), "end": local(e.range.end)}
                for e in self.exceptions
            ],
        }


def hhmm(t: time) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def local(wall: datetime) -> str:
    return wall.strftime("%Y-%m-%dT%H:%M")


def _object(raw: Any, path: str, keys: set[str]) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise AvailabilityRefused(path, f"{path} is an object")
    extra = set(raw) - keys
    if extra:
        raise AvailabilityRefused(path, f"{path}: unknown fields {', '.join(sorted(extra))}")
    return raw


def _list(data: Mapping[str, Any], key: str, most: int) -> Sequence[Any]:
    raw = data.get(key, [])
    if not isinstance(raw, list):
        raise AvailabilityRefused(key, f"'{key}' is a list")
    if len(raw) > most:
        raise TooMany(key, f"at most {most} entries in '{key}'")
    return raw


def _clock(raw: Any, path: str) -> time:
    if isinstance(raw, str) and len(raw) == 5 and raw[2] == ":":
        try:
            return time.fromisoformat(raw)
        except ValueError:
            pass
    raise BadSlotTime(path, f"{path} is a local time HH:MM from 00:00 to 23:59")


def _wall(raw: Any, path: str) -> datetime:
    if isinstance(raw, str) and len(raw) == 16 and raw[10] == "T":
        try:
            wall = datetime.fromisoformat(raw)
        except ValueError:
            wall = None
        if wall is not None and FIRST_YEAR <= wall.year <= LAST_YEAR:
            return wall
    raise BadExceptionTime(path, f"{path} is a local date and time, YYYY-MM-DDTHH:MM")


def _week_spans(slot: WeeklySlot) -> list[tuple[int, int]]:
    """The slot as minutes of the week (Monday 00:00 = 0), split where it wraps."""
    a = slot.weekday * 1440 + slot.start.hour * 60 + slot.start.minute
    length = (slot.end.hour * 60 + slot.end.minute) - (slot.start.hour * 60 + slot.start.minute)
    if length <= 0:
        length += 1440
    b = a + length
    return [(a, b)] if b <= _WEEK_MIN else [(a, _WEEK_MIN), (0, b - _WEEK_MIN)]


def describe(slot: WeeklySlot) -> str:
    return f"{WEEKDAY_NAMES[slot.weekday]} {hhmm(slot.start)}–{hhmm(slot.end)}"


def read_statement(data: Mapping[str, Any]) -> Statement:
    """The statement in a request body {"weekly": [...], "exceptions": [...]}, checked."""
    weekly: list[WeeklySlot] = []
    for i, raw in enumerate(_list(data, "weekly", MAX_SLOTS)):
        path = f"weekly[{i}]"
        row = _object(raw, path, {"weekday", "start", "end"})
        day = row.get("weekday")
        if not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6:
            raise BadWeekday(f"{path}.weekday", f"{path}.weekday is 0 (Monday) to 6 (Sunday)")
        weekly.append(
            WeeklySlot(
                day,
                _clock(row.get("start"), f"{path}.start"),
                _clock(row.get("end"), f"{path}.end"),
            )
        )
    spans = sorted((span, i) for i, slot in enumerate(weekly) for span in _week_spans(slot))
    for (first, i), (second, j) in zip(spans, spans[1:], strict=False):
        if second[0] < first[1]:
            a, b = sorted((i, j))
            raise SlotsOverlap(
                f"weekly[{b}]",
                f"{describe(weekly[a])} and {describe(weekly[b])} overlap; make them one slot",
            )
    exceptions: list[DatedException] = []
    for i, raw in enumerate(_list(data, "exceptions", MAX_EXCEPTIONS)):
        path = f"exceptions[{i}]"
        row = _object(raw, path, {"kind", "start", "end"})
        kind = row.get("kind")
        if kind not in KINDS:
            raise BadExceptionKind(f"{path}.kind", f"{path}.kind is 'unavailable' or 'extra'")
        start, end = _wall(row.get("start"), f"{path}.start"), _wall(row.get("end"), f"{path}.end")
        if not start < end:
            raise ExceptionOrder(f"{path}.end", f"{path} ends after it starts")
        if (end - start).days >= MAX_EXCEPTION_DAYS:
            raise ExceptionOrder(f"{path}.end", f"{path} lasts less than {MAX_EXCEPTION_DAYS} days")
        exceptions.append(DatedException(str(kind), LocalRange(start, end)))
    weekly.sort(key=lambda s: (s.weekday, s.start))
    exceptions.sort(key=lambda e: (e.range.start, e.kind))
    return Statement(tuple(weekly), tuple(exceptions))
