"""A matcher's proposal as JSON and back (pure), so a draft round keeps what it was
computed from: a hand swap re-scores against the same availability, history and
bookings the proposal saw, even if someone changes their availability meanwhile.

Times are UTC milliseconds; availability keeps its local wall times and zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sessions.availability import Availability, Interval, LocalRange, Window
from sessions.match_model import (
    Coach,
    Group,
    GroupScore,
    GroupShape,
    PastGroup,
    Proposal,
    RoundRequest,
    Rule,
    RuleReport,
    Trainee,
    Unplaced,
)
from sessions.stated_availability import DatedException, Statement, local, read_statement


def ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def instant(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, UTC)


def _availability(a: Availability) -> dict[str, Any]:
    dated = [DatedException("unavailable", r) for r in a.unavailable] + [
        DatedException("extra", r) for r in a.extra
    ]
    return {"time_zone": a.time_zone, **Statement(a.weekly, tuple(dated)).to_dict()}


def _restore_availability(data: dict[str, Any]) -> Availability:
    statement = read_statement({"weekly": data["weekly"], "exceptions": data["exceptions"]})
    return statement.in_zone(data["time_zone"])


def _range(r: LocalRange) -> list[str]:
    return [local(r.start), local(r.end)]


def request_to_json(r: RoundRequest) -> dict[str, Any]:
    return {
        "trainees": [{"id": t.id, "level": t.level} for t in r.trainees],
        "coaches": [c.id for c in r.coaches],
        "shape": {
            "parties": r.shape.parties,
            "observers": r.shape.observers,
            "minutes": r.shape.minutes,
        },
        "availability": {pid: _availability(a) for pid, a in r.availability.items()},
        "window": [ms(r.window.start), ms(r.window.end)],
        "history": [
            {
                "mediator": g.mediator,
                "parties": list(g.parties),
                "observers": list(g.observers),
                "coach": g.coach,
            }
            for g in r.history
        ],
        "grid_minutes": r.grid_minutes,
        "busy": {pid: [[ms(i.start), ms(i.end)] for i in spans] for pid, spans in r.busy.items()},
        "seed": r.seed,
    }


def request_from_json(data: dict[str, Any]) -> RoundRequest:
    return RoundRequest(
        trainees=tuple(Trainee(t["id"], t["level"]) for t in data["trainees"]),
        coaches=tuple(Coach(c) for c in data["coaches"]),
        shape=GroupShape(**data["shape"]),
        availability={pid: _restore_availability(a) for pid, a in data["availability"].items()},
        window=Window(instant(data["window"][0]), instant(data["window"][1])),
        history=tuple(
            PastGroup(g["mediator"], tuple(g["parties"]), tuple(g["observers"]), g["coach"])
            for g in data["history"]
        ),
        grid_minutes=data["grid_minutes"],
        busy={
            pid: tuple(Interval(instant(a), instant(b)) for a, b in spans)
            for pid, spans in data["busy"].items()
        },
        seed=data["seed"],
    )


def group_to_json(g: Group) -> dict[str, Any]:
    s = g.score
    return {
        "start_ms": ms(g.start),
        "end_ms": ms(g.end),
        "coach": g.coach,
        "mediator": g.mediator,
        "parties": list(g.parties),
        "observers": list(g.observers),
        "score": {
            "mediator_before": s.mediator_before,
            "fresh_pairs": s.fresh_pairs,
            "repeat_pairs": [list(p) for p in s.repeat_pairs],
            "levels": list(s.levels),
            "mixed": s.mixed,
        },
    }


def _group(data: dict[str, Any]) -> Group:
    s = data["score"]
    return Group(
        instant(data["start_ms"]),
        instant(data["end_ms"]),
        data["coach"],
        data["mediator"],
        tuple(data["parties"]),
        tuple(data["observers"]),
        GroupScore(
            s["mediator_before"],
            s["fresh_pairs"],
            tuple((a, b, n) for a, b, n in s["repeat_pairs"]),
            tuple(s["levels"]),
            s["mixed"],
        ),
    )


def rule_to_json(r: RuleReport) -> dict[str, Any]:
    return {"rule": r.rule.value, "met": r.met, "shortfall": r.shortfall, "detail": r.detail}


def proposal_to_json(p: Proposal) -> dict[str, Any]:
    return {
        "request": request_to_json(p.request),
        "groups": [group_to_json(g) for g in p.groups],
        "unplaced": [{"person": u.person, "reason": u.reason} for u in p.unplaced],
        "rules": [rule_to_json(r) for r in p.rules],
    }


def proposal_from_json(data: dict[str, Any]) -> Proposal:
    return Proposal(
        request_from_json(data["request"]),
        tuple(_group(g) for g in data["groups"]),
        tuple(Unplaced(u["person"], u["reason"]) for u in data["unplaced"]),
        tuple(
            RuleReport(Rule(r["rule"]), r["met"], r["shortfall"], r["detail"])
            for r in data["rules"]
        ),
    )
