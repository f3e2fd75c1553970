"""A cohort for practice rounds: trainees in Nairobi, Taipei, Phoenix and London and two
coaches, each with realistic weekly availability in their own zone (written straight
into storage, as each person's PUT /api/me/availability would)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert

from sessions.people import Role
from sessions.stated_availability import Statement, read_statement
from storage import availability
from storage.database import Database
from storage.people import People, now_ms
from storage.schema import cohort_members, cohorts

#: zone → weekly evening/morning slots on their own clock, every day of the week; all
#: four share 15:00–16:30 UTC in December (Nairobi UTC+3, Taipei +8, Phoenix −7, London 0)
TRAINEE_HOURS = {
    "Africa/Nairobi": ("17:00", "21:00"),  # 14:00–18:00 UTC
    "Asia/Taipei": ("21:00", "00:30"),  # 13:00–16:30 UTC
    "America/Phoenix": ("07:00", "10:00"),  # 14:00–17:00 UTC
    "Europe/London": ("12:00", "19:00"),  # 12:00–19:00 UTC in winter
}
COACH_HOURS = {
    "Europe/London": ("09:00", "21:00"),
    "Africa/Nairobi": ("12:00", "23:00"),
}


def weekly(start: str, end: str) -> Statement:
    return read_statement(
        {"weekly": [{"weekday": d, "start": start, "end": end} for d in range(7)]}
    )


@dataclass(frozen=True)
class RoundCohort:
    cohort: str
    trainees: tuple[str, ...]
    coaches: tuple[str, ...]
    zone_of: dict[str, str]
    name_of: dict[str, str]
    email_of: dict[str, str]


async def round_cohort(
    db: Database,
    trainees_per_zone: int = 2,
    coaches: tuple[str, ...] | None = None,
    coach_ids: tuple[str, ...] = (),
    scenario: str | None = None,
) -> RoundCohort:
    """`trainees_per_zone` trainees in each zone of TRAINEE_HOURS and a coach in each zone of
    `coaches` (COACH_HOURS by default), plus `coach_ids` (existing people) as coaches with
    London coach hours; every one with their weekly availability."""
    store = People(db)
    tag = secrets.token_hex(3)
    zone_of: dict[str, str] = {}
    name_of: dict[str, str] = {}
    email_of: dict[str, str] = {}
    trainee_ids: list[str] = []
    coach_list: list[str] = []
    n = 0
    for zone, (start, end) in TRAINEE_HOURS.items():
        city = zone.split("/")[1]
        for i in range(trainees_per_zone):
            n += 1
            email = f"t{n}-{tag}@example.org"
            person = await store.add(email, f"{city} trainee {i + 1}", Role.TRAINEE, zone)
            await availability.replace(db, person.id, weekly(start, end))
            trainee_ids.append(person.id)
            zone_of[person.id], name_of[person.id] = zone, person.name
            email_of[person.id] = email
    for zone in coaches if coaches is not None else tuple(COACH_HOURS):
        city = zone.split("/")[1]
        email = f"c-{city.lower()}-{tag}@example.org"
        person = await store.add(email, f"{city} coach", Role.COACH, zone)
        await availability.replace(db, person.id, weekly(*COACH_HOURS[zone]))
        coach_list.append(person.id)
        zone_of[person.id], name_of[person.id] = zone, person.name
        email_of[person.id] = email
    for pid in coach_ids:
        await availability.replace(db, pid, weekly(*COACH_HOURS["Europe/London"]))
        coach_list.append(pid)
        zone_of[pid] = "UTC"
    cohort_id = secrets.token_urlsafe(6)
    async with db.transaction() as conn:
        await conn.execute(
            insert(cohorts).values(
                id=cohort_id,
                name=f"Cross-border practice {tag}",
                starts_on="2026-01-01",
                ends_on="2027-12-31",
                requirements={},
                created_ms=now_ms(),
            )
        )
        members = [
            {"cohort_id": cohort_id, "person_id": t, "role": "trainee"} for t in trainee_ids
        ] + [{"cohort_id": cohort_id, "person_id": c, "role": "coach"} for c in coach_list]
        if members:
            await conn.execute(insert(cohort_members), members)
    return RoundCohort(cohort_id, tuple(trainee_ids), tuple(coach_list), zone_of, name_of, email_of)


def next_week(weeks: int = 1) -> tuple[date, date]:
    """Monday to Sunday `weeks` weeks from now (UTC dates), always in the future."""
    today = datetime.now(UTC).date()
    monday = today + timedelta(days=7 * weeks - today.weekday())
    return monday, monday + timedelta(days=6)
