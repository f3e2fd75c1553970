"""A real Caucus server on loopback and Socket.IO participants that talk to it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import socketio
from aiohttp import web

from caucus.app import NAMESPACE, create_app
from caucus.config import Config
from caucus.media_bridge import SfuMedia
from media.sfu import Sfu
from sessions.ids import RoomId, ScenarioId, SeatId
from signaling.admission import seat_token
from storage.catalogue import Catalogue
from storage.database import SQLITE_FILE
from tests.migrated import migrated_sqlite
from web.keys import CATALOGUE

WAIT_S = 10.0


@dataclass
class LiveServer:
    app: web.Application
    runner: web.AppRunner
    port: int
    config: Config

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def catalogue(self) -> Catalogue:
        return self.app[CATALOGUE]

    @property
    def sfu(self) -> Sfu:
        """The media server (started with media=True)."""
        media = self.app[NAMESPACE].media
        assert isinstance(media, SfuMedia), "this server was started without media"
        return media.sfu

    async def simulation(self, scenario: str = "boundary-fence", observers: int = 1) -> RoomId:
        return (await self.catalogue.create_simulation(ScenarioId(scenario), observers)).id

    def token(self, room: RoomId, seat: str, name: str | None = None, **kw: Any) -> str:
        return seat_token(self.config.secret, room, SeatId(seat), name or f"Person {seat}", **kw)[0]

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start_server(data_dir: Path, **config: Any) -> LiveServer:
    # Media only where a test asks for it (media=True, ice_addresses="127.0.0.1").
    config.setdefault("media", False)
    config.setdefault("port", 0)  # a fixed port: links printed before it starts (the CLI's)
    if not config.get("database_url") and not (data_dir / SQLITE_FILE).exists():
        await migrated_sqlite(data_dir)  # what `upgrade` at start would make, from a copy
    cfg = Config(host="127.0.0.1", data_dir=data_dir, **config).with_secrets()
    app = create_app(cfg)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", cfg.port)
    await site.start()
    port = runner.addresses[0][1]
    return LiveServer(app, runner, port, cfg)


@dataclass
class Participant:
    """A python-socketio client in one seat, recording everything it is sent."""

    seat: str
    token: str
    room: str
    client: socketio.AsyncClient = field(
        default_factory=lambda: socketio.AsyncClient(
            reconnection_delay=0.2, reconnection_delay_max=1.0
        )
    )
    states: list[dict[str, Any]] = field(default_factory=list)
    whispers: list[dict[str, Any]] = field(default_factory=list)
    received: list[tuple[str, Any]] = field(default_factory=list)
    rejoin: bool = True
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def __post_init__(self) -> None:
        self.client.on("*", self._on_any)
        self.client.on("connect", self._on_connect)

    async def _on_any(self, event: str, data: Any) -> None:
        self.received.append((event, data))
        if event == "room_state":
            self.states.append(data)
        elif event == "whisper":
            self.whispers.append(data)
        async with self._changed:
            self._changed.notify_all()

    async def _on_connect(self) -> None:
        # After a reconnection the client asks for its seat again with the same token.
        if self.rejoin and self.states:
            asyncio.get_running_loop().create_task(self.join())

    @property
    def state(self) -> dict[str, Any]:
        return self.states[-1]

    async def connect(self, url: str) -> None:
        await self.client.connect(url, transports=["websocket"], wait_timeout=WAIT_S)

    async def call(self, event: str, data: Any = None) -> dict[str, Any]:
        reply: dict[str, Any] = await self.client.call(event, data, timeout=WAIT_S)
        return reply

    async def join(self) -> dict[str, Any]:
        reply = await self.call("join", {"token": self.token, "room": self.room})
        if reply.get("ok"):
            self.states.append(reply["state"])
        return reply

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = WAIT_S
    ) -> dict[str, Any]:
        """The first room state (already seen or still to come) that satisfies predicate."""

        async def seen() -> dict[str, Any]:
            async with self._changed:
                while True:
                    for candidate in self.states[::-1]:
                        if predicate(candidate):
                            return candidate
                    await self._changed.wait()

        return await asyncio.wait_for(seen(), timeout)

    async def wait_for_state(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = WAIT_S
    ) -> dict[str, Any]:
        """Wait until the latest room state satisfies predicate."""

        async def latest() -> dict[str, Any]:
            async with self._changed:
                while not (self.states and predicate(self.states[-1])):
                    await self._changed.wait()
                return self.states[-1]

        return await asyncio.wait_for(latest(), timeout)

    async def close(self) -> None:
        self.rejoin = False
        await self.client.disconnect()


async def seat_participants(
    server: LiveServer, room: RoomId, seats: list[str], url: str | None = None
) -> dict[str, Participant]:
    """Connect and join one participant per seat, in order; like newRoomWithParticipants."""
    people = {}
    for seat in seats:
        p = Participant(seat, server.token(room, seat), room)
        await p.connect(url or server.url)
        reply = await p.join()
        assert reply["ok"], reply
        people[seat] = p
    return people
