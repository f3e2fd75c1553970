"""Scenarios: a case, a confidential brief per seat, a rubric and a phase plan."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any

from sessions.errors import DomainError, InvalidScenario
from sessions.ids import ScenarioId, SeatId
from sessions.phases import Phase, PhaseKind
from sessions.roles import MAX_PARTIES, MIN_PARTIES, PARTY_SEATS

_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_SKILL_ID = re.compile(r"[a-z][a-z0-9_]{0,47}")

#: limits on a scenario's document (the shipped ones are well inside them; a request
#: body is at most 64 KiB in all, caucus/app.py MAX_BODY_BYTES)
TITLE_MAX = 200
SUMMARY_MAX = 8_000
BRIEF_MAX = 12_000
NAME_MAX = 120
LABEL_MAX = 200
DESCRIPTION_MAX = 2_000
RUBRIC_MAX = 20
PLAN_MAX = 40
#: briefs a scenario may have beside the mediator's and each party's
OPTIONAL_BRIEFS = ("coach", "observer")
_KEYS = frozenset(
    ("id", "title", "summary", "parties", "briefs", "rubric", "phase_plan")
    + ("observers", "coach_hidden")
)
_PLANNED = tuple(k.value for k in PhaseKind if k not in (PhaseKind.LOBBY, PhaseKind.ENDED))


class ScenarioFieldError(InvalidScenario):
    """A malformed scenario document; `field` is the path of the part that is wrong
    (`title`, `parties[1].name`, `briefs.party_a`, `phase_plan[0].minutes`)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class ReadOnlyScenario(DomainError):
    """The shipped scenarios are files: copy one to change it."""

    code = "read_only"


class ObserverView(StrEnum):
    """What observers may watch."""

    ALL = "all"  # caucuses included
    JOINT_ONLY = "joint_only"  # everything but caucuses


@dataclass(frozen=True)
class PartyRole:
    seat: SeatId
    name: str
    label: str


@dataclass(frozen=True)
class Skill:
    id: str
    name: str
    description: str

    def __post_init__(self) -> None:
        if not _SKILL_ID.fullmatch(self.id):
            raise InvalidScenario(f"rubric skill id {self.id!r} is not snake_case")


@dataclass(frozen=True)
class PlanStep:
    phase: Phase
    minutes: int

    def __post_init__(self) -> None:
        if self.phase.kind in (PhaseKind.LOBBY, PhaseKind.ENDED):
            raise InvalidScenario(f"a phase plan does not schedule {self.phase}")
        if not 0 < self.minutes <= 240:
            raise InvalidScenario(f"{self.phase} lasts 1 to 240 minutes, not {self.minutes}")


