"""People who sign in, and the standing each holds (pure: no storage, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """A person's standing in the organisation; within a cohort they may hold another."""

    ADMIN = "admin"
    COACH = "coach"
    TRAINEE = "trainee"


class CohortRole(StrEnum):
    COACH = "coach"
    TRAINEE = "trainee"


@dataclass(frozen=True)
class Person:
    id: str
    email: str
    name: str
    time_zone: str  # IANA, e.g. "Africa/Nairobi"
    role: Role
    active: bool

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN
