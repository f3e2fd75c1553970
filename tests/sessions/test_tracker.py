"""The accountability tracker's rules, as properties (hypothesis) and a few worked cases."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from sessions.cohorts import Cohort, Requirements
from sessions.logbook import Entry, LogRole, Medium, Reflections, Source
from sessions.tracker import (
    Logged,
    Progress,
    Requirement,
    behind_first,
    in_scope,
    progress,
    window,
)

ZONES = ("UTC", "Asia/Taipei", "America/Phoenix", "Africa/Nairobi", "Pacific/Kiritimati")
COHORT_ID = "spring"
#: 2026-03-01 .. 2026-06-30
STARTS = date(2026, 3, 1)
ENDS = date(2026, 6, 30)
START_MS = int(datetime(2026, 3, 1, tzinfo=ZoneInfo("UTC")).timestamp() * 1000)
DAY_MS = 24 * 3600_000
SPAN_MS = 122 * DAY_MS


def cohort(requirements: Requirements) -> Cohort:
    return Cohort(COHORT_ID, "Spring", STARTS, ENDS, requirements)


def entry(
    role: LogRole = LogRole.PARTY,
    at_ms: int = START_MS + DAY_MS,
    minutes: int = 60,
    reflection: str = "",
) -> Entry:
    return Entry(
        at_ms=at_ms,
        duration_min=minutes,
        role=role,
        medium=Medium.ONLINE,
        scenario="Fence",
        reflections=Reflections(went_well=reflection),
        source=Source.CAUCUS,
    )


requirements_st = st.builds(
    Requirements,
    mediator_sessions=st.integers(0, 5),
    party_sessions=st.integers(0, 5),
    hours=st.integers(0, 8),
    feedback_read=st.booleans(),
    reflections=st.booleans(),
)
logged_st = st.builds(
    Logged,
    entry=st.builds(
        entry,
        role=st.sampled_from(list(LogRole)),
        at_ms=st.integers(START_MS - 30 * DAY_MS, START_MS + SPAN_MS + 30 * DAY_MS),
        minutes=st.integers(1, 180),
        reflection=st.sampled_from(["", "  ", "Listened well"]),
    ),
    cohort_id=st.sampled_from([None, COHORT_ID, "autumn"]),
)
notes_st = st.lists(st.sampled_from([f"n{i}" for i in range(6)]), unique=True, max_size=6)
now_st = st.integers(START_MS - 10 * DAY_MS, START_MS + SPAN_MS + 10 * DAY_MS)


def done(p: Progress) -> dict[Requirement, int]:
    return {item.requirement: item.done for item in p.items}


@settings(max_examples=200, deadline=None)
@given(requirements_st, st.lists(logged_st, max_size=12), logged_st, notes_st, notes_st, now_st)
def test_adding_an_entry_never_lowers_a_count(
    reqs: Requirements,
    entries: list[Logged],
    extra: Logged,
    addressed: list[str],
    read: list[str],
    now: int,
) -> None:
    before = progress(cohort(reqs), entries, addressed, read, "UTC", now)
    after = progress(cohort(reqs), [*entries, extra], addressed, read, "UTC", now)
    for requirement, count in done(before).items():
        assert done(after)[requirement] >= count
    assert after.counted >= before.counted


@settings(max_examples=200, deadline=None)
@given(requirements_st, st.lists(logged_st, max_size=12), logged_st, notes_st, notes_st, now_st)
def test_adding_a_reflected_entry_never_unmeets_a_requirement(
    reqs: Requirements,
    entries: list[Logged],
    extra: Logged,
    addressed: list[str],
    read: list[str],
    now: int,
) -> None:
    reflected = Logged(entry(extra.entry.role, extra.entry.at_ms, 30, "Good"), extra.cohort_id)
    before = progress(cohort(reqs), entries, addressed, read, "UTC", now)
    after = progress(cohort(reqs), [*entries, reflected], addressed, read, "UTC", now)
    met_after = {item.requirement for item in after.items if item.met}
    assert {item.requirement for item in before.items if item.met} <= met_after
    assert not before.complete or after.complete


@settings(max_examples=200, deadline=None)
@given(requirements_st, st.lists(logged_st, max_size=12), notes_st, notes_st, notes_st, now_st)
def test_reading_a_note_never_lowers_progress(
    reqs: Requirements,
    entries: list[Logged],
    addressed: list[str],
    read: list[str],
    more: list[str],
    now: int,
) -> None:
    before = progress(cohort(reqs), entries, addressed, read, "UTC", now)
    after = progress(cohort(reqs), entries, addressed, [*read, *more], "UTC", now)
    assert all(done(after)[r] >= n for r, n in done(before).items())
    assert not before.complete or after.complete


@settings(max_examples=300, deadline=None)
@given(
    requirements_st,
    st.lists(logged_st, max_size=12),
    notes_st,
    notes_st,
    now_st,
    st.sampled_from(ZONES),
)
def test_complete_iff_every_requirement_is_met_and_left_says_what_is_missing(
    reqs: Requirements,
    entries: list[Logged],
    addressed: list[str],
    read: list[str],
    now: int,
    tz: str,
) -> None:
    p = progress(cohort(reqs), entries, addressed, read, tz, now)
    assert p.complete == all(item.met for item in p.items)
    assert {i.requirement for i in p.left} == {i.requirement for i in p.items if not i.met}
    for item in p.items:
        assert item.left == max(0, item.needed - item.done)
        assert (item.left == 0) == item.met
    assert not (p.behind and p.complete)
    assert p.behind == (p.lag > 0)  # the lag measures exactly what being behind means
    assert 0.0 <= p.elapsed <= 1.0 and 0.0 <= p.lag <= 1.0
    # exactly the requirements the cohort asks for are tracked
    asked = {
        Requirement.MEDIATOR_SESSIONS: reqs.mediator_sessions > 0,
        Requirement.PARTY_SESSIONS: reqs.party_sessions > 0,
        Requirement.HOURS: reqs.hours > 0,
        Requirement.FEEDBACK_READ: reqs.feedback_read,
        Requirement.REFLECTIONS: reqs.reflections,
    }
    assert {i.requirement for i in p.items} == {r for r, on in asked.items() if on}


@settings(max_examples=200, deadline=None)
@given(
    requirements_st,
    st.lists(logged_st, max_size=12),
    notes_st,
    notes_st,
    now_st,
    st.integers(0, 60 * DAY_MS),
)
def test_with_nothing_new_time_only_puts_a_trainee_further_behind(
    reqs: Requirements,
    entries: list[Logged],
    addressed: list[str],
    read: list[str],
    now: int,
    later: int,
) -> None:
    earlier = progress(cohort(reqs), entries, addressed, read, "UTC", now)
    then = progress(cohort(reqs), entries, addressed, read, "UTC", now + later)
    assert not earlier.behind or then.behind
    assert then.lag >= earlier.lag


@settings(max_examples=200, deadline=None)
@given(requirements_st, st.lists(logged_st, max_size=12), notes_st, notes_st, now_st)
def test_another_cohorts_sessions_change_nothing(
    reqs: Requirements,
    entries: list[Logged],
    addressed: list[str],
    read: list[str],
    now: int,
) -> None:
    others = [Logged(e.entry, "autumn") for e in entries]
    alone = progress(cohort(reqs), [], addressed, read, "UTC", now)
    assert progress(cohort(reqs), others, addressed, read, "UTC", now) == alone


def test_a_cohort_asking_nothing_is_complete_from_the_start() -> None:
    p = progress(cohort(Requirements()), [], [], [], "UTC", START_MS)
    assert p.items == () and p.complete and not p.behind


def test_the_numbers_of_a_worked_example() -> None:
    reqs = Requirements(
        mediator_sessions=3, party_sessions=2, hours=4, feedback_read=True, reflections=True
    )
    entries = [
        Logged(entry(LogRole.LEAD_MEDIATOR, minutes=90, reflection="ok"), COHORT_ID),
        Logged(entry(LogRole.CO_MEDIATOR, minutes=60), None),  # by hand, in the dates
        Logged(entry(LogRole.PARTY, minutes=45, reflection="ok"), COHORT_ID),
        Logged(entry(LogRole.OBSERVER, minutes=60, reflection="ok"), COHORT_ID),  # no hours
        Logged(entry(LogRole.COACH, minutes=60), COHORT_ID),  # not practice: not counted
        Logged(entry(LogRole.PARTY, at_ms=START_MS - DAY_MS), None),  # before the dates
        Logged(entry(LogRole.LEAD_MEDIATOR), "autumn"),  # another cohort's
    ]
    halfway = START_MS + SPAN_MS // 2
    p = progress(cohort(reqs), entries, ["a", "b", "c"], ["a", "z"], "UTC", halfway)
    by = {i.requirement: i for i in p.items}
    assert (by[Requirement.MEDIATOR_SESSIONS].done, by[Requirement.MEDIATOR_SESSIONS].left) == (
        2,
        1,
    )
    assert by[Requirement.MEDIATOR_SESSIONS].expected == 1
    assert (by[Requirement.PARTY_SESSIONS].done, by[Requirement.PARTY_SESSIONS].expected) == (1, 1)
    assert (by[Requirement.HOURS].done, by[Requirement.HOURS].needed) == (195, 240)
    assert by[Requirement.HOURS].expected == 120
    assert (by[Requirement.FEEDBACK_READ].done, by[Requirement.FEEDBACK_READ].needed) == (1, 3)
    assert (by[Requirement.REFLECTIONS].done, by[Requirement.REFLECTIONS].needed) == (3, 4)
    assert p.counted == 4
    assert not p.complete and not p.behind and not p.overdue  # on pace, halfway
    after_the_end = progress(cohort(reqs), entries, ["a"], ["a"], "UTC", START_MS + SPAN_MS)
    assert after_the_end.behind and after_the_end.overdue


def test_the_dates_are_the_trainees_own_days() -> None:
    spring = cohort(Requirements(party_sessions=1))
    taipei = window(spring, "Asia/Taipei")
    phoenix = window(spring, "America/Phoenix")
    assert taipei.starts_ms == START_MS - 8 * 3600_000
    assert phoenix.starts_ms == START_MS + 7 * 3600_000
    # 1 March, 07:00 in Taipei is still February in UTC: counted for a trainee in Taipei
    early = Logged(entry(LogRole.PARTY, at_ms=START_MS - 3600_000), None)
    assert in_scope(early, COHORT_ID, taipei) and not in_scope(early, COHORT_ID, phoenix)


def test_behind_first_orders_by_lag_then_name() -> None:
    reqs = Requirements(party_sessions=4)
    late = START_MS + SPAN_MS * 3 // 4
    nobody = progress(cohort(reqs), [], [], [], "UTC", late)
    some = progress(cohort(reqs), [Logged(entry(), COHORT_ID)], [], [], "UTC", late)
    done_all = progress(cohort(reqs), [Logged(entry(), COHORT_ID)] * 4, [], [], "UTC", late)
    order = behind_first([("bea", done_all), ("Cai", nobody), ("abe", some), ("ann", nobody)])
    assert [name for name, _ in order] == ["ann", "Cai", "abe", "bea"]
