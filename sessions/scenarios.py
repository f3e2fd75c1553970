"""Scenarios: a case, a confidential brief per seat, a rubric and a phase plan."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Any

from sessions.errors import InvalidScenario, InvalidTransition
from sessions.ids import ScenarioId, SeatId
from sessions.phases import Phase, PhaseKind
from sessions.roles import MAX_PARTIES, MIN_PARTIES, PARTY_SEATS

_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_SKILL_ID = re.compile(r"[a-z][a-z0-9_]{0,47}")


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
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        try:
            plan = tuple(
                PlanStep(
                    Phase(PhaseKind(s["phase"]), SeatId(s["seat"]) if s.get("seat") else None),
                    int(s["minutes"]),
                )
                for s in data.get("phase_plan", ())
            )
            return cls(
                id=ScenarioId(str(data["id"])),
                title=str(data["title"]),
                summary=str(data["summary"]),
                parties=tuple(
                    PartyRole(SeatId(p["seat"]), str(p["name"]), str(p["label"]))
                    for p in data["parties"]
                ),
                briefs={str(k): str(v) for k, v in dict(data["briefs"]).items()},
                rubric=tuple(
                    Skill(str(s["id"]), str(s["name"]), str(s.get("description", "")))
                    for s in data["rubric"]
                ),
                plan=plan,
                observer_view=ObserverView(data.get("observers", ObserverView.JOINT_ONLY.value)),
                coach_hidden=bool(data.get("coach_hidden", True)),
            )
        except (KeyError, TypeError, ValueError, InvalidTransition) as exc:
            raise InvalidScenario(f"scenario is malformed: {exc!r}") from exc


def builtin_scenarios() -> dict[ScenarioId, Scenario]:
    """The scenarios shipped as data files in `sessions/scenarios/`."""
    found: dict[ScenarioId, Scenario] = {}
    for entry in resources.files("sessions").joinpath("scenarios").iterdir():
        if entry.name.endswith(".json"):
            scenario = Scenario.from_dict(json.loads(entry.read_text(encoding="utf-8")))
            found[scenario.id] = scenario
    return dict(sorted(found.items()))
