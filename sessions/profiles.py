"""What a person's account may hold: email, display name, time zone, role, password (pure).

Each check returns the cleaned value or raises a DomainError whose code names
the field, so an API answers every bad input with its own code.
"""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache

from sessions.errors import DomainError
from sessions.people import Role

MAX_EMAIL_CHARS = 254  # RFC 5321's limit on a forward path
MAX_NAME_CHARS = 80
MIN_PASSWORD_CHARS = 10
#: argon2 hashes any length, but a megabyte "password" is only a way to spend our CPU
MAX_PASSWORD_CHARS = 256
MAX_TIME_ZONE_CHARS = 64

# Deliberately loose (local@domain.tld, no spaces or angle brackets): the invitation
# mail is the real test of an address.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^\s@<>\"(),;:\\\[\]]+@{_LABEL}(?:\.{_LABEL})+$")


class BadEmail(DomainError):
    code = "bad_email"


class BadName(DomainError):
    code = "bad_name"


class BadTimeZone(DomainError):
    code = "bad_time_zone"


class BadRole(DomainError):
    code = "bad_role"


class WeakPassword(DomainError):
    code = "weak_password"


def email(value: object) -> str:
    """A plausible address, lower-cased (addresses are compared case-insensitively here)."""
    if not isinstance(value, str):
        raise BadEmail("'email' must be a string")
    cleaned = value.strip().lower()
    if len(cleaned) > MAX_EMAIL_CHARS or not _EMAIL.match(cleaned):
        raise BadEmail(f"{value[:80]!r} is not an email address")
    return cleaned


def name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadName("'name' must be a non-empty string")
    cleaned = " ".join(value.split())
    if len(cleaned) > MAX_NAME_CHARS or not cleaned.isprintable():
        raise BadName(f"'name' must be 1 to {MAX_NAME_CHARS} printable characters")
    return cleaned


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone(value: object) -> str:
    """An IANA zone name this machine knows, e.g. "Africa/Nairobi"."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_TIME_ZONE_CHARS:
        raise BadTimeZone("'time_zone' must be an IANA time zone name such as 'Africa/Nairobi'")
    if value not in _zones():
        raise BadTimeZone(f"{value!r} is not an IANA time zone (e.g. 'America/Phoenix')")
    return value


def role(value: object) -> Role:
    if isinstance(value, str) and value in Role._value2member_map_:
        return Role(value)
    raise BadRole(f"'role' must be one of {', '.join(r.value for r in Role)}")


def password(value: object) -> str:
    if not isinstance(value, str) or len(value) < MIN_PASSWORD_CHARS:
        raise WeakPassword(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(value) > MAX_PASSWORD_CHARS:
        raise WeakPassword(f"a password has at most {MAX_PASSWORD_CHARS} characters")
    return value
