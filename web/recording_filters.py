"""Filters of the recordings list: `?cohort=`, `?person=`, `?from=` and `?to=` (UTC ms).

`person` is a person's id, email or part of their name (or an identity typed on a
seat token): the sessions they sat in, by a join under that identity or a seat
assigned to them. `from`/`to` bound the session's start (its clock's t0, else its
planned start, else its creation), inclusive.
"""

from __future__ import annotations

from collections.abc import Mapping

from storage.reviewers import RecordingFilter
from web.errors import BadRequest

MAX_TEXT = 200
#: the largest ms a JavaScript number holds exactly
MAX_MS = 2**53 - 1


def _text(query: Mapping[str, str], name: str) -> str | None:
    if name not in query:
        return None
    value = query[name].strip()
    if not value or len(value) > MAX_TEXT:
        raise BadRequest(f"{name} must be 1 to {MAX_TEXT} characters")
    return value


def _ms(query: Mapping[str, str], name: str) -> int | None:
    if name not in query:
        return None
    raw = query[name].strip()
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_MS:
        raise BadRequest(f"{name} must be a time in UTC milliseconds (a whole number ≥ 0)")
    return int(raw)


def parse_filter(query: Mapping[str, str]) -> RecordingFilter | None:
    """The filter the query asks for; None if it asks for none. BadRequest on bad values."""
    found = RecordingFilter(
        _text(query, "cohort"), _text(query, "person"), _ms(query, "from"), _ms(query, "to")
    )
    if found.from_ms is not None and found.to_ms is not None and found.from_ms > found.to_ms:
        raise BadRequest("from must not be after to")
    return None if found == RecordingFilter() else found
