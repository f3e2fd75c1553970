"""A seat whose media path dies gets a new peer connection, in the same seat, by itself.

Real aiortc peer connections on loopback. The "cut" drops every datagram of
one client's connection both ways (media.impairment), like a radio link gone
dead while signalling carries on; the SFU must notice (silence, ICE consent or
the client's own request), offer a new connection marked as a restart, and
forward that seat's media again – to subscribers that never renegotiate –
while the recording carries on and the timeline holds the gap.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aioice.ice
import pytest

from caucus.app import RECORDINGS
from caucus.media_bridge import RtpContinuity
from media import aiortc_internals
from media.recovery import RecoveryConfig
from media.seat_connection import SeatConnection
from media.sfu import RestartRefused, Sfu, SfuConfig
from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from sessions.views import view_for
from tests.builders import room_with
from tests.encoded_media import decoded_frames
from tests.impairment import LinkProfile, impair
from tests.live_server import LiveServer, start_server
from tests.live_server import Participant as SocketParticipant
from tests.media.media_harness import ClientParticipant
from tests.media.synthetic import MEDIATOR, PARTY_A, ROOM, SentLog, joint
from tests.system.socket_signal import SocketSignal

DEAD = LinkProfile(loss=1.0)
BOTH = {(MEDIATOR, MediaKind.AUDIO), (MEDIATOR, MediaKind.VIDEO)}
#: detection (5 s of silence) + a new connection on loopback, with slack for a loaded machine
BACK_S = 20.0


def both(seat: SeatId) -> set[tuple[SeatId, MediaKind]]:
    return {(seat, MediaKind.AUDIO), (seat, MediaKind.VIDEO)}


@dataclass
class Observed:
    """What the Sfu told its observer, in order."""

    opened: list[tuple[SeatId, int, bool]] = field(default_factory=list)
    lost: list[tuple[SeatId, str]] = field(default_factory=list)
    flowing: list[SeatId] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def connection_opened(self, participant: SeatConnection, restart: bool) -> None:
        self.opened.append((participant.seat, participant.connection, restart))

    async def media_lost(self, room_id: RoomId, seat: SeatId, reason: str, silent_s: float) -> None:
        self.lost.append((seat, reason))
        self.changed.set()

    async def media_flowing(self, room_id: RoomId, seat: SeatId) -> None:
        self.flowing.append(seat)
        self.changed.set()


class Seat:
    """A client that, like the browser, answers a restart offer from a new peer connection."""

    def __init__(self, seat: SeatId, signal: Any, sent: SentLog, room: RoomId = ROOM) -> None:
        self.seat, self.signal, self.sent, self.room = seat, signal, sent, room
        self.clients = [self._client()]
        self.offers: list[dict[str, Any]] = []

    def _client(self) -> ClientParticipant:
        return ClientParticipant(self.seat, self.signal, self.sent, room=self.room, decode=False)

    @property
    def client(self) -> ClientParticipant:
        return self.clients[-1]

    async def on_offer(self, payload: dict[str, Any]) -> None:
        self.offers.append(payload)
        if payload.get("restart"):
            old = self.client
            self.clients.append(self._client())
            await old.close()
        await self.client.on_offer(payload)

    def received_since(self, since: float) -> set[tuple[SeatId, MediaKind]]:
        return self.client.received_from(since)

    async def close(self) -> None:
        for client in self.clients:
            await client.close()


class Room:
    def __init__(self, recovery: RecoveryConfig) -> None:
        self.sent = SentLog()
        self.seats: dict[SeatId, Seat] = {}
        self.observed = Observed()
        self._tasks: set[asyncio.Task[None]] = set()
        self.sfu = Sfu(
            self._send,
            config=SfuConfig(ice_host_addresses=["127.0.0.1"], connect_timeout=10),
            recovery=recovery,
            observer=self.observed,
        )

    async def _send(self, room: RoomId, seat: SeatId, event: str, payload: dict[str, Any]) -> None:
        task = asyncio.ensure_future(self.seats[seat].on_offer(payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def add(self, seat: SeatId) -> Seat:
        self.seats[seat] = person = Seat(seat, self.sfu, self.sent)
        await person.on_offer(await self.sfu.join(ROOM, seat))
        return person

    async def wait_until(self, predicate: Any, timeout: float) -> None:
        await self.sent.wait_until(predicate, timeout)

    async def close(self) -> None:
        for person in self.seats.values():
            await person.close()
        await self.sfu.close()
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


async def _joint_room(recovery: RecoveryConfig) -> Room:
    room = Room(recovery)
    await room.sfu.apply_audience(ROOM, joint([MEDIATOR, PARTY_A]))
    await room.add(MEDIATOR)
    await room.add(PARTY_A)
    start = time.monotonic()
    await room.wait_until(
        lambda: (
            room.seats[MEDIATOR].received_since(start) >= both(PARTY_A)
            and room.seats[PARTY_A].received_since(start) >= both(MEDIATOR)
        ),
        timeout=15,
    )
    return room


@pytest.fixture
async def room() -> AsyncIterator[Room]:
    joined = await _joint_room(RecoveryConfig())
    yield joined
    await joined.close()


@pytest.fixture
def fast_consent() -> Iterator[None]:
    before = aioice.ice.CONSENT_INTERVAL, aioice.ice.CONSENT_FAILURES
    aiortc_internals.set_consent_timing(0.3, 3)
    yield
    aiortc_internals.set_consent_timing(*before)


async def _cut_and_wait_back(room: Room, seat: SeatId, other: SeatId) -> float:
    """Cut `seat`'s link; return seconds from the cut until both directions flow again."""
    person = room.seats[seat]
    old = person.client
    cut = impair(old.pc, outbound=DEAD, inbound=DEAD, seed=1)
    cut_at = time.monotonic()
    await room.wait_until(
        lambda: (
            person.client is not old
            and room.seats[other].received_since(cut_at + 0.5) >= both(seat)
            and person.received_since(cut_at) >= both(other)
        ),
        timeout=BACK_S,
    )
    assert cut.inbound.stats.dropped > 0
    return time.monotonic() - cut_at


