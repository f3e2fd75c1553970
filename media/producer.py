"""A Producer: one published track (a seat's audio or its video) on the server.

The publisher's ``RTCRtpReceiver`` is made a pass-through by
:func:`media.receiving.forward_receiver`, which hands over:

* every RTP packet on arrival, once (``on_packet``, awaited in the receive task;
  the assembler already dropped duplicates, a retransmission that raced its
  original): the producer works out once whether it starts a (key)frame, and
  forwards it through each attached :class:`~media.consumer.Consumer` – no
  decoding, no waiting;
* every complete encoded frame, in order (``on_assembled_frame``): as an ``av.Packet``
  (data = the frame, pts = RTP timestamp, time_base = 1/clock rate) for the
  packet sinks, e.g. a recorder muxing WebM without codec work.

Upstream control, aggregated over the consumers:

* keyframe requests (a consumer starts, a subscriber sent PLI/FIR) become one
  PLI to the publisher, at most one per ~RTT so a burst of subscribers does
  not make the publisher send a burst of keyframes;
* REMB toward the publisher is the minimum of the server's own estimate of the
  publisher's uplink and the latest REMB of every forwarding subscriber (fresh
  within ``REMB_FRESHNESS``), i.e. the weakest receiving link.  The server's
  own REMB passes through that minimum; a subscriber report that lowers it is
  relayed at once.  A simulcast publisher gets no REMB: its browser's
  loss-based control (the server's receiver reports cover every layer) sizes
  its uplink, and each subscriber takes the layer its own link carries
  (:mod:`media.layers`), so no subscriber lowers another's picture.

Simulcast (:mod:`media.simulcast`): the layers arrive through
:meth:`Producer.on_packet` with their index (``layer``); each packet's
:class:`PacketInfo` carries it, and each consumer forwards one layer.  Keyframe
requests name the layer.  Only one layer's frames reach the packet sinks: the
top layer arriving (a browser sends fewer layers from a small camera, and stops
its top layers when its uplink weakens).  When that layer falls silent
(``SILENT_S``) the sinks go on with the next one down, and back up when the top
layer returns, each time from the new layer's keyframe (asked for), so a
recording keeps its video and never holds a frame it cannot decode.
"""

from __future__ import annotations

import fractions
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import av
from aiortc.rtp import RtpPacket

from media.aiortc_internals import ReceiverControl, depayloaded
from media.assembler import AssembledFrame
from media.codecs import vp8_is_keyframe
from media.latency import ForwardingStats
from media.packet_info import PacketInfo
from media.packetizer import vp8_starts_frame
from media.simulcast import LayerState
from sessions.ids import SeatId
from sessions.media_kinds import MediaKind

logger = logging.getLogger(__name__)

REMB_FRESHNESS = 5.0
_time_bases: dict[int, fractions.Fraction] = {}

PacketSink = Callable[[SeatId, MediaKind, "av.Packet[Any]"], None]


class Consumer(Protocol):
    """What a producer needs of a subscriber's copy (:class:`media.consumer.Consumer`).

    A protocol rather than an import: consumers know their producer, and the
    producer knows consumers only through this, so the two modules form no circle.
    """

    @property
    def forwarding(self) -> bool: ...

    @property
    def paused(self) -> bool: ...

    def forward(self, packet: RtpPacket, info: PacketInfo) -> None: ...

    def set_layer(self, layer: int) -> None: ...

    def detach(self) -> None: ...


def aggregate_remb(upstream: int | None, downstream: list[int]) -> int | None:
    """The bitrate a publisher may send: its weakest receiving link."""
    candidates = ([upstream] if upstream is not None else []) + downstream
    return min(candidates) if candidates else None


