"""The matcher's search: trainees into groups (greedy, then local search with kicks),
then a coach and a start for each group (greedy, then load-balancing moves).

Internals of `sessions/matching.py`; the objective and its order are described in
docs/design-notes.md ("The practice-round matcher").
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sessions.match_model import Draft, Facts

#: a cost, compared lexicographically: (missing core seats, unplaced trainees,
#: rotation, repeat pairings, unmixed groups, observer rotation, who is left out)
Cost = tuple[int, int, int, int, int, int, int]
ZERO: Cost = (0, 0, 0, 0, 0, 0, 0)
POOL = -1


def _add(a: Cost, b: Cost) -> Cost:
    return (
        a[0] + b[0],
        a[1] + b[1],
        a[2] + b[2],
        a[3] + b[3],
        a[4] + b[4],
        a[5] + b[5],
        a[6] + b[6],
    )


def _sub(a: Cost, b: Cost) -> Cost:
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

    def pool_cost(self, pool: Sequence[int]) -> Cost:
        return (0, len(pool), 0, 0, 0, 0, sum(self.leave_cost[i] for i in pool))


@dataclass
class State:
    groups: list[list[int]]  # the last list is the pool
    costs: list[Cost]
    where: list[int]  # trainee → group index (len(groups) - 1 is the pool)

    def total(self) -> Cost:
        total = ZERO
        for c in self.costs:
            total = _add(total, c)
        return total

    def copy(self) -> State:
        return State([list(g) for g in self.groups], list(self.costs), list(self.where))


class Grouping:
    """Trainees into groups of the shape's core size (observers on top), minimising the
    lexicographic cost above under the hard rule that each group shares a start."""

    def __init__(self, problem: Problem, n_groups: int, rng: random.Random) -> None:
        self.p = problem
        self.rng = rng
        self.n_groups = n_groups
        self.pool_index = n_groups

    def cost_of(self, g: int, members: Sequence[int]) -> Cost:
        if g == self.pool_index:
            return self.p.pool_cost(members)
        return self.p.group_cost(members)

    def feasible(self, g: int, members: Sequence[int]) -> bool:
        return g == self.pool_index or self.p.group_mask(members) != 0

    def initial(self) -> State:
        p = self.p
        n = len(p.ids)
        groups: list[list[int]] = [[] for _ in range(self.n_groups + 1)]
        seeds = sorted(range(n), key=lambda i: (p.mediated[i], p.mask[i].bit_count(), p.rank[i]))
        for g in range(self.n_groups):
            groups[g].append(seeds[g])
        rest = sorted(seeds[self.n_groups :], key=lambda i: (p.mask[i].bit_count(), p.rank[i]))
        for i in rest:
            best: tuple[Cost, int] | None = None
            for limit in (p.core, p.capacity):
                for g in range(self.n_groups):
                    if len(groups[g]) >= limit:
                        continue
                    trial = [*groups[g], i]
                    if not self.feasible(g, trial):
                        continue
                    delta = _sub(p.group_cost(trial), p.group_cost(groups[g]))
                    if best is None or delta < best[0]:
                        best = (delta, g)
                if best is not None:
                    break
            groups[best[1] if best is not None else self.pool_index].append(i)
        where = [0] * n
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
        delta = _sub(_add(ca, cb), _add(s.costs[g_from], s.costs[g_to]))
        if not delta < ZERO:
            return False
        s.groups[g_from], s.groups[g_to] = a, b
        s.costs[g_from], s.costs[g_to] = ca, cb
        s.where[i] = g_to
        if j is not None:
            s.where[j] = g_from
        return True

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

    def solve(self, kicks: int) -> State:
        best = self.initial()
        self.descend(best)
        for _ in range(kicks):
            if best.total() == ZERO:
                break
            trial = best.copy()
            self.kick(trial, 2 + self.rng.randrange(2))
            self.descend(trial)
            if trial.total() < best.total():
                best = trial
        return best


def kicks_for(n: int) -> int:
    """Perturbation rounds: many for small cohorts (cheap, and where the test compares
    with the brute-force optimum), a fixed budget for large ones."""
    return max(8, min(60, 1200 // max(1, n)))


def group_trainees(
    facts: Facts, eligible: Sequence[str], rng: random.Random
) -> tuple[list[list[str]], list[str]]:
    """Complete groups (as mediator, parties..., observers... ids) and the trainees left
    in the pool."""
    problem = Problem(facts, eligible, rng)
    n_groups = len(eligible) // problem.core
    if n_groups == 0:
        return [], list(eligible)
    state = Grouping(problem, n_groups, rng).solve(kicks_for(len(eligible)))
    filled = _complete(problem, state)
    if filled < n_groups:
        # availability allows fewer groups than the numbers: search again for as many
        # groups as were filled, then one more while every group fills
        k = max(1, filled)
        while k < n_groups:
            trial = Grouping(problem, k, rng).solve(kicks_for(len(eligible)))
            if _complete(problem, trial) < k:
                break
            state, k = trial, k + 1
    groups: list[list[str]] = []
    pool: list[str] = [problem.ids[i] for i in state.groups[-1]]
    for members in state.groups[:-1]:
        if len(members) < problem.core:
            pool.extend(problem.ids[i] for i in members)
            continue
        mediator, parties, observers = problem.roles(members)
        groups.append([problem.ids[i] for i in (mediator, *parties, *observers)])
    return groups, pool


def _complete(problem: Problem, state: State) -> int:
    return sum(1 for g in state.groups[:-1] if len(g) >= problem.core)


def assign_coaches(
    facts: Facts, groups: Sequence[Sequence[str]], rng: random.Random
) -> tuple[list[Draft], list[Sequence[str]]]:
    """A coach and a start for each group: the least-loaded coach free at a start the
    group shares (earliest start), then loads levelled along chains of moves.
    Returns the drafts and the groups no coach could take."""
    core = facts.request.shape.core
    coaches = list(facts.coach_ids)
    crank = {c: r for r, c in enumerate(rng.sample(coaches, len(coaches)))}
    shared: list[int] = []
    for members in groups:
        m = facts.all_starts
        for t in members:
            m &= facts.mask[t]
        shared.append(m)
    order = sorted(range(len(groups)), key=lambda g: (shared[g].bit_count(), g))
    load = dict.fromkeys(coaches, 0)
    blocked = dict.fromkeys(coaches, 0)
    chosen: dict[int, tuple[str, int]] = {}
    homeless: list[int] = []

    def free(g: int, c: str) -> int:
        return shared[g] & facts.mask[c] & ~blocked[c]

    for g in order:
        options = sorted(
            (c for c in coaches if free(g, c)),
            key=lambda c: (load[c], facts.coached[c], crank[c]),
        )
        if not options:
            homeless.append(g)
            continue
        c = options[0]
        start = (free(g, c) & -free(g, c)).bit_length() - 1
        chosen[g] = (c, start)
        load[c] += 1
        blocked[c] |= facts.clash(start)

    def unbook(g: int) -> None:
        c, start = chosen.pop(g)
        load[c] -= 1
        blocked[c] = 0
        for oc, os in chosen.values():
            if oc == c:
                blocked[c] |= facts.clash(os)

    def book(g: int, c: str) -> None:
        f = free(g, c)
        start = (f & -f).bit_length() - 1
        chosen[g] = (c, start)
        load[c] += 1
        blocked[c] |= facts.clash(start)

    # level loads: move a group along a chain of coaches, from one with the most groups
    # to one with at least two fewer; each chain lowers the sum of squared loads
    while chosen:
        top = max(load.values())
        sources = [c for c in coaches if load[c] == top]
        path = _chain(sources, coaches, chosen, load, free)
        if path is None:
            break
        for g, _ in path:
            unbook(g)
        for g, c in path:
            book(g, c)

    drafts = []
    for g in sorted(chosen, key=lambda g: (chosen[g][1], g)):
        c, start = chosen[g]
        members = groups[g]
        drafts.append(Draft(start, c, members[0], tuple(members[1:core]), tuple(members[core:])))
    return drafts, [groups[g] for g in sorted(homeless)]


def _chain(
    sources: Sequence[str],
    coaches: Sequence[str],
    chosen: dict[int, tuple[str, int]],
    load: dict[str, int],
    free: Callable[[int, str], int],
) -> list[tuple[int, str]] | None:
    """Breadth-first from the most-loaded coaches over "a group of c1 could go to c2"
    to a coach with at least two groups fewer: the moves (group, new coach) along it."""
    top = load[sources[0]]
    prev: dict[str, tuple[str, int] | None] = dict.fromkeys(sources)
    queue = deque(sources)
    while queue:
        c1 = queue.popleft()
        for g, (c, _) in sorted(chosen.items()):
            if c != c1:
                continue
            for c2 in coaches:
                if c2 in prev or not free(g, c2):
                    continue
                prev[c2] = (c1, g)
                if load[c2] <= top - 2:
                    path: list[tuple[int, str]] = []
                    node = c2
                    while (step := prev[node]) is not None:
                        path.append((step[1], node))
                        node = step[0]
                    return path
                queue.append(c2)
    return None
