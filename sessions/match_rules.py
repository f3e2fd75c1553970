"""Scoring a round's groups against each matching rule, with a sentence on each.

One function, `evaluate`, scores both the matcher's proposal and a proposal after a
hand swap, so the two are judged alike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sessions.match_model import (
    Draft,
    Facts,
    Group,
    GroupScore,
    Rule,
    RuleReport,
    Unplaced,
    pair,
)

_SHOW = 4  # names listed in a sentence before "and N more"


def _names(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_SHOW])
    return shown if len(items) <= _SHOW else f"{shown} and {len(items) - _SHOW} more"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _local(facts: Facts, pid: str, at: datetime) -> str:
    stated = facts.request.availability.get(pid)
    zone = stated.time_zone if stated is not None else "UTC"
    return f"{at.astimezone(ZoneInfo(zone)):%a %d %b %H:%M} {zone}"


def score_group(facts: Facts, d: Draft) -> GroupScore:
    trainees = d.trainees
    repeats: list[tuple[str, str, int]] = []
    fresh = 0
    for i, a in enumerate(trainees):
        for b in trainees[i + 1 :]:
            times = facts.met_times(a, b)
            if times:
                repeats.append((*pair(a, b), times))
            else:
                fresh += 1
    levels = tuple(sorted({facts.level.get(t, 0) for t in trainees}))
    return GroupScore(
        mediator_before=facts.mediated.get(d.mediator, 0),
        fresh_pairs=fresh,
        repeat_pairs=tuple(sorted(repeats)),
        levels=levels,
        mixed=len(levels) > 1,
    )


def evaluate(
    facts: Facts, drafts: Sequence[Draft], unplaced: Sequence[Unplaced]
) -> tuple[tuple[Group, ...], tuple[RuleReport, ...]]:
    groups = tuple(
        Group(
            start=facts.start_at(d.start),
            end=facts.end_at(d.start),
            coach=d.coach,
            mediator=d.mediator,
            parties=d.parties,
            observers=d.observers,
            score=score_group(facts, d),
        )
        for d in drafts
    )
    reports = (
        _availability(facts, drafts),
        _double_booking(facts, drafts),
        _rotation(facts, drafts, unplaced),
        _fresh_pairings(facts, groups),
        _experience_mix(facts, groups),
        _coach_load(facts, drafts),
    )
    return groups, reports


def _availability(facts: Facts, drafts: Sequence[Draft]) -> RuleReport:
    misses = []
    for d in drafts:
        for pid in (*d.trainees, d.coach):
            if not facts.mask.get(pid, 0) >> d.start & 1:
                misses.append(f"{pid} at {_local(facts, pid, facts.start_at(d.start))}")
    if not misses:
        detail = "every member is free for the whole session, in their own time zone"
    else:
        detail = f"not free for the whole session: {_names(misses)}"
    return RuleReport(Rule.AVAILABILITY, not misses, len(misses), detail)


def _double_booking(facts: Facts, drafts: Sequence[Draft]) -> RuleReport:
    clashes: list[str] = []
    seen = Counter(t for d in drafts for t in d.trainees)
    clashes += [f"{t} sits in {n} groups" for t, n in sorted(seen.items()) if n > 1]
    coaching = sorted((d.coach, d.start) for d in drafts)
    for (c1, s1), (c2, s2) in zip(coaching, coaching[1:], strict=False):
        if c1 == c2 and s2 - s1 < facts.reach:
            clashes.append(f"{c1} coaches two groups at {_local(facts, c1, facts.start_at(s2))}")
    trainees = set(seen)
    clashes += [f"{d.coach} coaches and trains" for d in drafts if d.coach in trainees]
    detail = "nobody is in two places at once" if not clashes else _names(clashes)
    return RuleReport(Rule.NO_DOUBLE_BOOKING, not clashes, len(clashes), detail)


def _rotation(facts: Facts, drafts: Sequence[Draft], unplaced: Sequence[Unplaced]) -> RuleReport:
    mediators = [d.mediator for d in drafts]
    if not mediators:
        return RuleReport(Rule.ROTATION, True, 0, "no group this round")
    counts = facts.mediated
    most = max(counts.get(m, 0) for m in mediators)
    # everyone who could have mediated: seated in another role, or left out while free
    others = [t for d in drafts for t in (*d.parties, *d.observers)]
    others += [u.person for u in unplaced if facts.mask.get(u.person, 0)]
    behind = sorted(t for t in others if counts.get(t, 0) < most)
    if not behind:
        lo = min(counts.get(m, 0) for m in mediators)
        detail = (
            f"every mediator is among the least practised (mediated {lo}–{most} times before)"
            if lo != most
            else f"every mediator had mediated {most} times before, as few as anyone"
        )
        return RuleReport(Rule.ROTATION, True, 0, detail)
    worst = max(mediators, key=lambda m: (counts.get(m, 0), m))
    names = [f"{t} ({counts.get(t, 0)})" for t in behind]
    detail = (
        f"{worst} mediates for the {_ordinal(counts.get(worst, 0) + 1)} time while "
        f"{_names(names)} mediated fewer times and do not mediate: no exchange found that "
        "keeps everyone's availability"
    )
    return RuleReport(Rule.ROTATION, False, len(behind), detail)


def repeat_lower_bound(facts: Facts, placed: Sequence[str]) -> int:
    """Repeat pairings no grouping of these trainees can avoid: a trainee who shares a
    time (and a coach) with fewer fresh partners than a group needs must meet someone
    again, and each repeat covers two trainees at most."""
    need = facts.request.shape.core - 1
    deficit = 0
    for t in placed:
        fresh = 0
        for u in placed:
            if (
                u != t
                and not facts.met_times(t, u)
                and facts.mask[t] & facts.mask[u] & facts.coach_any
            ):
                fresh += 1
                if fresh >= need:
                    break
        deficit += max(0, need - fresh)
    return -(-deficit // 2)


def _fresh_pairings(facts: Facts, groups: Sequence[Group]) -> RuleReport:
    repeats = [r for g in groups for r in g.score.repeat_pairs]
    weight = sum(times for _, _, times in repeats)
    if not repeats:
        return RuleReport(
            Rule.FRESH_PAIRINGS, True, 0, "every pair of trainees meets for the first time"
        )
    placed = [t for g in groups for t in g.trainees]
    bound = repeat_lower_bound(facts, placed)
    shown = [f"{a}–{b}" + (f" (met {n}×)" if n > 1 else "") for a, b, n in repeats]
    detail = f"{len(repeats)} pairs meet again: {_names(shown)}; "
    if bound >= weight:
        detail += "no fresh pairing was possible: they share their times with too few new faces"
    elif bound:
        detail += f"at least {bound} were unavoidable (too few new faces share their times)"
    else:
        detail += "the search found no fresh grouping that keeps availability and rotation"
    return RuleReport(Rule.FRESH_PAIRINGS, False, weight, detail)


def _experience_mix(facts: Facts, groups: Sequence[Group]) -> RuleReport:
    placed = [t for g in groups for t in g.trainees]
    levels = Counter(facts.level.get(t, 0) for t in placed)
    if len(levels) <= 1:
        return RuleReport(
            Rule.EXPERIENCE_MIX, True, 0, "the trainees placed are all at one experience level"
        )
    unmixed = [g for g in groups if not g.score.mixed]
    if not unmixed:
        return RuleReport(Rule.EXPERIENCE_MIX, True, 0, "every group mixes experience levels")
    common, n_common = levels.most_common(1)[0]
    can_mix = min(len(groups), len(placed) - n_common)
    detail = f"{len(unmixed)} of {len(groups)} groups are at one level"
    if can_mix < len(groups):
        detail += (
            f": only {len(placed) - n_common} placed trainees are not at level {common},"
            f" so at most {can_mix} groups can mix"
        )
    else:
        detail += ": mixing them would cost availability, rotation or fresh pairings"
    return RuleReport(Rule.EXPERIENCE_MIX, False, len(unmixed), detail)


def _coach_load(facts: Facts, drafts: Sequence[Draft]) -> RuleReport:
    load = Counter(d.coach for d in drafts)
    free = [c for c in facts.coach_ids if facts.mask[c]]
    if not drafts or not free:
        return RuleReport(Rule.COACH_LOAD, True, 0, "no coach has a group this round")
    loads = {c: load.get(c, 0) for c in free}
    hi, lo = max(loads.values()), min(loads.values())
    listing = ", ".join(f"{c} {n}" for c, n in sorted(loads.items()))
    absent = [c for c in facts.coach_ids if not facts.mask[c]]
    tail = f"; free at no time in the window: {_names(absent)}" if absent else ""
    if hi - lo <= 1:
        return RuleReport(Rule.COACH_LOAD, True, 0, f"groups per coach: {listing}{tail}")
    idle = sorted(c for c, n in loads.items() if n == lo)
    detail = (
        f"groups per coach: {listing}; {_names(idle)} free at too few of the times the groups "
        f"share to take more{tail}"
    )
    return RuleReport(Rule.COACH_LOAD, False, hi - lo - 1, detail)
