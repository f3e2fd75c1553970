"""Domain errors: each names the rule that was broken."""

from __future__ import annotations


class DomainError(Exception):
    """A request the simulation's rules refuse. `code` is stable for clients."""

    code = "rule_broken"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotPermitted(DomainError):
    code = "forbidden"


class InvalidTransition(DomainError):
    code = "invalid_transition"


class UnknownSeat(DomainError):
    code = "unknown_seat"


class SeatTaken(DomainError):
    code = "seat_taken"


class NotSeated(DomainError):
    code = "not_seated"


class InvalidScenario(DomainError):
    code = "invalid_scenario"
