"""The retention task: at start and every hour, recordings older than the setting go."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from rooms.directory import RoomDirectory
from storage.database import Database
from storage.deletion import Deleted
from storage.retention import apply_retention

logger = logging.getLogger(__name__)

INTERVAL_S = 3600.0


class Retention:
    """Deletes recordings older than `days` (0: never), except rooms live in this process."""

    def __init__(
        self,
        db: Database,
        recordings_dir: Path,
        days: int,
        directory: RoomDirectory,
        interval_s: float = INTERVAL_S,
    ) -> None:
        self.db = db
        self.recordings_dir = recordings_dir
        self.days = days
        self.directory = directory
        self.interval_s = interval_s
        #: set once the first pass (at start) has finished, deleted or not
        self.first_pass = asyncio.Event()

    async def run_once(self) -> list[Deleted]:
        return await apply_retention(
            self.db,
            self.recordings_dir,
            self.days,
            time.time_ns() // 1_000_000,
            live=lambda room: self.directory.peek(room) is not None,
        )

    async def run(self) -> None:
        """Forever: one pass now, then one every `interval_s`; a failed pass is logged."""
        while True:
            try:
                await self.run_once()
            except Exception:
                logger.exception(
                    "a retention pass failed; the next runs in %.0f s", self.interval_s
                )
            self.first_pass.set()
            await asyncio.sleep(self.interval_s)

    async def context(self, _app: web.Application) -> AsyncIterator[None]:
        """A cleanup_ctx entry: the task runs while the app does (none if `days` is 0)."""
        task = asyncio.create_task(self.run()) if self.days > 0 else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
