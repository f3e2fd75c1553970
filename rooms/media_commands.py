"""A seat's media signalling (answers, candidates, restarts) and media's and the
recorder's reports back to the room (gaps on the timeline, the recording's fault)."""

from __future__ import annotations

from rooms.commands import AddCandidate, AnswerMedia, RecordingFault, ReportMedia, RestartMedia
from rooms.context import RoomContext
from rooms.errors import MediaRefused, NoMedia, NotJoined, TooSoon
from rooms.events import MediaGap
from sessions.timeline import Event


def _reason(exc: ValueError) -> str:
    return str(exc)[:200] or type(exc).__name__


async def answer(rooms: RoomContext, command: AnswerMedia) -> bool:
    live, seat = rooms.seated(command.connection)
    try:
        return await rooms.media.answer(live.id, seat, command.sdp, "answer", command.number)
    except ValueError as exc:
        raise MediaRefused("SDP answer", _reason(exc)) from None


async def add_candidate(rooms: RoomContext, command: AddCandidate) -> bool:
    live, seat = rooms.seated(command.connection)
    try:
        return await rooms.media.ice_candidate(
            live.id, seat, dict(command.candidate), command.number
        )
    except ValueError as exc:
        raise MediaRefused("ICE candidate", _reason(exc)) from None


async def restart(rooms: RoomContext, command: RestartMedia) -> None:
    live, seat = rooms.seated(command.connection)
    outcome = await rooms.media.restart(live.id, seat, command.reason)
    if outcome == "too_soon":
        raise TooSoon("a new media connection was just offered; answer it first")
    if outcome == "no_media":
        raise NoMedia("this server runs no media")
    if outcome == "no_connection":
        raise NotJoined("this seat has no media connection yet")


async def report(rooms: RoomContext, command: ReportMedia) -> None:
    """Store the gap event, if any; every seat sees the seat's new media status."""
    live = rooms.directory.peek(command.room_id)  # media never opens a room
    if live is None:
        return
    if command.kind is not None:
        async with live.lock:
            now = rooms.directory.now_ms(live)
            event = Event(now, command.kind, command.seat, dict(command.detail))
            await rooms.directory.commit(live, live.room, event)
        gap = MediaGap(live.id, command.seat, command.kind, command.detail)
        await rooms.events.publish(gap)
    await rooms.tell_seats(live)


async def recording_fault(rooms: RoomContext, command: RecordingFault) -> None:
    """The recorder stored the fault; the room's state shows it (or no longer)."""
    live = rooms.directory.set_recording_fault(command.room_id, command.reason)
    if live is None:
        return
    await rooms.tell_seats(live)
