"""Four-seat rooms of synthetic aiortc participants that follow their room from node
to node, in a process of their own.

    python -m tests.system.roaming_clients CONFIG_JSON

CONFIG_JSON: {"nodes": [url, ...], "rooms": {room: {seat: token}}, "fps": n,
"lifetime_s": s}. Each seat asks a node where its room runs (the join preview's
`origin`, as the join page does), connects there, joins (following `wrong_node`,
waiting out `unavailable`), and answers the node's media offer with a fresh aiortc
peer connection. When its node goes away it asks the other nodes again and takes
its seat back where the room now runs; the old peer connection is abandoned, never
closed (closing one whose remote end was SIGKILLed can block: crash_clients.py).
The trainees consent once: a seat taken back keeps its stored consent. The coach
starts the joint session and writes a live note every second.

It tells the test, one line each on stdout:
``ready {...}`` once every seat is seated with media connected;
``joined ROOM SEAT ORIGIN WALL_S OUTCOME CONSENT`` for every seat taken (first and again);
``note ROOM NOTE_ID`` for every live note the node acknowledged;
``frames {"ROOM SEAT": n, ...}`` every second: media frames each seat received in it.
It exits on end of file on stdin (the test is gone) or after lifetime_s.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from itertools import cycle
from typing import Any

import aiohttp
import socketio

from media import aiortc_internals
from sessions.ids import RoomId, SeatId
from tests.media.media_harness import ClientParticipant
from tests.media.synthetic import COACH, MEDIATOR, PARTY_A, PARTY_B, SentLog

SEATS = (MEDIATOR, PARTY_A, PARTY_B, COACH)
TRAINEES = (MEDIATOR, PARTY_A, PARTY_B)
CALL_S = 15.0  # generous: a starved 2-core machine answers slowly
RETRY_S = 0.3


def say(line: str) -> None:
    os.write(sys.stdout.fileno(), (line + "\n").encode())


class Signal:
    """What ClientParticipant calls on an Sfu, sent over this seat's socket."""

    def __init__(self, client: socketio.AsyncClient) -> None:
        self.client = client

    async def answer(self, room: str, seat: str, description: dict[str, Any]) -> None:
        await self._send("media_answer", description)

    async def add_ice_candidate(self, room: str, seat: str, candidate: Any) -> None:
        await self._send("media_ice", candidate or {"candidate": ""})

    async def _send(self, event: str, data: dict[str, Any]) -> None:
        try:
            await self.client.call(event, data, timeout=CALL_S)
        except (socketio.exceptions.SocketIOError, TimeoutError):
            pass  # the node went away meanwhile: the next node offers anew


def _setter(event: asyncio.Event) -> Callable[..., None]:
    def set_it(*_: object) -> None:
        event.set()

    return set_it


