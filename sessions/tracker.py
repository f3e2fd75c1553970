"""The accountability tracker: a trainee's progress against a cohort's requirements (pure).

What counts toward a cohort (`in_scope`): an entry a simulation *of that cohort*
wrote, whatever its date; a hand-written entry, or one written by a simulation
in no cohort (or since deleted), dated within the cohort's dates in the
trainee's own time zone (from the first day's midnight to the midnight after
the last day); never an entry of another cohort's simulation. Entries in the
coach role are not a trainee's practice and count for nothing.

How each requirement is counted (`progress`):
- mediator sessions: entries as lead mediator or co-mediator;
- party sessions: entries as a party (an advocate represents a party, is none);
- hours: the minutes of entries in a practising role (mediator, co-mediator,
  advocate, party; observing is not practice);
- every feedback note read: the notes addressed to the trainee that they may see
  (the caller picks them with `sessions.annotations.may_see`) against those read;
- a reflection on each session: every counted entry has some reflection.
A requirement the cohort does not ask for (0, false) is left out; with none
left, the trainee is complete.

Pace (`behind`): by a share of the cohort's time elapsed, a count requirement
expects that share of its number, rounded down (3 mediator sessions, a third
of the way in: 1); the notes and reflections are expected by the end. A trainee
is behind when some requirement has less than it expects, and never once complete.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sessions.cohorts import Cohort
from sessions.logbook import Entry, LogRole
from sessions.schedule import zone

MEDIATING = frozenset({LogRole.LEAD_MEDIATOR, LogRole.CO_MEDIATOR})
PARTY = frozenset({LogRole.PARTY})
PRACTISING = frozenset(
    {LogRole.LEAD_MEDIATOR, LogRole.CO_MEDIATOR, LogRole.ADVOCATE, LogRole.PARTY}
)


class Requirement(StrEnum):
    """The requirements of `sessions.cohorts.Requirements`, in the order shown."""

    MEDIATOR_SESSIONS = "mediator_sessions"
    PARTY_SESSIONS = "party_sessions"
    HOURS = "hours"
    FEEDBACK_READ = "feedback_read"
    REFLECTIONS = "reflections"

    @property
    def unit(self) -> str:
        """What `done` and `needed` count."""
        return {
            Requirement.MEDIATOR_SESSIONS: "sessions",
            Requirement.PARTY_SESSIONS: "sessions",
            Requirement.HOURS: "minutes",
            Requirement.FEEDBACK_READ: "notes",
            Requirement.REFLECTIONS: "entries",
        }[self]

    @property
    def label(self) -> str:
        return {
            Requirement.MEDIATOR_SESSIONS: "Sessions as mediator",
            Requirement.PARTY_SESSIONS: "Sessions as a party",
            Requirement.HOURS: "Hours of practice",
            Requirement.FEEDBACK_READ: "Feedback notes read",
            Requirement.REFLECTIONS: "Sessions with a reflection",
        }[self]


@dataclass(frozen=True)
class Logged:
    """A logbook entry as the tracker reads it: the entry, and the cohort of the
    simulation that wrote it (None: written by hand, or by a simulation in no cohort)."""

    entry: Entry
    cohort_id: str | None = None


@dataclass(frozen=True)
class Window:
    """A cohort's dates in the trainee's zone, as UTC ms: [starts_ms, ends_ms)."""

    starts_ms: int
    ends_ms: int

    def elapsed(self, now_ms: int) -> float:
        """The share of the cohort's time gone by at `now_ms`, from 0 to 1."""
        if now_ms <= self.starts_ms:
            return 0.0
        if now_ms >= self.ends_ms:
            return 1.0
        return (now_ms - self.starts_ms) / (self.ends_ms - self.starts_ms)


def window(cohort: Cohort, time_zone: str) -> Window:
    """The cohort's first day's midnight to the midnight after its last, in `time_zone`."""
    tz = zone(time_zone)
    start = datetime.combine(cohort.starts_on, time(), tz)
    end = datetime.combine(cohort.ends_on + timedelta(days=1), time(), tz)
    return Window(int(start.timestamp() * 1000), int(end.timestamp() * 1000))


def in_scope(logged: Logged, cohort_id: str, dates: Window) -> bool:
    """Whether an entry counts toward cohort `cohort_id` (see the module's docstring)."""
    if logged.entry.role is LogRole.COACH:
        return False
    if logged.cohort_id is not None:
        return logged.cohort_id == cohort_id
    return dates.starts_ms <= logged.entry.at_ms < dates.ends_ms


def reflected(entry: Entry) -> bool:
    r = entry.reflections
    return any(text.strip() for text in (r.went_well, r.challenging, r.next_steps))


