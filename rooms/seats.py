"""Taking, losing and giving up seats: join, drop (and the grace period), leave.

Each handler changes the room under its lock (domain → commit → bind), then
publishes what happened once the lock is released.
"""

from __future__ import annotations

import asyncio
import logging

from rooms.commands import Drop, Join, Joined, Leave
from rooms.context import RoomContext
from rooms.directory import LiveRoom
from rooms.errors import AlreadySeated, NotJoined
from rooms.events import AudienceChanged, SeatDropped, SeatEntered, SeatLeft, SeatReplaced
from sessions.audience import audience
from sessions.ids import SeatId

logger = logging.getLogger(__name__)


async def join(rooms: RoomContext, command: Join) -> Joined:
    directory = rooms.directory
    if directory.locate(command.connection) is not None:
        raise AlreadySeated("this connection already sits in a seat")
    live = await directory.open(command.room_id)
    _hold_restored(rooms, live)
    seat = command.seat
    async with live.lock:
        now = directory.now_ms(live)
        room, outcome, event = live.room.join(command.identity, command.name, seat, now)
        await directory.commit(live, room, event)
        displaced = directory.bind(live, seat, command.connection)
        release = live.releases.pop(seat, None)
    if release is not None:
        release.cancel()
    if displaced is not None:
        await rooms.events.publish(SeatReplaced(live.id, seat, displaced))
    entered = SeatEntered(live.id, seat, command.connection, command.identity, command.until)
    await rooms.events.publish(entered)
    await rooms.events.publish(AudienceChanged(live.id, audience(live.room)))
    await rooms.tell_seats(live)
    logger.info("%s %s seat %s in %s", command.identity, outcome.value, seat, live.id)
    return Joined(live.id, seat, outcome, rooms.view(live, seat))


async def leave(rooms: RoomContext, command: Leave) -> None:
    live, seat = rooms.seated(command.connection)
    async with live.lock:
        if live.sockets.get(seat) != command.connection:  # replaced while this waited
            raise NotJoined("this connection no longer holds its seat")
        room, event = live.room.leave(seat, rooms.directory.now_ms(live))
        await rooms.directory.commit(live, room, event)
        rooms.directory.unbind(command.connection)
    await rooms.events.publish(SeatLeft(live.id, seat, command.connection, command.disconnect))
    await rooms.tell_seats(live)


async def drop(rooms: RoomContext, command: Drop) -> None:
    found = rooms.directory.unbind(command.connection)
    if found is None:
        return  # not seated, or already replaced by another connection
    live, seat = found
    async with live.lock:
        if seat not in live.room.participants or seat in live.sockets:
            # gone, or taken meanwhile by another connection: a page back on a new
            # socket before its old one was noticed dead (its join ran first, behind
            # this lock) holds the seat, and dropping it would close its media
            return
        room, event = live.room.drop(seat, rooms.directory.now_ms(live))
        await rooms.directory.commit(live, room, event)
        live.releases[seat] = asyncio.create_task(_release_after_grace(rooms, live, seat))
    await rooms.events.publish(SeatDropped(live.id, seat, "signalling lost"))
    await rooms.tell_seats(live)


def _hold_restored(rooms: RoomContext, live: LiveRoom) -> None:
    """Seats a room came back with from its timeline (rooms/restore.py: opened after a
    node died or restarted) are held for their holders for the grace period, as any
    dropped seat is; a seat already timed is left alone."""
    for seat, participant in live.room.participants.items():
        if not participant.connected and seat not in live.releases:
            live.releases[seat] = asyncio.create_task(_release_after_grace(rooms, live, seat))


async def _release_after_grace(rooms: RoomContext, live: LiveRoom, seat: SeatId) -> None:
    await asyncio.sleep(rooms.grace_s)  # a timer, not synchronisation
    async with live.lock:
        live.releases.pop(seat, None)
        participant = live.room.participants.get(seat)
        if participant is None or participant.connected:
            return
        now = rooms.directory.now_ms(live)
        room, event = live.room.leave(seat, now, "grace_expired")
        await rooms.directory.commit(live, room, event)
    logger.info("released seat %s in %s after the grace period", seat, live.id)
    await rooms.events.publish(SeatLeft(live.id, seat, None))
    await rooms.tell_seats(live)
