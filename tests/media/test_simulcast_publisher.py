"""Issue #18, video that adapts per subscriber, with synthetic simulcast publishers
(tests/media/simulcast_publisher.py; the same with Chromium is
tests/reach/test_simulcast_layers.py): the mediator sends three layers, the SFU tells
them apart by RID, and each subscriber gets the layer its own link carries — party
A, on a clear link, climbs to the top; party B, whose downlink is capped at
``CAP_BPS``, stays on the lowest, its audio still arriving.

Real aiortc peer connections on loopback; the cap is tests/impairment.py's token bucket.
"""

from __future__ import annotations

import time

from media.layers import LayerSelector
from media.simulcast_sdp import RIDS, answered_rids, offer_simulcast
from sessions.media_kinds import MediaKind
from tests.impairment import LinkProfile
from tests.media.media_harness import MediaRoom
from tests.media.simulcast_publisher import LAYERS, answer_simulcast, layers_seen
from tests.media.synthetic import MEDIATOR, PARTY_A, PARTY_B, ROOM, routes_for

#: aiortc's Opus (~100 kbit/s on the wire) and the lowest layer fit; the middle does not
CAP_BPS = 200_000
TOP, LOWEST = len(LAYERS) - 1, 0
#: frames a subscriber is judged on once party A shows the top layer (15 fps: 6 s)
JUDGED = 90

OFFER = (
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 97\r\na=mid:1\r\na=recvonly\r\n"
)


def test_the_answer_sends_every_offered_layer() -> None:
    offer = offer_simulcast(OFFER, "1")
    answer = answer_simulcast(OFFER.replace("a=recvonly", "a=sendonly"), "1")
    assert f"a=simulcast:send {';'.join(RIDS)}" in answer
    assert answered_rids(offer, answer) == [list(RIDS)]


async def test_each_subscriber_gets_the_layer_its_own_link_carries() -> None:
    room = MediaRoom()
    try:
        mediator = await room.add(MEDIATOR, seed=1, decode=False, fps=15, simulcast=True)
        clear = await room.add(PARTY_A, seed=2, decode=False, fps=15)
        capped = LinkProfile(rate_bps=CAP_BPS)
        weak = await room.add(PARTY_B, link=(LinkProfile(), capped), seed=3, decode=False)
        await room.sfu.apply_audience(ROOM, routes_for([(MEDIATOR, PARTY_A), (MEDIATOR, PARTY_B)]))
        await room.wait_connected(20)
        # every layer arrives at the SFU on its own SSRC; party A climbs through them
        await room.wait_until(lambda: layers_seen(clear, mediator)[-15:] == [TOP] * 15, 30)
        assert set(layers_seen(clear, mediator)) == {0, 1, 2}
        # party B's stream climbs to the middle layer, as any new stream does while
        # nothing says its link is short; the cap answers with loss, the selector takes
        # it back to the lowest and then waits probe_s (8 s) before another try: judge
        # from there (how long a try lasts is bench/impaired_links.py's figure). Its
        # return is the selector's verdict on the try, not B's frames: 15 frames of the
        # lowest layer can also arrive before the first try. (The start's keyframe burst
        # can find the cap short first: its ceiling then holds B on the lowest, untried.)
        selector = room.sfu.participant(ROOM, PARTY_B).downlink.selector
        await room.wait_until(lambda: judged(selector), 40)
        await room.wait_until(lambda: layers_seen(weak, mediator)[-15:] == [LOWEST] * 15, 40)
        from_top = len(layers_seen(clear, mediator))
        heard = len(weak.arrivals[weak.mid_of(MEDIATOR, MediaKind.AUDIO) or ""])
        since = time.monotonic()
        await room.wait_until(
            lambda: (
                len(layers_seen(clear, mediator)) >= from_top + JUDGED
                and time.monotonic() - since >= JUDGED / 15
            ),
            30,
        )
        shown_clear = layers_seen(clear, mediator)[from_top:]
        shown_weak = [
            layer
            for a, layer in zip(
                weak.arrivals[weak.mid_of(MEDIATOR, MediaKind.VIDEO) or ""],
                layers_seen(weak, mediator),
                strict=True,
            )
            if a.time >= since
        ]
        # party A keeps the top layer; party B, behind the cap, the lowest
        assert shown_clear.count(TOP) >= 0.9 * len(shown_clear), shown_clear
        choice = selector.streams.get(MEDIATOR)
        assert set(shown_weak) <= {LOWEST}, (shown_weak, choice)  # never above the lowest
        # the lowest layer and the audio fit the cap: B's video is never paused, not
        # even by the failed try's late reports (media.layers), and shows its frames
        assert choice is not None and choice.pauses == 0, choice
        assert len(shown_weak) >= 0.8 * JUDGED, (shown_weak, choice)
        # and its audio goes on: ~50 Opus frames a second
        audio = weak.arrivals[weak.mid_of(MEDIATOR, MediaKind.AUDIO) or ""]
        assert len(audio) - heard >= 0.9 * 50 * (time.monotonic() - since), len(audio) - heard
    finally:
        await room.close()


def judged(selector: LayerSelector) -> bool:
    """The selector's verdict on the capped link (media.layers): the mediator's stream
    tried a layer up and the link answered with loss, or it is on the lowest layer
    under a ceiling a shortage left (a try past it would take minutes to come)."""
    choice = selector.streams.get(MEDIATOR)
    if choice is None:
        return False
    held = choice.layer == LOWEST and selector.ceiling(time.monotonic()) is not None
    return choice.probe_wait_s > 0 or held
