"""Fixtures shared by the HTTP tests: a live server, an HTTP client, a recorded session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.live_server import LiveServer, start_server
from tests.recorded_session import Recorded, record_session


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    live = await start_server(tmp_path)
    yield live
    await live.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def recorded(server: LiveServer) -> Recorded:
    """Two recorded sessions with different coaches on one server."""
    return Recorded(
        server, await record_session(server, "coach-ana"), await record_session(server, "coach-ben")
    )
