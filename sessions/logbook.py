"""The mediation logbook a recognition body (IMI) asks trainees to keep (pure: no I/O).

Each completed simulation gives everyone who sat in it as a signed-in person one
entry: when, how long, in which role (IMI's words, not Caucus's seats), the
scenario, the coach, who else took part, and the feedback they received — only
the notes they may see (`sessions.annotations.may_see`), so an entry never
counts a note its owner could not read. A guest who joined by a link is no
person and keeps no logbook. Practice outside Caucus is entered by hand, with
the same fields, and checked here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sessions.annotations import may_see
from sessions.errors import DomainError, UnknownSeat
from sessions.ids import SeatId
from sessions.review import may_name, phase_bands, ran_from_ms
from sessions.roles import Role, role_of
from sessions.scenarios import ObserverView

MAX_REFLECTION_CHARS = 4000
MAX_TEXT_CHARS = 200  # scenario title, coach's name, one co-participant's name
MAX_CO_PARTICIPANTS = 20
MIN_DURATION_MIN, MAX_DURATION_MIN = 1, 600
#: a manual entry may be dated this far ahead (the person's day may be ahead of UTC)
FUTURE_SLACK_MS = 24 * 3600_000
DAY_MS = 24 * 3600_000


class InvalidEntry(DomainError):
    code = "invalid_entry"


class LogRole(StrEnum):
    """The roles a mediation logbook records (IMI's vocabulary)."""

    LEAD_MEDIATOR = "lead-mediator"
    CO_MEDIATOR = "co-mediator"
    ADVOCATE = "advocate"
    PARTY = "party"
    OBSERVER = "observer"
    COACH = "coach"

    @property
    def label(self) -> str:
        return {"lead-mediator": "Lead mediator", "co-mediator": "Co-mediator"}.get(
            self.value, self.value.capitalize()
        )


class Medium(StrEnum):
    ONLINE = "online"
    FACE_TO_FACE = "face-to-face"
    HYBRID = "hybrid"

    @property
    def label(self) -> str:
        return {"face-to-face": "Face-to-face"}.get(self.value, self.value.capitalize())


class Source(StrEnum):
    CAUCUS = "caucus"  # written when the simulation ended
    MANUAL = "manual"  # practice outside Caucus, entered by hand


#: a Caucus seat's role → the logbook's (the admin's watching seat is not practice)
_FROM_SEAT: Mapping[Role, LogRole] = {
    Role.MEDIATOR: LogRole.LEAD_MEDIATOR,
    Role.PARTY: LogRole.PARTY,
    Role.OBSERVER: LogRole.OBSERVER,
    Role.COACH: LogRole.COACH,
}


def log_role_of(seat: str) -> LogRole | None:
    """The logbook role of sitting in `seat` (None: a seat that is no practice, or unknown)."""
    try:
        return _FROM_SEAT.get(role_of(SeatId(seat)))
    except UnknownSeat:
        return None


@dataclass(frozen=True)
class SkillRating:
    """The ratings one rubric skill received in one session."""

    skill: str
    average: float
    count: int
    name: str = ""  # the rubric's name for it, when the scenario is known


@dataclass(frozen=True)
class FeedbackReceived:
    count: int = 0
    ratings: tuple[SkillRating, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "ratings": [
                {"skill": r.skill, "name": r.name, "average": r.average, "count": r.count}
                for r in self.ratings
            ],
        }

    @classmethod
    def from_json(cls, data: Any) -> FeedbackReceived:
        if not isinstance(data, Mapping):
            return cls()
        ratings = tuple(
            SkillRating(
                str(r.get("skill", "")),
                float(r.get("average", 0)),
                int(r.get("count", 0)),
                str(r.get("name", "")),
            )
            for r in data.get("ratings", ())
            if isinstance(r, Mapping)
        )
        return cls(int(data.get("count", 0)), ratings)


@dataclass(frozen=True)
class Reflections:
    went_well: str = ""
    challenging: str = ""
    next_steps: str = ""

    def __post_init__(self) -> None:
        for name in ("went_well", "challenging", "next_steps"):
            value = getattr(self, name)
            if not isinstance(value, str) or not storable(value):
                raise InvalidEntry(f"'{name}' must be text")
            if len(value) > MAX_REFLECTION_CHARS:
                raise InvalidEntry(f"'{name}' has at most {MAX_REFLECTION_CHARS} characters")


@dataclass(frozen=True)
class Entry:
    """One practice session in a person's logbook."""

    at_ms: int  # when it began, UTC (shown in the person's own time zone)
    duration_min: int
    role: LogRole
    medium: Medium
    scenario: str
    coach: str | None = None
    co_participants: tuple[str, ...] = ()
    feedback: FeedbackReceived = field(default_factory=FeedbackReceived)
    reflections: Reflections = field(default_factory=Reflections)
    source: Source = Source.MANUAL


def storable(value: str) -> bool:
    """Text a database keeps as it is: no NUL character, no lone surrogate."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(name: str, value: Any, required: bool) -> str:
    if not isinstance(value, str) or not storable(value):
        raise InvalidEntry(f"'{name}' must be text")
    text = value.strip()
    if required and not text:
        raise InvalidEntry(f"'{name}' is required")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidEntry(f"'{name}' has at most {MAX_TEXT_CHARS} characters")
    return text


def manual_entry(data: Mapping[str, Any], now_ms: int) -> Entry:
    """A hand-written entry from its fields (JSON values), or InvalidEntry naming the field.

    Fields: at_ms, duration_min, role, medium, scenario (required); coach,
    co_participants (a list of names), went_well, challenging, next_steps.
    """
    at_ms = data.get("at_ms")
    if not isinstance(at_ms, int) or isinstance(at_ms, bool) or at_ms < 0:
        raise InvalidEntry("'at_ms' must be a moment in UTC milliseconds")
    if at_ms > now_ms + FUTURE_SLACK_MS:
        raise InvalidEntry("'at_ms' is in the future: log practice once it has happened")
    duration = data.get("duration_min")
    if (
        not isinstance(duration, int)
        or isinstance(duration, bool)
        or not MIN_DURATION_MIN <= duration <= MAX_DURATION_MIN
    ):
        raise InvalidEntry(
            f"'duration_min' must be a whole number of minutes from {MIN_DURATION_MIN}"
            f" to {MAX_DURATION_MIN}"
        )
    role = data.get("role")
    # a value of any JSON type may arrive: only a string is looked up (a dict is unhashable)
    if not isinstance(role, str) or role not in {r.value for r in LogRole}:
        raise InvalidEntry(f"'role' must be one of: {', '.join(r.value for r in LogRole)}")
    medium = data.get("medium")
    if not isinstance(medium, str) or medium not in {m.value for m in Medium}:
        raise InvalidEntry(f"'medium' must be one of: {', '.join(m.value for m in Medium)}")
    coach = _text("coach", data.get("coach") or "", required=False)
    others = data.get("co_participants", [])
    if not isinstance(others, list) or len(others) > MAX_CO_PARTICIPANTS:
        raise InvalidEntry(f"'co_participants' must be a list of at most {MAX_CO_PARTICIPANTS}")
    names = tuple(n for n in (_text("co_participants", o, False) for o in others) if n)
    return Entry(
        at_ms=at_ms,
        duration_min=duration,
        role=LogRole(str(role)),
        medium=Medium(str(medium)),
        scenario=_text("scenario", data.get("scenario", ""), required=True),
        coach=coach or None,
        co_participants=names,
        reflections=reflections(data),
        source=Source.MANUAL,
    )


def reflections(data: Mapping[str, Any], base: Reflections | None = None) -> Reflections:
    """Reflections from the fields present in `data`, the others kept from `base`."""
    base = base or Reflections()
    return Reflections(
        went_well=data.get("went_well", base.went_well),
        challenging=data.get("challenging", base.challenging),
        next_steps=data.get("next_steps", base.next_steps),
    )


# --- entries written by a completed simulation -----------------------------------------


@dataclass(frozen=True)
class Sitter:
    """Who sat in a seat: the identity they joined with (a person's id when signed in)."""

    identity: str
    name: str


@dataclass(frozen=True)
class Completed:
    """What a simulation that ended left behind, as the logbook needs it."""

    simulation_id: str
    scenario_title: str
    observer_view: ObserverView
    t0_ms: int  # wall clock at the session clock's zero
    end_ms: int  # session clock: when it ended
    #: the timeline's phase changes and joins (dicts as `sessions.review` reads them)
    timeline: Sequence[Mapping[str, Any]]
    #: stored annotations (dicts with t_ms, author, target, visibility, skill, rating)
    notes: Sequence[Mapping[str, Any]] = ()
    #: rubric skill id → its name
    skill_names: Mapping[str, str] = field(default_factory=dict)
    #: the person scheduled in the coach seat, named when nobody joined it
    assigned_coach: str | None = None


_SEATED = ("join", "resume", "replace")


def sitters(timeline: Iterable[Mapping[str, Any]]) -> dict[str, Sitter]:
    """Who held each seat: the last identity (and name) that joined it."""
    found: dict[str, Sitter] = {}
    for event in timeline:
        seat, identity = event.get("seat"), event.get("identity")
        if event.get("kind") in _SEATED and isinstance(seat, str) and isinstance(identity, str):
            name = event.get("name")
            found[seat] = Sitter(identity, name if isinstance(name, str) and name else identity)
    return found


def _feedback(
    completed: Completed, seat: str, identity: str, bands: Sequence[Mapping[str, Any]]
) -> FeedbackReceived:
    """The notes addressed to `seat` its holder may see; ratings averaged per skill."""
    seen = [
        n
        for n in completed.notes
        if n.get("target") == seat
        and n.get("author") != identity
        and may_see(n, SeatId(seat), identity, bands, completed.observer_view)
    ]
    by_skill: dict[str, list[int]] = {}
    for note in seen:
        skill, rating = note.get("skill"), note.get("rating")
        if isinstance(skill, str) and isinstance(rating, int) and not isinstance(rating, bool):
            by_skill.setdefault(skill, []).append(rating)
    ratings = tuple(
        SkillRating(
            skill, round(sum(r) / len(r), 2), len(r), completed.skill_names.get(skill, skill)
        )
        for skill, r in sorted(by_skill.items())
    )
    return FeedbackReceived(len(seen), ratings)


def _nameable(viewer: str, seat: str) -> bool:
    try:
        return may_name(SeatId(viewer), SeatId(seat))
    except UnknownSeat:
        return False


def completed_entries(completed: Completed, is_person: Callable[[str], bool]) -> dict[str, Entry]:
    """Each signed-in participant's entry (person id → entry); `is_person` tells a
    person's id from a guest's identity. Someone who sat in two seats gets the entry
    of the seat they joined last."""
    seats = sitters(completed.timeline)
    bands = phase_bands(list(completed.timeline), completed.end_ms)
    began = ran_from_ms(list(completed.timeline))
    start = began if began is not None and began <= completed.end_ms else 0
    minutes = max(
        MIN_DURATION_MIN, min(MAX_DURATION_MIN, round((completed.end_ms - start) / 60_000))
    )
    coach = seats.get("coach")
    last_seat = {
        e["identity"]: e["seat"]
        for e in completed.timeline
        if e.get("kind") in _SEATED and isinstance(e.get("identity"), str)
    }
    entries: dict[str, Entry] = {}
    for seat, sitter in seats.items():
        role = log_role_of(seat)
        if role is None or last_seat.get(sitter.identity) != seat or not is_person(sitter.identity):
            continue
        others = tuple(
            other.name
            for other_seat, other in sorted(seats.items(), key=_seat_order)
            if other.identity != sitter.identity
            and other_seat != "coach"
            and log_role_of(other_seat) is not None
            and _nameable(seat, other_seat)
        )
        trainee = role in (LogRole.LEAD_MEDIATOR, LogRole.PARTY)
        entries[sitter.identity] = Entry(
            at_ms=completed.t0_ms + start,
            duration_min=minutes,
            role=role,
            medium=Medium.ONLINE,
            scenario=completed.scenario_title,
            coach=coach.name if coach is not None else completed.assigned_coach,
            co_participants=others,
            feedback=(
                _feedback(completed, seat, sitter.identity, bands)
                if trainee
                else FeedbackReceived()
            ),
            source=Source.CAUCUS,
        )
    return entries


_ORDER = (LogRole.LEAD_MEDIATOR, LogRole.PARTY, LogRole.COACH, LogRole.OBSERVER)


def _seat_order(item: tuple[str, Sitter]) -> tuple[int, str]:
    role = log_role_of(item[0])
    return (_ORDER.index(role) if role in _ORDER else len(_ORDER), item[0])


# --- totals for a recognition body ------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    sessions: int
    minutes: int
    #: role → (sessions, minutes), in the vocabulary's order, roles with none left out
    by_role: tuple[tuple[LogRole, int, int], ...]


def totals(entries: Iterable[Entry]) -> Totals:
    count: dict[LogRole, list[int]] = {}
    n = minutes = 0
    for entry in entries:
        n += 1
        minutes += entry.duration_min
        pair = count.setdefault(entry.role, [0, 0])
        pair[0] += 1
        pair[1] += entry.duration_min
    by_role = tuple((r, count[r][0], count[r][1]) for r in LogRole if r in count)
    return Totals(n, minutes, by_role)