@dataclass(frozen=True)
class Item:
    """One requirement: how much is done of how much is needed, and how much is
    expected by now at an even pace."""

    requirement: Requirement
    done: int
    needed: int
    expected: int

    @property
    def met(self) -> bool:
        return self.done >= self.needed

    @property
    def left(self) -> int:
        return max(0, self.needed - self.done)

    @property
    def behind(self) -> bool:
        return self.done < self.expected

    @property
    def shortfall(self) -> float:
        """What is missing of what is expected by now, as a share of what is needed."""
        if self.needed <= 0 or self.done >= self.expected:
            return 0.0
        return (self.expected - self.done) / self.needed

    def to_json(self) -> dict[str, Any]:
        return {
            "requirement": self.requirement.value,
            "label": self.requirement.label,
            "unit": self.requirement.unit,
            "done": self.done,
            "needed": self.needed,
            "left": self.left,
            "expected": self.expected,
            "met": self.met,
            "behind": self.behind,
            "shortfall": round(self.shortfall, 4),
        }


@dataclass(frozen=True)
class Progress:
    items: tuple[Item, ...]
    dates: Window
    elapsed: float  # share of the cohort's time gone by
    counted: int  # entries that count toward the cohort

    @property
    def complete(self) -> bool:
        return all(item.met for item in self.items)

    @property
    def behind(self) -> bool:
        return not self.complete and any(item.behind for item in self.items)

    @property
    def overdue(self) -> bool:
        """The cohort is over and something is still missing."""
        return self.elapsed >= 1.0 and not self.complete

    @property
    def lag(self) -> float:
        """How far the furthest behind requirement trails what is expected by now, as a
        share of that requirement (0: on pace; above 0 exactly when behind)."""
        if self.complete:
            return 0.0
        return max((item.shortfall for item in self.items), default=0.0)

    @property
    def left(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if not item.met)

    def to_json(self) -> dict[str, Any]:
        return {
            "items": [item.to_json() for item in self.items],
            "left": [item.to_json() for item in self.left],
            "complete": self.complete,
            "behind": self.behind,
            "overdue": self.overdue,
            "lag": round(self.lag, 4),
            "elapsed": round(self.elapsed, 4),
            "counted": self.counted,
            "starts_ms": self.dates.starts_ms,
            "due_ms": self.dates.ends_ms,
        }


def _expected(needed: int, elapsed: float, by_the_end: bool) -> int:
    if by_the_end:
        return needed if elapsed >= 1.0 else 0
    return math.floor(needed * elapsed)


def progress(
    cohort: Cohort,
    entries: Iterable[Logged],
    addressed: Iterable[str],
    read: Iterable[str],
    time_zone: str,
    now_ms: int,
) -> Progress:
    """A trainee's progress against `cohort`'s requirements from their logbook `entries`,
    the ids of the notes addressed to them they may see (`addressed`) and of the notes
    they have read (`read`), at `now_ms`, the cohort's dates taken in `time_zone`."""
    dates = window(cohort, time_zone)
    elapsed = dates.elapsed(now_ms)
    counted = [e.entry for e in entries if in_scope(e, cohort.id, dates)]
    notes = set(addressed)
    found: Mapping[Requirement, tuple[int, int]] = {
        Requirement.MEDIATOR_SESSIONS: (
            sum(1 for e in counted if e.role in MEDIATING),
            cohort.requirements.mediator_sessions,
        ),
        Requirement.PARTY_SESSIONS: (
            sum(1 for e in counted if e.role in PARTY),
            cohort.requirements.party_sessions,
        ),
        Requirement.HOURS: (
            sum(e.duration_min for e in counted if e.role in PRACTISING),
            cohort.requirements.hours * 60,
        ),
        Requirement.FEEDBACK_READ: (
            len(notes & set(read)),
            len(notes) if cohort.requirements.feedback_read else -1,
        ),
        Requirement.REFLECTIONS: (
            sum(1 for e in counted if reflected(e)),
            len(counted) if cohort.requirements.reflections else -1,
        ),
    }
    items = []
    for requirement, (done, needed) in found.items():
        asked = needed > 0 if requirement.unit in ("sessions", "minutes") else needed >= 0
        if not asked:
            continue
        if requirement is Requirement.HOURS:  # whole hours expected by now
            expected = math.floor(cohort.requirements.hours * elapsed) * 60
        else:
            expected = _expected(needed, elapsed, requirement.unit in ("notes", "entries"))
        items.append(Item(requirement, done, needed, expected))
    return Progress(tuple(items), dates, elapsed, len(counted))


def behind_first(rows: Iterable[tuple[str, Progress]]) -> list[tuple[str, Progress]]:
    """(name, progress) pairs, who is behind first, the furthest behind first, then by name."""
    return sorted(rows, key=lambda row: (not row[1].behind, -row[1].lag, row[0].casefold()))
