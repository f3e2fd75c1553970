"""Graceful drain on SIGTERM/SIGINT: bounded by CAUCUS_DRAIN_S from the signal to exit.

aiohttp's shutdown runs: stop listening → `on_shutdown` (this drain) → wait up to
`shutdown_timeout` for request handlers still open → `cleanup_ctx` teardown. The
drain refuses new joins (`server_closing`), tells every client (`server_closing`),
closes every open recording segment, closes the peer connections, disconnects the
sockets (so no websocket handler is left for aiohttp to wait on) and waits for the
recording writer to finish the files and the catalogue's write queue to store how
they ended – each step within what is
left of the budget, so a stuck step costs its share and not the whole deadline.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import socketio

from recordings.service import Recordings
from rooms.directory import RoomDirectory
from signaling.protocol import NAMESPACE, ServerEvent

logger = logging.getLogger(__name__)

DRAIN_S = 10.0
#: how long a polling client has to collect its CLOSE packet: one that is not polling
#: (a handshake and then nothing) never collects it, and must not hold the drain
CLOSE_COLLECT_S = 1.0


def server_timeout(drain_s: float) -> float:
    """aiohttp's `shutdown_timeout`: the part of the budget left for handlers after the drain."""
    return max(0.2, min(2.0, drain_s * 0.15))


def drain_budget(drain_s: float) -> float:
    """The drain's own share: the rest goes to aiohttp's wait and the final cleanup."""
    return max(0.5, drain_s - server_timeout(drain_s) - max(0.3, drain_s * 0.1))


class Drain:
    """The `on_shutdown` hook; one run per process."""

    def __init__(
        self,
        directory: RoomDirectory,
        sio: socketio.AsyncServer,
        recordings: Recordings,
        close_media: Callable[[], Awaitable[None]],
        close_signalling: Callable[[], Awaitable[None]],
        drain_s: float = DRAIN_S,
    ) -> None:
        self._directory = directory
        self._sio = sio
        self._recordings = recordings
        self._close_media = close_media
        self._close_signalling = close_signalling
        self._drain_s = drain_s

    async def __call__(self, _app: object = None) -> None:
        start = time.monotonic()
        deadline = start + drain_budget(self._drain_s)

        def left() -> float:
            return max(0.05, deadline - time.monotonic())

        self._directory.closing = True
        rooms = len(self._directory.rooms())
        logger.info("draining: %d live rooms, %.1f s budget", rooms, drain_budget(self._drain_s))
        await self._step(
            "telling clients",
            self._sio.emit(
                ServerEvent.SERVER_CLOSING,
                {"reason": "the server is shutting down", "within_ms": int(self._drain_s * 1000)},
                namespace=NAMESPACE,
            ),
            left(),
        )
        self._recordings.finish()  # every open segment closes now; the writer finishes files
        await self._step("closing peer connections", self._close_media(), left())
        await self._step(
            "disconnecting sockets", self._disconnect_all(min(left(), CLOSE_COLLECT_S)), left()
        )
        disk = self._recordings.disk
        finished = await self._step(
            "finishing recordings", asyncio.to_thread(disk.wait_idle, left()), left() + 0.1
        )
        disk.deliver_results()  # on the loop's thread: results update the catalogue
        await self._step("storing the catalogue", self._recordings.retry_deferred(), left())
        self._directory.close()
        await self._step("closing signalling", self._close_signalling(), left())
        logger.info(
            "drained in %.2f s (recordings %s)",
            time.monotonic() - start,
            "finished" if finished else "NOT finished",
        )

    async def _step(self, what: str, step: Awaitable[object], budget_s: float) -> bool:
        try:
            result = await asyncio.wait_for(step, budget_s)
        except TimeoutError:
            logger.error("drain: %s did not finish within %.2f s", what, budget_s)
            return False
        except Exception:
            logger.exception("drain: %s failed", what)
            return False
        return result is not False

    async def _disconnect_all(self, collect_s: float) -> None:
        """Every socket closed (its `disconnect` handlers run) and sent CLOSE; websockets
        and polling clients mid-poll take it at once, the rest have `collect_s`.
        (engine.io's own `disconnect()` waits for every CLOSE to be taken, forever for
        a polling client that stopped polling.)"""
        eio = self._sio.eio
        # a socket closed already is waiting for nothing (engine.io's close() returns)
        sockets = [s for s in eio.sockets.values() if not s.closed and not s.closing]
        reason = eio.reason.SERVER_DISCONNECT
        await asyncio.gather(*(s.close(wait=False, reason=reason) for s in sockets))
        taken = asyncio.gather(*(s.queue.join() for s in sockets))
        try:
            await asyncio.wait_for(taken, collect_s)
        except TimeoutError:
            logger.info("drain: a polling client did not collect its close; dropped")
        eio.sockets.clear()
