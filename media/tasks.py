"""Background tasks with aiortc ``RTCRtpSender``'s discipline.

Started/exited events, ``stop()`` cancels then awaits the exit, and a broad
``except`` that logs so "exited" is always set (otherwise ``stop()`` would hang).

:func:`run_to_end` is the other half: work that must never stop half-way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


async def run_to_end(work: Awaitable[T]) -> T:
    """Await ``work`` in a task of its own, which a cancelled caller does not stop.

    For a peer connection's first offer and its close: cancelled half-way, an
    offer leaves a socket bound but owned by nobody (uvloop's
    ``create_datagram_endpoint`` does not close the endpoint it was making when
    it is cancelled), and a close leaves the peer connection open; either holds
    the connection, and its sockets, for the life of the process. A cancelled
    caller waits for ``work`` to end, then its cancellation goes on.
    """
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])  # cancelled once more meanwhile: the work still ends
        raise


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
