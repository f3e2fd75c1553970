"""A seat's lossy stretch, sampled by the real server, lands on the timeline and in the export."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sessions.link_trouble import JOIN_GAP_MS
from tests.live_server import LiveServer, start_server
from tests.media.lossy_session import (
    LOSSY_SEAT,
    SAMPLE_MS,
    lossy_session,
    lossy_stretches,
)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    live = await start_server(tmp_path, media=True, ice_addresses="127.0.0.1")
    yield live
    await live.stop()


async def _get(server: LiveServer, path: str, token: str) -> Any:
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {token}"}
        async with http.get(f"{server.url}{path}", headers=headers) as r:
            assert r.status == 200, await r.text()
            return json.loads(await r.text())


async def test_a_lossy_stretch_of_one_seat_lands_on_the_timeline_and_in_the_export(
    server: LiveServer,
) -> None:
    admin = server.config.admin_token
    async with lossy_session(server) as session:
        room = session.room
        timeline = await _get(server, f"/api/simulations/{room}/timeline", admin)
        [stretch] = await lossy_stretches(server, room)
        assert stretch in timeline
        # the clean seats may show a freeze on a busy machine, never loss
        others = [e for e in timeline if e["kind"] == "trouble" and e["seat"] != LOSSY_SEAT]
        assert all(e["loss_pct"] < 8 for e in others), others
        assert session.lossy_from_ms - SAMPLE_MS - 500 <= stretch["t_ms"]
        assert stretch["t_ms"] <= session.lossy_from_ms + SAMPLE_MS
        assert session.lossy_to_ms - SAMPLE_MS <= stretch["end_ms"]
        # video may stay frozen past the loss until a keyframe gets through
        assert stretch["end_ms"] <= session.lossy_to_ms + SAMPLE_MS + 500 + stretch["frozen_ms"]
        assert 15 <= stretch["loss_pct"] <= 45, stretch
        assert f"{stretch['loss_pct']} % loss" in stretch["what"]
        assert JOIN_GAP_MS < stretch["end_ms"] - stretch["t_ms"]

        exported = await _get(server, f"/api/recordings/{room}/annotations.json", admin)
        assert [e for e in exported["link_trouble"] if e["start_ms"] == stretch["t_ms"]] == [
            {
                "seat": LOSSY_SEAT,
                "start_ms": stretch["t_ms"],
                "end_ms": stretch["end_ms"],
                "what": stretch["what"],
                **{k: stretch[k] for k in ("loss_pct", "frozen_ms", "rtt_ms", "jitter_ms")},
            }
        ]
        # the recording's timeline carries it, for the staff and for party_a alike
        recording = await _get(server, f"/api/recordings/{room}", admin)
        assert stretch in recording["timeline"]
        mine = await _get(server, f"/api/recordings/{room}", server.token(room, LOSSY_SEAT))
        assert stretch in mine["timeline"]