@dataclass(frozen=True)
class Scenario:
    id: ScenarioId
    title: str
    summary: str
    parties: tuple[PartyRole, ...]
    #: brief key → confidential text; keys are seats, or "observer" for every observer seat
    briefs: Mapping[str, str]
    rubric: tuple[Skill, ...]
    plan: tuple[PlanStep, ...]
    observer_view: ObserverView = ObserverView.JOINT_ONLY
    coach_hidden: bool = True

    def __post_init__(self) -> None:
        if not _ID.fullmatch(self.id):
            raise InvalidScenario(f"scenario id {self.id!r} must be lowercase words and hyphens")
        seats = [p.seat for p in self.parties]
        if not MIN_PARTIES <= len(seats) <= MAX_PARTIES:
            raise InvalidScenario(f"a scenario has {MIN_PARTIES} to {MAX_PARTIES} parties")
        if seats != list(PARTY_SEATS[: len(seats)]):
            raise InvalidScenario(f"party seats must be {', '.join(PARTY_SEATS[: len(seats)])}")
        for seat in ("mediator", *seats):
            if not self.briefs.get(seat):
                raise InvalidScenario(f"scenario {self.id} has no brief for {seat}")
        for step in self.plan:
            if step.phase.caucus_seat is not None and step.phase.caucus_seat not in seats:
                raise InvalidScenario(f"the plan caucuses with {step.phase.caucus_seat}, no party")

    @property
    def party_seats(self) -> tuple[SeatId, ...]:
        return tuple(p.seat for p in self.parties)

    def brief_key(self, seat: SeatId) -> str:
        return "observer" if seat.startswith("observer_") else seat

    def planned_minutes(self, phase: Phase) -> int | None:
        """The planned length of the first step of `phase` in the plan, if any."""
        for step in self.plan:
            if step.phase == phase:
                return step.minutes
        for step in self.plan:
            if step.phase.kind is phase.kind:
                return step.minutes
        return None

    @classmethod
    def from_dict(cls, data: object) -> Scenario:
        """A scenario from its JSON document; a refusal names the field (`ScenarioFieldError`)."""
        return parse_scenario(data)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document `from_dict` reads (the shape of sessions/scenarios/*.json)."""
        return {
            "id": self.id,
            "title": self.title,
            "summary": self.summary,
            "parties": [{"seat": p.seat, "name": p.name, "label": p.label} for p in self.parties],
            "briefs": dict(self.briefs),
            "rubric": [
                {"id": s.id, "name": s.name, "description": s.description} for s in self.rubric
            ],
            "phase_plan": [
                {"phase": s.phase.kind.value, "minutes": s.minutes}
                | ({"seat": s.phase.caucus_seat} if s.phase.caucus_seat else {})
                for s in self.plan
            ],
            "observers": self.observer_view.value,
            "coach_hidden": self.coach_hidden,
        }


def builtin_scenarios() -> dict[ScenarioId, Scenario]:
    """The scenarios shipped as data files in `sessions/scenarios/`."""
    found: dict[ScenarioId, Scenario] = {}
    for entry in resources.files("sessions").joinpath("scenarios").iterdir():
        if entry.name.endswith(".json"):
            scenario = Scenario.from_dict(json.loads(entry.read_text(encoding="utf-8")))
            found[scenario.id] = scenario
    return dict(sorted(found.items()))


def _object(value: object, path: str, keys: Iterable[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioFieldError(path or "scenario", f"{path or 'a scenario'} must be an object")
    allowed = frozenset(keys)
    for key in value:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            raise ScenarioFieldError(where, f"{where} is not a field of a scenario")
    return value


def _text(
    data: Mapping[str, Any], key: str, path: str, max_chars: int, *, blank: bool = False
) -> str:
    where = f"{path}.{key}" if path else key
    value = data.get(key, "" if blank else None)
    if not isinstance(value, str):
        raise ScenarioFieldError(where, f"{where} must be text")
    if not blank and not value.strip():
        raise ScenarioFieldError(where, f"{where} must not be empty")
    if len(value) > max_chars:
        raise ScenarioFieldError(where, f"{where} has at most {max_chars} characters")
    return value.strip()


def _list(data: Mapping[str, Any], key: str, low: int, high: int) -> list[Any]:
    value = data.get(key, [] if low == 0 else None)
    if not isinstance(value, list):
        raise ScenarioFieldError(key, f"{key} must be a list")
    if not low <= len(value) <= high:
        raise ScenarioFieldError(key, f"{key} has {low} to {high} entries, not {len(value)}")
    return value


def _parties(data: Mapping[str, Any]) -> tuple[PartyRole, ...]:
    found = []
    for i, raw in enumerate(_list(data, "parties", MIN_PARTIES, MAX_PARTIES)):
        path = f"parties[{i}]"
        party = _object(raw, path, ("seat", "name", "label"))
        seat = party.get("seat", PARTY_SEATS[i])
        if seat != PARTY_SEATS[i]:
            raise ScenarioFieldError(
                f"{path}.seat", f"party {i + 1} sits in {PARTY_SEATS[i]}, not {seat!r}"
            )
        found.append(
            PartyRole(
                PARTY_SEATS[i],
                _text(party, "name", path, NAME_MAX),
                _text(party, "label", path, LABEL_MAX),
            )
        )
    return tuple(found)


def _briefs(data: Mapping[str, Any], seats: tuple[SeatId, ...]) -> dict[str, str]:
    required = ("mediator", *seats)
    raw = _object(data.get("briefs"), "briefs", (*required, *OPTIONAL_BRIEFS))
    briefs = {key: _text(raw, key, "briefs", BRIEF_MAX) for key in required}
    for key in OPTIONAL_BRIEFS:
        text = _text(raw, key, "briefs", BRIEF_MAX, blank=True)
        if text:
            briefs[key] = text
    return briefs


def _rubric(data: Mapping[str, Any]) -> tuple[Skill, ...]:
    skills: list[Skill] = []
    for i, raw in enumerate(_list(data, "rubric", 1, RUBRIC_MAX)):
        path = f"rubric[{i}]"
        item = _object(raw, path, ("id", "name", "description"))
        skill_id = item.get("id")
        if not isinstance(skill_id, str) or not _SKILL_ID.fullmatch(skill_id):
            raise ScenarioFieldError(
                f"{path}.id", f"{path}.id must be snake_case (like active_listening)"
            )
        if any(s.id == skill_id for s in skills):
            raise ScenarioFieldError(f"{path}.id", f"two rubric items are called {skill_id!r}")
        skills.append(
            Skill(
                skill_id,
                _text(item, "name", path, NAME_MAX),
                _text(item, "description", path, DESCRIPTION_MAX, blank=True),
            )
        )
    return tuple(skills)


def _plan(data: Mapping[str, Any], seats: tuple[SeatId, ...]) -> tuple[PlanStep, ...]:
    steps = []
    for i, raw in enumerate(_list(data, "phase_plan", 0, PLAN_MAX)):
        path = f"phase_plan[{i}]"
        step = _object(raw, path, ("phase", "seat", "minutes"))
        kind = step.get("phase")
        if kind not in _PLANNED:
            raise ScenarioFieldError(
                f"{path}.phase", f"{path}.phase is one of {', '.join(_PLANNED)}, not {kind!r}"
            )
        seat = step.get("seat")
        if kind == PhaseKind.CAUCUS.value:
            if seat not in seats:
                raise ScenarioFieldError(
                    f"{path}.seat", f"a caucus is held with a party seat ({', '.join(seats)})"
                )
        elif seat is not None:
            raise ScenarioFieldError(f"{path}.seat", f"only a caucus names a seat, not {kind}")
        minutes = step.get("minutes")
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 < minutes <= 240:
            raise ScenarioFieldError(
                f"{path}.minutes", f"{path}.minutes must be a whole number from 1 to 240"
            )
        steps.append(PlanStep(Phase(PhaseKind(kind), SeatId(seat) if seat else None), minutes))
    return tuple(steps)


def parse_scenario(data: object) -> Scenario:
    """The one validator of scenario documents, shipped or written in the console.

    Checks every field's type, size and meaning before anything is built, so a
    refusal (`ScenarioFieldError`) names the field a form should mark.
    """
    document = _object(data, "", _KEYS)
    scenario_id = document.get("id")
    if not isinstance(scenario_id, str) or not _ID.fullmatch(scenario_id):
        raise ScenarioFieldError(
            "id", "the id is lowercase letters, digits and hyphens (at most 64)"
        )
    parties = _parties(document)
    seats = tuple(p.seat for p in parties)
    observers = document.get("observers", ObserverView.JOINT_ONLY.value)
    if observers not in tuple(v.value for v in ObserverView):
        raise ScenarioFieldError("observers", "observers is 'all' or 'joint_only'")
    coach_hidden = document.get("coach_hidden", True)
    if not isinstance(coach_hidden, bool):
        raise ScenarioFieldError("coach_hidden", "coach_hidden is true or false")
    try:
        return Scenario(
            id=ScenarioId(scenario_id),
            title=_text(document, "title", "", TITLE_MAX),
            summary=_text(document, "summary", "", SUMMARY_MAX),
            parties=parties,
            briefs=_briefs(document, seats),
            rubric=_rubric(document),
            plan=_plan(document, seats),
            observer_view=ObserverView(observers),
            coach_hidden=coach_hidden,
        )
    except ScenarioFieldError:
        raise
    except InvalidScenario as exc:  # a rule of Scenario itself the checks above missed
        raise ScenarioFieldError("scenario", exc.message) from None


class ScenarioCatalogue(Mapping[ScenarioId, Scenario]):
    """The scenarios simulations may use: the shipped ones (read-only) and those written
    in the console. One live object, shared by everything that looks scenarios up, so a
    scenario is usable the moment it is stored (`put`)."""

    def __init__(self, shipped: Mapping[ScenarioId, Scenario]) -> None:
        self._shipped = dict(shipped)
        self._written: dict[ScenarioId, Scenario] = {}

    def __getitem__(self, key: ScenarioId) -> Scenario:
        found = self._shipped.get(key)
        return found if found is not None else self._written[key]

    def __iter__(self) -> Iterator[ScenarioId]:
        yield from self._shipped
        yield from sorted(self._written)

    def __len__(self) -> int:
        return len(self._shipped) + len(self._written)

    def is_builtin(self, scenario_id: str) -> bool:
        return scenario_id in self._shipped

    def put(self, scenario: Scenario) -> None:
        if self.is_builtin(scenario.id):
            raise ReadOnlyScenario(f"{scenario.id} is a shipped scenario: copy it to change it")
        self._written[scenario.id] = scenario

    def discard(self, scenario_id: str) -> None:
        self._written.pop(ScenarioId(scenario_id), None)

    def load(self, written: Iterable[Scenario]) -> None:
        """Replace the written scenarios (at start); a shipped id is never shadowed."""
        self._written = {s.id: s for s in written if not self.is_builtin(s.id)}
