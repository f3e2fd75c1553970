"""The matcher's search for groups: trainees into full groups (greedy packing, then
local search, exact re-splits and kicks); `match_coaches` then gives each a coach.

Internals of `sessions/matching.py`; what the search minimises is in `match_cost`, and
the objective and its order are described in docs/design-notes.md ("The practice-round
matcher").
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass

from sessions.match_cost import ZERO, Cost, Problem, add, sub
from sessions.match_cost import rotation_penalty as rotation_penalty  # re-exported for the tests
from sessions.match_model import Facts

#: the largest union of two groups (or a group and the pool) `regroup` re-splits
REGROUP_MAX = 10


@dataclass
class State:
    groups: list[list[int]]  # the last list is the pool
    costs: list[Cost]
    where: list[int]  # trainee → group index (len(groups) - 1 is the pool)

    def total(self) -> Cost:
        total = ZERO
        for c in self.costs:
            total = add(total, c)
        return total

    def copy(self) -> State:
        return State([list(g) for g in self.groups], list(self.costs), list(self.where))


class Grouping:
    """Trainees into groups of the shape's core size (observers on top), minimising the
    lexicographic cost above under the hard rule that each group shares a start."""

    def __init__(self, problem: Problem, rng: random.Random) -> None:
        self.p = problem
        self.rng = rng
        self.n_groups = 0
        self.pool_index = 0
        self.rotation_first = False

    def cost_of(self, g: int, members: Sequence[int]) -> Cost:
        if g == self.pool_index:
            return self.p.pool_cost(members)
        return self.p.group_cost(members)

    def feasible(self, g: int, members: Sequence[int]) -> bool:
        return g == self.pool_index or self.p.group_mask(members) != 0

    def _grow(
        self,
        members: list[int],
        mask: int,
        cands: list[int],
        tie: dict[int, float],
        budget: list[int],
    ) -> list[int] | None:
        """Depth-first completion of a group from `members`, best-looking candidate first
        (fewest repeats, a new level, then the hardest to place elsewhere: the flexible
        are kept for later groups), within `budget` steps."""
        p = self.p
        if len(members) == p.core:
            return members
        if len(members) + len(cands) < p.core:
            return None
        ordered = sorted(
            cands,
            key=lambda i: (
                -p.mediated[i] if self.rotation_first else 0,
                sum(p.met[i][m] for m in members),
                all(p.level[i] == p.level[m] for m in members),
                p.mask[i].bit_count(),
                tie[i],
            ),
        )
        for x, pick in enumerate(ordered):
            budget[0] -= 1
            if budget[0] < 0:
                return None
            kept = mask & p.mask[pick]
            rest = [i for i in ordered[x + 1 :] if kept & p.mask[i]]
            found = self._grow([*members, pick], kept, rest, tie, budget)
            if found is not None:
                return found
        return None

    def construct(self, max_groups: int, attempt: int) -> State:
        """Greedy: complete groups one at a time, each grown from a seed by adding whoever
        adds the fewest repeats and is hardest to place elsewhere (depth-first when that
        dead-ends); then the rest as observers where they fit, else in the pool. Seeds:
        the most constrained first (first attempt), the least-mediated first with the
        most-mediated as partners (every third attempt), or a random order."""
        p = self.p
        tie = {i: self.rng.random() for i in range(len(p.ids))}
        self.rotation_first = attempt % 3 == 1
        if attempt == 0:
            remaining = sorted(range(len(p.ids)), key=lambda i: (p.mask[i].bit_count(), tie[i]))
        elif self.rotation_first:
            remaining = sorted(
                range(len(p.ids)), key=lambda i: (p.mediated[i], p.mask[i].bit_count(), tie[i])
            )
        else:
            remaining = sorted(range(len(p.ids)), key=lambda i: tie[i])
        groups: list[list[int]] = []
        while len(groups) < max_groups:
            made: list[int] | None = None
            for seed in remaining:
                cands = [i for i in remaining if i != seed and p.mask[seed] & p.mask[i]]
                made = self._grow([seed], p.mask[seed], cands, tie, [200])
                if made is not None:
                    break
            if made is None:
                break
            groups.append(made)
            remaining = [i for i in remaining if i not in made]
        self.n_groups = len(groups)
        self.pool_index = len(groups)
        pool: list[int] = []
        for i in remaining:
            best: tuple[Cost, int] | None = None
            for g, members in enumerate(groups):
                trial = [*members, i]
                if len(trial) > p.capacity or not self.feasible(g, trial):
                    continue
                delta = sub(p.group_cost(trial), p.group_cost(members))
                if best is None or delta < best[0]:
                    best = (delta, g)
            (groups[best[1]] if best is not None else pool).append(i)
        groups.append(pool)
        where = [0] * len(p.ids)
        for g, members in enumerate(groups):
            for i in members:
                where[i] = g
        costs = [self.cost_of(g, m) for g, m in enumerate(groups)]
        return State(groups, costs, where)

    def _try(self, s: State, i: int, j: int | None, g_to: int) -> bool:
        """Swap i with j (in group g_to), or move i into g_to when j is None; apply the
        change if it lowers the cost."""
        g_from = s.where[i]
        if g_from == g_to:
            return False
        a = [x for x in s.groups[g_from] if x != i]
        b = [x for x in s.groups[g_to] if x != j]
        if j is not None:
            a.append(j)
        b.append(i)
        if j is None and g_to != self.pool_index and len(b) > self.p.capacity:
            return False
        if not (self.feasible(g_from, a) and self.feasible(g_to, b)):
            return False
        ca, cb = self.cost_of(g_from, a), self.cost_of(g_to, b)
        delta = sub(add(ca, cb), add(s.costs[g_from], s.costs[g_to]))
        if not delta < ZERO:
            return False
        s.groups[g_from], s.groups[g_to] = a, b
        s.costs[g_from], s.costs[g_to] = ca, cb
        s.where[i] = g_to
        if j is not None:
            s.where[j] = g_from
        return True

    def settle(self, s: State) -> None:
        self.descend(s)
        while self.regroup(s):
            self.descend(s)

    def descend(self, s: State) -> None:
        """First-improvement local search: swaps of two trainees (the pool included) and
        moves into a group with a free seat, until none improves."""
        n = len(self.p.ids)
        order = list(range(n))
        improved = True
        while improved:
            improved = False
            self.rng.shuffle(order)
            for i in order:
                for j in order:
                    if s.where[j] != s.where[i] and self._try(s, i, j, s.where[j]):
                        improved = True
                for g in range(self.n_groups):
                    if len(s.groups[g]) < self.p.capacity and self._try(s, i, None, g):
                        improved = True

    def kick(self, s: State, swaps: int) -> None:
        """Random feasible swaps, whatever they cost: a way out of a local optimum."""
        n = len(self.p.ids)
        for _ in range(swaps * 10):
            if swaps == 0:
                break
            i, j = self.rng.randrange(n), self.rng.randrange(n)
            gi, gj = s.where[i], s.where[j]
            if gi == gj:
                continue
            a = [x for x in s.groups[gi] if x != i] + [j]
            b = [x for x in s.groups[gj] if x != j] + [i]
            if not (self.feasible(gi, a) and self.feasible(gj, b)):
                continue
            s.groups[gi], s.groups[gj] = a, b
            s.costs[gi], s.costs[gj] = self.cost_of(gi, a), self.cost_of(gj, b)
            s.where[i], s.where[j] = gj, gi
            swaps -= 1

    def state_of(self, groups: list[list[int]], pool: list[int]) -> State:
        self.n_groups = len(groups)
        self.pool_index = len(groups)
        lists = [*groups, pool]
        where = [0] * len(self.p.ids)
        for g, members in enumerate(lists):
            for i in members:
                where[i] = g
        return State(lists, [self.cost_of(g, m) for g, m in enumerate(lists)], where)

    def pack(self, members: list[int], budget: int) -> list[list[int]]:
        """The most full groups found among `members` (exhaustive within `budget` steps)."""
        p = self.p
        best: list[list[int]] = []
        steps = [budget]

        def walk(rest: list[int], chosen: list[list[int]]) -> None:
            nonlocal best
            if len(chosen) > len(best):
                best = list(chosen)
            if len(chosen) + len(rest) // p.core <= len(best) or steps[0] <= 0:
                return
            head, tail = rest[0], rest[1:]
            mates = [i for i in tail if p.mask[head] & p.mask[i]]
            for combo in itertools.combinations(mates, p.core - 1):
                steps[0] -= 1
                if steps[0] <= 0:
                    return
                if p.group_mask([head, *combo]):
                    walk([i for i in tail if i not in combo], [*chosen, [head, *combo]])
            walk(tail, chosen)

        walk(members, [])
        return best

    def add_group(self, state: State) -> State | None:
        """One more full group, from the left-over trainees alone or with one group's
        members regrouped among them (the greedy packing can strand a group's worth)."""
        pool = state.groups[-1]
        groups = state.groups[:-1]
        for g in [None, *range(len(groups))]:
            members = pool if g is None else [*groups[g], *pool]
            packed = self.pack(members, 400)
            if len(packed) > (0 if g is None else 1):
                seated = {i for grp in packed for i in grp}
                kept = [grp for x, grp in enumerate(groups) if x != g]
                return self.state_of([*kept, *packed], [i for i in members if i not in seated])
        return None

    def regroup(self, s: State) -> bool:
        """Re-seat the members of two groups (or of a group and the left-over trainees)
        in the best way they can be split, keeping each side's size: the exchanges of
        two or more trainees at once that single swaps cannot reach when the halfway
        points share no time. Only unions of up to REGROUP_MAX trainees are tried."""
        improved = False
        last = len(s.groups) - 1
        for g1 in range(last):
            for g2 in range(g1 + 1, last + 1):
                union = [*s.groups[g1], *s.groups[g2]]
                if len(union) > REGROUP_MAX or not s.groups[g2]:
                    continue
                old = add(s.costs[g1], s.costs[g2])
                if old == ZERO:
                    continue
                best: tuple[Cost, list[int], list[int]] | None = None
                for first in itertools.combinations(union, len(s.groups[g1])):
                    a = list(first)
                    if not self.feasible(g1, a):
                        continue
                    b = [i for i in union if i not in first]
                    if not self.feasible(g2, b):
                        continue
                    cost = add(self.cost_of(g1, a), self.cost_of(g2, b))
                    if cost < old and (best is None or cost < best[0]):
                        best = (cost, a, b)
                if best is not None:
                    _, a, b = best
                    s.groups[g1], s.groups[g2] = a, b
                    s.costs[g1], s.costs[g2] = self.cost_of(g1, a), self.cost_of(g2, b)
                    for i in a:
                        s.where[i] = g1
                    for i in b:
                        s.where[i] = g2
                    improved = True
        return improved

    def improve(self, state: State, kicks: int) -> State:
        best = state
        self.settle(best)
        ideal = self.p.ideal(self.n_groups)
        for _ in range(kicks):
            if best.total()[:5] == ideal:
                break
            trial = best.copy()
            self.kick(trial, 2 + self.rng.randrange(2))
            self.settle(trial)
            if trial.total() < best.total():
                best = trial
        return best


def budget(n: int) -> tuple[int, int]:
    """(fresh starts, kicks per start): many for small cohorts, where they are cheap
    (and where the tests compare with the brute-force optimum), fewer for large ones."""
    if n <= 12:
        return 16, 10
    if n <= 30:
        return 4, 12
    return 2, 6


def group_trainees(
    facts: Facts, eligible: Sequence[str], rng: random.Random
) -> tuple[list[list[str]], list[str]]:
    """Complete groups (as mediator, parties..., observers... ids) and the trainees left
    in the pool. The best of several greedy starts, each improved by local search."""
    problem = Problem(facts, eligible, rng)
    max_groups = len(eligible) // problem.core
    if max_groups == 0:
        return [], list(eligible)
    starts, kicks = budget(len(eligible))
    best: State | None = None
    for attempt in range(starts):
        grouping = Grouping(problem, rng)
        state = grouping.improve(grouping.construct(max_groups, attempt), kicks)
        while len(state.groups) - 1 < max_groups:
            grown = grouping.add_group(state)
            if grown is None:
                break
            state = grouping.improve(grown, kicks)
        if best is None or state.total() < best.total():
            best = state
        if best.total()[:5] == problem.ideal(max_groups):
            break
    assert best is not None
    groups: list[list[str]] = []
    pool: list[str] = [problem.ids[i] for i in best.groups[-1]]
    for members in best.groups[:-1]:
        mediator, parties, observers = problem.roles(members)
        groups.append([problem.ids[i] for i in (mediator, *parties, *observers)])
    return groups, pool
