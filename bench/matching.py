"""Practice-round matcher: time to propose a round, and the rules it kept.

(a) 60 trainees in four zones (Nairobi, Taipei, Phoenix, London) with realistic
    evening and weekend availability, 8 coaches, a 14-day window, groups of a mediator
    and two parties (90 min): the wall time of `propose_round` for four successive
    rounds, history fed back.
(b) The issue's cohort: 12 trainees, the same four zones, 4 rounds: repeat pairings,
    role counts per trainee, availability violations.

    PYTHONPATH=$PWD .venv/bin/python bench/matching.py
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder would come first on sys.path and its name
# could shadow a package; put the project root there instead.
sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import itertools
import random
import time
from collections import Counter
from datetime import date
from datetime import time as clock

from sessions.availability import Availability, WeeklySlot, Window
from sessions.matching import (
    Coach,
    GroupShape,
    PastGroup,
    Rule,
    Trainee,
    history_of,
    propose_round,
)

ZONES = ("Africa/Nairobi", "Asia/Taipei", "America/Phoenix", "Europe/London")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def stated(zone: str, rng: random.Random) -> Availability:
    """Two or three weekday evenings and a weekend morning or afternoon, local time."""
    slots = []
    for day in rng.sample(DAYS[:5], rng.randint(2, 3)):
        start = rng.choice((17, 18, 19, 20))
        slots.append(WeeklySlot.parse(f"{day} {start:02d}:00-{start + 3:02d}:00"))
    for day in rng.sample(DAYS[5:], rng.randint(1, 2)):
        start = rng.choice((7, 8, 9, 10, 14, 15))
        slots.append(WeeklySlot.parse(f"{day} {start:02d}:00-{start + 4:02d}:00"))
    return Availability(zone, tuple(slots))


#: the issue's cohort: weekday evenings, and Saturday afternoon in London, which is
#: Saturday morning in Phoenix, evening in Nairobi and late night in Taipei
SMALL = {
    "Africa/Nairobi": ("mon 18:00-21:00", "wed 18:00-21:00", "sat 16:00-21:00"),
    "Asia/Taipei": ("tue 19:00-22:00", "thu 19:00-22:00", "sat 21:00-01:30"),
    "America/Phoenix": ("mon 17:00-21:00", "sat 06:00-11:00", "sun 17:00-20:00"),
    "Europe/London": ("tue 18:00-21:00", "sat 13:00-18:30", "sun 10:00-13:00"),
}


def coach_hours(zone: str) -> Availability:
    return Availability(zone, tuple(WeeklySlot(d, clock(7), clock(23)) for d in range(7)))


def cohort(
    n: int, n_coaches: int, seed: int
) -> tuple[list[Trainee], list[Coach], dict[str, Availability]]:
    rng = random.Random(seed)
    trainees = [Trainee(f"t{i:02d}", i % 3) for i in range(n)]
    coaches = [Coach(f"coach{i}") for i in range(n_coaches)]
    availability = {
        t.id: Availability(z, tuple(WeeklySlot.parse(s) for s in SMALL[z]))
        if n <= 12
        else stated(z, rng)
        for t, z in zip(trainees, itertools.cycle(ZONES), strict=False)
    }
    for k, z in zip(coaches, itertools.cycle(ZONES), strict=False):
        availability[k.id] = coach_hours(z)
    return trainees, coaches, availability


def rounds(n: int, n_coaches: int, days: int, n_rounds: int, seed: int) -> None:
    trainees, coaches, availability = cohort(n, n_coaches, seed)
    window = Window.days_from(date(2027, 3, 22), days)  # Europe changes clocks on the 28th
    shape = GroupShape(parties=2, observers=0, minutes=90)
    history: list[PastGroup] = []
    times: list[float] = []
    print(f"{n} trainees, {n_coaches} coaches, {days} days, groups of {shape.core}:")
    for r in range(n_rounds):
        t0 = time.perf_counter()
        proposal = propose_round(trainees, coaches, shape, availability, window, history, seed=r)
        elapsed = time.perf_counter() - t0
        times.append(elapsed)
        rules = "; ".join(
            f"{rep.rule} {'ok' if rep.met else f'short {rep.shortfall}'}" for rep in proposal.rules
        )
        print(
            f"  round {r + 1}: {elapsed * 1000:7.0f} ms, {len(proposal.groups)} groups, "
            f"{len(proposal.unplaced)} unplaced | {rules}"
        )
        history += history_of(proposal)
    roles: dict[str, Counter[str]] = {t.id: Counter() for t in trainees}
    met: Counter[tuple[str, str]] = Counter()
    for g in history:
        roles[g.mediator]["mediator"] += 1
        for p in g.parties:
            roles[p]["party"] += 1
        for a, b in itertools.combinations(sorted(g.trainees), 2):
            met[(a, b)] += 1
    repeats = sum(n - 1 for n in met.values() if n > 1)
    mediations = Counter(roles[t.id]["mediator"] for t in trainees)
    print(f"  time per proposal: max {max(times) * 1000:.0f} ms over {n_rounds} rounds")
    print(f"  repeat pairings over {n_rounds} rounds: {repeats}")
    print(
        "  trainees by times mediated: "
        + ", ".join(f"{k}× {v}" for k, v in sorted(mediations.items()))
    )
    if n <= 12:
        print("  role counts per trainee:")
        for t in trainees:
            print(
                f"    {t.id} ({availability[t.id].time_zone}, level {t.level}): "
                f"mediator {roles[t.id]['mediator']}, party {roles[t.id]['party']}"
            )


def violations(n: int, seed: int) -> int:
    """Availability violations over four rounds of the small cohort, checked in each
    member's own zone minute by minute (0 expected)."""
    trainees, coaches, availability = cohort(n, 3, seed)
    window = Window.days_from(date(2027, 3, 22), 14)
    history: list[PastGroup] = []
    bad = 0
    for r in range(4):
        proposal = propose_round(
            trainees, coaches, GroupShape(), availability, window, history, seed=r
        )
        assert proposal.report(Rule.AVAILABILITY).met
        for g in proposal.groups:
            for person in g.people:
                t = g.start
                while t < g.end:
                    bad += not availability[person].available_at(t)
                    t += (g.end - g.start) / 90
        history += history_of(proposal)
    return bad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trainees", type=int, default=60)
    parser.add_argument("--coaches", type=int, default=8)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rounds(args.trainees, args.coaches, args.days, 4, args.seed)
    print()
    rounds(12, 3, 14, 4, args.seed)
    print(f"  availability violations (own zone, minute by minute): {violations(12, args.seed)}")


if __name__ == "__main__":
    main()
