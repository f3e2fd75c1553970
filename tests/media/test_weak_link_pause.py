"""Issue #18, audio first, for publishers that send one video stream (no simulcast:
Firefox, aiortc): a subscriber whose link loses too much has the lower-priority
video paused for it, and only for it, while its audio goes on; the paused copy no
longer lowers the picture the publisher sends everyone (its REMB is not heard).

Real aiortc peer connections on loopback; party B's downlink drops 35 % of its
datagrams (tests/impairment.py), everyone else's is clean.
"""

from __future__ import annotations

import asyncio
import time

from media.latency import ForwardingStats
from media.packet_info import PacketInfo
from media.producer import Producer
from sessions.ids import SeatId
from sessions.media_kinds import MediaKind
from tests.impairment import LinkProfile
from tests.media.media_harness import ClientParticipant, MediaRoom
from tests.media.synthetic import MEDIATOR, PARTY_A, PARTY_B, ROOM, joint

SEATS3 = (MEDIATOR, PARTY_A, PARTY_B)
LOSSY = (LinkProfile(), LinkProfile(loss=0.35))
CLEAN = (LinkProfile(), LinkProfile())


def frames_since(client: ClientParticipant, publisher: SeatId, kind: MediaKind, t: float) -> int:
    mid = client.mid_of(publisher, kind)
    assert mid is not None
    return sum(1 for a in client.arrivals[mid] if a.time >= t)


async def paused_for(client: ClientParticipant, timeout: float) -> list[str]:
    """The seats in the first `media_video` that pauses anything."""
    async with asyncio.timeout(timeout):
        while True:
            for payload in client.video_events:
                if payload["paused"]:
                    return list(payload["paused"])
            client.video_event.clear()
            await client.video_event.wait()


async def test_a_lossy_subscriber_loses_lower_priority_video_first_and_keeps_all_audio() -> None:
    room = MediaRoom()
    try:
        for index, seat in enumerate(SEATS3):
            link = LOSSY if seat == PARTY_B else CLEAN
            await room.add(seat, link=link, seed=index + 1, decode=False)
        await room.sfu.apply_audience(ROOM, joint(SEATS3))
        await room.wait_connected(20)
        weak, clear = room.clients[PARTY_B], room.clients[PARTY_A]
        # party B receives the mediator's and party A's video: party A's goes first
        # (with the mediator's too if the link's budget holds neither)
        paused = await paused_for(weak, timeout=20)
        assert paused in ([PARTY_A], [MEDIATOR, PARTY_A]), weak.video_events
        t = time.monotonic() + 0.5  # what was on its way (retransmissions) has arrived

        def window_full() -> bool:  # > 1 s of every publisher's audio at both, and video
            return (
                min(frames_since(weak, p, MediaKind.AUDIO, t) for p in (MEDIATOR, PARTY_A)) > 50
                and frames_since(clear, MEDIATOR, MediaKind.VIDEO, t) > 10
                and frames_since(room.clients[MEDIATOR], PARTY_A, MediaKind.VIDEO, t) > 10
            )

        await room.wait_until(window_full, timeout=20)
        assert frames_since(weak, PARTY_A, MediaKind.VIDEO, t) == 0
        assert frames_since(weak, PARTY_A, MediaKind.AUDIO, t) > 50  # 20 ms frames
        assert frames_since(weak, MEDIATOR, MediaKind.AUDIO, t) > 50
        # only party B's copy is paused: party A's link is clear and hears of nothing
        assert clear.video_events == []
        assert frames_since(clear, MEDIATOR, MediaKind.VIDEO, t) > 10
        assert frames_since(room.clients[MEDIATOR], PARTY_A, MediaKind.VIDEO, t) > 10
    finally:
        await room.close()


class Copy:
    """What a producer knows of a subscriber's copy: forwarding, and paused or not."""

    def __init__(self, paused: bool) -> None:
        self.forwarding = True
        self.paused = paused

    def forward(self, packet: object, info: PacketInfo) -> None: ...

    def set_layer(self, layer: int) -> None: ...

    def detach(self) -> None: ...


def test_a_paused_copy_does_not_lower_what_the_publisher_sends_everyone() -> None:
    producer = Producer(SeatId("mediator"), MediaKind.VIDEO, stats=ForwardingStats())
    strong, weak = Copy(paused=False), Copy(paused=True)
    producer.on_consumer_remb(strong, 900_000)
    producer.on_consumer_remb(weak, 120_000)
    assert producer.target_bitrate() == 900_000
    weak.paused = False  # resumed: its link counts again
    assert producer.target_bitrate() == 120_000
