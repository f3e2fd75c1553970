"""Staff end a live room for everyone, from outside it (the console's End button).

The same way a coach's "end" phase goes: the room's `end` command under its lock,
the event committed to the timeline (so the recorder closes its segments, being a
directory observer), forwarding told the new audience, and every seat sent the
room state that says it ended (pages show their end screen).
"""

from __future__ import annotations

import asyncio
import logging

from sessions.audience import audience
from sessions.ids import RoomId
from sessions.phases import PhaseKind
from sessions.views import view_for
from signaling.namespace import SimulationNamespace
from signaling.protocol import ServerEvent

logger = logging.getLogger(__name__)


async def end_room(namespace: SimulationNamespace, room_id: RoomId, by: str) -> int | None:
    """End `room_id` (opening it first if it is not live, so no link admits anyone after);
    the session time it ended at, or None if it had already ended."""
    directory = namespace.directory
    live = await directory.open(room_id)
    async with live.lock:
        if live.room.phase.kind is PhaseKind.ENDED:
            return None
        now = directory.now_ms(live)
        room, event = live.room.end(now, by)
        await directory.commit(live, room, event)
    await namespace.media.audience_changed(live.id, audience(room))
    media = namespace.media.media_status(live.id)
    await asyncio.gather(
        *(
            namespace.emit(ServerEvent.ROOM_STATE, view_for(room, seat, now, media), to=sid)
            for seat, sid in list(live.sockets.items())
        )
    )
    logger.info("room %s ended by %s", room_id, by)
    return now
