"""What the round matcher reads, over HTTP on a real server: the availability each person
states on their own clock (each mistake with its code) and who may read it, a weekly time
that stays on the local clock across the spring change, and the experience levels a
cohort's staff set and the matcher mixes in groups."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from sessions.people import Role
from storage.schema import cohort_members
from tests.live_server import LiveServer
from tests.people import sign_in
from tests.round_rows import round_cohort
from tests.web.rounds_client import as_person, call, window
from web.keys import DATABASE

# --- availability ---------------------------------------------------------------------


GOOD = {
    "weekly": [
        {"weekday": 0, "start": "18:00", "end": "21:00"},
        {"weekday": 6, "start": "22:00", "end": "01:00"},
    ],
    "exceptions": [{"kind": "unavailable", "start": "2027-01-04T00:00", "end": "2027-01-05T00:00"}],
}


def slot(weekday: Any = 1, start: Any = "09:00", end: Any = "10:00", **more: Any) -> Any:
    return {"weekday": weekday, "start": start, "end": end, **more}


def away(
    start: Any = "2027-01-04T00:00", end: Any = "2027-01-05T00:00", kind: Any = "extra"
) -> Any:
    return {"exceptions": [{"kind": kind, "start": start, "end": end}]}


MANY = [slot(d, f"{h:02d}:00", f"{h:02d}:30") for d in range(7) for h in range(9)]

BAD: list[tuple[dict[str, Any], str, str]] = [
    ({"weekly": [slot(weekday=7)]}, "bad_weekday", "weekly[0].weekday"),
    ({"weekly": [slot(weekday=True)]}, "bad_weekday", "weekly[0].weekday"),
    ({"weekly": [slot(start="25:00")]}, "bad_slot_time", "weekly[0].start"),
    ({"weekly": [slot(start="9:00")]}, "bad_slot_time", "weekly[0].start"),
    ({"weekly": [slot(end="21:00:30")]}, "bad_slot_time", "weekly[0].end"),
    ({"weekly": [slot(end=None)]}, "bad_slot_time", "weekly[0].end"),
    ({"weekly": [slot(2, "09:00", "12:00"), slot(2, "11:00")]}, "slots_overlap", "weekly[1]"),
    # Sunday night into Monday morning overlaps a Monday slot
    ({"weekly": [slot(0, "01:00"), slot(6, "22:00", "02:00")]}, "slots_overlap", "weekly[1]"),
    ({"weekly": MANY}, "too_many", "weekly"),
    ({"weekly": "mondays"}, "invalid_availability", "weekly"),
    ({"weekly": [slot(zone="UTC")]}, "invalid_availability", "weekly[0]"),
    (away(kind="maybe"), "bad_exception_kind", "exceptions[0].kind"),
    (away(start="2027-13-04T00:00"), "bad_exception_time", "exceptions[0].start"),
    (away(start="2027-01-04"), "bad_exception_time", "exceptions[0].start"),
    (away(start="2027-01-04T10:00+03:00"), "bad_exception_time", "exceptions[0].start"),
    (away(end=20270105), "bad_exception_time", "exceptions[0].end"),
    (away("2027-01-05T10:00", "2027-01-05T09:00"), "exception_order", "exceptions[0].end"),
    (away(end="2027-06-01T00:00"), "exception_order", "exceptions[0].end"),
]  # fmt: skip


async def test_availability_is_stated_in_ones_own_zone_and_each_mistake_has_its_code(
    server: LiveServer,
) -> None:
    amani = await sign_in(server.app, Role.TRAINEE, name="Amani", time_zone="Africa/Nairobi")
    status, empty = await call(amani, server, "GET", "/api/me/availability")
    assert (status, empty["weekly"], empty["time_zone"]) == (200, [], "Africa/Nairobi")
    status, stored = await call(amani, server, "PUT", "/api/me/availability", GOOD)
    assert status == 200, stored
    assert stored["time_zone"] == "Africa/Nairobi"
    assert (stored["weekly"], stored["exceptions"]) == (GOOD["weekly"], GOOD["exceptions"])
    for body, code, field in BAD:
        status, problem = await call(amani, server, "PUT", "/api/me/availability", body)
        assert (status, problem["code"], problem.get("field")) == (400, code, field), body
        assert problem["message"]
    status, problem = await call(amani, server, "PUT", "/api/me/availability", {"days": []})
    assert (status, problem["code"]) == (400, "bad_request")
    # refusals changed nothing
    assert (await call(amani, server, "GET", "/api/me/availability"))[1] == stored
    assert (await call(None, server, "GET", "/api/me/availability"))[0] == 401


async def test_coaches_read_their_cohort_members_availability_only(server: LiveServer) -> None:
    db = server.app[DATABASE]
    coach = await sign_in(server.app, Role.COACH, name="Cora")
    other = await sign_in(server.app, Role.COACH, name="Otto")
    admin = await sign_in(server.app, Role.ADMIN, name="Ada")
    cohort = await round_cohort(db, trainees_per_zone=1, coaches=(), coach_ids=(coach.person.id,))
    await round_cohort(db, trainees_per_zone=1, coaches=(), coach_ids=(other.person.id,))
    taipei = cohort.trainees[1]
    path = f"/api/availability/{taipei}"
    status, seen = await call(coach, server, "GET", path)
    assert (status, seen["time_zone"], seen["person"]["id"]) == (200, "Asia/Taipei", taipei)
    assert seen["weekly"][0] == {"weekday": 0, "start": "21:00", "end": "00:30"}
    assert (await call(admin, server, "GET", path))[0] == 200
    assert (await call(other, server, "GET", path))[0] == 404
    trainee = await as_person(server, cohort.trainees[0])
    assert (await call(trainee, server, "GET", path))[0] == 403
    assert (await call(coach, server, "GET", "/api/availability/nobody"))[0] == 404


async def test_a_weekly_time_stays_on_the_local_clock_across_the_spring_change(
    server: LiveServer,
) -> None:
    """London's clocks go forward on 28 March 2027: a weekly 09:00 stays 09:00 there,
    09:00 UTC the week before and 08:00 UTC the week after."""
    db = server.app[DATABASE]
    admin = await sign_in(server.app, Role.ADMIN, name="Ada")
    cohort = await round_cohort(db, trainees_per_zone=0, coaches=())
    london = [
        await sign_in(server.app, Role.TRAINEE, name=f"Londoner {n}", time_zone="Europe/London")
        for n in range(3)
    ]
    coach = await sign_in(server.app, Role.COACH, name="Cora", time_zone="Europe/London")
    morning = {"weekly": [slot(d, "09:00", "10:30") for d in range(7)]}
    for person in (*london, coach):
        assert (await call(person, server, "PUT", "/api/me/availability", morning))[0] == 200
    async with db.transaction() as conn:
        await conn.execute(
            insert(cohort_members),
            [
                {"cohort_id": cohort.cohort, "person_id": p.person.id, "role": "trainee"}
                for p in london
            ]
            + [{"cohort_id": cohort.cohort, "person_id": coach.person.id, "role": "coach"}],
        )
    for first, last, utc_hour in (("2027-03-22", "2027-03-27", 9), ("2027-03-29", "2027-04-03", 8)):
        status, made = await call(
            admin,
            server,
            "POST",
            "/api/rounds",
            {
                "cohort": cohort.cohort,
                "scenario": "bakery-supply",
                "from": first,
                "to": last,
                "duration_min": 60,
                "observers": 0,
            },
        )
        assert status == 201, made
        [group] = made["groups"]
        start = datetime.fromtimestamp(group["start_ms"] / 1000, UTC)
        local = start.astimezone(ZoneInfo("Europe/London"))
        assert (start.hour, local.hour) == (utc_hour, 9), start


async def test_experience_levels_are_set_by_the_cohorts_staff_and_mixed_in_groups(
    server: LiveServer,
) -> None:
    db = server.app[DATABASE]
    coach = await sign_in(server.app, Role.COACH, name="Cora")
    other = await sign_in(server.app, Role.COACH, name="Otto")
    cohort = await round_cohort(db, trainees_per_zone=1, coaches=(), coach_ids=(coach.person.id,))
    await round_cohort(db, trainees_per_zone=1, coaches=(), coach_ids=(other.person.id,))
    path = f"/api/cohorts/{cohort.cohort}/levels"
    status, shown = await call(coach, server, "GET", path)
    assert status == 200 and {t["id"]: t["level"] for t in shown["trainees"]} == dict.fromkeys(
        cohort.trainees, 0
    )
    senior, *_ = cohort.trainees
    status, changed = await call(coach, server, "PUT", path, {"levels": {senior: 3}})
    assert status == 200 and {t["id"]: t["level"] for t in changed["trainees"]}[senior] == 3
    for bad in ({"levels": {senior: 10}}, {"levels": {coach.person.id: 1}}, {"levels": [1]}, {}):
        status, problem = await call(coach, server, "PUT", path, bad)
        assert (status, problem["code"]) == (400, "bad_request"), bad
    assert (await call(other, server, "GET", path))[0] == 404
    assert (await call(other, server, "PUT", path, {"levels": {senior: 1}}))[0] == 404
    trainee = await as_person(server, senior)
    assert (await call(trainee, server, "GET", path))[0] == 403
    # the matcher reads them: the group's levels are reported
    status, made = await call(
        coach,
        server,
        "POST",
        "/api/rounds",
        {"cohort": cohort.cohort, "scenario": "boundary-fence", "observers": 0, **window()},
    )
    assert status == 201 and [set(g["score"]["levels"]) for g in made["groups"]] == [{0, 3}]
    assert {r["rule"]: r["met"] for r in made["rules"]}["experience_mix"]
