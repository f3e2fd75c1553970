"""Publisher -> SFU -> subscriber: encoded frames go through untouched."""

from __future__ import annotations

import functools
import time

from sessions.media_kinds import MediaKind
from tests.media.media_harness import ClientParticipant, media_room
from tests.media.synthetic import MEDIATOR, PARTY_A, ROOM, joint


def _decoded_enough(client: ClientParticipant, video: str, audio: str) -> bool:
    return len(client.decoded[video]) >= 30 and len(client.decoded[audio]) >= 10


async def test_a_subscriber_decodes_the_publishers_tone_and_colour() -> None:
    async with media_room([MEDIATOR, PARTY_A]) as room:
        await room.sfu.apply_audience(ROOM, joint([MEDIATOR, PARTY_A]))
        await room.wait_connected(10)
        for subscriber, publisher in ((MEDIATOR, PARTY_A), (PARTY_A, MEDIATOR)):
            client = room.clients[subscriber]
            video = client.mid_of(publisher, MediaKind.VIDEO)
            audio = client.mid_of(publisher, MediaKind.AUDIO)
            assert video is not None and audio is not None
            await client.wait_until(
                functools.partial(_decoded_enough, client, video, audio),
                timeout=10,
            )
            seats = [seat for _, seat in client.decoded[video] + client.decoded[audio]]
            assert seats.count(publisher) >= 0.9 * len(seats)
            assert set(seats) <= {publisher, None}
            # the bytes that arrived are the bytes that were sent
            arrivals = client.arrivals[video] + client.arrivals[audio]
            assert all(a.publisher == publisher for a in arrivals)


async def test_a_newly_allowed_subscriber_sees_a_picture_within_a_second() -> None:
    async with media_room([MEDIATOR, PARTY_A]) as room:
        await room.wait_connected(10)
        mediator = room.clients[MEDIATOR]
        video = mediator.mid_of(PARTY_A, MediaKind.VIDEO)
        assert video is not None
        # let the publisher's stream run past its first keyframe
        await room.clients[PARTY_A].wait_until(
            lambda: len(room.sent.by_track[(PARTY_A, MediaKind.VIDEO)]) >= 30, timeout=10
        )
        assert not mediator.decoded[video]
        started = time.monotonic()
        await room.sfu.apply_audience(ROOM, joint([MEDIATOR, PARTY_A]))
        await mediator.wait_until(lambda: bool(mediator.decoded[video]), timeout=5)
        elapsed = mediator.decoded[video][0][0] - started
        print(f"\nfirst picture {elapsed * 1000:.0f} ms after the route opened (loopback)")
        assert elapsed < 1.0


async def test_a_subscribers_remb_caps_the_publishers_bitrate() -> None:
    async with media_room([MEDIATOR, PARTY_A]) as room:
        await room.sfu.apply_audience(ROOM, joint([MEDIATOR, PARTY_A]))
        await room.wait_connected(10)
        mediator, party_a = room.clients[MEDIATOR], room.clients[PARTY_A]
        video = mediator.mid_of(PARTY_A, MediaKind.VIDEO)
        assert video is not None
        await mediator.wait_until(lambda: len(mediator.decoded[video]) >= 5, timeout=10)
        seen = len(party_a.remb_seen)
        assert mediator.controls[video].send_remb(300_000)
        await party_a.wait_until(
            lambda: any(b <= 300_000 for b in party_a.remb_seen[seen:]), timeout=5
        )