class RoamingSeat:
    def __init__(
        self, room: str, seat: SeatId, token: str, nodes: list[str], sent: SentLog, fps: int
    ) -> None:
        self.room, self.seat, self.token = room, seat, token
        self._nodes: Iterator[str] = cycle(nodes)
        self._sent, self._fps = sent, fps
        self.client: socketio.AsyncClient | None = None
        self.media: ClientParticipant | None = None
        self.seated = asyncio.Event()
        #: a peer connection exists (set at the first offer)
        self.offered = asyncio.Event()
        self.state: dict[str, Any] = {}
        self._banked = 0  # frames received over earlier connections
        self._connection: object = None  # the media connection number offered last
        self._told = 0

    def received(self) -> int:
        current = sum(len(a) for a in self.media.arrivals.values()) if self.media else 0
        return self._banked + current

    def frames_since_last(self) -> int:
        total = self.received()
        fresh, self._told = total - self._told, total
        return fresh

    async def _where(self, http: aiohttp.ClientSession) -> str:
        """Where the room runs, asked of the nodes in turn as the join page asks its own."""
        while True:
            node = next(self._nodes)
            try:
                async with http.get(
                    f"{node}/api/join/{self.room}",
                    headers={"Authorization": f"Bearer {self.token}"},
                    timeout=aiohttp.ClientTimeout(total=CALL_S),
                ) as r:
                    if r.status == 200:
                        return str((await r.json())["origin"] or node)
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(RETRY_S)  # every node asked is away or waiting: again

    async def run(self) -> None:
        async with aiohttp.ClientSession() as http:
            origin = await self._where(http)
            while True:
                lost = asyncio.Event()
                client = socketio.AsyncClient(reconnection=False)
                client.on("media_offer", self._on_offer)
                client.on("room_state", self._on_state)
                client.on("disconnect", _setter(lost))
                try:
                    await client.connect(origin, transports=["websocket"], wait_timeout=CALL_S)
                    self._new_node(client)
                    reply = await client.call(
                        "join", {"token": self.token, "room": self.room}, timeout=CALL_S
                    )
                except (socketio.exceptions.SocketIOError, OSError, TimeoutError):
                    reply = {"ok": False, "code": "away"}
                if not reply.get("ok"):
                    await client.disconnect()
                    if reply.get("code") == "wrong_node":
                        origin = str(reply["origin"])
                    else:
                        await asyncio.sleep(RETRY_S)  # unavailable or away: ask again
                        origin = await self._where(http)
                    continue
                self.state = reply["state"]
                mine = next(p for p in self.state["roster"] if p["seat"] == self.seat)
                say(
                    f"joined {self.room} {self.seat} {origin} {time.time():.3f} "
                    f"{reply['outcome']} {mine['consent']}"
                )
                self.seated.set()
                await lost.wait()
                self.seated.clear()
                origin = await self._where(http)

    def _new_node(self, client: socketio.AsyncClient) -> None:
        """A new socket: the next offer starts a new peer connection whatever its number."""
        if self.media is not None:
            self._banked += sum(len(a) for a in self.media.arrivals.values())
        self.client, self.media, self._connection = client, None, None

    async def _on_offer(self, payload: dict[str, Any]) -> None:
        """An offer of a new media connection (a new node, or media restarted) gets a
        new peer connection; the old one is abandoned (see the module docstring)."""
        if self.client is None:
            return
        if self.media is None or payload.get("connection") != self._connection:
            if self.media is not None:
                self._banked += sum(len(a) for a in self.media.arrivals.values())
            self._connection = payload.get("connection")
            self.media = ClientParticipant(
                self.seat,
                Signal(self.client),
                self._sent,
                room=RoomId(self.room),
                decode=False,
                fps=self._fps,
            )
            self.offered.set()
        await self.media.on_offer(payload)

    async def _on_state(self, state: dict[str, Any]) -> None:
        self.state = state

    async def call(self, event: str, data: Any) -> dict[str, Any]:
        if self.client is None or not self.seated.is_set():
            return {"ok": False, "code": "offline"}
        try:
            reply: dict[str, Any] = await self.client.call(event, data, timeout=CALL_S)
            return reply
        except (socketio.exceptions.SocketIOError, TimeoutError):
            return {"ok": False, "code": "offline"}


async def conduct(seats: dict[SeatId, RoamingSeat]) -> None:
    """Consent (trainees, once), the joint session (coach), a live note every second."""
    for seat in seats.values():
        await seat.seated.wait()
    for trainee in TRAINEES:
        mine = next(p for p in seats[trainee].state["roster"] if p["seat"] == trainee)
        if mine["consent"] == "pending":
            await seats[trainee].call("consent", {"recording": True})
    coach = seats[COACH]
    if coach.state["phase"]["name"] != "joint":
        await coach.call("phase", {"to": "joint"})
    n = 0
    while True:
        n += 1
        reply = await coach.call("annotate", {"text": f"note {n}"})
        if reply.get("ok"):
            say(f"note {coach.room} {reply['annotation']['id']}")
        await asyncio.sleep(1.0)  # a note a second, the pace of a busy coach


async def main(config: dict[str, Any]) -> None:
    sent = SentLog()
    rooms = {
        room: {
            SeatId(seat): RoamingSeat(
                room, SeatId(seat), tokens[seat], config["nodes"], sent, config["fps"]
            )
            for seat in SEATS
        }
        for room, tokens in config["rooms"].items()
    }
    everyone = [seat for seats in rooms.values() for seat in seats.values()]
    tasks = [asyncio.ensure_future(seat.run()) for seat in everyone]
    tasks += [asyncio.ensure_future(conduct(seats)) for seats in rooms.values()]
    try:
        async with asyncio.timeout(100):
            for seat in everyone:
                await seat.seated.wait()
                await seat.offered.wait()
                assert seat.media is not None
                await seat.media.connected.wait()
        say("ready " + json.dumps({"ready": True}))
    except TimeoutError:
        say("ready " + json.dumps({"ready": False}))
    stdin = asyncio.ensure_future(asyncio.to_thread(sys.stdin.buffer.read))
    deadline = time.monotonic() + float(config["lifetime_s"])
    while not stdin.done() and time.monotonic() < deadline:
        await asyncio.wait([stdin], timeout=1.0)  # the report period
        say("frames " + json.dumps({f"{s.room} {s.seat}": s.frames_since_last() for s in everyone}))
    sys.stdout.flush()
    os._exit(0)  # no pc.close(): see the module docstring


if __name__ == "__main__":
    # host candidates on loopback only, as the nodes gather (tests/conftest.py does the same)
    with aiortc_internals.gather_policy(aiortc_internals.LOOPBACK):
        asyncio.run(main(json.loads(sys.argv[1])))
