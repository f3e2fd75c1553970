"""Disk writes off the forwarding path: one thread, a bounded queue, results back on the loop.

The SFU hands a recorded frame over on the event loop, in the middle of forwarding
the packet that completed it. Muxing it there would make every forwarded packet wait
for the disk (and a disk error would surface inside aiortc's transport). Instead the
recorder queues a job and returns at once; this thread muxes. When the queue is full
(the disk is slower than the media) a frame job is refused – the caller drops the
frame and marks its recording – rather than anyone waiting.

Control jobs (closing a file) are always accepted: there are at most a few per
segment, and refusing one would leave a file unfinished.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

logger = logging.getLogger(__name__)

#: frames waiting for the disk, across every room (a few seconds of a busy server)
MAX_QUEUED_FRAMES = 4096
MAX_QUEUED_BYTES = 32 * 1024 * 1024

Job = Callable[[], Any]
#: told the job's result, or the exception it raised (on the event loop's thread)
Done = Callable[[Any], None]


class DiskWriter(Protocol):
    def submit(self, job: Job, done: Done | None = None, *, frame_bytes: int = 0) -> bool:
        """Queue `job`; False (and nothing queued) if it is a frame and the queue is full.

        `done` is told the job's result or exception on the loop; for a frame job
        (`frame_bytes` > 0) only its exception.
        """

    def wait_idle(self, timeout: float) -> bool:
        """Block (any thread) until every queued job ran; False on timeout."""

    def flush(self, timeout: float) -> bool:
        """Wait for the queue and deliver every result (on the loop's thread)."""

    def deliver_results(self) -> None: ...

    def close(self, timeout: float) -> bool: ...


class InlineWriter:
    """Runs each job at once in the caller's thread: for offline tools and unit tests."""

    def submit(self, job: Job, done: Done | None = None, *, frame_bytes: int = 0) -> bool:
        try:
            result = job()
        except Exception as exc:  # noqa: BLE001 - handed to `done`, which decides
            result = exc
        if done is not None and (not frame_bytes or isinstance(result, Exception)):
            done(result)
        return True

    def wait_idle(self, timeout: float) -> bool:
        return True

    def flush(self, timeout: float) -> bool:
        return True

    def deliver_results(self) -> None:
        return None

    def close(self, timeout: float) -> bool:
        return True


@dataclass
class _Queued:
    job: Job
    done: Done | None
    frame_bytes: int


@dataclass
class WriterStats:
    frames_dropped: int = 0
    #: frames muxed, and their encoded bytes (/metrics)
    frames_written: int = 0
    bytes_written: int = 0
    jobs_run: int = 0
    jobs_failed: int = 0


class WriterThread:
    """Runs jobs in submission order on one thread; results go back to `loop`."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop | None = None,
        max_frames: int = MAX_QUEUED_FRAMES,
        max_bytes: int = MAX_QUEUED_BYTES,
    ) -> None:
        self._loop = loop
        self._max_frames = max_frames
        self._max_bytes = max_bytes
        self._jobs: deque[_Queued] = deque()
        self._results: deque[tuple[Done, Any]] = deque()
        self._frames = 0
        self._bytes = 0
        self._running = 0  # jobs taken off the queue whose results are not delivered yet
        self._cond = threading.Condition()
        self._stopping = False
        self.stats = WriterStats()
        self._thread = threading.Thread(target=self._run, name="recording-writer", daemon=True)
        self._thread.start()

    @property
    def queued_frames(self) -> int:
        return self._frames

    def submit(self, job: Job, done: Done | None = None, *, frame_bytes: int = 0) -> bool:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        with self._cond:
            if self._stopping:
                return False
            if frame_bytes and (
                self._frames >= self._max_frames or self._bytes + frame_bytes > self._max_bytes
            ):
                self.stats.frames_dropped += 1
                return False
            if frame_bytes:
                self._frames += 1
                self._bytes += frame_bytes
            self._jobs.append(_Queued(job, done, frame_bytes))
            self._cond.notify_all()
        return True

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._stopping:
                    self._cond.wait()
                if not self._jobs:
                    return
                queued = self._jobs.popleft()
                self._running += 1
                if queued.frame_bytes:
                    self._frames -= 1
                    self._bytes -= queued.frame_bytes
            try:
                result = queued.job()
                if queued.frame_bytes:
                    self.stats.frames_written += 1
                    self.stats.bytes_written += queued.frame_bytes
            except Exception as exc:  # noqa: BLE001 - a disk fault is the job's outcome
                result = exc
                self.stats.jobs_failed += 1
            self.stats.jobs_run += 1
            # A frame's `done` hears only of its failure: no loop wake-up per written frame.
            if queued.done is not None and (
                not queued.frame_bytes or isinstance(result, Exception)
            ):
                self._deliver(queued.done, result)
            with self._cond:
                self._running -= 1
                self._cond.notify_all()

    def _deliver(self, done: Done, result: Any) -> None:
        with self._cond:
            wake = not self._results
            self._results.append((done, result))
        # One wake-up per batch of results: the loop drains them all at once.
        if wake and self._loop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self.deliver_results)
            except RuntimeError:  # the loop closed meanwhile; flush() delivers instead
                pass

    def deliver_results(self) -> None:
        """Hand finished jobs' results to their callbacks (on the loop's thread)."""
        while True:
            with self._cond:
                if not self._results:
                    return
                done, result = self._results.popleft()
            try:
                done(result)
            except Exception:
                logger.exception("a recording write's result could not be handled")

    def wait_idle(self, timeout: float) -> bool:
        """Block until every queued job ran (any thread); results are not delivered here."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._jobs or self._running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def flush(self, timeout: float) -> bool:
        """On the loop's thread: wait for the queue, then deliver every result."""
        finished = self.wait_idle(timeout)
        self.deliver_results()
        return finished

    def close(self, timeout: float) -> bool:
        """Finish the queued jobs (bounded by `timeout`), deliver their results, stop."""
        finished = self.flush(timeout)
        with self._cond:
            self._stopping = True
            if not finished:
                dropped = len(self._jobs)
                self._jobs.clear()
                logger.error("recording writer: %d jobs left unwritten at shutdown", dropped)
            self._cond.notify_all()
        self._thread.join(max(0.0, min(timeout, 1.0)))
        self.deliver_results()
        return finished
