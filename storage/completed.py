"""What an ended simulation left behind, read for its logbook entries: the timeline
(phases, seats taken, the end), the notes, the scenario and the coach scheduled in
`seat_assignments` (`sessions.logbook.Completed`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from sessions.logbook import Completed
from sessions.scenarios import ObserverView, Scenario
from storage.schema import events, notes, people, scenarios, seat_assignments, simulations

#: scenario id → the scenario (the shipped ones); console-written ones are read here
ScenarioOf = Callable[[str], Scenario | None]

SEATED = ("join", "resume", "replace")
_TIMELINE = ("phase", "ended", *SEATED)


def _timeline_row(row: Any) -> dict[str, Any]:
    detail = row.detail if isinstance(row.detail, Mapping) else {}
    found = {**detail, "t_ms": int(row.t_ms), "kind": row.kind, "seat": row.seat}
    if row.identity:
        found["identity"] = row.identity
    return found


def _ended_at(timeline: Sequence[Mapping[str, Any]]) -> int | None:
    for event in timeline:
        if event["kind"] == "ended" or (event["kind"] == "phase" and event.get("phase") == "ended"):
            return int(event["t_ms"])
    return None


async def _scenario(
    conn: AsyncConnection, scenario_id: str, scenario_of: ScenarioOf
) -> Scenario | None:
    known = scenario_of(scenario_id)
    if known is not None:
        return known
    document = await conn.scalar(select(scenarios.c.document).where(scenarios.c.id == scenario_id))
    try:
        return Scenario.from_dict(document) if document is not None else None
    except Exception:  # a malformed console document: the entry names the scenario's id
        return None


async def completed(
    conn: AsyncConnection, simulation_id: str, scenario_of: ScenarioOf
) -> Completed | None:
    """What the simulation left behind, or None if it has not ended (or never ran)."""
    sim = (await conn.execute(select(simulations).where(simulations.c.id == simulation_id))).first()
    if sim is None or sim.t0_ms is None:
        return None
    rows = await conn.execute(
        select(events.c.t_ms, events.c.kind, events.c.seat, events.c.detail, events.c.identity)
        .where(events.c.simulation_id == simulation_id, events.c.kind.in_(_TIMELINE))
        .order_by(events.c.id)
    )
    timeline = [_timeline_row(r) for r in rows]
    end = _ended_at(timeline)
    if end is None and sim.ended_ms is not None:  # ended from the console, not in the room
        end = max(0, int(sim.ended_ms) - int(sim.t0_ms))
    if end is None:
        return None
    scenario: Scenario | None = await _scenario(conn, sim.scenario_id, scenario_of)
    found_notes = await conn.execute(
        select(notes).where(notes.c.simulation_id == simulation_id).order_by(notes.c.t_ms)
    )
    assigned_coach = await conn.scalar(
        select(people.c.name)
        .join(seat_assignments, seat_assignments.c.person_id == people.c.id)
        .where(
            seat_assignments.c.simulation_id == simulation_id, seat_assignments.c.seat == "coach"
        )
    )
    return Completed(
        simulation_id=simulation_id,
        assigned_coach=assigned_coach,
        scenario_title=scenario.title if scenario else sim.scenario_id,
        observer_view=scenario.observer_view if scenario else ObserverView.JOINT_ONLY,
        t0_ms=int(sim.t0_ms),
        end_ms=end,
        timeline=timeline,
        notes=[dict(n._mapping) for n in found_notes],
        skill_names={s.id: s.name for s in scenario.rubric} if scenario else {},
    )
