"""Two Caucus nodes in this process on one real redis-server and one database (the
same data directory and secret), each on its own loopback port, so its origin is
the URL it listens on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from sessions.ids import RoomId
from tests.live_server import LiveServer, start_server
from tests.redis_server import RedisServer
from tests.server_process import free_port


@asynccontextmanager
async def two_nodes(tmp_path: Path) -> AsyncIterator[tuple[RedisServer, LiveServer, LiveServer]]:
    redis = RedisServer(tmp_path)
    await redis.start()
    data = tmp_path / "data"
    try:
        a = await start_server(data, redis_url=redis.url, port=free_port())
        try:
            b = await start_server(
                data, redis_url=redis.url, port=free_port(), secret=a.config.secret
            )
            try:
                yield redis, a, b
            finally:
                await b.stop()
        finally:
            await a.stop()
    finally:
        redis.stop()


async def preview(server: LiveServer, room: RoomId) -> tuple[int, dict[str, Any]]:
    """The join page's question (`GET /api/join/{room}`, the mediator's token): placed
    where, `origin` "" meaning on `server`."""
    token = server.token(room, "mediator")
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{server.url}/api/join/{room}", headers={"Authorization": f"Bearer {token}"}
        ) as r,
    ):
        body: dict[str, Any] = await r.json()
        return r.status, body


@dataclass
class Silent:
    """A loopback listener that reads what it is sent and never answers."""

    origin: str = ""
    #: set once someone connected
    taken: asyncio.Event = field(default_factory=asyncio.Event)


@asynccontextmanager
async def silent_origin() -> AsyncIterator[Silent]:
    """An origin that takes requests and never answers (a node that went silent)."""
    silent = Silent()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        silent.taken.set()
        await reader.read()  # reads the request, never answers, until the caller hangs up
        writer.close()

    listener = await asyncio.start_server(serve, "127.0.0.1", 0)
    silent.origin = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}"
    try:
        yield silent
    finally:
        listener.close()
        await listener.wait_closed()
