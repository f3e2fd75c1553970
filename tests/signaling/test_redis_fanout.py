"""With Redis configured, Socket.IO messages fan out through a real redis-server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from tests.live_server import seat_participants, start_server
from tests.redis_server import redis_server


async def test_room_state_reaches_clients_through_redis_pub_sub(tmp_path: Path) -> None:
    async with redis_server(tmp_path) as url:
        spy = aioredis.from_url(url)
        pubsub = spy.pubsub()
        await pubsub.subscribe("socketio")
        await pubsub.get_message(timeout=5)  # the subscribe confirmation
        server = await start_server(tmp_path / "data", redis_url=url)
        room = await server.simulation()
        people = await seat_participants(server, room, ["mediator", "coach"])
        assert (await people["coach"].call("phase", {"to": "joint"}))["ok"]
        await people["mediator"].wait_for_state(lambda s: s["phase"]["name"] == "joint")

        async def published_room_state() -> dict[str, Any]:
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=5)
                if message and message["type"] == "message":
                    data: dict[str, Any] = json.loads(message["data"])
                    if data.get("event") == "room_state":
                        return data

        published = await asyncio.wait_for(published_room_state(), 10)
        assert published["method"] == "emit" and published["namespace"] == "/"
        for person in people.values():
            await person.close()
        await server.stop()
        await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
        await spy.aclose()
