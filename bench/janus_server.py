"""Janus for the side-by-side bench (bench/janus_load.py): its configuration
(VideoRoom and the HTTP transport only, ICE on one address) and a session over its
HTTP API (requests, and plugin events on a long poll)."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import aiohttp

HTTP_PORT = 8088
LIBS = Path("/usr/lib/x86_64-linux-gnu/janus")


def write_config(directory: Path, address: str) -> Path:
    """Janus's configuration: VideoRoom and HTTP only, ICE on ``address`` only."""
    for sub, library in (
        ("plugins", "plugins/libjanus_videoroom.so"),
        ("transports", "transports/libjanus_http.so"),
    ):
        (directory / sub).mkdir()
        (directory / sub / Path(library).name).symlink_to(LIBS / library)
    for sub in ("events", "loggers"):
        (directory / sub).mkdir()
    (directory / "janus.jcfg").write_text(
        f"""general: {{
    configs_folder = "{directory}"
    plugins_folder = "{directory}/plugins"
    transports_folder = "{directory}/transports"
    events_folder = "{directory}/events"
    loggers_folder = "{directory}/loggers"
    interface = "{address}"
    debug_level = 3
    session_timeout = 0
}}
media: {{
    ipv6 = false
    rtp_port_range = "20000-40000"
}}
nat: {{
    ice_enforce_list = "{address}"
}}
events: {{
    broadcast = false
}}
"""
    )
    (directory / "janus.transport.http.jcfg").write_text(
        f"""general: {{
    json = "compact"
    base_path = "/janus"
    http = true
    port = {HTTP_PORT}
    ip = "{address}"
    https = false
}}
admin: {{
    admin_http = false
}}
"""
    )
    (directory / "janus.plugin.videoroom.jcfg").write_text("general: {\n}\n")
    return directory / "janus.jcfg"


class JanusApi:
    """One Janus session over the HTTP API; events come back on a long poll."""

    def __init__(self, http: aiohttp.ClientSession, address: str) -> None:
        self.http = http
        self.url = f"http://{address}:{HTTP_PORT}/janus"
        self.session = 0
        self._ids = itertools.count()
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}

    async def _post(self, path: str, message: dict[str, Any]) -> dict[str, Any]:
        transaction = f"t{next(self._ids)}"
        async with self.http.post(
            self.url + path, json={**message, "transaction": transaction}
        ) as r:
            reply: dict[str, Any] = await r.json(content_type=None)
        if reply["janus"] == "error":
            raise RuntimeError(f"Janus: {reply['error']}")
        return reply

    async def start(self) -> None:
        self.session = (await self._post("", {"janus": "create"}))["data"]["id"]

    async def poll(self) -> None:
        """Hand each asynchronous plugin event to the request waiting for it."""
        while True:
            async with self.http.get(f"{self.url}/{self.session}?maxev=20") as r:
                events = await r.json(content_type=None)
            for event in events if isinstance(events, list) else [events]:
                waiter = self._waiting.pop(event.get("transaction", ""), None)
                if waiter is not None and event["janus"] == "event":
                    waiter.set_result(event)

    async def attach(self) -> int:
        reply = await self._post(
            f"/{self.session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"}
        )
        handle: int = reply["data"]["id"]
        return handle

    async def no_more_candidates(self, handle: int) -> None:
        """aiortc puts all its candidates in the SDP and never trickles."""
        await self._post(
            f"/{self.session}/{handle}", {"janus": "trickle", "candidate": {"completed": True}}
        )

    async def request(self, handle: int, body: dict[str, Any]) -> dict[str, Any]:
        """A synchronous VideoRoom request (create): the answer is in the reply."""
        reply = await self._post(f"/{self.session}/{handle}", {"janus": "message", "body": body})
        data: dict[str, Any] = reply["plugindata"]["data"]
        return data

    async def message(
        self, handle: int, body: dict[str, Any], jsep: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """An asynchronous VideoRoom request: acked now, answered by an event."""
        transaction = f"t{next(self._ids)}"
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[transaction] = waiter
        message: dict[str, Any] = {"janus": "message", "body": body, "transaction": transaction}
        if jsep is not None:
            message["jsep"] = jsep
        async with self.http.post(f"{self.url}/{self.session}/{handle}", json=message) as r:
            ack = await r.json(content_type=None)
        if ack["janus"] == "error":
            raise RuntimeError(f"Janus: {ack['error']}")
        event = await asyncio.wait_for(waiter, 60)
        data = event["plugindata"]["data"]
        if "error" in data:
            raise RuntimeError(f"VideoRoom: {data['error']}")
        return event
