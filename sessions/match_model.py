"""The matcher's inputs and outputs, and the facts derived once from a request.

Pure data: `sessions/matching.py` is the entry point (`propose_round`, `swap`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sessions.availability import (
    Availability,
    Interval,
    Span,
    Window,
    expand_spans,
    merge,
    subtract,
)
from sessions.errors import DomainError
from sessions.roles import MAX_OBSERVERS, MAX_PARTIES, MIN_PARTIES

GRIDS_MINUTES = (5, 10, 15, 20, 30, 60)


class InvalidRound(DomainError):
    code = "invalid_round"


class InvalidSwap(DomainError):
    code = "invalid_swap"


@dataclass(frozen=True)
class Trainee:
    id: str
    #: experience, 0 = newest; groups mix levels
    level: int = 0

    def __post_init__(self) -> None:
        if not self.id:
            raise InvalidRound("a trainee needs an id")
        if not 0 <= self.level <= 9:
            raise InvalidRound(f"experience level is 0 to 9, not {self.level}")


@dataclass(frozen=True)
class Coach:
    id: str

    def __post_init__(self) -> None:
        if not self.id:
            raise InvalidRound("a coach needs an id")


@dataclass(frozen=True)
class GroupShape:
    """A scenario's size: one mediator, `parties` parties, up to `observers` observers,
    one coach, for `minutes`."""

    parties: int = 2
    observers: int = 0
    minutes: int = 90

    def __post_init__(self) -> None:
        if not MIN_PARTIES <= self.parties <= MAX_PARTIES:
            raise InvalidRound(f"a scenario has {MIN_PARTIES} to {MAX_PARTIES} parties")
        if not 0 <= self.observers <= MAX_OBSERVERS:
            raise InvalidRound(f"a group has 0 to {MAX_OBSERVERS} observers")
        if not 15 <= self.minutes <= 480:
            raise InvalidRound("a simulation lasts 15 to 480 minutes")

    @property
    def core(self) -> int:
        """Trainees a group cannot run without: the mediator and the parties."""
        return 1 + self.parties


@dataclass(frozen=True)
class PastGroup:
    """One group of an earlier round, as it ran."""

    mediator: str
    parties: tuple[str, ...]
    observers: tuple[str, ...] = ()
    coach: str | None = None

    @property
    def trainees(self) -> tuple[str, ...]:
        return (self.mediator, *self.parties, *self.observers)


@dataclass(frozen=True)
class RoundRequest:
    trainees: tuple[Trainee, ...]
    coaches: tuple[Coach, ...]
    shape: GroupShape
    #: person id → stated availability; a person missing here is never available
    availability: Mapping[str, Availability]
    window: Window
    history: tuple[PastGroup, ...] = ()
    grid_minutes: int = 15
    #: person id → time already booked elsewhere (earlier rounds, other simulations)
    busy: Mapping[str, tuple[Interval, ...]] = field(default_factory=dict)
    seed: int = 0

    def __post_init__(self) -> None:
        ids = [t.id for t in self.trainees] + [c.id for c in self.coaches]
        if len(set(ids)) != len(ids):
            raise InvalidRound("each person appears once, as a trainee or as a coach")
        if self.grid_minutes not in GRIDS_MINUTES:
            raise InvalidRound(f"the grid is one of {GRIDS_MINUTES} minutes")
        if len(self.trainees) > 2000 or len(self.coaches) > 200:
            raise InvalidRound("a round matches at most 2000 trainees and 200 coaches")


class Rule(StrEnum):
    AVAILABILITY = "availability"
    NO_DOUBLE_BOOKING = "no_double_booking"
    ROTATION = "rotation"
    FRESH_PAIRINGS = "fresh_pairings"
    EXPERIENCE_MIX = "experience_mix"
    COACH_LOAD = "coach_load"


#: when rules conflict, earlier ones win (placing people at all comes before every
#: soft rule; see docs/design-notes.md "The practice-round matcher")
PRIORITY: tuple[Rule, ...] = tuple(Rule)


@dataclass(frozen=True)
class RuleReport:
    rule: Rule
    met: bool
    #: how far the rule is missed (0 when met); a hand swap "breaks" a rule it raises
    shortfall: int
    detail: str


@dataclass(frozen=True)
class GroupScore:
    mediator_before: int  # times the mediator had mediated before this round
    fresh_pairs: int
    repeat_pairs: tuple[tuple[str, str, int], ...]  # (a, b, times met before)
    levels: tuple[int, ...]
    mixed: bool


@dataclass(frozen=True)
class Group:
    start: datetime
    end: datetime
    coach: str
    mediator: str
    parties: tuple[str, ...]
    observers: tuple[str, ...]
    score: GroupScore

    @property
    def trainees(self) -> tuple[str, ...]:
        return (self.mediator, *self.parties, *self.observers)

    @property
    def people(self) -> tuple[str, ...]:
        return (*self.trainees, self.coach)


@dataclass(frozen=True)
class Unplaced:
    person: str
    reason: str


@dataclass(frozen=True)
class Proposal:
    request: RoundRequest
    groups: tuple[Group, ...]
    unplaced: tuple[Unplaced, ...]
    rules: tuple[RuleReport, ...]

    def report(self, rule: Rule) -> RuleReport:
        return next(r for r in self.rules if r.rule is rule)


@dataclass(frozen=True)
class SwapResult:
    proposal: Proposal
    #: rules the swap made worse (a higher shortfall than before), worst first
    broken: tuple[RuleReport, ...]


@dataclass(frozen=True)
class Draft:
    """A group before scoring: a start on the grid, a coach, trainees in their seats."""

    start: int  # index on the facts' grid
    coach: str
    mediator: str
    parties: tuple[str, ...]
    observers: tuple[str, ...]

    @property
    def trainees(self) -> tuple[str, ...]:
        return (self.mediator, *self.parties, *self.observers)


class Facts:
    """What the matcher derives once from a request: the start grid, each person's
    feasible starts as a bit mask over it, and counts from the history."""

    def __init__(self, request: RoundRequest) -> None:
        self.request = request
        shape = request.shape
        self.grid = request.grid_minutes
        self.minutes = shape.minutes
        w0, w1 = request.window.span()
        first = -(-w0 // (60 * self.grid)) * self.grid  # minutes since the epoch
        self.first = first
        self.n_starts = max(0, (w1 // 60 - self.minutes - first) // self.grid + 1)
        self.all_starts = (1 << self.n_starts) - 1
        #: a start index clashes with a booking at index j when |i - j| < reach
        self.reach = -(-self.minutes // self.grid)

        self.trainee_ids = tuple(sorted(t.id for t in request.trainees))
        self.coach_ids = tuple(sorted(c.id for c in request.coaches))
        self.level = {t.id: t.level for t in request.trainees}
        self.mask: dict[str, int] = {}
        for pid in (*self.trainee_ids, *self.coach_ids):
            self.mask[pid] = self._mask_of(pid)
        self.coach_any = 0
        for c in self.coach_ids:
            self.coach_any |= self.mask[c]

        self.mediated = dict.fromkeys(self.trainee_ids, 0)
        self.observed = dict.fromkeys(self.trainee_ids, 0)
        self.placed = dict.fromkeys(self.trainee_ids, 0)
        self.coached = dict.fromkeys(self.coach_ids, 0)
        self.met: dict[tuple[str, str], int] = {}
        for past in request.history:
            if past.mediator in self.mediated:
                self.mediated[past.mediator] += 1
            for o in past.observers:
                if o in self.observed:
                    self.observed[o] += 1
            members = past.trainees
            for m in members:
                if m in self.placed:
                    self.placed[m] += 1
            for i, a in enumerate(members):
                for b in members[i + 1 :]:
                    key = pair(a, b)
                    self.met[key] = self.met.get(key, 0) + 1
            if past.coach is not None and past.coach in self.coached:
                self.coached[past.coach] += 1

    def _mask_of(self, pid: str) -> int:
        stated = self.request.availability.get(pid)
        if stated is None or self.n_starts == 0:
            return 0
        spans: list[Span] = expand_spans(stated, self.request.window)
        busy = self.request.busy.get(pid, ())
        if busy:
            spans = subtract(spans, merge(i.span() for i in busy))
        mask = 0
        g, d = self.grid, self.minutes
        for a, b in spans:
            a_min, b_min = -(-a // 60), b // 60
            lo = max(0, -(-(a_min - self.first) // g))
            hi = min(self.n_starts - 1, (b_min - d - self.first) // g)
            if lo <= hi:
                mask |= ((1 << (hi - lo + 1)) - 1) << lo
        return mask

    def after(self, bookings: Sequence[Draft]) -> Facts:
        """These facts with the coaches' booked times taken out, and this round's
        bookings counted in their loads: for placing who is left in a second pass."""
        rest = copy.copy(self)
        rest.mask = dict(self.mask)
        rest.coached = dict(self.coached)
        for d in bookings:
            rest.mask[d.coach] &= ~self.clash(d.start)
            rest.coached[d.coach] += 1
        rest.coach_any = 0
        for c in self.coach_ids:
            rest.coach_any |= rest.mask[c]
        return rest

    def start_at(self, index: int) -> datetime:
        return datetime.fromtimestamp((self.first + index * self.grid) * 60, UTC)

    def end_at(self, index: int) -> datetime:
        return self.start_at(index) + timedelta(minutes=self.minutes)

    def index_of(self, start: datetime) -> int | None:
        minutes, rest = divmod(int(start.timestamp()), 60)
        index, off = divmod(minutes - self.first, self.grid)
        if rest or off or not 0 <= index < self.n_starts:
            return None
        return index

    def clash(self, index: int) -> int:
        """The start indices a booking at `index` rules out for the same person."""
        lo = max(0, index - self.reach + 1)
        hi = min(self.n_starts - 1, index + self.reach - 1)
        return ((1 << (hi - lo + 1)) - 1) << lo

    def met_times(self, a: str, b: str) -> int:
        return self.met.get(pair(a, b), 0)


def pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)
