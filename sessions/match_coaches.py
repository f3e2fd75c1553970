"""The matcher's second step: a coach and a start for each group (greedy, then loads
levelled along chains of moves). Internals of `sessions/matching.py`."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Sequence

from sessions.match_model import Draft, Facts


def assign_coaches(
    facts: Facts, groups: Sequence[Sequence[str]], rng: random.Random
) -> tuple[list[Draft], list[Sequence[str]]]:
    """A coach and a start for each group: the least-loaded coach free at a start the
    group shares (earliest start; a group that finds none may displace one booked group
    to another coach or time), then loads levelled along chains of moves.
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

    def unbook(g: int) -> None:
        c, start = chosen.pop(g)
        load[c] -= 1
        blocked[c] = 0
        for oc, os in chosen.values():
            if oc == c:
                blocked[c] |= facts.clash(os)

    def book(g: int, c: str, start: int | None = None) -> None:
        if start is None:
            f = free(g, c)
            start = (f & -f).bit_length() - 1
        chosen[g] = (c, start)
        load[c] += 1
        blocked[c] |= facts.clash(start)

    def by_load(g: int) -> list[str]:
        return sorted(
            (c for c in coaches if free(g, c)),
            key=lambda c: (load[c], facts.coached[c], crank[c]),
        )

    def rescue(g: int) -> bool:
        """Make room for `g` by moving one booked group of a coach free at one of g's
        starts to another coach or time."""
        for c in sorted(coaches, key=lambda c: (load[c], crank[c])):
            if not shared[g] & facts.mask[c]:
                continue
            for h, (hc, hs) in sorted(chosen.items()):
                if hc != c:
                    continue
                unbook(h)
                if free(g, c):
                    book(g, c)
                    elsewhere = by_load(h)
                    if elsewhere:
                        book(h, elsewhere[0])
                        return True
                    unbook(g)
                book(h, hc, hs)
        return False

    for g in order:
        options = by_load(g)
        if options:
            book(g, options[0])
        elif not rescue(g):
            homeless.append(g)

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
