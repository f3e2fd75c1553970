"""The SFU forwards on uvloop as on asyncio's loop (``caucus.event_loop``: ``caucus
serve`` runs on uvloop when it is installed; the other tests run on asyncio's).

The publisher -> SFU -> subscriber test of ``test_passthrough`` (real aiortc
peer connections on loopback, frames decoded by the subscriber), run on a uvloop
loop of its own.
"""

from __future__ import annotations

import asyncio

import pytest

from caucus import event_loop
from tests.media import test_passthrough

pytest.importorskip("uvloop")


def test_forwarding_runs_on_uvloop() -> None:
    async def forward() -> str:
        await test_passthrough.test_a_subscriber_decodes_the_publishers_tone_and_colour()
        return type(asyncio.get_running_loop()).__module__

    assert event_loop.run(forward(), {"CAUCUS_EVENT_LOOP": "uvloop"}) == "uvloop"
