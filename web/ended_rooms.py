"""Noting in the catalogue that a simulation ended, however its room ended."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from sessions.ids import RoomId
from sessions.phases import PhaseKind
from sessions.rooms import Room
from storage.people import now_ms
from storage.simulations import Simulations

logger = logging.getLogger(__name__)


class EndedRooms:
    """Follows the rooms' changes (`rooms.events.RoomChanged`, subscribed in `create_app`):
    a room that reaches `ended` (by its coach, by the console, or left empty) has its
    simulation's `ended_ms` noted."""

    def __init__(self, simulations: Simulations) -> None:
        self._simulations = simulations
        self._noted: set[RoomId] = set()
        self._writes: set[asyncio.Task[None]] = set()

    def __call__(self, room: Room, _t_ms: int) -> None:
        if room.phase.kind is not PhaseKind.ENDED or room.id in self._noted:
            return
        self._noted.add(room.id)
        task = asyncio.get_running_loop().create_task(self._note(room.id))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _note(self, room_id: RoomId) -> None:
        try:
            await self._simulations.mark_ended(room_id, now_ms())
        except Exception:  # the database refused: the room has ended all the same
            logger.exception("could not note that %s ended", room_id)
            self._noted.discard(room_id)

    async def settle(self) -> None:
        """Wait for the writes under way (shutdown, tests)."""
        if self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)


ENDED_ROOMS = web.AppKey("ended_rooms", EndedRooms)
