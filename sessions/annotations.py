"""Coach feedback on the session timeline: notes and rubric tags, and who sees them.

An annotation sits at a moment of the session clock (ms since t0). Its
visibility decides which trainees see it; a party never sees a note that sits
inside another party's caucus, whatever its visibility says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sessions.errors import DomainError, NotPermitted
from sessions.ids import SeatId
from sessions.phases import Phase
from sessions.recording_rules import PUBLIC, may_watch, visibility_of
from sessions.roles import CAPABILITIES, TRAINEE_ROLES, Capability, is_staff, role_of
from sessions.scenarios import ObserverView, Scenario

MAX_NOTE_CHARS = 2000
MAX_RATING = 5


class InvalidAnnotation(DomainError):
    code = "invalid_annotation"


class Visibility(StrEnum):
    COACH = "coach"  # coaches and admins only
    TARGET = "target"  # also the targeted trainee
    ALL = "all"  # every participant of the session


@dataclass(frozen=True)
class Draft:
    """What an author asks to store; validated against the scenario and the author's seat."""

    t_ms: int
    text: str = ""
    skill: str | None = None
    rating: int | None = None
    target: SeatId | None = None
    visibility: Visibility = Visibility.COACH
    reply_to: str | None = None


def check_draft(
    draft: Draft,
    author: SeatId | None,
    scenario: Scenario,
    seats: Sequence[SeatId],
    duration_ms: int,
    parent: Mapping[str, Any] | None = None,
) -> None:
    """Raise a domain error naming the rule `draft` breaks; `author` None is the admin."""
    if len(draft.text) > MAX_NOTE_CHARS:
        raise InvalidAnnotation(f"a note has at most {MAX_NOTE_CHARS} characters")
    if not draft.text.strip() and draft.skill is None:
        raise InvalidAnnotation("a note needs text or a rubric skill")
    if not 0 <= draft.t_ms <= duration_ms:
        raise InvalidAnnotation(f"{draft.t_ms} ms is outside the session (0 to {duration_ms} ms)")
    if draft.skill is not None and draft.skill not in {s.id for s in scenario.rubric}:
        raise InvalidAnnotation(f"{draft.skill!r} is not a skill of this scenario's rubric")
    if draft.rating is not None and (draft.skill is None or not 1 <= draft.rating <= MAX_RATING):
        raise InvalidAnnotation(f"a rating is 1 to {MAX_RATING} and goes with a skill")
    if draft.target is not None and (
        draft.target not in seats or role_of(draft.target) not in TRAINEE_ROLES
    ):
        raise InvalidAnnotation(f"{draft.target!r} is not a trainee seat of this session")
    if draft.visibility is Visibility.TARGET and draft.target is None:
        raise InvalidAnnotation("a note for its target needs a target seat")
    if draft.reply_to is not None:
        _check_reply(draft, author, parent)
    elif author is not None and Capability.ANNOTATE not in CAPABILITIES[role_of(author)]:
        raise NotPermitted(
            f"a {role_of(author).value} may only reply to feedback addressed to them"
        )


def _check_reply(draft: Draft, author: SeatId | None, parent: Mapping[str, Any] | None) -> None:
    """Trainees reflect on feedback addressed to them; staff may reply to anything."""
    if parent is None:
        raise InvalidAnnotation("the note replied to does not exist")
    if parent.get("reply_to"):
        raise InvalidAnnotation("replies are not threaded further")
    if author is not None and role_of(author) in TRAINEE_ROLES:
        if parent.get("target") != author or parent.get("visibility") == Visibility.COACH:
            raise NotPermitted("a trainee replies only to feedback addressed to them")
    if draft.skill is not None or draft.rating is not None:
        raise InvalidAnnotation("a reply is text only")


def _caucus_at(t_ms: int, bands: Sequence[Mapping[str, Any]]) -> str:
    for band in bands:
        if band["start_ms"] <= t_ms < band["end_ms"]:
            return visibility_of(Phase.parse(str(band["phase"])))
    return PUBLIC


def may_see(
    note: Mapping[str, Any],
    viewer: SeatId | None,
    viewer_identity: str | None,
    bands: Sequence[Mapping[str, Any]],
    observers: ObserverView,
) -> bool:
    """Whether the person in `viewer` (None: admin) sees `note` (a stored annotation)."""
    if viewer is None:
        return True
    if is_staff(viewer):
        return True
    if note.get("author") == viewer_identity:
        return True
    if not may_watch(viewer, _caucus_at(int(note["t_ms"]), bands), observers):
        return False
    visibility = note.get("visibility")
    if visibility == Visibility.ALL:
        return True
    return visibility == Visibility.TARGET and note.get("target") == viewer


def may_change(note: Mapping[str, Any], identity: str | None) -> bool:
    """Only the author and admins (identity None) edit or delete a note."""
    return identity is None or note.get("author") == identity
