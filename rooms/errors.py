"""The room service's refusals: domain errors whose `code` the adapters send as they are."""

from __future__ import annotations

from sessions.errors import DomainError


class NotJoined(DomainError):
    """A seat command from a connection that sits in no seat."""

    code = "not_joined"


class AlreadySeated(DomainError):
    code = "bad_request"


class NoFeedback(DomainError):
    """The server was built without feedback (live notes)."""

    code = "unknown_event"


class NoMedia(DomainError):
    """The server runs no media."""

    code = "unknown_event"


class TooSoon(DomainError):
    """A new media connection was just offered for this seat."""

    code = "rate_limited"


class MediaRefused(DomainError):
    """Media refused a client's SDP answer or ICE candidate (the client's mistake)."""

    code = "bad_request"

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"the {what} was refused: {reason}")
        self.what = what
        self.reason = reason
