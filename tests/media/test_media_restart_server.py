"""A media restart on the whole server: the seat, its recording and its timeline carry on.

Real aiortc clients over Socket.IO on loopback. Party A's media path is cut
while its socket stays connected: everyone sees its media "reconnecting", then
"connected" again in the same seat; the recording carries on across the new
connection and the timeline holds the gap. The client's media_restart event is
validated, rate-limited and never "internal"; the roster's media status and the
recorded RTP timeline across connections are checked as pure parts. The
restart itself, against the Sfu alone, is in tests/media/test_media_restart.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from caucus.app import RECORDINGS
from caucus.media_bridge import RtpContinuity
from sessions.ids import RoomId, SeatId
from sessions.views import view_for
from tests.builders import room_with
from tests.encoded_media import decoded_frames
from tests.impairment import impair
from tests.live_server import LiveServer, start_server
from tests.live_server import Participant as SocketParticipant
from tests.media.restart_seat import BACK_S, DEAD, Seat, both
from tests.media.synthetic import MEDIATOR, PARTY_A, SentLog
from tests.system.socket_signal import SocketSignal


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
