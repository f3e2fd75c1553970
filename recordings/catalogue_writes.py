"""Catalogue writes off the frame path: queued in order, run by one task, never awaited there.

The recorder learns what to catalogue (a segment opened, moved, closed; a track
event) while the SFU forwards a frame. Awaiting the database there would make
every forwarded packet wait for a round trip (PostgreSQL across a network, an
fsync on SQLite). Instead each write is queued and one task runs them in the
order they were queued, so a write that needs an id another write produces (a
segment's close after its insert) finds it filled in.

A write the database refuses (`StorageUnavailable`) is handed to the write's
`refused` callback: by default it is kept (`deferred`) and retried, in order, by
`retry_deferred`, as the recorder always did. The queue is bounded: when it is
full (the database stalled) a write is refused at once the same way, so memory
stays bounded however long the database hangs.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from storage.catalogue import Catalogue
from storage.faults import StorageUnavailable

logger = logging.getLogger(__name__)

#: writes waiting for the database, across every room (each segment makes a handful)
MAX_PENDING = 4096

#: one catalogue write; it reads ids (a segment's) only when it runs
Write = Callable[[Catalogue], Awaitable[object]]
#: told that the database refused a write (or the queue was full)
Refused = Callable[[Write, StorageUnavailable], None]


@dataclass
class _Job:
    write: Write | None
    refused: Refused | None
    #: resolved once everything queued before it ran (flush / retry)
    done: asyncio.Future[bool] | None = None
    retry: bool = False
    #: told, after a retry, whether no deferred write is left
    then: Callable[[bool], None] | None = None


class CatalogueWrites:
    """An ordered, bounded queue of catalogue writes and the one task that runs them."""

    def __init__(self, catalogue: Catalogue, max_pending: int = MAX_PENDING) -> None:
        self.catalogue = catalogue
        self._max_pending = max_pending
        self._jobs: deque[_Job] = deque()
        self._task: asyncio.Task[None] | None = None
        #: refused writes kept for a retry, oldest first
        self.deferred: list[Write] = []
        self._closed = False

    @property
    def pending(self) -> int:
        return len(self._jobs)

    def submit(self, write: Write, refused: Refused | None = None) -> bool:
        """Queue `write` (on the loop's thread; never waits). False: refused at once
        (the queue is full or closed), `refused` (or the deferral) already applied."""
        if self._closed or len(self._jobs) >= self._max_pending:
            why = "closed" if self._closed else "full"
            self._refuse(
                write, refused, StorageUnavailable(f"the catalogue's write queue is {why}")
            )
            return False
        self._jobs.append(_Job(write, refused))
        self._start()
        return True

    def _refuse(self, write: Write, refused: Refused | None, exc: StorageUnavailable) -> None:
        if refused is None:
            logger.warning("catalogue write deferred (%s)", exc.message)
            self.deferred.append(write)
            return
        try:
            refused(write, exc)
        except Exception:
            logger.exception("a refused catalogue write could not be handled")

    def _start(self) -> None:
        # The task runs while there is work and ends when the queue is empty: no task
        # idles on a server nobody records (the next write starts a new one).
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="catalogue-writes"
            )

    async def _run(self) -> None:
        while self._jobs:
            job = self._jobs[0]
            try:
                await self._do(job)
            finally:
                self._jobs.popleft()

    async def _do(self, job: _Job) -> None:
        if job.retry:
            clear = await self._retry() == 0
            if job.done is not None and not job.done.done():
                job.done.set_result(clear)
            if job.then is not None:
                try:
                    job.then(clear)
                except Exception:
                    logger.exception("after retrying catalogue writes")
            return
        if job.write is not None:
            try:
                await job.write(self.catalogue)
            except StorageUnavailable as exc:
                self._refuse(job.write, job.refused, exc)
            except Exception:
                logger.exception("a catalogue write failed for good")
        if job.done is not None and not job.done.done():
            job.done.set_result(True)

    async def _retry(self) -> int:
        """Write what the database refused earlier, in order, until it refuses again."""
        while self.deferred:
            try:
                await self.deferred[0](self.catalogue)
            except StorageUnavailable:
                return len(self.deferred)
            except Exception:
                logger.exception("a deferred catalogue write failed for good")
            self.deferred.pop(0)
        return 0

    async def _marker(self, retry: bool) -> bool:
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._jobs.append(_Job(None, None, done, retry))
        self._start()
        return await done

    def retry_soon(self, then: Callable[[bool], None]) -> None:
        """Retry the deferred writes after what is queued; then `then(True)` if none is left."""
        self._jobs.append(_Job(None, None, retry=True, then=then))
        self._start()

    async def flush(self) -> None:
        """Return once every write queued so far ran (stored, deferred or failed)."""
        await self._marker(retry=False)

    async def retry_deferred(self) -> bool:
        """Run what is queued, then retry the deferred writes; True if none is left."""
        return await self._marker(retry=True)

    async def close(self, limit_s: float = 5.0) -> None:
        """Run what is queued and retry the deferred writes (bounded by `limit_s`), then stop."""
        try:
            if self._jobs or self.deferred:
                await asyncio.wait_for(self.retry_deferred(), limit_s)
        except TimeoutError:
            logger.error("the catalogue did not take the queued writes within %.1f s", limit_s)
        finally:
            self._closed = True
            if self._task is not None:
                self._task.cancel()
                try:
                    await self._task
                except asyncio.CancelledError:
                    pass
                self._task = None
        left = len(self._jobs) + len(self.deferred)
        if left:
            logger.error("%d catalogue writes could not be stored", left)
