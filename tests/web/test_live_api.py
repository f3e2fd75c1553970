"""Live rooms with real media: each seat's link as the server samples it; ending a room
from the console closes its recording as the coach's end does."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from sessions.ids import SeatId
from sessions.media_kinds import MediaKind
from tests.live_server import start_server
from tests.media.lossy_session import Seat
from tests.media.synthetic import SentLog

#: two link samples (every 2 s) and some slack for a busy machine
SAMPLED_S = 10.0


async def test_live_rooms_show_who_is_connected_and_their_link(tmp_path: Path) -> None:
    server = await start_server(tmp_path, media=True, ice_addresses="127.0.0.1")
    room = await server.simulation()
    sent = SentLog()
    seats = {s: Seat(server, room, s, sent) for s in ("coach", "party_a")}
    admin = {"Authorization": f"Bearer {server.config.admin_token}"}

    async def live() -> dict[str, Any]:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{server.url}/api/live", headers=admin) as response:
                assert response.status == 200
                (shown,) = (await response.json())["rooms"]
                return dict(shown)

    try:
        for seat in seats.values():
            await seat.socket.connect(server.url)
            assert (await seat.socket.join())["ok"]
        producers = server.sfu.participant(room, SeatId("party_a")).producers
        await seats["party_a"].media.wait_until(
            lambda: producers[MediaKind.VIDEO].frames > 30, timeout=20
        )
        samples: list[dict[str, Any]] = []
        async with asyncio.timeout(SAMPLED_S):
            # the server samples every 2 s: there is no event to wait for. A loopback
            # link is shown good; on a busy machine one 2 s window may hold a frame
            # gap (a freeze, "poor"), so the next samples are read too.
            while not samples or samples[-1]["quality"] != "good":
                shown = await live()
                by_seat = {s["seat"]: s for s in shown["seats"]}
                link = by_seat["party_a"]["link"]
                if link is not None and link not in samples:
                    samples.append(link)
                await asyncio.sleep(0.5)
        party_a = by_seat["party_a"]
        assert party_a["occupant"]["connected"] and party_a["media"] == "connected"
        assert samples[-1]["loss_pct"] < 8, samples
        assert by_seat["mediator"]["occupant"] is None and by_seat["mediator"]["link"] is None
        assert shown["connected"] == 2 and shown["phase"]["kind"] == "lobby"
    finally:
        for seat in seats.values():
            await seat.media.close()
            await seat.socket.close()
        await server.stop()


async def test_ending_from_the_console_closes_the_recording(tmp_path: Path) -> None:
    server = await start_server(tmp_path, media=True, ice_addresses="127.0.0.1")
    room = await server.simulation()
    sent = SentLog()
    seats = {s: Seat(server, room, s, sent) for s in ("coach", "party_a")}
    admin = {"Authorization": f"Bearer {server.config.admin_token}"}
    try:
        for seat in seats.values():
            await seat.socket.connect(server.url)
            assert (await seat.socket.join())["ok"]
        assert (await seats["party_a"].socket.call("consent", {"recording": True}))["ok"]
        assert (await seats["coach"].socket.call("phase", {"to": "joint"}))["ok"]

        async def recording() -> bool:
            return bool(await server.catalogue.segments(room, status="recording"))

        await seats["party_a"].media.wait_until(recording, timeout=20)
        async with aiohttp.ClientSession() as http:
            url = f"{server.url}/api/simulations/{room}/end"
            async with http.post(url, headers=admin) as response:
                assert response.status == 200, await response.text()
        state = await seats["party_a"].socket.wait_for_state(
            lambda s: s["phase"]["kind"] == "ended"
        )
        assert state["recording"]["status"] == "off"

        async def closed() -> bool:
            return not await recording()

        await seats["party_a"].media.wait_until(closed, timeout=10)
        segments = await server.catalogue.segments(room)
        assert segments and {s.status for s in segments} == {"complete"}
        ended = [e for e in await server.catalogue.events(room) if e.get("phase") == "ended"]
        assert [(e["seat"], e["by"]) for e in ended] == [(None, "admin-token")]
    finally:
        for seat in seats.values():
            await seat.media.close()
            await seat.socket.close()
        await server.stop()
