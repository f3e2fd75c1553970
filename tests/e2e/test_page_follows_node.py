"""Two nodes on one Redis: the join page, served by one node, connects its socket to
the node that runs its room (the preview's `origin`, a cross-origin socket); when
that node goes away, the page asks again and takes its seat back on the other node,
without a reload."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import Browser, expect

from tests.e2e.browser import PING_INTERVAL_S, PING_TIMEOUT_S, join_link, open_page, take_seat
from tests.live_server import LiveServer, start_server
from tests.redis_server import RedisServer
from tests.server_process import free_port
from web.keys import DIRECTORY

#: two nodes, a Redis and a node that dies: its liveness timings are the machine's
pytestmark = pytest.mark.quiet

#: a node missing its reports is not live after 5 s; then two reconnection attempts
MOVED_S = 30.0


async def seated_on(server: LiveServer, room: str, seat: str) -> None:
    while True:
        live = server.app[DIRECTORY].peek(room)
        if live is not None and seat in live.sockets:
            return
        await asyncio.sleep(0.1)  # polling the server's directory: no event to await


async def test_the_page_connects_where_its_room_runs_and_follows_it(
    tmp_path: Path, browser: Browser
) -> None:
    redis = RedisServer(tmp_path)
    await redis.start()
    ports = [free_port(), free_port()]
    origins = [f"http://127.0.0.1:{p}" for p in ports]
    nodes = [
        await start_server(
            tmp_path / "data",
            redis_url=redis.url,
            port=port,
            secret="page-follows-node-secret-0123456789",
            allowed_origins=",".join(origins),
            ping_interval_s=PING_INTERVAL_S,
            ping_timeout_s=PING_TIMEOUT_S,
        )
        for port in ports
    ]
    try:
        room = await nodes[0].simulation()
        token = nodes[0].token(room, "mediator")
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                f"{nodes[0].url}/api/join/{room}", headers={"Authorization": f"Bearer {token}"}
            ) as r,
        ):
            origin = (await r.json())["origin"]
        holder, other = (nodes[0], nodes[1]) if origin == "" else (nodes[1], nodes[0])
        # the page comes from the node that does not run the room
        seat = await open_page(browser, "mediator", join_link(other.url, room, token))
        await take_seat(seat)
        await asyncio.wait_for(seated_on(holder, room, "mediator"), 15)
        assert other.app[DIRECTORY].peek(room) is None

        await holder.stop()  # its node leaves; the room is placed on the other node
        await asyncio.wait_for(seated_on(other, room, "mediator"), MOVED_S)
        await expect(seat.page.locator("#link")).to_have_attribute("data-state", "connected")
        await seat.context.close()
    finally:
        for node in nodes:
            await node.stop()
        redis.stop()
