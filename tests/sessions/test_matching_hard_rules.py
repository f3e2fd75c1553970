"""The matcher's hard rules, as properties (hypothesis): everyone free for the whole session
in their own zone, nobody double-booked or booked over time taken elsewhere, the same
proposal for the same request and seed; plus a clock change and malformed rounds."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessions.availability import Availability, Interval, WeeklySlot, Window
from sessions.matching import Coach, GroupShape, InvalidRound, Rule, Trainee, propose_round
from tests.sessions.matching_cohorts import FAST, always, cohorts, free_throughout, propose

# -- the hard rules ----------------------------------------------------------------


@FAST
@given(cohorts())
def test_everyone_is_free_for_the_whole_session_in_their_own_zone(c: dict[str, object]) -> None:
    proposal = propose(c)
    stated = proposal.request.availability
    for g in proposal.groups:
        assert g.end - g.start == timedelta(minutes=proposal.request.shape.minutes)
        for person in g.people:
            assert free_throughout(stated[person], g.start, g.end), (person, g.start)
    assert proposal.report(Rule.AVAILABILITY).met


@FAST
@given(cohorts())
def test_nobody_is_double_booked_and_everyone_is_placed_or_told_why(c: dict[str, object]) -> None:
    proposal = propose(c)
    seated = [t for g in proposal.groups for t in g.trainees]
    assert len(seated) == len(set(seated))
    left = [u.person for u in proposal.unplaced]
    assert all(u.reason for u in proposal.unplaced)
    assert sorted(seated + left) == sorted(t.id for t in proposal.request.trainees)
    by_coach: dict[str, list[tuple[datetime, datetime]]] = {}
    for g in proposal.groups:
        by_coach.setdefault(g.coach, []).append((g.start, g.end))
    for sessions in by_coach.values():
        sessions.sort()
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(sessions))
    shape = proposal.request.shape
    for g in proposal.groups:
        assert len(g.parties) == shape.parties and len(g.observers) <= shape.observers
    assert proposal.report(Rule.NO_DOUBLE_BOOKING).met


@FAST
@given(cohorts(), st.integers(0, 3))
def test_the_same_request_and_seed_give_the_same_proposal_in_any_input_order(
    c: dict[str, object], salt: int
) -> None:
    first = propose(c)
    shuffled = dict(c)
    trainees = c["trainees"]
    assert isinstance(trainees, list)
    shuffled["trainees"] = trainees[salt:] + trainees[:salt]
    again = propose(shuffled)
    assert again.groups == first.groups and again.unplaced == first.unplaced
    assert again.rules == first.rules


@FAST
@given(cohorts(), st.data())
def test_nobody_is_booked_over_time_already_booked_elsewhere(
    c: dict[str, object], data: st.DataObject
) -> None:
    window = c["window"]
    assert isinstance(window, Window)
    everyone = list(c["availability"])  # type: ignore[call-overload]
    busy = {}
    for pid in data.draw(st.lists(st.sampled_from(everyone), max_size=4, unique=True)):
        start = window.start + timedelta(minutes=30 * data.draw(st.integers(0, 300)))
        busy[pid] = (Interval(start, start + timedelta(hours=data.draw(st.integers(1, 48)))),)
    proposal = propose({**c, "busy": busy})
    for g in proposal.groups:
        for person in g.people:
            for taken in busy.get(person, ()):
                assert g.end <= taken.start or taken.end <= g.start, (person, g.start)


@pytest.mark.parametrize("first", [date(2027, 3, 9), date(2027, 3, 16)], ids=["EST", "EDT"])
def test_a_new_york_trainee_s_09_00_slot_stays_09_00_on_both_sides_of_the_change(
    first: date,
) -> None:
    stated = {
        "ny": Availability("America/New_York", (WeeklySlot.parse("tue 09:00-10:30"),)),
        "ldn": always("Europe/London"),
        "phx": always("America/Phoenix"),
        "coach": always("Africa/Nairobi"),
    }
    proposal = propose_round(
        [Trainee("ny", 0), Trainee("ldn", 1), Trainee("phx", 2)],
        [Coach("coach")],
        GroupShape(parties=2, minutes=90),
        stated,
        Window.days_from(first, 1),
    )
    (group,) = proposal.groups
    assert group.start.astimezone(ZoneInfo("America/New_York")).time() == time(9)
    assert group.start.hour == (14 if first.day == 9 else 13)


@pytest.mark.parametrize(
    "build",
    [
        lambda: Trainee("", 0),
        lambda: Trainee("t", 12),
        lambda: GroupShape(parties=1),
        lambda: GroupShape(parties=2, observers=9),
        lambda: GroupShape(minutes=5),
        lambda: propose_round(
            [Trainee("x")], [Coach("x")], GroupShape(), {}, Window.days_from(date(2027, 3, 8), 7)
        ),
        lambda: propose_round(
            [Trainee("x")],
            [],
            GroupShape(),
            {},
            Window.days_from(date(2027, 3, 8), 7),
            grid_minutes=7,
        ),  # fmt: skip
    ],
)
def test_a_malformed_round_is_refused_with_its_own_code(build: object) -> None:
    assert callable(build)
    with pytest.raises(InvalidRound) as caught:
        build()
    assert caught.value.code == "invalid_round"
