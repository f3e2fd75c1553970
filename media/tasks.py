"""Background tasks with aiortc ``RTCRtpSender``'s discipline.

Started/exited events, ``stop()`` cancels then awaits the exit, and a broad
``except`` that logs so "exited" is always set (otherwise ``stop()`` would hang).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

logger = logging.getLogger(__name__)


class Worker:
    def __init__(self, name: str, body: Callable[[], Awaitable[None]]) -> None:
        self.name = name
        self._body = body
        self._started = asyncio.Event()
        self._exited = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._exited.is_set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Cancel and wait for the exit; never call from inside the body."""
        if self._task is None:
            return
        await self._started.wait()
        self._task.cancel()
        await self._exited.wait()
        self._task = None

    async def _run(self) -> None:
        self._started.set()
        try:
            await self._body()
        except asyncio.CancelledError:
            pass
        except Exception:
            logger.exception("%s failed", self.name)
        finally:
            self._exited.set()
