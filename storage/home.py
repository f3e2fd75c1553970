"""A person's agenda: the simulations they sit in or coach, coming up and past.

Read straight from the scheduling tables (`simulations`, `seat_assignments`,
cohort coaches) and from what the rooms wrote (`events` whose identity is the
person's id, `segments`, `annotations`). Which notes a trainee sees is decided
by `sessions.annotations.may_see`, the rule the playback page applies; this
module only picks, among those, the notes addressed to the trainee's seat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from sessions.annotations import may_see
from sessions.errors import UnknownSeat
from sessions.ids import SeatId
from sessions.review import may_name, people_in, phase_bands, session_end_ms
from sessions.roles import is_staff, role_of
from sessions.scenarios import ObserverView, Scenario
from storage.database import Database
from storage.schema import (
    cohort_members,
    events,
    notes,
    people,
    scenarios,
    seat_assignments,
    segments,
    simulations,
)

#: a scheduled simulation's Join button works this long before its start
JOIN_OPENS_BEFORE_MS = 15 * 60_000
#: a scheduled simulation nobody ended still counts as coming up this long after its end
OVERRUN_MS = 2 * 3600_000
#: a simulation scheduled without a length is taken to last this long
DEFAULT_DURATION_MIN = 60
#: how many of the notes addressed to a trainee the home page shows
LATEST_NOTES = 3

#: scenario id → the scenario, or None when it is unknown (the shipped ones, say)
ScenarioOf = Callable[[str], Scenario | None]

_SEATED = ("join", "resume", "replace")
#: (seat, person id, name)
_Seated = tuple[str, str, str]


@dataclass(frozen=True)
class Sitter:
    """Someone else in the simulation: their seat and name."""

    seat: str
    name: str


@dataclass(frozen=True)
class Note:
    id: str
    t_ms: int
    text: str
    skill: str | None
    rating: int | None
    author_seat: str | None
    created_ms: int


@dataclass(frozen=True)
class Entry:
    """One simulation as one person sees it on their home page."""

    id: str
    scenario_id: str
    title: str
    #: the person's seat (None: they coach the cohort without sitting in a seat)
    seat: str | None
    #: the scenario's character in the person's party seat, if any
    character: str | None
    role: str
    coaching: bool
    involved: bool  # assigned, took part, or coaching it
    took_part: bool  # joined the room at least once
    created_ms: int
    scheduled_ms: int | None
    duration_min: int | None
    ended_ms: int | None
    ended: bool
    join_opens_ms: int
    others: tuple[Sitter, ...]
    # what the room left behind (past simulations only)
    session_ms: int = 0
    has_recording: bool = False
    notes_total: int = 0  # every note on the session (what a coach counts)
    feedback_total: int = 0  # notes addressed to the trainee that they may see
    feedback: tuple[Note, ...] = field(default=())

    @property
    def end_ms(self) -> int | None:
        """The scheduled end (UTC), for calendars."""
        if self.scheduled_ms is None:
            return None
        return self.scheduled_ms + (self.duration_min or DEFAULT_DURATION_MIN) * 60_000


@dataclass(frozen=True)
class Agenda:
    upcoming: tuple[Entry, ...]
    past: tuple[Entry, ...]


@dataclass
class _Relation:
    assigned: str | None = None
    sat: str | None = None  # the seat of their latest join
    coach_of_cohort: bool = False

    @property
    def seat(self) -> str | None:
        return self.sat or self.assigned


async def _relations(conn: AsyncConnection, person_id: str) -> dict[str, _Relation]:
    found: dict[str, _Relation] = {}
    assigned = select(seat_assignments.c.simulation_id, seat_assignments.c.seat).where(
        seat_assignments.c.person_id == person_id
    )
    for row in await conn.execute(assigned):
        found.setdefault(row.simulation_id, _Relation()).assigned = row.seat
    sat = (
        select(events.c.simulation_id, events.c.seat)
        .where(events.c.identity == person_id, events.c.kind.in_(_SEATED))
        .order_by(events.c.id)
    )
    for row in await conn.execute(sat):
        if row.seat:
            found.setdefault(row.simulation_id, _Relation()).sat = row.seat
    coached = (
        select(simulations.c.id)
        .join(cohort_members, cohort_members.c.cohort_id == simulations.c.cohort_id)
        .where(cohort_members.c.person_id == person_id, cohort_members.c.role == "coach")
    )
    for row in await conn.execute(coached):
        found.setdefault(row.id, _Relation()).coach_of_cohort = True
    return found


def _scenario_from(document: Any) -> Scenario | None:
    try:
        return Scenario.from_dict(document)
    except Exception:  # a malformed console document: shown by its id
        return None


async def _scenarios(
    conn: AsyncConnection, ids: Iterable[str], scenario_of: ScenarioOf
) -> dict[str, Scenario | None]:
    known = {i: scenario_of(i) for i in set(ids)}
    missing = [i for i, s in known.items() if s is None]
    if missing:
        rows = await conn.execute(
            select(scenarios.c.id, scenarios.c.document).where(scenarios.c.id.in_(missing))
        )
        for row in rows:
            known[row.id] = _scenario_from(row.document)
    return known


def _timeline(row: Any) -> dict[str, Any]:
    detail = row.detail if isinstance(row.detail, Mapping) else {}
    return {**detail, "t_ms": int(row.t_ms), "kind": row.kind, "seat": row.seat}


def _role(seat: str | None) -> str:
    if seat is None:
        return "coach"
    try:
        return role_of(SeatId(seat)).value
    except UnknownSeat:
        return "observer"


_ROLE_ORDER = ("mediator", "party", "coach", "observer")


def _seat_order(item: tuple[str, str]) -> tuple[int, str]:
    """Mediator, parties, coach, observers: the order the room lists them in."""
    role = _role(item[0])
    return (_ROLE_ORDER.index(role) if role in _ROLE_ORDER else len(_ROLE_ORDER), item[0])


def _nameable(viewer: SeatId | None, seat: str) -> bool:
    try:
        return may_name(viewer, SeatId(seat))
    except UnknownSeat:
        return False


def _staff(seat: str | None) -> bool:
    try:
        return seat is not None and is_staff(SeatId(seat))
    except UnknownSeat:
        return False


async def _seated(conn: AsyncConnection, sim_ids: Sequence[str]) -> dict[str, list[_Seated]]:
    """Who is assigned to each simulation's seats: (seat, person id, name)."""
    seated: dict[str, list[_Seated]] = {}
    query = (
        select(
            seat_assignments.c.simulation_id,
            seat_assignments.c.seat,
            seat_assignments.c.person_id,
            people.c.name,
        )
        .join(people, people.c.id == seat_assignments.c.person_id)
        .where(seat_assignments.c.simulation_id.in_(sim_ids))
        .order_by(seat_assignments.c.seat)
    )
    for row in await conn.execute(query):
        seated.setdefault(row.simulation_id, []).append((row.seat, row.person_id, row.name))
    return seated