async def test_a_silent_connection_is_replaced_in_the_same_seat_without_renegotiating_others(
    room: Room,
) -> None:
    mediator_offers = len(room.seats[MEDIATOR].offers)
    first = room.sfu.participant(ROOM, PARTY_A)
    cut_at = time.monotonic()
    back_s = await _cut_and_wait_back(room, PARTY_A, MEDIATOR)
    print(f"\nsilent link: media back {back_s:.2f} s after the cut (5 s of it is detection)")

    assert room.observed.lost == [(PARTY_A, "nothing received for 5 s")]
    assert back_s >= 5.0  # silence is measured, not guessed
    restart_offers = [o for o in room.seats[PARTY_A].offers if o.get("restart")]
    assert len(restart_offers) == 1
    now = room.sfu.participant(ROOM, PARTY_A)
    assert now is not first and now.connection == restart_offers[0]["connection"]
    assert now.connection > first.connection
    assert (PARTY_A, now.connection, True) in room.observed.opened
    assert room.observed.flowing.count(PARTY_A) == 2  # the first connection, then the new one
    # The mediator's m-sections for party A moved to the new connection as they were.
    assert len(room.seats[MEDIATOR].offers) == mediator_offers
    assert time.monotonic() - cut_at < BACK_S


async def test_ice_consent_expiry_replaces_the_connection(fast_consent: None) -> None:
    room = await _joint_room(RecoveryConfig(silence_s=None))  # only consent can tell
    try:
        back_s = await _cut_and_wait_back(room, PARTY_A, MEDIATOR)
        print(f"\nconsent expiry (0.3 s x 3): media back {back_s:.2f} s after the cut")
        # aioice closes the ICE connection; aiortc then reports the peer connection
        # "failed" or, when its DTLS transport noticed first, "closed"
        [(seat, reason)] = room.observed.lost
        assert seat == PARTY_A and reason in ("connection failed", "connection closed")
    finally:
        await room.close()


async def test_a_client_may_ask_for_a_new_connection_but_not_twice_in_a_row() -> None:
    room = await _joint_room(RecoveryConfig(min_interval_s=2.0))
    try:
        person = room.seats[PARTY_A]
        first = room.sfu.participant(ROOM, PARTY_A)
        age = time.monotonic() - first.opened_at
        if age < 2.0:
            with pytest.raises(RestartRefused):
                await room.sfu.restart(ROOM, PARTY_A, "client: failed")
            await asyncio.sleep(2.0 - age)  # the rate limit is the behaviour under test
        old = person.client
        asked = time.monotonic()
        await room.sfu.restart(ROOM, PARTY_A, "client: failed")
        await room.wait_until(
            lambda: (
                person.client is not old
                and room.seats[MEDIATOR].received_since(asked + 0.2) >= both(PARTY_A)
            ),
            timeout=BACK_S,
        )
        second = room.sfu.participant(ROOM, PARTY_A)
        assert room.observed.lost == [(PARTY_A, "client: failed")]
        with pytest.raises(RestartRefused):  # the new connection is still young
            await room.sfu.restart(ROOM, PARTY_A, "client: failed")
        assert room.sfu.participant(ROOM, PARTY_A) is second
    finally:
        await room.close()


