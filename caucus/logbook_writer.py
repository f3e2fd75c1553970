"""Writes the logbook entries of a simulation when it ends, and catches up at start.

`room_changed` follows the rooms (`rooms.events.RoomChanged`, subscribed in
`create_app`): it sees every committed change and, on the first one that finds
the room ended, starts an asyncio task that writes the entries
(`storage.logbook.record_completed`). A failed write is logged and tried again
at the next start (`catch_up`), which writes every ended simulation still
without entries; writing is idempotent, so running both costs nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from aiohttp import web

from sessions.phases import PhaseKind
from sessions.rooms import Room
from storage import logbook
from storage.completed import ScenarioOf
from storage.database import Database

logger = logging.getLogger(__name__)


class LogbookWriter:
    """Writes logbooks as rooms end (one per app, under `LOGBOOK_WRITER`)."""

    def __init__(self, database: Database, scenario_of: ScenarioOf) -> None:
        self._db = database
        self._scenario_of = scenario_of
        self._tasks: set[asyncio.Task[None]] = set()
        self._written: set[str] = set()

    def room_changed(self, room: Room, _t_ms: int) -> None:
        """A room's first change in the ended phase writes it."""
        if room.phase.kind is not PhaseKind.ENDED or room.id in self._written:
            return
        self._written.add(room.id)
        self._spawn(self._write(room.id))

    def catch_up(self) -> None:
        """Write the ended simulations that have no entries yet (in the background)."""
        self._spawn(self._catch_up())

    async def settle(self) -> None:
        """Wait for the writes under way (before the database closes)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # used outside a server (tools): the next start writes it
            work.close()
            return
        task = loop.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write(self, room_id: str) -> None:
        try:
            added = await logbook.record_completed(self._db, room_id, self._scenario_of)
        except Exception:
            logger.exception(
                "the logbook entries of %s were not written; next start retries", room_id
            )
            return
        if added:
            logger.info("simulation %s wrote %d logbook entries", room_id, added)

    async def _catch_up(self) -> None:
        try:
            pending = await logbook.unwritten(self._db)
        except Exception:
            logger.exception("could not look for simulations without logbook entries")
            return
        for room_id in pending:
            await self._write(room_id)


LOGBOOK_WRITER = web.AppKey("logbook_writer", LogbookWriter)
