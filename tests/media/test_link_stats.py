"""A seat's lossy stretch, sampled by the real server, lands on the timeline and in the export."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sessions.ids import RoomId, SeatId
from sessions.link_trouble import JOIN_GAP_MS
from sessions.media_kinds import MediaKind
from tests.impairment import LinkProfile
from tests.live_server import LiveServer, Participant, start_server
from tests.media.media_harness import ClientParticipant
from tests.media.synthetic import SentLog
from tests.system.socket_signal import SocketSignal
from web.keys import DIRECTORY

LOSSY_S = 6.0  # how long party_a's uplink drops 30 % of its packets
SAMPLE_MS = 2000  # a stretch's ends fall on the 2 s samples around the trouble


class Seat:
    def __init__(
        self, server: LiveServer, room: RoomId, seat: str, sent: SentLog, lossy: bool
    ) -> None:
        self.socket = Participant(seat, server.token(room, seat), room)
        clean = (LinkProfile(), LinkProfile())
        self.media = ClientParticipant(
            SeatId(seat),
            SocketSignal(self.socket),
            sent,
            room=room,
            decode=False,
            link=clean if lossy else None,
            seed=7,
        )
        self.socket.client.on("media_offer", self.media.on_offer)


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, RoomId, dict[str, Seat]]]:
    server = await start_server(tmp_path, media=True, ice_addresses="127.0.0.1")
    room = server.simulation()
    sent = SentLog()
    seats = {s: Seat(server, room, s, sent, s == "party_a") for s in ("mediator", "party_a")}
    try:
        for seat in seats.values():
            await seat.socket.connect(server.url)
            assert (await seat.socket.join())["ok"]
        yield server, room, seats
    finally:
        for seat in seats.values():
            await seat.media.close()
            await seat.socket.close()
        await server.stop()


def _trouble(server: LiveServer, room: RoomId, seat: str) -> list[dict[str, Any]]:
    return [
        e for e in server.catalogue.events(room) if e["kind"] == "trouble" and e["seat"] == seat
    ]


async def _get(server: LiveServer, path: str) -> Any:
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {server.config.admin_token}"}
        async with http.get(f"{server.url}{path}", headers=headers) as r:
            assert r.status == 200, await r.text()
            return json.loads(await r.text())


async def test_a_lossy_stretch_of_one_seat_lands_on_the_timeline_and_in_the_export(
    session: tuple[LiveServer, RoomId, dict[str, Seat]],
) -> None:
    server, room, seats = session
    party_a = seats["party_a"].media
    producers = server.sfu.participant(room, SeatId("party_a")).producers
    await party_a.wait_until(lambda: producers[MediaKind.VIDEO].frames > 30, timeout=20)
    clock = server.app[DIRECTORY]
    await asyncio.sleep(2 * SAMPLE_MS / 1000)  # calm samples first: the behaviour under test
    assert party_a.impairment is not None
    lossy_from = clock.session_ms(room)
    party_a.impairment.outbound.profile = LinkProfile(loss=0.3)
    await asyncio.sleep(LOSSY_S)
    party_a.impairment.outbound.profile = LinkProfile()
    lossy_to = clock.session_ms(room)

    # the stretch is stored once JOIN_GAP_MS of calm closed it (two more samples)
    await party_a.wait_until(
        lambda: bool(_trouble(server, room, "party_a")), timeout=3 * SAMPLE_MS / 1000 + 3
    )
    timeline = await _get(server, f"/api/simulations/{room}/timeline")
    [stretch] = [e for e in timeline if e["kind"] == "trouble" and e["seat"] == "party_a"]
    # the clean seat may show a freeze on a busy machine, never loss
    assert all(e["loss_pct"] < 8 for e in timeline if e["kind"] == "trouble" and e is not stretch)
    assert lossy_from - SAMPLE_MS - 500 <= stretch["t_ms"] <= lossy_from + SAMPLE_MS
    assert lossy_to - SAMPLE_MS <= stretch["end_ms"] <= lossy_to + SAMPLE_MS + 500
    assert 15 <= stretch["loss_pct"] <= 45, stretch
    assert f"{stretch['loss_pct']} % loss" in stretch["what"]
    assert JOIN_GAP_MS < stretch["end_ms"] - stretch["t_ms"] <= LOSSY_S * 1000 + 2 * SAMPLE_MS

    exported = await _get(server, f"/api/recordings/{room}/annotations.json")
    assert [e for e in exported["link_trouble"] if e["seat"] == "party_a"] == [
        {
            "seat": "party_a",
            "start_ms": stretch["t_ms"],
            "end_ms": stretch["end_ms"],
            "what": stretch["what"],
            "loss_pct": stretch["loss_pct"],
            "frozen_ms": stretch["frozen_ms"],
            "rtt_ms": stretch["rtt_ms"],
            "jitter_ms": stretch["jitter_ms"],
        }
    ]
    recording = await _get(server, f"/api/recordings/{room}")
    assert stretch in recording["timeline"]