# -- the whole server: recording and timeline ---------------------------------------


class SocketSeat(Seat):
    def __init__(self, server: LiveServer, room: RoomId, seat: SeatId, sent: SentLog) -> None:
        self.socket = SocketParticipant(seat, server.token(room, seat), room)
        super().__init__(seat, SocketSignal(self.socket), sent, room)
        self.socket.client.on("media_offer", self.on_offer)


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    live = await start_server(tmp_path, media=True, ice_addresses="127.0.0.1")
    yield live
    await live.stop()


async def test_the_recording_and_the_seat_carry_on_and_the_gap_is_on_the_timeline(
    server: LiveServer,
) -> None:
    room = await server.simulation()
    sent = SentLog()
    people = {s: SocketSeat(server, room, s, sent) for s in (MEDIATOR, PARTY_A, SeatId("coach"))}
    try:
        for person in people.values():
            await person.socket.connect(server.url)
            assert (await person.socket.join())["ok"]
        for seat in (MEDIATOR, PARTY_A):
            assert (await people[seat].socket.call("consent", {"recording": True}))["ok"]
        assert (await people[SeatId("coach")].socket.call("phase", {"to": "joint"}))["ok"]
        mediator, party_a = people[MEDIATOR], people[PARTY_A]
        start = time.monotonic()

        async def party_a_recorded() -> bool:
            return mediator.received_since(start) >= both(PARTY_A) and {
                ("party_a", "audio"),
                ("party_a", "video"),
            } <= {(s.seat, s.kind) for s in await server.catalogue.segments(room)}

        await sent.wait_until(party_a_recorded, timeout=15)
        you_before = party_a.socket.state["you"]

        old = party_a.client
        impair(old.pc, outbound=DEAD, inbound=DEAD, seed=2)
        cut_at = time.monotonic()
        # Everyone sees the seat's media reconnecting while its socket stays connected.
        seen = await mediator.socket.wait_for(
            lambda s: any(
                p["seat"] == "party_a" and p["media"] == "reconnecting" and p["connected"]
                for p in s["roster"]
            ),
            timeout=BACK_S,
        )
        assert seen["phase"]["name"] == "joint"
        await sent.wait_until(
            lambda: (
                party_a.client is not old and mediator.received_since(cut_at + 0.5) >= both(PARTY_A)
            ),
            timeout=BACK_S,
        )
        back_s = time.monotonic() - cut_at
        await mediator.socket.wait_for_state(
            lambda s: any(p["seat"] == "party_a" and p["media"] == "connected" for p in s["roster"])
        )
        # keep recording a while on the new connection, then end the session
        resumed = time.monotonic()
        await sent.wait_until(lambda: time.monotonic() - resumed > 1.5, timeout=5)
        assert (await people[SeatId("coach")].socket.call("phase", {"to": "ended"}))["ok"]
        # the writer thread finishes the files after the ack; the catalogue follows
        recordings = server.app[RECORDINGS]
        assert await asyncio.to_thread(recordings.disk.wait_idle, 10)
        recordings.disk.deliver_results()
        await recordings.writes.flush()  # and the catalogue writes they queued

        assert party_a.socket.state["you"] == you_before
        assert [j for j in party_a.socket.received if j[0] == "replaced"] == []
        events = await server.catalogue.events(room)
        lost = [e for e in events if e["kind"] == "media_lost" and e["seat"] == "party_a"]
        restored = [e for e in events if e["kind"] == "media_restored" and e["seat"] == "party_a"]
        assert [e["reason"] for e in lost] == ["nothing received for 5 s"]
        assert len(restored) == 1 and restored[0]["reason"] == "nothing received for 5 s"
        # the gap runs from the last packet heard to media flowing again
        assert 5000 <= restored[0]["gap_ms"] <= back_s * 1000 + 500
        assert lost[0]["silent_ms"] >= 5000
        assert lost[0]["t_ms"] < restored[0]["t_ms"]
        assert not any(e["kind"] in ("drop", "leave") for e in events if e["seat"] == "party_a")
        print(f"\nmedia back {back_s:.2f} s after the cut; timeline gap {restored[0]['gap_ms']} ms")

        # The recording carried on: party A's media was recorded after the gap too,
        # in the same simulation, and every segment decodes.
        segments = [s for s in await server.catalogue.segments(room) if s.seat == "party_a"]
        assert {s.status for s in segments} == {"complete"}
        for kind in ("audio", "video"):
            mine = [s for s in segments if s.kind == kind]
            assert len(mine) >= 2, (kind, mine)  # before and after the gap
            assert mine[-1].start_ms >= restored[0]["t_ms"] - 1000
            for segment in mine:
                assert segment.frames > 0
                assert len(decoded_frames(segment.path, segment.kind)) >= segment.frames - 2
    finally:
        for person in people.values():
            await person.close()
            await person.socket.close()


