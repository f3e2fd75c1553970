"""Issue 17 item 3: `caucus serve --workers 2`, rooms spread over two nodes behind one port.

A real supervisor subprocess with two worker processes sharing one SQLite
database. Two rooms of four seats join through the one public port (Socket.IO
over the front, `?room=` as the join page sends it); media goes straight to each
node's own UDP ports over real aiortc peer connections. Each room must land on
its own node and every seat must receive the other seats' audio and video.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest

from caucus.config import Config
from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from signaling.admission import seat_token
from tests.live_server import Participant
from tests.media.media_harness import ClientParticipant
from tests.media.synthetic import COACH, MEDIATOR, PARTY_A, SEATS, SentLog
from tests.server_process import ServerProcess
from tests.stored import create_simulation
from tests.system.crash_clients import TRAINEES
from tests.system.socket_signal import SocketSignal

MEDIA_TIMEOUT_S = 60.0
#: two seats of each room publish, at a low picture rate: every publisher encodes VP8
#: live in this one (niced) test process, on a machine shared with benchmarks
PUBLISHERS = (MEDIATOR, PARTY_A)
FPS = 10


class SeatedRoom:
    """Four seats of one room through the front: sockets, then media in the joint session."""

    def __init__(self, url: str, room: RoomId, secret: str) -> None:
        self.url, self.room = url, room
        self.sent = SentLog()
        self.sockets: dict[SeatId, Participant] = {}
        self.media: dict[SeatId, ClientParticipant] = {}
        for seat in SEATS:
            token = seat_token(secret, room, seat, f"Person {seat}")[0]
            socket = Participant(seat, token, room)
            media = ClientParticipant(
                seat,
                SocketSignal(socket),
                self.sent,
                room=room,
                decode=False,
                fps=FPS,
                publish=seat in PUBLISHERS,
            )
            socket.client.on("media_offer", media.on_offer)
            self.sockets[seat], self.media[seat] = socket, media

    async def join(self) -> None:
        for socket in self.sockets.values():
            await socket.connect(f"{self.url}/?room={self.room}")
            reply = await socket.join()
            assert reply["ok"], reply
        for trainee in TRAINEES:
            assert (await self.sockets[trainee].call("consent", {"recording": True}))["ok"]
        assert (await self.sockets[COACH].call("phase", {"to": "joint"}))["ok"]

    async def hear_everyone(self) -> None:
        """Every seat receives audio and video from each publisher but itself."""
        since = time.monotonic()
        for seat, media in self.media.items():
            wanted = {(s, k) for s in PUBLISHERS if s != seat for k in MediaKind}

            def heard(media: ClientParticipant = media, wanted: set[Any] = wanted) -> bool:
                return wanted <= media.received_from(since)

            await media.wait_until(heard, MEDIA_TIMEOUT_S)

    async def close(self) -> None:
        for media in self.media.values():
            with contextlib.suppress(Exception):
                await media.close()
        for socket in self.sockets.values():
            with contextlib.suppress(Exception):
                await socket.close()


async def get_json(url: str, **kw: Any) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(url, **kw) as r:
        return r.status, await r.json()


def workers(tmp_path: Path, **env: str) -> ServerProcess:
    settings = {"CAUCUS_MEDIA": "1", "CAUCUS_ICE_ADDRESSES": "127.0.0.1", **env}
    return ServerProcess(tmp_path, None, 2, **settings)


@pytest.mark.timeout(180)
async def test_two_rooms_land_on_two_nodes_and_every_seat_gets_media(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path).with_secrets()
    rooms = [await create_simulation(config), await create_simulation(config)]
    server = workers(tmp_path, CAUCUS_UDP_PORTS="41000-41999")
    seated = [SeatedRoom(server.url, room, config.secret) for room in rooms]
    try:
        await server.start()
        for room in seated:
            await room.join()
        await asyncio.gather(*(room.hear_everyone() for room in seated))

        status, health = await get_json(f"{server.url}/healthz")
        assert status == 200 and health["ok"], health
        print(f"\n/healthz through the front: {health['nodes']}")
        assert health["workers"] == 2
        assert [n["rooms_live"] for n in health["nodes"]] == [1, 1], health
        assert [n["participants_connected"] for n in health["nodes"]] == [4, 4], health
        assert [n["peer_connections"] for n in health["nodes"]] == [4, 4], health
        assert [n["udp_ports"] for n in health["nodes"]] == ["41000-41499", "41500-41999"]

        # the console's live view is every node's rooms, merged
        token = (tmp_path / "admin.token").read_text().strip()
        headers = {"Authorization": f"Bearer {token}"}
        status, live = await get_json(f"{server.url}/api/live", headers=headers)
        assert status == 200 and sorted(r["id"] for r in live["rooms"]) == sorted(rooms), live
    finally:
        for room in seated:
            await room.close()
        server.stop()


@pytest.mark.shares_machine  # no media, nothing timed: runs with the parallel part
@pytest.mark.timeout(120)
async def test_the_front_refuses_what_it_cannot_place_with_a_clear_error(
    tmp_path: Path,
) -> None:
    config = Config(data_dir=tmp_path).with_secrets()
    room, other = await create_simulation(config), await create_simulation(config)
    server = workers(tmp_path, CAUCUS_MEDIA="0")
    intruder = Participant(
        "party_a", seat_token(config.secret, other, SeatId("party_a"), "A")[0], other
    )
    try:
        await server.start()
        cases = {
            "/socket.io/?EIO=4&transport=polling": "name the simulation",
            "/socket.io/?EIO=4&transport=polling&room=no/such": "name the simulation",
            "/metrics": "scrape /metrics?node=NAME",
        }
        for path, says in cases.items():
            status, body = await get_json(server.url + path)
            assert status == 400 and body["code"] == "bad_request" and says in body["message"], (
                path,
                body,
            )
        # a connection opened for one room cannot take a seat in another (on another node)
        await intruder.client.connect(f"{server.url}/?room={room}", transports=["websocket"])
        reply = await intruder.call("join", {"token": intruder.token})
        assert reply == {
            "ok": False,
            "code": "wrong_room",
            "message": "this connection was opened for another simulation",
        }
        # an API error from a node comes through unchanged
        status, body = await get_json(f"{server.url}/api/join/{room}")
        assert (status, body["code"]) == (401, "unauthorized"), body

        # the console's end opens a room nobody had opened: the front places it, so a
        # join afterwards reaches the same node instead of opening it on a second one
        fresh = await create_simulation(config)
        token = (tmp_path / "admin.token").read_text().strip()
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{server.url}/api/simulations/{fresh}/end",
                headers={"Authorization": f"Bearer {token}"},
            ) as r,
        ):
            assert r.status == 200, await r.text()
        _, health = await get_json(f"{server.url}/healthz")
        holding = [n["rooms_live"] for n in health["nodes"]]
        late = Participant("mediator", seat_token(config.secret, fresh, MEDIATOR, "M")[0], fresh)
        await late.connect(f"{server.url}/?room={fresh}")
        await late.join()  # whatever the ended room answers, it is opened where it is
        await late.close()
        _, health = await get_json(f"{server.url}/healthz")
        assert [n["rooms_live"] for n in health["nodes"]] == holding, (holding, health)
    finally:
        with contextlib.suppress(Exception):
            await intruder.close()
        server.stop()


@pytest.mark.timeout(150)
async def test_a_dead_node_is_restarted_and_sigterm_drains_every_node(tmp_path: Path) -> None:
    server = workers(tmp_path, CAUCUS_MEDIA="0", CAUCUS_DRAIN_S="5")
    try:
        await server.start()
        _, health = await get_json(f"{server.url}/healthz")
        victim = health["nodes"][1]
        os.kill(victim["pid"], signal.SIGKILL)

        async def restarted() -> dict[str, Any]:
            # bounded polling of another process: the supervisor tells nothing else
            while True:
                status, now = await get_json(f"{server.url}/healthz")
                if status == 200 and now["nodes"][1]["restarts"] == 1:
                    return now
                await asyncio.sleep(0.2)

        health = await asyncio.wait_for(restarted(), 60)
        assert health["nodes"][1]["pid"] != victim["pid"], health
        assert health["nodes"][1]["port"] == victim["port"], health

        assert server.proc is not None
        term = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(asyncio.to_thread(server.proc.wait), 15)
        took = time.monotonic() - term
        log = server.log_tail(40)
        print(f"\nSIGTERM → supervisor exit in {took:.2f} s, code {code}")
        assert code == 0, log
        assert took <= 5.0, log
        assert log.count("caucus.drain: drained in") == 2, log
        assert "exited with code -9" in server.log_tail(400), server.log_tail(400)
    finally:
        server.stop()


class PersonSeat:
    """A person's seat token in one room, connected through the front, watching for the
    server to disconnect it."""

    def __init__(self, url: str, secret: str, room: RoomId, person_id: str) -> None:
        self.url, self.room = url, room
        self.token = seat_token(secret, room, PARTY_A, "Joy", identity=person_id)[0]
        self.socket = Participant("party_a", self.token, room)
        self.socket.rejoin = False
        self.disconnected = asyncio.Event()

        def on_disconnect(reason: Any = None) -> None:
            self.disconnected.set()

        self.socket.client.on("disconnect", on_disconnect)

    async def join(self) -> None:
        await self.socket.connect(f"{self.url}/?room={self.room}")
        reply = await self.socket.join()
        assert reply["ok"], reply

    async def join_again(self) -> dict[str, Any]:
        again = Participant("party_a", self.token, self.room)
        again.rejoin = False
        try:
            await again.connect(f"{self.url}/?room={self.room}")
            return await again.join()
        finally:
            await again.close()


async def post_json(url: str, token: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http, http.post(url, json=body, headers=headers) as r:
        return r.status, await r.json()


@pytest.mark.shares_machine  # no media, nothing timed: runs with the parallel part
@pytest.mark.timeout(240)
async def test_deactivation_through_the_front_ends_the_person_s_seats_on_every_worker(
    tmp_path: Path,
) -> None:
    config = Config(data_dir=tmp_path).with_secrets()
    rooms = [await create_simulation(config), await create_simulation(config)]
    server = workers(tmp_path, CAUCUS_MEDIA="0")
    seats: list[PersonSeat] = []
    stopped: int | None = None
    try:
        await server.start()
        token = (tmp_path / "admin.token").read_text().strip()
        people = []
        for name in ("Joy", "Wanjiru"):
            status, invited = await post_json(
                f"{server.url}/api/people",
                token,
                {"email": f"{name.lower()}@example.org", "name": name, "role": "trainee"},
            )
            assert status == 201, invited
            people.append(invited["person"]["id"])
        joy, wanjiru = people
        # joy sits in both rooms: the first lands on node-0 (where the front sends the
        # console's requests), the second on node-1
        seats = [PersonSeat(server.url, config.secret, room, joy) for room in rooms]
        for seat in seats:
            await seat.join()
        _, health = await get_json(f"{server.url}/healthz")
        assert [n["rooms_live"] for n in health["nodes"]] == [1, 1], health
        # the schedule comes from node-0, and says "live" of the room on node-1 too
        status, listing = await get_json(
            f"{server.url}/api/schedule", headers={"Authorization": f"Bearer {token}"}
        )
        assert status == 200, listing
        statuses = {s["id"]: s["status"] for s in cast(list[dict[str, Any]], listing)}
        assert statuses == dict.fromkeys(rooms, "live"), listing

        status, answer = await post_json(f"{server.url}/api/people/{joy}/deactivate", token)
        assert status == 200, answer
        assert answer["person"]["active"] is False
        assert (answer["seats_ended"], answer["nodes_unreached"]) == (2, []), answer
        for seat in seats:
            await asyncio.wait_for(seat.disconnected.wait(), 20)
            reply = await seat.join_again()
            assert (reply["ok"], reply["code"]) == (False, "token_revoked"), reply

        # refusals are the first worker's, unchanged, and are sent to no other worker
        status, refused = await post_json(f"{server.url}/api/people/nobody/deactivate", token)
        assert (status, refused["code"]) == (404, "unknown_person"), refused
        status, refused = await post_json(f"{server.url}/api/people/{joy}/deactivate", "wrong")
        assert (status, refused["code"]) == (401, "unauthorized"), refused

        # a worker that does not answer (stopped): named; the person is deactivated
        late = PersonSeat(server.url, config.secret, rooms[1], wanjiru)
        seats.append(late)
        await late.join()
        stopped = int(health["nodes"][1]["pid"])
        os.kill(stopped, signal.SIGSTOP)
        asked = time.monotonic()
        status, answer = await post_json(f"{server.url}/api/people/{wanjiru}/deactivate", token)
        took = time.monotonic() - asked
        assert not late.disconnected.is_set()
        os.kill(stopped, signal.SIGCONT)
        stopped = None
        assert status == 200, answer
        assert answer["person"]["active"] is False
        assert (answer["seats_ended"], answer["nodes_unreached"]) == (0, ["node-1"]), answer
        assert took < 15, took
        # asked again once the worker answers: its seat is ended there (or was already:
        # the request it was sent while stopped is read when it resumes)
        status, answer = await post_json(f"{server.url}/api/people/{wanjiru}/deactivate", token)
        assert (status, answer["nodes_unreached"]) == (200, []), answer
        assert answer["seats_ended"] in (0, 1), answer
        await asyncio.wait_for(late.disconnected.wait(), 20)
        reply = await late.join_again()
        assert (reply["ok"], reply["code"]) == (False, "token_revoked"), reply
    finally:
        if stopped is not None:
            os.kill(stopped, signal.SIGCONT)
        for seat in seats:
            with contextlib.suppress(Exception):
                await seat.socket.close()
        server.stop()