async def _timelines(
    conn: AsyncConnection, sim_ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """Each simulation's phase changes and joins, as the review rules read them."""
    timelines: dict[str, list[dict[str, Any]]] = {}
    query = (
        select(events.c.simulation_id, events.c.t_ms, events.c.kind, events.c.seat, events.c.detail)
        .where(events.c.simulation_id.in_(sim_ids), events.c.kind.in_(("phase", *_SEATED)))
        .order_by(events.c.id)
    )
    for row in await conn.execute(query):
        timelines.setdefault(row.simulation_id, []).append(_timeline(row))
    return timelines


async def _lengths(
    conn: AsyncConnection, sim_ids: Sequence[str]
) -> dict[str, tuple[int, int, int]]:
    """Per simulation: its latest event, the end of its latest recorded media, and how
    many media segments it recorded."""
    found: dict[str, tuple[int, int, int]] = {}
    last_events = select(events.c.simulation_id, func.max(events.c.t_ms)).where(
        events.c.simulation_id.in_(sim_ids)
    )
    for sim_id, last in await conn.execute(last_events.group_by(events.c.simulation_id)):
        found[sim_id] = (int(last or 0), 0, 0)
    media = select(
        segments.c.simulation_id,
        func.max(segments.c.start_ms + segments.c.duration_ms),
        func.count(),
    ).where(segments.c.simulation_id.in_(sim_ids))
    for sim_id, end, count in await conn.execute(media.group_by(segments.c.simulation_id)):
        found[sim_id] = (found.get(sim_id, (0, 0, 0))[0], int(end or 0), int(count))
    return found


async def _notes(conn: AsyncConnection, sim_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Each simulation's notes, newest first."""
    by_sim: dict[str, list[dict[str, Any]]] = {}
    query = (
        select(notes)
        .where(notes.c.simulation_id.in_(sim_ids))
        .order_by(notes.c.created_ms.desc(), notes.c.id)
    )
    for row in await conn.execute(query):
        by_sim.setdefault(row.simulation_id, []).append(dict(row._mapping))
    return by_sim


async def _entries(
    conn: AsyncConnection,
    person_id: str,
    relations: Mapping[str, _Relation],
    sim_ids: Sequence[str],
    now_ms: int,
    scenario_of: ScenarioOf,
) -> list[Entry]:
    if not sim_ids:
        return []
    sims = list(await conn.execute(select(simulations).where(simulations.c.id.in_(sim_ids))))
    known = await _scenarios(conn, (s.scenario_id for s in sims), scenario_of)
    seated = await _seated(conn, sim_ids)
    timelines = await _timelines(conn, sim_ids)
    lengths = await _lengths(conn, sim_ids)
    by_sim = await _notes(conn, sim_ids)
    entries = []
    for sim in sims:
        relation = relations.get(sim.id, _Relation())
        scenario = known.get(sim.scenario_id)
        timeline = timelines.get(sim.id, [])
        seat = relation.seat
        coaching = relation.coach_of_cohort or _staff(seat)
        party = None
        if scenario is not None and seat is not None:
            party = next((p.name for p in scenario.parties if p.seat == seat), None)
        phase_ended = any(e["kind"] == "phase" and e.get("phase") == "ended" for e in timeline)
        duration = sim.duration_min or DEFAULT_DURATION_MIN
        overrun = (
            sim.scheduled_ms is not None
            and now_ms >= sim.scheduled_ms + duration * 60_000 + OVERRUN_MS
        )
        last_event, end_recorded, segment_count = lengths.get(sim.id, (0, 0, 0))
        session_ms = session_end_ms(
            [*timeline, {"kind": "last", "t_ms": last_event}], [end_recorded]
        )
        others = {s: n for s, p, n in seated.get(sim.id, []) if p != person_id}
        for sitter in people_in(timeline):  # a guest who joined by a link, by name
            if sitter["seat"] != seat:
                others.setdefault(sitter["seat"], sitter["name"])
        viewer = None if coaching or seat is None else SeatId(seat)
        others = {s: n for s, n in others.items() if _nameable(viewer, s)}
        all_notes = by_sim.get(sim.id, [])
        addressed: list[dict[str, Any]] = []
        if seat is not None and not coaching:
            bands = phase_bands(timeline, session_ms)
            view = scenario.observer_view if scenario else ObserverView.JOINT_ONLY
            addressed = [
                n
                for n in all_notes
                if n["target"] == seat
                and n["author"] != person_id
                and may_see(n, SeatId(seat), person_id, bands, view)
            ]
        entries.append(
            Entry(
                id=sim.id,
                scenario_id=sim.scenario_id,
                title=scenario.title if scenario else sim.scenario_id,
                seat=seat,
                character=party,
                role=_role(seat),
                coaching=coaching,
                involved=sim.id in relations,
                took_part=relation.sat is not None,
                created_ms=int(sim.created_ms),
                scheduled_ms=sim.scheduled_ms,
                duration_min=sim.duration_min,
                ended_ms=sim.ended_ms,
                ended=sim.ended_ms is not None or phase_ended or overrun,
                join_opens_ms=(
                    sim.scheduled_ms - JOIN_OPENS_BEFORE_MS
                    if sim.scheduled_ms is not None
                    else int(sim.created_ms)
                ),
                others=tuple(Sitter(s, n) for s, n in sorted(others.items(), key=_seat_order)),
                session_ms=session_ms,
                has_recording=segment_count > 0,
                notes_total=len(all_notes),
                feedback_total=len(addressed),
                feedback=tuple(_note(n) for n in addressed[:LATEST_NOTES]),
            )
        )
    return entries


def _note(row: Mapping[str, Any]) -> Note:
    return Note(
        id=str(row["id"]),
        t_ms=int(row["t_ms"]),
        text=str(row["text"]),
        skill=row["skill"],
        rating=row["rating"],
        author_seat=row["author_seat"],
        created_ms=int(row["created_ms"]),
    )


def _when(entry: Entry) -> int:
    return entry.scheduled_ms if entry.scheduled_ms is not None else entry.created_ms


async def agenda(db: Database, person_id: str, now_ms: int, scenario_of: ScenarioOf) -> Agenda:
    """The person's simulations: coming up (soonest first) and past (latest first)."""
    async with db.reading() as conn:
        relations = await _relations(conn, person_id)
        entries = await _entries(conn, person_id, relations, list(relations), now_ms, scenario_of)
    upcoming = sorted((e for e in entries if not e.ended), key=_when)
    past = sorted((e for e in entries if e.ended), key=_when, reverse=True)
    return Agenda(tuple(upcoming), tuple(past))


async def simulation_for(
    db: Database, simulation_id: str, person_id: str, now_ms: int, scenario_of: ScenarioOf
) -> Entry | None:
    """One simulation as `person_id` sees it (`involved` False if they have no part in it);
    None if there is no such simulation."""
    async with db.reading() as conn:
        relations = await _relations(conn, person_id)
        found = await _entries(conn, person_id, relations, [simulation_id], now_ms, scenario_of)
    return found[0] if found else None
