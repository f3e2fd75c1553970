"""Practice rounds: fresh groups across time zones, with a time for each (pure).

`propose_round` groups a cohort's trainees, one mediator and a scenario's parties
(observers on top when the numbers leave some over), gives each group a coach and a
start that every member's availability holds in their own zone, and says, rule by
rule, how well the proposal keeps the rules and why not where it does not.
`swap` re-scores a proposal after the admin exchanges two people by hand.

Rules, in the order they win when they conflict: availability and no double booking
(hard), then as many trainees placed as availability allows, then role rotation, fresh
pairings, mixed experience levels, balanced coach loads. docs/design-notes.md ("The
practice-round matcher") gives the algorithm and its limits.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from typing import Literal

from sessions.availability import Availability, Interval, Window
from sessions.match_coaches import assign_coaches
from sessions.match_model import (
    PRIORITY,
    Coach,
    Draft,
    Facts,
    Group,
    GroupScore,
    GroupShape,
    InvalidRound,
    InvalidSwap,
    PastGroup,
    Proposal,
    RoundRequest,
    Rule,
    RuleReport,
    SwapResult,
    Trainee,
    Unplaced,
)
from sessions.match_rules import evaluate
from sessions.match_search import group_trainees

__all__ = [
    "PRIORITY",
    "Coach",
    "Group",
    "GroupScore",
    "GroupShape",
    "InvalidRound",
    "InvalidSwap",
    "PastGroup",
    "Proposal",
    "RoundRequest",
    "Rule",
    "RuleReport",
    "SwapResult",
    "Trainee",
    "Unplaced",
    "history_of",
    "propose_round",
    "swap",
]

_SWAPPED_OUT = "swapped out by hand"


def propose_round(
    trainees: Iterable[Trainee],
    coaches: Iterable[Coach],
    shape: GroupShape,
    availability: Mapping[str, Availability],
    window: Window,
    history: Iterable[PastGroup] = (),
    *,
    grid_minutes: int = 15,
    busy: Mapping[str, tuple[Interval, ...]] | None = None,
    seed: int = 0,
) -> Proposal:
    """Groups for one round of a cohort; the same inputs and seed give the same proposal."""
    request = RoundRequest(
        trainees=tuple(trainees),
        coaches=tuple(coaches),
        shape=shape,
        availability=dict(availability),
        window=window,
        history=tuple(history),
        grid_minutes=grid_minutes,
        busy=dict(busy or {}),
        seed=seed,
    )
    return propose(request)


def propose(request: RoundRequest) -> Proposal:
    facts = Facts(request)
    rng = random.Random(request.seed)
    minutes = request.shape.minutes
    reasons: dict[str, str] = {}
    eligible: list[str] = []
    for t in facts.trainee_ids:
        if t not in request.availability:
            reasons[t] = "has stated no availability"
        elif not facts.mask[t]:
            reasons[t] = f"is free for {minutes} minutes at no time in the window"
        elif not facts.mask[t] & facts.coach_any:
            reasons[t] = f"no coach is free for {minutes} minutes when they are"
        else:
            eligible.append(t)
    groups, pool = group_trainees(facts, eligible, rng)
    drafts, homeless = assign_coaches(facts, groups, rng)
    if homeless:
        # groups no coach could take: regroup them with those left over, at the times
        # a coach is still free
        rest = facts.after(drafts)
        again = [*pool, *(t for g in homeless for t in g)]
        groups, pool = group_trainees(rest, sorted(again), rng)
        more, homeless = assign_coaches(rest, groups, rng)
        drafts = sorted([*drafts, *more], key=lambda d: (d.start, d.coach))
    for members in homeless:
        for t in members:
            reasons[t] = (
                "their group found no coach free at the times it shares "
                "(the coaches free then are already booked)"
            )
    core, observers = request.shape.core, request.shape.observers
    seats = f"{core}" + (f" (+{observers} observers)" if observers else "")
    for t in pool:
        shares = [u for u in eligible if u != t and facts.mask[u] & facts.mask[t] & facts.coach_any]
        if len(shares) < core - 1:
            reasons[t] = (
                f"shares a {minutes}-minute time (with a coach) with only {len(shares)} "
                f"other trainees; a group needs {core}"
            )
        elif len(pool) < core:
            reasons[t] = (
                f"left over: {len(eligible)} trainees can take part and groups take {seats}; "
                "those placed most often before are left out first"
            )
        else:
            reasons[t] = "no full group of those left over shares a time with a coach"
    unplaced = tuple(Unplaced(t, reasons[t]) for t in facts.trainee_ids if t in reasons)
    scored, rules = evaluate(facts, drafts, unplaced)
    return Proposal(request, scored, unplaced, rules)


def _draft(facts: Facts, g: Group) -> Draft:
    index = facts.index_of(g.start)
    if index is None:
        raise InvalidSwap("a group's start is not on the round's grid")
    return Draft(index, g.coach, g.mediator, g.parties, g.observers)


Seat = tuple[int, Literal["coach", "mediator", "party", "observer", "unplaced"], int]


def _seat_of(proposal: Proposal, person: str) -> Seat:
    for gi, g in enumerate(proposal.groups):
        if g.coach == person:
            return (gi, "coach", 0)
        if g.mediator == person:
            return (gi, "mediator", 0)
        if person in g.parties:
            return (gi, "party", g.parties.index(person))
        if person in g.observers:
            return (gi, "observer", g.observers.index(person))
    if any(t.id == person for t in proposal.request.trainees):
        return (-1, "unplaced", 0)
    if any(c.id == person for c in proposal.request.coaches):
        return (-1, "coach", 0)
    raise InvalidSwap(f"{person!r} is neither a trainee nor a coach of this round")


def _put(d: Draft, kind: str, index: int, person: str) -> Draft:
    if kind == "coach":
        return Draft(d.start, person, d.mediator, d.parties, d.observers)
    if kind == "mediator":
        return Draft(d.start, d.coach, person, d.parties, d.observers)
    if kind == "party":
        parties = (*d.parties[:index], person, *d.parties[index + 1 :])
        return Draft(d.start, d.coach, d.mediator, parties, d.observers)
    observers = (*d.observers[:index], person, *d.observers[index + 1 :])
    return Draft(d.start, d.coach, d.mediator, d.parties, observers)


def swap(proposal: Proposal, person_a: str, person_b: str) -> SwapResult:
    """Exchange two trainees' seats (one of them may be unplaced), or two coaches' groups
    (all of them), keep every group's time, re-score, and name each rule the swap made
    worse: a person not free at their new group's time breaks availability."""
    if person_a == person_b:
        raise InvalidSwap("a swap needs two different people")
    facts = Facts(proposal.request)
    seat_a, seat_b = _seat_of(proposal, person_a), _seat_of(proposal, person_b)
    if (seat_a[1] == "coach") != (seat_b[1] == "coach"):
        raise InvalidSwap("a coach swaps with a coach, a trainee with a trainee")
    if seat_a[0] == -1 and seat_b[0] == -1:
        raise InvalidSwap("neither of the two has a seat in this round")
    drafts = [_draft(facts, g) for g in proposal.groups]
    if seat_a[1] == "coach":
        # coaches exchange their whole schedules for the round
        exchange = {person_a: person_b, person_b: person_a}
        drafts = [_put(d, "coach", 0, exchange.get(d.coach, d.coach)) for d in drafts]
    else:
        for (gi, kind, index), newcomer in ((seat_a, person_b), (seat_b, person_a)):
            if gi >= 0:
                drafts[gi] = _put(drafts[gi], kind, index, newcomer)
    unplaced = [u for u in proposal.unplaced if u.person not in (person_a, person_b)]
    for seat, person in ((seat_a, person_b), (seat_b, person_a)):
        if seat[1] == "unplaced":
            unplaced.append(Unplaced(person, _SWAPPED_OUT))
    unplaced.sort(key=lambda u: u.person)
    groups, rules = evaluate(facts, drafts, unplaced)
    after = Proposal(proposal.request, groups, tuple(unplaced), rules)
    before = {r.rule: r.shortfall for r in proposal.rules}
    broken = tuple(r for r in rules if r.shortfall > before.get(r.rule, 0))
    return SwapResult(after, broken)


def history_of(proposal: Proposal) -> tuple[PastGroup, ...]:
    """The proposal's groups as history for the next round (once they have run)."""
    return tuple(PastGroup(g.mediator, g.parties, g.observers, g.coach) for g in proposal.groups)