class Producer:
    def __init__(
        self,
        seat: SeatId,
        kind: MediaKind,
        *,
        stats: ForwardingStats,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seat = seat
        self.kind = kind
        self.consumers: list[Consumer] = []
        self.sinks: list[PacketSink] = []
        self.frames = 0
        self.keyframes = 0
        self._stats = stats
        self._clock = clock
        self._control: ReceiverControl | None = None
        self._last_pli = -1e9
        self._downstream: dict[Consumer, tuple[int, float]] = {}
        self._upstream: int | None = None
        self._last_relayed: int | None = None
        # without simulcast, the one stream is one layer: its newest number, and its
        # bitrate (a weak subscriber's downlink may pause a video, media.downlink)
        self._stream = LayerState(0)
        self.layers: dict[int, LayerState] = {}  # simulcast only: index -> state
        self._recording: int | None = None  # simulcast: the layer the sinks get now
        self.packets = 0  # packets that reached the producer (repairs included)

    def bind(self, control: ReceiverControl) -> None:
        self._control = control
        control.remb_filter = self._filter_remb

    # -- media ---------------------------------------------------------------

    @property
    def control(self) -> ReceiverControl | None:
        """The receiver's control, once bound (media.link_stats reads its loss count)."""
        return self._control

    @property
    def newest_ext(self) -> int | None:
        """The newest (extended) sequence number that reached the producer (simulcast:
        the layers' added up, so it still advances by the packets that arrived)."""
        if self.layers:
            return sum(state.newest_ext or 0 for state in self.layers.values())
        return self._stream.newest_ext

    @property
    def simulcast(self) -> bool:
        return bool(self.layers)

    def newest_ext_of(self, layer: int) -> int | None:
        """The newest sequence number of ``layer`` (of the one stream without simulcast)."""
        state = self.layers.get(layer)
        return (self._stream if state is None else state).newest_ext

    def on_layer(self, layer: int, ssrc: int) -> None:
        """A simulcast layer's SSRC became known (its first packet arrived)."""
        state = self.layers.get(layer)
        if state is None or state.ssrc != ssrc:
            self.layers[layer] = LayerState(ssrc)
            if len(self.layers) == 1:  # the first layer: forwarded until one is chosen
                for consumer in list(self.consumers):
                    consumer.set_layer(layer)

    @property
    def recorded_layer(self) -> int:
        """The layer the packet sinks take from now on: the top one arriving (one
        silent for ``SILENT_S`` was dropped by the publisher; if all are, the top)."""
        now = self._clock()
        arriving = [i for i, state in self.layers.items() if state.arriving(now)]
        return max(arriving or self.layers, default=0)

    def on_layer_frame(self, layer: int, frame: AssembledFrame, clock_rate: int) -> None:
        if layer == self.recorded_layer and layer != self._recording:
            if not frame.keyframe:
                # the layer recorded so far, if it still arrives, fills in meanwhile
                self.request_keyframe(layer)  # throttled there
                return
            if self._recording is not None:
                logger.info(
                    "producer %s: recording layer %d (was %d)", self.seat, layer, self._recording
                )
            self._recording = layer  # the sinks change layers at the new layer's keyframe
        if layer == self._recording:
            self.on_assembled_frame(frame, clock_rate)

    def layer_rates(self, now: float, count: int) -> list[int]:
        """Each layer's bitrate now (0: not arriving), lowest first; without simulcast,
        the one stream's, as the one layer."""
        if not self.layers:
            return [self._stream.bitrate(now)]
        return [
            state.bitrate(now) if (state := self.layers.get(i)) is not None else 0
            for i in range(count)
        ]

    @property
    def lost(self) -> int:
        """Packets found missing on arrival from the publisher so far (before repair)."""
        return 0 if self._control is None else self._control.lost

    async def on_packet(self, packet: RtpPacket, ext: int, arrival: float, layer: int = 0) -> None:
        self.packets += 1
        state = self.layers.get(layer) if self.layers else None
        (self._stream if state is None else state).seen(ext, len(packet.payload), arrival)
        self._stats.packets_in += 1
        self._stats.bytes_in += len(packet.payload)
        if self.kind is MediaKind.VIDEO:
            start = vp8_starts_frame(packet)
            key = start and vp8_is_keyframe(depayloaded(packet))
        else:
            start = key = True  # every Opus packet is a frame of its own
        if key and state is not None:
            state.last_pli = -1e9  # the layer's keyframe answers its requests
        info = PacketInfo(ext=ext, arrival=arrival, frame_start=start, keyframe=key, layer=layer)
        stats = self._stats
        copies = stats.packets_out
        for consumer in list(self.consumers):
            consumer.forward(packet, info)
        if stats.packets_out != copies:  # arrival -> the last copy handed to a transport
            stats.delay.add(self._clock() - arrival)

    def on_assembled_frame(self, frame: AssembledFrame, clock_rate: int) -> None:
        self.frames += 1
        self.keyframes += frame.keyframe
        if frame.keyframe:
            # A keyframe answers every request made before it: the next request (a
            # recorder starting a segment, a new subscriber) must not be throttled.
            self._last_pli = -1e9
        self._stats.frames_in += 1
        if self.sinks:
            packet = av.Packet(frame.data)
            packet.pts = frame.timestamp
            packet.time_base = _time_base(clock_rate)
            for sink in self.sinks:
                sink(self.seat, self.kind, packet)

    def on_end(self) -> None:
        logger.debug("producer %s/%s: track ended", self.seat, self.kind.value)

    # -- consumers -----------------------------------------------------------

    def attach(self, consumer: Consumer) -> None:
        if consumer not in self.consumers:
            self.consumers.append(consumer)

    def detach(self, consumer: Consumer) -> None:
        if consumer in self.consumers:
            self.consumers.remove(consumer)
        self._downstream.pop(consumer, None)

    def close(self) -> None:
        for consumer in list(self.consumers):
            consumer.detach()
        self.consumers.clear()
        self._downstream.clear()
        self._control = None

    # -- upstream control ----------------------------------------------------

    def request_keyframe(self, layer: int | None = None) -> None:
        """PLI to the publisher (on ``layer``; None: the recorded one), throttled."""
        if self.kind is not MediaKind.VIDEO or self._control is None:
            return
        now = self._clock()
        if layer is None:
            layer = self.recorded_layer
        state = self.layers.get(layer) if self.layers else None
        if state is not None:
            if now - state.last_pli < max(0.1, min(1.0, 1.2 * self._control.srtt + 0.05)):
                return
            if self._control.request_keyframe(state.ssrc):
                state.last_pli = now
                self._stats.keyframe_requests += 1
            return
        if now - self._last_pli < max(0.1, min(1.0, 1.2 * self._control.srtt + 0.05)):
            return
        if self._control.request_keyframe():
            self._last_pli = now
            self._stats.keyframe_requests += 1

    def on_consumer_remb(self, consumer: Consumer, bitrate: int) -> None:
        self._downstream[consumer] = (bitrate, self._clock())
        target = self.target_bitrate()
        if (
            target is not None
            and not self.layers
            and self._control is not None
            and (self._last_relayed is None or target < 0.95 * self._last_relayed)
        ):
            if self._control.send_remb(target):
                self._last_relayed = target

    def target_bitrate(self) -> int | None:
        now = self._clock()
        downstream = [
            bitrate
            for consumer, (bitrate, at) in self._downstream.items()
            # a subscriber whose copy is paused (its link too short) does not
            # lower the picture everyone else receives
            if now - at <= REMB_FRESHNESS and consumer.forwarding and not consumer.paused
        ]
        return aggregate_remb(self._upstream, downstream)

    def _filter_remb(self, upstream: int) -> int | None:
        self._upstream = upstream
        if self.layers:
            # simulcast: no REMB; the publisher's own loss-based control, fed by the
            # server's receiver reports on every layer, sizes its uplink
            # (docs/design-notes.md), and each subscriber takes the layer that fits it
            return None
        target = self.target_bitrate()
        result = upstream if target is None else target
        self._last_relayed = result
        return result


def _time_base(clock_rate: int) -> fractions.Fraction:
    base = _time_bases.get(clock_rate)
    if base is None:
        base = _time_bases[clock_rate] = fractions.Fraction(1, clock_rate)
    return base
