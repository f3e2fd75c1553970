"""What every command handler works with: the live rooms, the event bus, media, notes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from recordings.feedback import Feedback
from rooms.directory import LiveRoom, RoomDirectory
from rooms.errors import NotJoined
from rooms.events import EventBus, SeatsToTell
from rooms.media_port import MediaPort
from sessions.ids import SeatId
from sessions.views import view_for

logger = logging.getLogger(__name__)


class RoomContext:
    def __init__(
        self,
        directory: RoomDirectory,
        events: EventBus,
        media: MediaPort,
        feedback: Feedback | None,
        grace_s: float,
    ) -> None:
        self.directory = directory
        self.events = events
        self.media = media
        self.feedback = feedback
        self.grace_s = grace_s
        self._tasks: set[asyncio.Task[None]] = set()

    def seated(self, connection: str) -> tuple[LiveRoom, SeatId]:
        found = self.directory.locate(connection)
        if found is None:
            raise NotJoined("join a seat first")
        return found

    def view(self, live: LiveRoom, seat: SeatId) -> dict[str, Any]:
        now = self.directory.now_ms(live)
        return view_for(live.room, seat, now, self.media.media_status(live.id))

    async def tell_seats(self, live: LiveRoom) -> None:
        """Each connected seat is to be sent the room as its role may see it."""
        room, now = live.room, self.directory.now_ms(live)
        media = self.media.media_status(live.id)
        views = {sid: view_for(room, seat, now, media) for seat, sid in live.sockets.items()}
        await self.events.publish(SeatsToTell(live.id, views))

    def spawn(self, work: Coroutine[Any, Any, None], what: str) -> asyncio.Task[None]:
        """Run `work` in the background (kept until done; its failure logged)."""

        async def guarded() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("%s failed", what)

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def settle(self) -> None:
        """Wait for the background work under way."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
