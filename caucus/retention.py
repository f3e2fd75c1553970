"""The retention task: at start and every hour, recordings older than the setting go."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web

from signaling.directory import RoomDirectory
from storage.database import Database
from storage.retention import apply_retention

logger = logging.getLogger(__name__)

INTERVAL_S = 3600.0


async def run_retention(
    db: Database,
    recordings_dir: Path,
    days: int,
    directory: RoomDirectory,
    interval_s: float = INTERVAL_S,
) -> None:
    """Forever: one pass now, then one every `interval_s`; a failed pass is logged and retried."""
    while True:
        try:
            await apply_retention(
                db,
                recordings_dir,
                days,
                time.time_ns() // 1_000_000,
                live=lambda room: directory.peek(room) is not None,
            )
        except Exception:
            logger.exception("a retention pass failed; the next one runs in %.0f s", interval_s)
        await asyncio.sleep(interval_s)


def retention_context(
    db: Database, recordings_dir: Path, days: int, directory: RoomDirectory
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup_ctx entry running the task while the app runs (nothing if `days` is 0)."""

    async def context(_app: web.Application) -> AsyncIterator[None]:
        task = None
        if days > 0:
            task = asyncio.create_task(run_retention(db, recordings_dir, days, directory))
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return context
