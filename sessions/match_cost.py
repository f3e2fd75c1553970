"""What the matcher minimises: a seating's cost, compared part by part in the rules'
order, and the problem it is scored on (the trainees as small integers, their roles in
a group, the cost of a group and of the pool, and a bound no seating beats).

Internals of `sessions/matching.py`, used by the search in `match_search`; the objective
and its order are described in docs/design-notes.md ("The practice-round matcher").
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from sessions.match_model import Facts

#: a cost, compared lexicographically: (missing core seats, unplaced trainees,
#: rotation, repeat pairings, unmixed groups, observer rotation, who is left out)
Cost = tuple[int, int, int, int, int, int, int]
ZERO: Cost = (0, 0, 0, 0, 0, 0, 0)


def add(a: Cost, b: Cost) -> Cost:
    return (
        a[0] + b[0],
        a[1] + b[1],
        a[2] + b[2],
        a[3] + b[3],
        a[4] + b[4],
        a[5] + b[5],
        a[6] + b[6],
    )


def sub(a: Cost, b: Cost) -> Cost:
    return (
        a[0] - b[0],
        a[1] - b[1],
        a[2] - b[2],
        a[3] - b[3],
        a[4] - b[4],
        a[5] - b[5],
        a[6] - b[6],
    )


def rotation_penalty(times_mediated: int) -> int:
    """Strictly increasing and convex: a second mediation costs more than two firsts."""
    return (times_mediated + 1) ** 2 - 1


class Problem:
    """The trainees who can take part, as small integers, with what scoring needs."""

    def __init__(self, facts: Facts, eligible: Sequence[str], rng: random.Random) -> None:
        self.facts = facts
        self.ids = list(eligible)
        n = len(self.ids)
        order = list(range(n))
        rng.shuffle(order)
        self.rank = [0] * n
        for r, i in enumerate(order):
            self.rank[i] = r
        self.mask = [facts.mask[t] & facts.coach_any for t in self.ids]
        self.level = [facts.level[t] for t in self.ids]
        self.mediated = [facts.mediated[t] for t in self.ids]
        self.observed = [facts.observed[t] for t in self.ids]
        most = max((facts.placed[t] for t in self.ids), default=0)
        #: leaving out someone placed less often than the most-placed costs more
        self.leave_cost = [most - facts.placed[t] for t in self.ids]
        self.met = [[facts.met_times(a, b) for b in self.ids] for a in self.ids]
        self.mixed_cohort = len(set(self.level)) > 1
        self.core = facts.request.shape.core
        self.capacity = self.core + facts.request.shape.observers

    def roles(self, members: Sequence[int]) -> tuple[int, list[int], list[int]]:
        """Mediator, parties, observers of a set of members: the least-mediated mediates,
        the least-observed observe (ties by the seeded rank)."""
        mediator = min(members, key=lambda i: (self.mediated[i], self.rank[i]))
        rest = [i for i in members if i != mediator]
        n_obs = max(0, len(members) - self.core)
        by_obs = sorted(rest, key=lambda i: (self.observed[i], self.rank[i]))
        observers = by_obs[:n_obs]
        parties = sorted(by_obs[n_obs:], key=lambda i: self.rank[i])
        return mediator, parties, observers

    def group_mask(self, members: Sequence[int]) -> int:
        m = self.facts.coach_any
        for i in members:
            m &= self.mask[i]
        return m

    def group_cost(self, members: Sequence[int]) -> Cost:
        if not members:
            return ZERO
        mediator, _, observers = self.roles(members)
        repeats = 0
        met = self.met
        for x, a in enumerate(members):
            row = met[a]
            for b in members[x + 1 :]:
                repeats += row[b]
        unmixed = 0
        if self.mixed_cohort and len(members) > 1:
            first = self.level[members[0]]
            unmixed = int(all(self.level[i] == first for i in members))
        return (
            max(0, self.core - len(members)),
            0,
            rotation_penalty(self.mediated[mediator]),
            repeats,
            unmixed,
            sum(self.observed[o] for o in observers),
            0,
        )

    def ideal(self, n_groups: int) -> tuple[int, ...]:
        """A bound no seating beats on the first five cost parts: full groups, as few
        left out as seats allow, the least-mediated as mediators, no repeats, all mixed."""
        left = max(0, len(self.ids) - n_groups * self.capacity)
        rot = sum(rotation_penalty(c) for c in sorted(self.mediated)[:n_groups])
        return (0, left, rot, 0, 0)

    def pool_cost(self, pool: Sequence[int]) -> Cost:
        return (0, len(pool), 0, 0, 0, 0, sum(self.leave_cost[i] for i in pool))
