"""Feedback exports: WebVTT captions, CSV, JSON, and a per-trainee summary."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from sessions.scenarios import Scenario

#: how long a note stays on screen as a caption
CUE_MS = 4000
CSV_FIELDS = [
    "id",
    "t_ms",
    "time",
    "author_seat",
    "target",
    "skill",
    "rating",
    "visibility",
    "text",
    "reply_to",
    "created_ms",
    "edited_ms",
]


def clock(ms: int) -> str:
    """WebVTT timestamp hh:mm:ss.mmm."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _skill_names(scenario: Scenario) -> dict[str, str]:
    return {s.id: s.name for s in scenario.rubric}


def caption(note: Mapping[str, Any], skills: Mapping[str, str]) -> str:
    parts = []
    if note.get("skill"):
        label = skills.get(note["skill"], note["skill"])
        if note.get("rating"):
            label += f" ({note['rating']}/5)"
        parts.append(f"[{label}]")
    if note.get("text"):
        parts.append(str(note["text"]))
    return " ".join(parts)


def _vtt_escape(text: str) -> str:
    # Cue text is markup: escape it, and a blank line or "-->" would end or break the cue.
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "\n".join(line for line in text.splitlines() if line.strip())


def to_webvtt(notes: Sequence[Mapping[str, Any]], scenario: Scenario) -> str:
    skills = _skill_names(scenario)
    lines = ["WEBVTT", f"NOTE Caucus feedback: {scenario.title}", ""]
    for note in sorted(notes, key=lambda n: (n["t_ms"], n["created_ms"])):
        start = int(note["t_ms"])
        author = note.get("author_seat") or "admin"
        lines += [
            str(note["id"]),
            f"{clock(start)} --> {clock(start + CUE_MS)}",
            _vtt_escape(f"{author}: {caption(note, skills)}"),
            "",
        ]
    return "\n".join(lines)


def to_csv(notes: Sequence[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for note in notes:
        writer.writerow({**note, "time": clock(int(note["t_ms"]))})
    return out.getvalue()


def to_json(
    notes: Sequence[Mapping[str, Any]],
    scenario: Scenario,
    room_id: str,
    trouble: Sequence[Mapping[str, Any]] = (),
) -> str:
    """Notes and the troubled stretches of the seats' links (``trouble`` timeline events)."""
    return json.dumps(
        {
            "session": room_id,
            "scenario": scenario.id,
            "title": scenario.title,
            "rubric": [{"id": s.id, "name": s.name} for s in scenario.rubric],
            "annotations": list(notes),
            "link_trouble": [
                {
                    "seat": e["seat"],
                    "start_ms": e["t_ms"],
                    "end_ms": e["end_ms"],
                    "what": e["what"],
                    **{k: e.get(k) for k in ("loss_pct", "frozen_ms", "rtt_ms", "jitter_ms")},
                }
                for e in trouble
            ],
        },
        indent=2,
    )


def trainee_summary(
    identity: str,
    sessions: Sequence[tuple[str, str, Scenario, Sequence[Mapping[str, Any]]]],
    started_ms: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Across sessions (id, seat, scenario, notes visible to the trainee): counts by skill,
    every note in order, and each skill's ratings over time (`started_ms`: a session's
    wall-clock start, so a rating is dated at its session's start plus its `t_ms`)."""
    counts: Counter[str] = Counter()
    ratings: dict[str, list[int]] = {}
    points: dict[str, list[dict[str, Any]]] = {}
    ordered = []
    for room_id, seat, scenario, notes in sessions:
        skills = _skill_names(scenario)
        start = (started_ms or {}).get(room_id)
        for note in sorted(notes, key=lambda n: n["t_ms"]):
            if note.get("skill"):
                name = skills.get(note["skill"], note["skill"])
                counts[name] += 1
                if note.get("rating"):
                    ratings.setdefault(name, []).append(int(note["rating"]))
                    points.setdefault(name, []).append(
                        {
                            "at_ms": None if start is None else start + int(note["t_ms"]),
                            "rating": int(note["rating"]),
                            "session": room_id,
                            "scenario": scenario.title,
                            "note": note.get("id"),
                        }
                    )
            ordered.append(
                {
                    "session": room_id,
                    "seat": seat,
                    "scenario": scenario.title,
                    "time": clock(int(note["t_ms"])),
                    **note,
                    "skill_name": skills.get(note["skill"], note["skill"])
                    if note.get("skill")
                    else None,
                }
            )
    return {
        "identity": identity,
        "sessions": [room_id for room_id, *_ in sessions],
        "by_skill": [
            {
                "skill": name,
                "count": count,
                "mean_rating": round(sum(ratings[name]) / len(ratings[name]), 2)
                if name in ratings
                else None,
            }
            for name, count in counts.most_common()
        ],
        "ratings": [
            {"skill": name, "points": sorted(dated, key=lambda p: p["at_ms"] or 0)}
            for name, dated in sorted(points.items())
        ],
        "notes": ordered,
    }
