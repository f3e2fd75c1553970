"""Cohorts: a course run with dates, and the practice its certificate requires (pure).

A cohort's members (coaches, trainees) and the scenarios it uses are kept by
`storage/cohorts.py`; this module only says what a well-formed cohort is. Every
refusal names the field it is about, so a form can show it beside that field.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sessions.errors import DomainError
from sessions.people import CohortRole

NAME_MAX_CHARS = 120
#: a requirement's count (sessions, hours) is at most this
COUNT_MAX = 1000
#: a cohort lasts at most this many days (ten years: a typo in the year, not a course)
DAYS_MAX = 3660


class InvalidCohort(DomainError):
    """A cohort the rules refuse; `field` names the part of the request that is wrong."""

    code = "invalid_cohort"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Requirements:
    """What a trainee must have done to complete the cohort (counted by the logbook)."""

    mediator_sessions: int = 0
    party_sessions: int = 0
    hours: int = 0
    feedback_read: bool = False
    reflections: bool = False

    def __post_init__(self) -> None:
        for name in _COUNTS:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise InvalidCohort(f"requirements.{name}", f"{name} must be a whole number")
            if not 0 <= value <= COUNT_MAX:
                raise InvalidCohort(
                    f"requirements.{name}", f"{name} must be from 0 to {COUNT_MAX}, not {value}"
                )
        for name in _FLAGS:
            if not isinstance(getattr(self, name), bool):
                raise InvalidCohort(f"requirements.{name}", f"{name} must be true or false")

    @classmethod
    def from_dict(cls, data: object) -> Requirements:
        """Requirements from JSON; a key left out asks for nothing (0 or false)."""
        if not isinstance(data, Mapping):
            raise InvalidCohort("requirements", "requirements must be an object")
        unknown = sorted(str(k) for k in data if k not in _COUNTS + _FLAGS)
        if unknown:
            raise InvalidCohort(
                f"requirements.{unknown[0]}",
                f"unknown requirement {unknown[0]!r}; known: {', '.join(_COUNTS + _FLAGS)}",
            )
        return cls(**{str(k): v for k, v in data.items()})

    def to_dict(self) -> dict[str, int | bool]:
        return {name: getattr(self, name) for name in _COUNTS + _FLAGS}


_COUNTS = ("mediator_sessions", "party_sessions", "hours")
_FLAGS = ("feedback_read", "reflections")


def parse_date(value: object, name: str) -> datetime.date:
    if not isinstance(value, str) or len(value) != 10:
        raise InvalidCohort(name, f"{name} must be a date written YYYY-MM-DD")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise InvalidCohort(name, f"{name} {value!r} is not a date (YYYY-MM-DD)") from None


def check_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidCohort("name", "a cohort needs a name")
    name = value.strip()
    if len(name) > NAME_MAX_CHARS:
        raise InvalidCohort("name", f"a cohort's name has at most {NAME_MAX_CHARS} characters")
    return name


@dataclass(frozen=True)
class Cohort:
    id: str
    name: str
    starts_on: datetime.date
    ends_on: datetime.date
    requirements: Requirements = field(default_factory=Requirements)
    created_ms: int = 0

    def __post_init__(self) -> None:
        check_name(self.name)
        if self.ends_on < self.starts_on:
            raise InvalidCohort("ends_on", "a cohort cannot end before it starts")
        if (self.ends_on - self.starts_on).days > DAYS_MAX:
            raise InvalidCohort("ends_on", f"a cohort lasts at most {DAYS_MAX} days")

    def changed(self, data: Mapping[str, Any]) -> Cohort:
        """This cohort with the fields in `data` (name, starts_on, ends_on, requirements)."""
        return Cohort(
            self.id,
            check_name(data["name"]) if "name" in data else self.name,
            parse_date(data["starts_on"], "starts_on") if "starts_on" in data else self.starts_on,
            parse_date(data["ends_on"], "ends_on") if "ends_on" in data else self.ends_on,
            Requirements.from_dict(data["requirements"])
            if "requirements" in data
            else self.requirements,
            self.created_ms,
        )

    @classmethod
    def from_dict(cls, cohort_id: str, data: Mapping[str, Any], created_ms: int) -> Cohort:
        """A new cohort from a request: name and both dates required, requirements optional."""
        for required in ("name", "starts_on", "ends_on"):
            if required not in data:
                raise InvalidCohort(required, f"a cohort needs {required}")
        return cls(
            cohort_id,
            check_name(data["name"]),
            parse_date(data["starts_on"], "starts_on"),
            parse_date(data["ends_on"], "ends_on"),
            Requirements.from_dict(data.get("requirements", {})),
            created_ms,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "starts_on": self.starts_on.isoformat(),
            "ends_on": self.ends_on.isoformat(),
            "requirements": self.requirements.to_dict(),
            "created_ms": self.created_ms,
        }


def shows_email(viewer_role: CohortRole | None, viewer_id: str | None, member_id: str) -> bool:
    """Whether a viewer of a cohort sees a member's email: the admin (`viewer_role` None)
    and the cohort's coaches see every one; a trainee sees only their own."""
    return viewer_role is not CohortRole.TRAINEE or viewer_id == member_id
