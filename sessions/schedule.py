"""Scheduled simulations: when one opens, how long it runs, who sits where (pure).

Times are UTC milliseconds; a time typed in a person's own zone is turned into
one here (zoneinfo), so pages and the API agree on what "09:00 in Phoenix" means.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sessions.errors import DomainError, UnknownSeat
from sessions.ids import SeatId
from sessions.roles import Role, role_of
from sessions.scenarios import Scenario

#: a signed-in person may take their seat this long before the scheduled start
JOIN_EARLY_MS = 15 * 60_000
#: a seat token of a scheduled simulation stays valid this long after its planned end
TOKEN_AFTER_END_MS = 2 * 3600_000
MIN_DURATION_MIN, MAX_DURATION_MIN = 15, 240
DEFAULT_DURATION_MIN = 60
#: a simulation cannot be scheduled further back than this (a form submitted a bit late)
PAST_TOLERANCE_MS = 5 * 60_000
#: nor further ahead than this
MAX_AHEAD_MS = 2 * 365 * 24 * 3600_000


class BadTime(DomainError):
    code = "bad_time"


class InThePast(DomainError):
    code = "in_the_past"


class BadDuration(DomainError):
    code = "bad_duration"


class BadTimeZone(DomainError):
    code = "bad_time_zone"


class PersonTwice(DomainError):
    code = "person_twice"


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or BadTimeZone."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        raise BadTimeZone(f"{name[:64]!r} is not an IANA time zone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadTimeZone(f"{name[:64]!r} is not an IANA time zone") from None


def utc_ms(local: str, time_zone: str) -> int:
    """The UTC instant of wall-clock time `local` ("2027-03-10T09:00") in `time_zone`.

    A time the clocks skip (a spring-forward gap) does not exist there: BadTime. In
    the repeated hour of an autumn change the first of the two is meant.
    """
    where = zone(time_zone)
    try:
        naive = datetime.fromisoformat(local)
    except ValueError:
        raise BadTime(f"{local[:40]!r} is not a date and time (YYYY-MM-DDTHH:MM)") from None
    if naive.tzinfo is not None:
        raise BadTime("give the local time without an offset; the time zone says where")
    aware = naive.replace(tzinfo=where)
    back = datetime.fromtimestamp(aware.timestamp(), where).replace(tzinfo=None)
    if back != naive:
        raise BadTime(f"{local} does not exist in {time_zone} (the clocks skip it)")
    return round(aware.timestamp() * 1000)


def local_iso(ms: int, time_zone: str) -> str:
    """`ms` as wall-clock time in `time_zone`, "YYYY-MM-DDTHH:MM"."""
    moment = datetime.fromtimestamp(ms / 1000, UTC).astimezone(zone(time_zone))
    return moment.strftime("%Y-%m-%dT%H:%M")


def check_start(scheduled_ms: int, now_ms: int) -> int:
    if scheduled_ms < now_ms - PAST_TOLERANCE_MS:
        raise InThePast("a simulation cannot be scheduled in the past")
    if scheduled_ms > now_ms + MAX_AHEAD_MS:
        raise BadTime("a simulation is scheduled at most two years ahead")
    return scheduled_ms


def check_duration(minutes: int) -> int:
    if not MIN_DURATION_MIN <= minutes <= MAX_DURATION_MIN:
        raise BadDuration(
            f"a simulation lasts {MIN_DURATION_MIN} to {MAX_DURATION_MIN} minutes, not {minutes}"
        )
    return minutes


def check_seats(seats: Mapping[str, str], room_seats: tuple[SeatId, ...]) -> dict[SeatId, str]:
    """Seat → person id, each seat one the room has and each person in one seat only."""
    placed: dict[SeatId, str] = {}
    seen: dict[str, str] = {}
    for seat, person in seats.items():
        if seat not in room_seats:
            raise UnknownSeat(f"this simulation has no seat {seat[:32]!r}")
        if person in seen:
            raise PersonTwice(f"one person cannot sit in both {seen[person]} and {seat}")
        seen[person] = seat
        placed[SeatId(seat)] = person
    return placed


def opens_ms(scheduled_ms: int) -> int:
    """When a signed-in person may first take their seat."""
    return scheduled_ms - JOIN_EARLY_MS


def ends_ms(scheduled_ms: int, duration_min: int) -> int:
    """The planned end."""
    return scheduled_ms + duration_min * 60_000


def token_expiry_ms(scheduled_ms: int, duration_min: int) -> int:
    """When a seat token for a scheduled simulation stops admitting anyone."""
    return ends_ms(scheduled_ms, duration_min) + TOKEN_AFTER_END_MS


def seat_label(scenario: Scenario, seat: SeatId) -> str:
    """How the console names a seat: "Mediator", "Party A (Amara Okafor)", "Observer 1"."""
    role = role_of(seat)
    if role is Role.PARTY:
        suffix = seat.rsplit("_", 1)[-1].upper()
        for party in scenario.parties:
            if party.seat == seat:
                return f"Party {suffix} ({party.name})"
        return f"Party {suffix}"
    if role is Role.OBSERVER:
        return f"Observer {seat.rsplit('_', 1)[-1]}"
    return role.value.capitalize()
