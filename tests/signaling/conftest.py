from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.live_server import LiveServer, start_server


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    live = await start_server(tmp_path)
    yield live
    await live.stop()
