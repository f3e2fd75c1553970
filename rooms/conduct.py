"""Running a simulation: phases, the end, whispers, consent, live notes and briefs."""

from __future__ import annotations

import logging
from typing import Any

from recordings.feedback import Author, draft_from
from rooms.commands import (
    Annotate,
    ChangePhase,
    End,
    GiveConsent,
    PhaseChanged,
    ReadBrief,
    Whisper,
)
from rooms.context import RoomContext
from rooms.errors import NoFeedback
from rooms.events import AudienceChanged, NoteAdded, Whispered
from sessions.audience import audience
from sessions.errors import NotPermitted, NotSeated
from sessions.phases import PhaseKind
from sessions.roles import is_staff, role_of
from sessions.rooms import Consent
from sessions.timeline import Event, EventKind
from sessions.views import visible_briefs

logger = logging.getLogger(__name__)


async def change_phase(rooms: RoomContext, command: ChangePhase) -> PhaseChanged:
    live, seat = rooms.seated(command.connection)
    async with live.lock:
        now = rooms.directory.now_ms(live)
        room, event = live.room.change_phase(seat, command.to, now, command.planned_ms)
        await rooms.directory.commit(live, room, event)
    # Forwarding switches first: nobody should hear a caucus while the banner catches up.
    await rooms.events.publish(AudienceChanged(live.id, audience(room)))
    await rooms.tell_seats(live)
    return PhaseChanged(str(room.phase), event.t_ms)


async def end(rooms: RoomContext, command: End) -> int | None:
    """Opened first if it is not live, so that no link admits anyone after."""
    live = await rooms.directory.open(command.room_id)
    async with live.lock:
        if live.room.phase.kind is PhaseKind.ENDED:
            return None
        now = rooms.directory.now_ms(live)
        room, event = live.room.end(now, command.by)
        await rooms.directory.commit(live, room, event)
    await rooms.events.publish(AudienceChanged(live.id, audience(room)))
    await rooms.tell_seats(live)
    logger.info("room %s ended by %s", live.id, command.by)
    return now


async def whisper(rooms: RoomContext, command: Whisper) -> int:
    live, seat = rooms.seated(command.connection)
    target = live.room.whisper_target(seat)
    target_connection = live.sockets.get(target)
    if target_connection is None:
        raise NotSeated(f"the {target} is not connected")
    async with live.lock:  # the room stays as it is: nobody else's change is undone
        now = rooms.directory.now_ms(live)
        event = Event(now, EventKind.WHISPER, seat, {"to": target, "text": command.text})
        await rooms.directory.commit(live, live.room, event)
    await rooms.events.publish(Whispered(live.id, target_connection, seat, command.text, now))
    return now


async def give_consent(rooms: RoomContext, command: GiveConsent) -> Consent:
    live, seat = rooms.seated(command.connection)
    async with live.lock:
        now = rooms.directory.now_ms(live)
        room, event = live.room.answer_consent(seat, command.recording, now)
        await rooms.directory.commit(live, room, event)
    await rooms.tell_seats(live)
    return room.participants[seat].consent


async def annotate(rooms: RoomContext, command: Annotate) -> dict[str, Any]:
    """Stored (and answered) only once committed; the other staff seats are shown it."""
    live, seat = rooms.seated(command.connection)
    if rooms.feedback is None:
        raise NoFeedback("this server keeps no feedback")
    now = rooms.directory.now_ms(live)
    draft = draft_from(command.note, max(0, now - command.lag_ms))
    identity = live.room.participants[seat].identity
    note = await rooms.feedback.add(live.id, Author(identity, seat), draft, now)
    staff = tuple(
        other
        for other_seat, other in live.sockets.items()
        if other != command.connection and is_staff(other_seat)
    )
    await rooms.events.publish(NoteAdded(live.id, note, staff))
    return note


async def read_brief(rooms: RoomContext, command: ReadBrief) -> str:
    live, seat = rooms.seated(command.connection)
    briefs = visible_briefs(live.room, seat)
    if command.key not in briefs:
        raise NotPermitted(f"a {role_of(seat).value} may not read the {command.key!r} brief")
    return briefs[command.key]
