"""RED through the SFU with real aiortc peer connections, no mocks.

party_a publishes RED as Chromium does (each Opus payload again in the next
packet) over an uplink that drops 10 % of its packets; the mediator accepted RED,
the coach is a stock aiortc client (no RED: the SFU sends it the primaries only).
Both must receive party_a's very Opus frames (by hash of their bytes), and the
SFU must have rebuilt lost packets from the redundancy instead of waiting for
NACKs.
"""

from __future__ import annotations

from media.aiortc_internals import RED_PAYLOAD_TYPE, opus_payload_type
from sessions.ids import SeatId
from sessions.media_kinds import MediaKind
from tests.impairment import LinkProfile
from tests.media.media_harness import MediaRoom
from tests.media.synthetic import COACH, MEDIATOR, PARTY_A, ROOM, joint

SEATS = (PARTY_A, MEDIATOR, COACH)
FRAMES = 150  # 3 s of audio after it first flows


def _audio_from(room: MediaRoom, subscriber: SeatId) -> list[int]:
    client = room.clients[subscriber]
    mid = client.mid_of(PARTY_A, MediaKind.AUDIO)
    return [] if mid is None else [a.key for a in client.arrivals[mid] if a.publisher == PARTY_A]


async def test_red_is_forwarded_to_who_accepted_it_unwrapped_for_others_and_fills_losses() -> None:
    room = MediaRoom()
    try:
        lossy_up = (LinkProfile(loss=0.1), LinkProfile())
        await room.add(PARTY_A, red=True, link=lossy_up, seed=3, decode=False)
        await room.add(MEDIATOR, red=True, decode=False)
        await room.add(COACH, red=False, decode=False)
        await room.sfu.apply_audience(ROOM, joint(SEATS))
        await room.wait_connected(15)
        await room.wait_until(
            lambda: all(len(_audio_from(room, s)) >= FRAMES for s in (MEDIATOR, COACH)), 45
        )
        stats = room.sfu.stats
        consumers = {
            s: room.sfu.participant(ROOM, s).consumers[(PARTY_A, MediaKind.AUDIO)]
            for s in (MEDIATOR, COACH)
        }
        sent = {key for _, key in room.sent.by_track[(PARTY_A, MediaKind.AUDIO)]}
        received = {s: _audio_from(room, s) for s in (MEDIATOR, COACH)}
        publisher = room.sfu.participant(ROOM, PARTY_A).producers[MediaKind.AUDIO]
        control = publisher.control
        assert control is not None
    finally:
        await room.close()

    # negotiated: RED to the mediator, Opus to the coach
    assert consumers[MEDIATOR]._writer.payload_type == RED_PAYLOAD_TYPE
    assert consumers[COACH]._writer.payload_type == opus_payload_type()
    for subscriber, keys in received.items():
        assert set(keys) <= sent, f"{subscriber} got bytes party_a never encoded"
    # ~10 % of the uplink lost, most of it rebuilt from the next packet's copy (not
    # all: two in a row, or a burst the shared machine's full socket buffers drop)
    print(f"\nuplink lost {control.lost}, rebuilt from RED {stats.audio_recovered}")
    assert control.lost > 0
    assert stats.audio_recovered > 0
    assert stats.red_refused == 0
