"""The whole server: seats join over Socket.IO, media flows through the SFU as the
phases allow, and the session is recorded in per-visibility segments."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from caucus.app import RECORDINGS
from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from tests.encoded_media import decoded_frames
from tests.live_server import LiveServer, Participant, start_server
from tests.media.media_harness import ClientParticipant
from tests.media.synthetic import SEATS, SentLog
from tests.system.socket_signal import SocketSignal

TRAINEES = ("mediator", "party_a", "party_b")


class Seat:
    def __init__(self, server: LiveServer, room: RoomId, seat: SeatId, sent: SentLog) -> None:
        self.socket = Participant(seat, server.token(room, seat), room)
        self.media = ClientParticipant(
            seat, SocketSignal(self.socket), sent, room=room, decode=True
        )
        self.socket.client.on("media_offer", self.media.on_offer)

    async def join(self, url: str) -> None:
        await self.socket.connect(url)
        assert (await self.socket.join())["ok"]

    def receiving(self, since: float) -> set[SeatId]:
        """Seats whose video this client decoded since `since`."""
        return {
            seat
            for mid, frames in self.media.decoded.items()
            if self.media.tracks.get(mid, (None, None))[1] is MediaKind.VIDEO
            for t, seat in frames
            if t > since and seat is not None
        }

    def reached_me_from_after(self, moment: float) -> set[SeatId]:
        """Seats whose media published after `moment` reached this client.

        A frame counts by when it was sent, not when it arrived: one sent before a
        phase change may still arrive after it (held for a retransmission), and
        that is no leak.  Bytes that were also published before `moment` (a looped
        tone) count as sent then.
        """
        log = self.media.sent
        return {
            arrival.publisher
            for arrivals in self.media.arrivals.values()
            for arrival in arrivals
            if arrival.publisher is not None
            and arrival.time > moment
            and min(t for s, _, t in log.by_hash[arrival.key] if s == arrival.publisher) > moment
        }


@pytest.fixture
async def seats(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, RoomId, dict[SeatId, Seat]]]:
    server = await start_server(tmp_path, media=True, ice_addresses="127.0.0.1")
    room = await server.simulation()
    sent = SentLog()
    people = {seat: Seat(server, room, seat, sent) for seat in SEATS}
    for person in people.values():
        await person.join(server.url)
    yield server, room, people
    for person in people.values():
        await person.media.close()
        await person.socket.close()
    await server.stop()


async def wait_receiving(
    people: dict[str, Seat], expected: dict[str, set[str]], since: float
) -> None:
    await next(iter(people.values())).media.wait_until(
        lambda: all(people[s].receiving(since) >= want for s, want in expected.items()),
        timeout=20,
    )


async def test_a_simulation_is_forwarded_by_phase_and_recorded_by_visibility(
    seats: tuple[LiveServer, str, dict[str, Seat]],
) -> None:
    server, room, people = seats
    coach = people["coach"].socket
    for seat in TRAINEES:
        assert (await people[seat].socket.call("consent", {"recording": True}))["ok"]
    assert (await coach.call("phase", {"to": "joint"}))["ok"]
    since = time.monotonic()
    await wait_receiving(
        people,
        {
            "mediator": {"party_a", "party_b"},
            "party_b": {"mediator", "party_a"},
            "coach": set(TRAINEES),
        },
        since,
    )

    # Every seat's public segments have begun (video waits for a keyframe).
    async def public_segments_begun() -> bool:
        return {(seat, kind) for seat in SEATS for kind in ("audio", "video")} <= {
            (s.seat, s.kind)
            for s in await server.catalogue.segments(room)  # type: ignore[arg-type]
            if s.visibility == "public"
        }

    await people["coach"].media.wait_until(public_segments_begun, timeout=10)
    assert (await coach.call("phase", {"to": "caucus:party_a"}))["ok"]
    switched = time.monotonic()
    await wait_receiving(people, {"mediator": {"party_a"}, "coach": set(TRAINEES)}, switched + 0.3)
    settled = time.monotonic()
    await wait_receiving(people, {"party_a": {"mediator"}}, settled)
    # caucus privacy, on the wire: nothing sent since the switch reached the others
    assert people["party_b"].reached_me_from_after(switched) == set()
    assert "coach" not in people["party_a"].reached_me_from_after(switched)

    # The recorder opened caucus segments and asked the publishers for keyframes.
    async def caucus_segments_begun() -> bool:
        return {("party_a", "caucus:party_a"), ("mediator", "caucus:party_a")} <= {
            (s.seat, s.visibility)
            for s in await server.catalogue.segments(room)  # type: ignore[arg-type]
            if s.kind == "video"
        }

    await people["coach"].media.wait_until(caucus_segments_begun, timeout=10)

    assert (await coach.call("phase", {"to": "joint"}))["ok"]
    back = time.monotonic()
    await wait_receiving(people, {"party_b": {"mediator", "party_a"}}, back)
    assert (await coach.call("phase", {"to": "ended"}))["ok"]

    # The writer thread finishes the files after the ack; the catalogue follows.
    recordings = server.app[RECORDINGS]
    assert await asyncio.to_thread(recordings.disk.wait_idle, 10)
    recordings.disk.deliver_results()
    await recordings.writes.flush()  # and the catalogue writes they queued
    segments = await server.catalogue.segments(room)  # type: ignore[arg-type]
    assert {s.status for s in segments} == {"complete"}
    kinds = {(s.seat, s.kind, s.visibility) for s in segments}
    for seat in (*TRAINEES, "coach"):
        assert (seat, "audio", "public") in kinds and (seat, "video", "public") in kinds
    assert ("party_a", "video", "caucus:party_a") in kinds
    for segment in segments:
        assert segment.frames > 0
        assert len(decoded_frames(segment.path, segment.kind)) >= segment.frames - 2
