"""The drain's socket step against a client that opened a polling session and went away."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import aiohttp
import pytest

from caucus.drain import CLOSE_COLLECT_S
from tests.live_server import start_server


async def test_a_polling_session_that_stopped_polling_holds_the_drain_one_second(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="caucus.drain")
    live = await start_server(tmp_path)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{live.url}/socket.io/?EIO=4&transport=polling") as r:
            assert r.status == 200  # a session, and no poll after it
    began = time.monotonic()
    await live.stop()
    took = time.monotonic() - began
    # engine.io's own disconnect() waited for the CLOSE to be polled: the whole budget
    assert CLOSE_COLLECT_S <= took < CLOSE_COLLECT_S + 1.5, took
    steps = [r.getMessage() for r in caplog.records]
    assert not [m for m in steps if "did not finish" in m], steps
    assert any("did not collect its close" in m for m in steps), steps
