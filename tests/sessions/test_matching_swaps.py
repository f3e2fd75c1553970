"""Rounds for a cohort across four zones, and hand swaps: a swap reports exactly the rules
it made worse, coaches swap whole schedules, and mixed or empty swaps are refused."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessions.availability import Availability, WeeklySlot, Window
from sessions.matching import (
    Coach,
    GroupShape,
    InvalidSwap,
    PastGroup,
    Rule,
    Trainee,
    history_of,
    swap,
)
from tests.sessions.matching_cohorts import (
    FAST,
    always,
    cohorts,
    free_throughout,
    mediated,
    propose,
)

# -- a cohort across four zones, and hand swaps ------------------------------------------

FOUR_ZONES = ("Africa/Nairobi", "Asia/Taipei", "America/Phoenix", "Europe/London")
#: evenings and weekend mornings, local time: the shapes trainees state
REALISTIC = {
    "Africa/Nairobi": ("mon 18:00-21:00", "wed 18:00-21:00", "sat 09:00-13:00", "sun 15:00-19:00"),
    "Asia/Taipei": ("tue 19:00-22:00", "thu 19:00-22:00", "sat 20:00-23:30", "sun 08:00-11:00"),
    "America/Phoenix": ("mon 06:00-08:00", "fri 17:00-21:00", "sat 07:00-11:00", "sun 17:00-21:00"),
    "Europe/London": ("tue 07:00-09:00", "thu 18:00-21:00", "sat 10:00-14:00", "sun 09:00-13:00"),
}


def four_zone_cohort() -> dict[str, object]:
    trainees = [Trainee(f"t{i:02d}", i % 3) for i in range(12)]
    stated = {
        t.id: Availability(z, tuple(WeeklySlot.parse(s) for s in REALISTIC[z]))
        for t, z in zip(trainees, itertools.cycle(FOUR_ZONES), strict=False)
    }
    coaches = [Coach("coach-ke"), Coach("coach-tw"), Coach("coach-us")]
    for k, z in zip(coaches, ("Africa/Nairobi", "Asia/Taipei", "America/Phoenix"), strict=True):
        stated[k.id] = always(z)
    return {
        "trainees": trainees,
        "coaches": coaches,
        "shape": GroupShape(parties=2, observers=0, minutes=90),
        "availability": stated,
        "window": Window.days_from(date(2027, 3, 22), 14),
    }


def test_four_rounds_across_four_zones_keep_every_rule() -> None:
    c = four_zone_cohort()
    history: list[PastGroup] = []
    for round_no in range(4):
        proposal = propose({**c, "history": history, "seed": round_no})
        assert len(proposal.groups) == 4 and not proposal.unplaced
        for report in proposal.rules:
            # zones this far apart leave few shared evenings: by round 3 some pairs
            # must meet again, and the report says how many were unavoidable
            assert report.met or report.rule is Rule.FRESH_PAIRINGS, report
        history += history_of(proposal)
    # 16 mediator seats for 12 trainees: everyone once, four twice
    counts = mediated(history)
    assert sorted(counts[t.id] for t in c["trainees"]) == [1] * 8 + [2] * 4  # type: ignore[attr-defined]


def test_a_swap_into_someone_s_busy_time_or_a_second_mediation_is_reported() -> None:
    c = four_zone_cohort()
    first = propose({**c, "seed": 0})
    proposal = propose({**c, "history": history_of(first), "seed": 1})
    g0, g1 = proposal.groups[0], proposal.groups[1]
    # the mediator changes place with a party of another group who has mediated once
    veteran = next(t for t in g1.parties if t in {g.mediator for g in first.groups})
    result = swap(proposal, g0.mediator, veteran)
    broken = {r.rule for r in result.broken}
    assert Rule.ROTATION in broken
    stated = proposal.request.availability
    if not free_throughout(stated[veteran], g0.start, g0.end) or not free_throughout(
        stated[g0.mediator], g1.start, g1.end
    ):
        assert Rule.AVAILABILITY in broken
    # swapping back restores the proposal and its reports
    back = swap(result.proposal, g0.mediator, veteran).proposal
    assert back.groups == proposal.groups and back.rules == proposal.rules


def test_coaches_swap_whole_schedules_and_mixed_swaps_are_refused() -> None:
    c = four_zone_cohort()
    proposal = propose(c)
    a, b = proposal.groups[0].coach, next(k.id for k in proposal.request.coaches)
    if a == b:
        b = proposal.request.coaches[-1].id
    result = swap(proposal, a, b)
    exchange = {a: b, b: a}
    assert [exchange.get(g.coach, g.coach) for g in proposal.groups] == [
        g.coach for g in result.proposal.groups
    ]
    assert not result.broken  # the coaches here are always free
    g = proposal.groups[0]
    with pytest.raises(InvalidSwap):
        swap(proposal, g.coach, g.mediator)
    with pytest.raises(InvalidSwap):
        swap(proposal, g.mediator, "nobody")
    with pytest.raises(InvalidSwap):
        swap(proposal, g.mediator, g.mediator)


@FAST
@given(cohorts(), st.data())
def test_a_swap_reports_exactly_the_rules_it_made_worse(
    c: dict[str, object], data: st.DataObject
) -> None:
    proposal = propose(c)
    seated = [t for g in proposal.groups for t in g.trainees]
    left = [u.person for u in proposal.unplaced]
    if not seated or len(seated) + len(left) < 2:
        return
    a = data.draw(st.sampled_from(seated))
    b = data.draw(st.sampled_from([t for t in seated + left if t != a]))
    result = swap(proposal, a, b)
    if b in left:
        assert a in {u.person for u in result.proposal.unplaced}
        assert b in {t for g in result.proposal.groups for t in g.trainees}
    before = {r.rule: r.shortfall for r in proposal.rules}
    assert {r.rule for r in result.broken} == {
        r.rule for r in result.proposal.rules if r.shortfall > before[r.rule]
    }
    stated = proposal.request.availability
    unavailable = any(
        not free_throughout(stated[p], g.start, g.end)
        for g in result.proposal.groups
        for p in g.people
    )
    assert (Rule.AVAILABILITY in {r.rule for r in result.broken}) == unavailable