# -- the media_restart event: validated, rate-limited, never "internal" ------------


async def test_media_restart_refuses_bad_input_and_early_asks_with_clear_codes(
    server: LiveServer, tmp_path: Path
) -> None:
    room = await server.simulation()
    stranger = SocketParticipant("party_b", server.token(room, "party_b"), room)
    person = SocketParticipant("party_a", server.token(room, "party_a"), room)
    try:
        await stranger.connect(server.url)
        reply = await stranger.call("media_restart", {"reason": "failed"})
        assert reply["code"] == "not_joined"
        await person.connect(server.url)
        assert (await person.join())["ok"]
        for payload, code in [
            ({"reason": "bored"}, "bad_request"),
            ({"reason": 7}, "bad_request"),
            ({}, "bad_request"),
            ({"reason": "failed", "sdp": "x"}, "bad_request"),
            ("failed", "bad_request"),
            ({"reason": "x" * 100}, "too_large"),
        ]:
            reply = await person.call("media_restart", payload)
            assert not reply["ok"] and reply["code"] == code, (payload, reply)
        # the seat's first connection is still starting: asking again is too soon
        before = server.sfu.participant(room, SeatId("party_a"))
        reply = await person.call("media_restart", {"reason": "disconnected"})
        assert reply["code"] == "rate_limited", reply
        assert server.sfu.participant(room, SeatId("party_a")) is before
        # an answer or candidate for another connection is stale: acknowledged, ignored
        for event, payload in [
            ("media_answer", {"type": "answer", "sdp": "v=0", "connection": 999}),
            ("media_ice", {"candidate": "", "connection": 999}),
        ]:
            assert await person.call(event, payload) == {"ok": True, "stale": True}
        reply = await person.call("media_ice", {"candidate": "", "connection": -1})
        assert reply["code"] == "bad_request"
        assert server.sfu.participant(room, SeatId("party_a")) is before
        events = [e["kind"] for e in await server.catalogue.events(room)]
        assert "media_lost" not in events
    finally:
        await stranger.close()
        await person.close()
    # without a media server the event exists but has nothing to restart
    plain = await start_server(tmp_path / "plain")
    try:
        other = await plain.simulation()
        person = SocketParticipant("party_a", plain.token(other, "party_a"), other)
        await person.connect(plain.url)
        assert (await person.join())["ok"]
        reply = await person.call("media_restart", {"reason": "failed"})
        assert reply["code"] == "unknown_event"
        assert person.state["roster"][0]["media"] == "none"
        await person.close()
    finally:
        await plain.stop()


# -- pure parts ------------------------------------------------------------------------


def test_the_roster_shows_each_seats_media_status_and_none_without_one() -> None:
    statuses = {SeatId("mediator"): "reconnecting", SeatId("party_a"): "connected"}
    view = view_for(room_with(), SeatId("party_a"), 0, statuses)
    media = {p["seat"]: p["media"] for p in view["roster"]}
    assert media["mediator"] == "reconnecting" and media["party_a"] == "connected"
    assert media["party_b"] == "none"
    assert {p["media"] for p in view_for(room_with(), SeatId("party_a"), 0)["roster"]} == {"none"}


def test_a_seats_recorded_rtp_timeline_runs_on_across_its_connections() -> None:
    timeline = RtpContinuity()
    first, second = object(), object()
    assert timeline.map(first, 1000, 90_000, now=10.0) == 1000
    assert timeline.map(first, 4000, 90_000, now=10.033) == 4000
    # a new connection starts again from 0, 0.5 s later: it continues 45 000 ticks on
    assert timeline.map(second, 0, 90_000, now=10.533) == 4000 + 45_000
    assert timeline.map(second, 3000, 90_000, now=10.566) == 4000 + 45_000 + 3000
    # and wraps like RTP does
    wrapping = RtpContinuity()
    wrapping.map(first, 0xFFFFFF00, 48_000, now=0.0)
    assert wrapping.map(second, 0, 48_000, now=0.02) == (0xFFFFFF00 + 960) & 0xFFFFFFFF
