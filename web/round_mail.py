"""The mail each person seated in a published practice round receives: their session's
time on their own clock (and in UTC), their seat, and the link to join."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo


def seat_words(seat: str) -> str:
    if seat.startswith("party_"):
        return f"party {seat.rsplit('_', 1)[-1].upper()}"
    if seat.startswith("observer_"):
        return "observer"
    return seat


def round_message(
    person: Mapping[str, Any],
    seat: str,
    scenario_title: str,
    start_ms: int,
    duration_min: int,
    join_url: str,
) -> EmailMessage:
    zone = ZoneInfo(str(person["time_zone"]))
    start = datetime.fromtimestamp(start_ms / 1000, zone)
    utc = datetime.fromtimestamp(start_ms / 1000, UTC)
    message = EmailMessage()
    message["To"] = str(person["email"])
    message["Subject"] = f"Practice session: {scenario_title}, {start:%a %d %b %H:%M}"
    message.set_content(
        f"Hello {person['name']},\n\n"
        f"You have a practice session in the next round: {scenario_title}, "
        f"as {seat_words(seat)}.\n\n"
        f"  When: {start:%A %d %B %Y at %H:%M} ({person['time_zone']}), "
        f"{duration_min} minutes\n"
        f"        ({utc:%H:%M} UTC)\n"
        f"  Join: {join_url}\n\n"
        "The link opens 15 minutes before the start; sign in with your Caucus account.\n"
        "It is also on your Caucus home page and in your calendar feed.\n"
    )
    return message
