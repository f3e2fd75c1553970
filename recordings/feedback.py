"""Feedback on a session: adding, editing and reading annotations under the rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sessions.annotations import (
    Draft,
    InvalidAnnotation,
    Visibility,
    check_draft,
    may_change,
    may_see,
)
from sessions.errors import DomainError, NotPermitted
from sessions.ids import RoomId, ScenarioId, SeatId
from sessions.review import phase_bands, session_end_ms
from sessions.rooms import Room
from sessions.scenarios import Scenario
from storage.catalogue import Catalogue, Segment
from storage.notes import Notes


class UnknownNote(DomainError):
    code = "not_found"


@dataclass(frozen=True)
class Author:
    """Who writes: an identity in a seat of the session, or the admin (both None)."""

    identity: str | None
    seat: SeatId | None


class Feedback:
    def __init__(
        self, store: Notes, catalogue: Catalogue, scenarios: Mapping[ScenarioId, Scenario]
    ) -> None:
        self.store = store
        self._catalogue = catalogue
        self._scenarios = scenarios

    async def _session(self, room_id: RoomId) -> tuple[Scenario, tuple[SeatId, ...], list[Any]]:
        record = await self._catalogue.simulation(room_id)
        if record is None:
            raise UnknownNote(f"there is no session {room_id!r}")
        scenario = self._scenarios[record.scenario_id]
        seats = Room.create(record.id, scenario, record.observers).seats
        return scenario, seats, await self._catalogue.events(room_id)

    async def recorded_end_ms(self, room_id: RoomId) -> int:
        _, _, events = await self._session(room_id)
        return self._end_ms(events, await self._catalogue.segments(room_id))

    @staticmethod
    def _end_ms(events: list[Any], segments: list[Segment]) -> int:
        return session_end_ms(events, (s.end_ms for s in segments))

    async def add(
        self, room_id: RoomId, author: Author, draft: Draft, end_ms: int
    ) -> dict[str, Any]:
        """Validate and store; returns only once the note is committed."""
        scenario, seats, _ = await self._session(room_id)
        parent = await self.store.get(room_id, draft.reply_to) if draft.reply_to else None
        check_draft(draft, author.seat, scenario, seats, end_ms, parent)
        if draft.reply_to and author.seat is not None and parent is not None:
            # A trainee's reflection is seen by the coaches and themselves.
            draft = Draft(
                draft.t_ms, draft.text, None, None, author.seat, draft.visibility, draft.reply_to
            )
        return await self.store.add(room_id, draft, author.identity, author.seat)

    async def edit(
        self, room_id: RoomId, note_id: str, author: Author, draft: Draft, end_ms: int
    ) -> dict[str, Any]:
        note = await self._changeable(room_id, note_id, author)
        scenario, seats, _ = await self._session(room_id)
        parent = await self.store.get(room_id, note["reply_to"]) if note["reply_to"] else None
        draft = Draft(
            draft.t_ms,
            draft.text,
            draft.skill,
            draft.rating,
            draft.target,
            draft.visibility,
            note["reply_to"],
        )
        check_draft(draft, author.seat, scenario, seats, end_ms, parent)
        return await self.store.update(room_id, note_id, draft)

    async def delete(self, room_id: RoomId, note_id: str, author: Author) -> None:
        await self._changeable(room_id, note_id, author)
        await self.store.delete(room_id, note_id)

    async def _changeable(self, room_id: RoomId, note_id: str, author: Author) -> dict[str, Any]:
        note = await self.store.get(room_id, note_id)
        if note is None or not await self._visible(room_id, note, author):
            raise UnknownNote(f"there is no note {note_id!r}")
        if not may_change(note, author.identity):
            raise NotPermitted("only the note's author or an admin may change it")
        return note

    async def _visible(self, room_id: RoomId, note: Mapping[str, Any], viewer: Author) -> bool:
        scenario, _, events = await self._session(room_id)
        bands = phase_bands(events, self._end_ms(events, await self._catalogue.segments(room_id)))
        return may_see(note, viewer.seat, viewer.identity, bands, scenario.observer_view)

    async def visible(self, room_id: RoomId, viewer: Author) -> list[dict[str, Any]]:
        scenario, _, events = await self._session(room_id)
        bands = phase_bands(events, self._end_ms(events, await self._catalogue.segments(room_id)))
        return [
            note
            for note in await self.store.for_session(room_id)
            if may_see(note, viewer.seat, viewer.identity, bands, scenario.observer_view)
        ]


def draft_from(data: Mapping[str, Any], t_ms: int | None = None) -> Draft:
    """A Draft from a JSON payload, with type errors named (sizes are checked by the rules)."""

    def opt_str(key: str, limit: int) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or len(value) > limit:
            raise InvalidAnnotation(f"'{key}' must be a string of at most {limit} characters")
        return value

    text = data.get("text", "")
    if not isinstance(text, str):
        raise InvalidAnnotation("'text' must be a string")
    when = data.get("t_ms") if t_ms is None else t_ms
    if not isinstance(when, int) or isinstance(when, bool):
        raise InvalidAnnotation("'t_ms' must be an integer (ms since the session's start)")
    rating = data.get("rating")
    if rating is not None and (not isinstance(rating, int) or isinstance(rating, bool)):
        raise InvalidAnnotation("'rating' must be an integer")
    try:
        visibility = Visibility(data.get("visibility", Visibility.COACH))
    except ValueError:
        raise InvalidAnnotation("'visibility' is coach, target or all") from None
    target = opt_str("target", 32)
    return Draft(
        t_ms=when,
        text=text,
        skill=opt_str("skill", 64),
        rating=rating,
        target=SeatId(target) if target else None,
        visibility=visibility,
        reply_to=opt_str("reply_to", 64),
    )
