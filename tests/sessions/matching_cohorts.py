"""Random cohorts for the practice-round matcher's property tests, and the checks they share.

:func:`cohorts` draws trainees, coaches, a group shape, stated availability in several
zones (over windows that cross a clock change) and a history of past groups.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from sessions.availability import Availability, LocalRange, WeeklySlot, Window
from sessions.matching import Coach, GroupShape, PastGroup, Proposal, Trainee, propose_round

ZONES = ("Europe/London", "America/New_York", "America/Phoenix", "Africa/Nairobi", "Asia/Taipei")
#: windows that cross a change: the US in March, Europe in March, Europe and the US in autumn
WINDOW_STARTS = (date(2027, 3, 10), date(2027, 3, 25), date(2027, 10, 28), date(2027, 11, 4))
FAST = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def always(zone: str = "UTC") -> Availability:
    return Availability(zone, tuple(WeeklySlot(d, time(), time()) for d in range(7)))


@st.composite
def weekly(draw: st.DrawFn) -> WeeklySlot:
    start = draw(st.integers(0, 47)) * 30
    end = (start + draw(st.integers(2, 16)) * 30) % 1440
    weekday = draw(st.integers(0, 6))
    return WeeklySlot(weekday, time(start // 60, start % 60), time(end // 60, end % 60))


@st.composite
def availability(draw: st.DrawFn, first: date) -> Availability:
    zone = draw(st.sampled_from(ZONES))
    if draw(st.integers(0, 4)) == 0:
        return always(zone)
    away = []
    if draw(st.booleans()):
        start = datetime.combine(first, time()) + timedelta(hours=draw(st.integers(0, 150)))
        away.append(LocalRange(start, start + timedelta(hours=draw(st.integers(1, 30)))))
    return Availability(zone, tuple(draw(st.lists(weekly(), min_size=1, max_size=6))), tuple(away))


@st.composite
def cohorts(
    draw: st.DrawFn,
    max_trainees: int = 10,
    full: bool = False,
    with_history: bool = True,
) -> dict[str, object]:
    first = draw(st.sampled_from(WINDOW_STARTS))
    n = draw(st.integers(3, max_trainees))
    trainees = [Trainee(f"t{i}", draw(st.integers(0, 2))) for i in range(n)]
    coaches = [Coach(f"c{i}") for i in range(draw(st.integers(1, 3)))]
    everyone = [t.id for t in trainees] + [k.id for k in coaches]
    stated = {
        pid: always(draw(st.sampled_from(ZONES))) if full else draw(availability(first))
        for pid in everyone
    }
    shape = GroupShape(
        parties=draw(st.integers(2, 3)),
        observers=draw(st.integers(0, 1)),
        minutes=draw(st.sampled_from((60, 90))),
    )
    history: list[PastGroup] = []
    if with_history:
        ids = [t.id for t in trainees]
        for _ in range(draw(st.integers(0, 4))):
            members = draw(st.permutations(ids))[: shape.core]
            history.append(PastGroup(members[0], tuple(members[1:])))
    return {
        "trainees": trainees,
        "coaches": coaches,
        "shape": shape,
        "availability": stated,
        "window": Window.days_from(first, 7),
        "history": history,
        "seed": draw(st.integers(0, 3)),
    }


def propose(c: dict[str, object]) -> Proposal:
    return propose_round(**c)  # type: ignore[arg-type]


def free_throughout(stated: Availability, start: datetime, end: datetime) -> bool:
    """The person's own clock, minute by minute, shows a time they stated free."""
    zone = ZoneInfo(stated.time_zone)
    t = start
    while t < end:
        if not stated.available_at_wall(t.astimezone(zone).replace(tzinfo=None)):
            return False
        t += timedelta(minutes=1)
    return True


def mediated(history: Sequence[PastGroup]) -> Counter[str]:
    return Counter(g.mediator for g in history)
