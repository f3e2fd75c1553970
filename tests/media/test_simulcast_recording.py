"""A simulcast publisher's recording, and its subscribers, keep its video when
its top layer stops.

A browser stops its top simulcast layers when its uplink estimate falls (the weak
links this product is for) and starts them again when it recovers.  The packet
sinks (the recorder, the link watch's frame gaps) get one layer's frames: the
top one arriving.  When that layer falls silent they go on with the next one
down, and back up when it returns, each time from a keyframe of the new layer.

Real aiortc peer connections on loopback; the publisher is
tests/media/simulcast_publisher.py's three-layer one, whose top layer is stopped
and resumed here.
"""

from __future__ import annotations

import time
from typing import Any

from media.codecs import vp8_is_keyframe
from media.simulcast import SILENT_S
from sessions.ids import SeatId
from sessions.media_kinds import MediaKind
from tests.media.media_harness import MediaRoom
from tests.media.simulcast_publisher import LAYERS, layers_seen
from tests.media.synthetic import MEDIATOR, PARTY_A, ROOM, routes_for

TOP, MIDDLE = len(LAYERS) - 1, len(LAYERS) - 2
#: the top layer silent for SILENT_S, then a keyframe of the middle one asked for
#: and sent (loopback: a round trip and one encode)
GAP_BOUND_S = SILENT_S + 1.5


class Recorded:
    """What a packet sink got: (when, layer, keyframe) per frame."""

    def __init__(self, layer_of: dict[int, int]) -> None:
        self._layer_of = layer_of
        self.frames: list[tuple[float, int | None, bool]] = []

    def sink(self, seat: SeatId, kind: MediaKind, packet: Any) -> None:
        data = bytes(packet)
        self.frames.append(
            (time.monotonic(), self._layer_of.get(hash(data)), vp8_is_keyframe(data))
        )

    def layers(self) -> list[int | None]:
        return [layer for _, layer, _ in self.frames]

    def since(self, index: int) -> list[tuple[float, int | None, bool]]:
        return self.frames[index:]


async def test_the_recording_goes_on_with_the_next_layer_while_the_top_one_is_stopped() -> None:
    room = MediaRoom()
    try:
        mediator = await room.add(MEDIATOR, seed=1, decode=False, fps=15, simulcast=True)
        party_a = await room.add(PARTY_A, seed=2, decode=False, fps=15)
        await room.sfu.apply_audience(ROOM, routes_for([(MEDIATOR, PARTY_A)]))
        await room.wait_connected(20)
        assert mediator.simulcast is not None
        producer = room.sfu.participant(ROOM, MEDIATOR).producers[MediaKind.VIDEO]
        recorded = Recorded(mediator.simulcast.layer_of)
        producer.sinks.append(recorded.sink)
        await room.wait_until(lambda: recorded.layers()[-15:] == [TOP] * 15, 30)

        # the top layer stops: the sinks go on with the middle one, from its keyframe
        stopped_at, before = time.monotonic(), len(recorded.frames)
        mediator.simulcast.sources[TOP].sending.clear()
        await room.wait_until(lambda: recorded.layers()[-15:] == [MIDDLE] * 15, 15)
        # and the subscriber that had the top layer is moved to the middle one
        await room.wait_until(lambda: layers_seen(party_a, mediator)[-15:] == [MIDDLE] * 15, 15)
        after_stop = recorded.since(before)
        first_middle = next(i for i, (_, layer, _) in enumerate(after_stop) if layer == MIDDLE)
        assert all(layer == TOP for _, layer, _ in after_stop[:first_middle]), after_stop
        assert after_stop[first_middle][2], "the middle layer begins at a keyframe"
        assert all(layer == MIDDLE for _, layer, _ in after_stop[first_middle:]), after_stop
        last_top = after_stop[first_middle - 1][0] if first_middle else stopped_at
        gap = after_stop[first_middle][0] - last_top
        assert gap <= GAP_BOUND_S, f"no recorded video for {gap:.1f} s"

        # the top layer comes back: the sinks return to it at its keyframe, the middle
        # layer filling in until then (no gap)
        before = len(recorded.frames)
        mediator.simulcast.sources[TOP].sending.set()
        await room.wait_until(lambda: recorded.layers()[-15:] == [TOP] * 15, 15)
        after_resume = recorded.since(before)
        first_top = next(i for i, (_, layer, _) in enumerate(after_resume) if layer == TOP)
        assert after_resume[first_top][2], "the top layer comes back at a keyframe"
        assert all(layer == MIDDLE for _, layer, _ in after_resume[:first_top]), after_resume
        times = [at for at, _, _ in recorded.since(before - 1)]
        longest = max(b - a for a, b in zip(times, times[1:], strict=False))
        assert longest < 0.5, f"a {longest:.2f} s gap while the top layer came back"
    finally:
        await room.close()
