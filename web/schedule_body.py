"""Reading a scheduling request's body: the start (UTC or a local time in a zone), the
people in seats, optional strings and integers; each refusal names the field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sessions.ids import SeatId
from sessions.schedule import BadTime, check_seats, check_start, utc_ms
from storage.people import now_ms
from web.errors import BadRequest


def optional_str(data: Mapping[str, Any], key: str, max_chars: int) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_chars:
        raise BadRequest(f"'{key}' must be a string of 1 to {max_chars} characters, or null")
    return value


def integer(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadRequest(f"'{key}' must be an integer")
    return value


def start(data: Mapping[str, Any], default_zone: str) -> int | None:
    """The planned start: `scheduled_ms` (UTC ms), or `local_time` in `time_zone`."""
    given_ms, local = data.get("scheduled_ms"), data.get("local_time")
    if given_ms is not None and local is not None:
        raise BadTime("give scheduled_ms or local_time, not both")
    if local is not None:
        if not isinstance(local, str) or len(local) > 40:
            raise BadTime("'local_time' is a date and time, YYYY-MM-DDTHH:MM")
        zone = data.get("time_zone", default_zone)
        if not isinstance(zone, str):
            raise BadTime("'time_zone' is an IANA name such as Africa/Nairobi")
        return check_start(utc_ms(local, zone), now_ms())
    if given_ms is None:
        return None
    if not isinstance(given_ms, int) or isinstance(given_ms, bool) or given_ms < 0:
        raise BadTime("'scheduled_ms' is a UTC time in milliseconds")
    return check_start(given_ms, now_ms())


def seats_of(data: Mapping[str, Any], seats: tuple[SeatId, ...]) -> dict[SeatId, str]:
    given = data.get("seats") or {}
    if not isinstance(given, dict) or len(given) > len(seats) + 4:
        raise BadRequest("'seats' is an object: seat → person id")
    for seat, person in given.items():
        if not isinstance(person, str) or not 0 < len(person) <= 64:
            raise BadRequest(f"seat {str(seat)[:32]!r}: a person id is a short string")
    return check_seats(given, seats)
