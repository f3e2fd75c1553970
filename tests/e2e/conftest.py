"""Real Chromium against a real server on loopback (see tests/e2e/browser.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, PING_INTERVAL_S, PING_TIMEOUT_S
from tests.live_server import LiveServer, start_server
from tests.yielding import yielding_executable


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    # Short heartbeats so both ends notice a dead link in ~3 s instead of ~55 s.
    live = await start_server(
        tmp_path, grace_s=60.0, ping_interval_s=PING_INTERVAL_S, ping_timeout_s=PING_TIMEOUT_S
    )
    yield live
    await live.stop()


@pytest.fixture
async def media_server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    """The server with its SFU, offering 127.0.0.1 host candidates only.

    Its heartbeat is the production one: four browsers and the SFU on two cores
    stall a page or the server's loop for seconds at times (DTLS handshakes, a
    burst of renegotiations), and a 2 s heartbeat then drops sockets that are
    fine. A media test that cuts a link watches the media, not the heartbeat.
    """
    live = await start_server(tmp_path, media=True, ice_addresses="127.0.0.1", grace_s=60.0)
    yield live
    await live.stop()


@pytest.fixture
async def browser(request: pytest.FixtureRequest) -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt install chromium)")
    # A quiet test has the machine to itself and carries real-time media: its browser
    # yields to the server. The others share the cores with another test process,
    # where a yielding browser would wait behind it (a page load took > 10 s).
    quiet = request.node.get_closest_marker("quiet") is not None
    executable = yielding_executable(CHROMIUM) if quiet else CHROMIUM
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        await chromium.close()
