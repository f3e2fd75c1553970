"""A real server on loopback, and a log that must hold no traceback for a client's mistake."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from media import aiortc_internals
from tests.live_server import LiveServer, start_server


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    # A short heartbeat: engine.io's per-socket ping task ends at its next beat
    # after a disconnect, so the task count settles within a second.
    live = await start_server(tmp_path, ping_interval_s=1.0)
    yield live
    await live.stop()


@pytest.fixture
async def media_server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    aiortc_internals.install()  # clients on loopback: tests/conftest.py's gather policy
    logging.getLogger("aioice").setLevel(logging.WARNING)
    # A short heartbeat: engine.io's per-socket ping task ends at its next beat
    # after a disconnect, so the task count settles within a second.
    live = await start_server(tmp_path, media=True, ice_addresses="127.0.0.1", ping_interval_s=1.0)
    yield live
    await live.stop()


class LogWatch:
    """Every record logged during a test, at INFO and above."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self._caplog = caplog

    @property
    def records(self) -> list[logging.LogRecord]:
        return list(self._caplog.records)

    def tracebacks(self) -> list[str]:
        return [
            f"{r.name}: {r.getMessage()}"
            for r in self._caplog.records
            if r.exc_info or r.stack_info or "Traceback" in r.getMessage()
        ]

    def errors(self) -> list[str]:
        return [
            f"{r.name}: {r.getMessage()}"
            for r in self._caplog.records
            if r.levelno >= logging.ERROR
        ]

    def warnings_from(self, name: str) -> list[str]:
        return [
            r.getMessage()
            for r in self._caplog.records
            if r.levelno == logging.WARNING and r.name.startswith(name)
        ]

    def assert_clean(self) -> None:
        assert self.tracebacks() == []
        assert self.errors() == []


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> Iterator[LogWatch]:
    caplog.set_level(logging.INFO)
    yield LogWatch(caplog)


async def settled_task_count(baseline: int, timeout: float = 10.0) -> int:
    """The number of asyncio tasks once it is back to `baseline` (or the timeout ends).

    Tasks end on their own schedule (a closed peer connection's transports stop
    a moment later) and nothing signals "all done"; this polls, bounded.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        count = len(asyncio.all_tasks())
        if count <= baseline or loop.time() > deadline:
            return count
        await asyncio.sleep(0.05)
