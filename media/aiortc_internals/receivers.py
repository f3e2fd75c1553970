"""Receivers that forward instead of decoding: each RTP packet on arrival, each
encoded frame once complete.

aiortc's decoder thread is bypassed (:func:`_dispatching_decoder_worker`, put in
place by :func:`~media.aiortc_internals.install`), its NACK generator and
jitter buffer are replaced by the caller's (:mod:`media.receiving` passes a
:class:`~media.nack.NackScheduler` and a :class:`~media.assembler.FrameAssembler`,
known here only by the :class:`Nack` and :class:`Assembler` protocols, so this
package imports nothing of the project), its REMB estimator by a cheaper one
(:class:`~media.aiortc_internals.remb.UplinkEstimator`), and RTX is routed by SSRC.
Each packet then takes :class:`~media.aiortc_internals.forwarding_receive.ForwardingReceive`
in place of aiortc's own receive step.
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiortc import RTCRtpReceiver, rtcrtpreceiver
from aiortc.rtcrtpparameters import RTCRtpReceiveParameters
from aiortc.rtcrtpreceiver import TimestampMapper
from aiortc.rtp import (
    RTCP_PSFB_APP,
    AnyRtcpPacket,
    RtcpPsfbPacket,
    RtpPacket,
    pack_remb_fci,
    unpack_remb_fci,
)

from media.aiortc_internals.forwarding_receive import (
    Assembler,
    ForwardingReceive,
    Nack,
    PacketHook,
)
from media.aiortc_internals.native_uplink import new_uplink_estimator
from media.aiortc_internals.simulcast import LayerDemux

_original_decoder_worker = rtcrtpreceiver.decoder_worker


def depayloaded(packet: RtpPacket) -> bytes:
    """The codec payload of a received packet, without its payload descriptor.

    aiortc's receiver depayloads each packet once, into a private attribute, before
    it reaches the jitter buffer (``RTCRtpReceiver._handle_rtp_packet``).
    """
    data: bytes = packet._data  # type: ignore[attr-defined]
    return data


def _dispatching_decoder_worker(
    loop: asyncio.AbstractEventLoop,
    input_q: queue.Queue[Any],
    output_q: asyncio.Queue[Any],
    decode_error: Any,
) -> None:
    if isinstance(input_q, PassThroughQueue):
        return  # nothing to decode: PassThroughQueue.put hands frames over
    _original_decoder_worker(loop, input_q, output_q, decode_error)


class PassThroughQueue(queue.Queue[Any]):
    """Stands in for a receiver's decoder queue: hands each encoded frame to
    ``on_frame`` on the event loop, and the frames the assembler released
    beyond the first (a retransmission can complete several)."""

    def __init__(
        self,
        receiver: RTCRtpReceiver,
        assembler: Assembler,
        on_frame: Callable[[Any, int], None],
        on_end: Callable[[], None],
        mapper: Any = None,
    ) -> None:
        super().__init__()
        self._mapper = mapper or receiver._RTCRtpReceiver__timestamp_mapper  # type: ignore[attr-defined]
        self._assembler = assembler
        self._on_frame = on_frame
        self._on_end = on_end

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:  # the receiver stopped
            self._on_end()
            return
        codec, frame = item  # frame.timestamp already mapped by the receiver
        self._on_frame(frame, codec.clockRate)
        for extra in self._assembler.drain():
            extra.timestamp = self._mapper.map(extra.timestamp)
            self._on_frame(extra, codec.clockRate)


class ReceiverControl:
    """What the forwarding path may ask of a receiver: PLI, REMB, RTT."""

    def __init__(self, receiver: RTCRtpReceiver, nack: Nack) -> None:
        self._receiver = receiver
        self._nack = nack
        self._send_rtcp: Callable[[AnyRtcpPacket], Awaitable[None]] = receiver._send_rtcp
        self._tasks: set[asyncio.Task[None]] = set()
        self.remb_filter: Callable[[int], int | None] | None = None
        # REMB the receiver computes itself passes through remb_filter (None: not sent)
        receiver._send_rtcp = self._filtered_send_rtcp  # type: ignore[method-assign]

        # the NACK schedulers of a simulcast publisher's layers (LayerDemux)
        self.layer_nacks: list[Nack] = []

    @property
    def srtt(self) -> float:
        if self._nack.media_ssrc is None and self.layer_nacks:
            return self.layer_nacks[0].srtt
        return self._nack.srtt

    @property
    def media_ssrc(self) -> int | None:
        ssrc = self._nack.media_ssrc
        if ssrc is None:
            ssrc = next((n.media_ssrc for n in self.layer_nacks if n.media_ssrc is not None), None)
        return ssrc

    @property
    def lost(self) -> int:
        """Packets found missing on arrival so far (media.link_stats reads the link's loss)."""
        return self._nack.lost + sum(n.lost for n in self.layer_nacks)

    def request_keyframe(self, ssrc: int | None = None) -> bool:
        """Send a PLI to the publisher (twice, 20 ms apart: a PLI lost on a 3 %
        lossy link would cost a whole throttle period); False before any media.

        ``ssrc``: the stream that needs one (a simulcast layer); None: the media SSRC.
        """
        if ssrc is None:
            ssrc = self.media_ssrc
        if ssrc is None:
            return False
        self._spawn(self._send_pli_twice(ssrc))
        return True

    async def _send_pli_twice(self, ssrc: int) -> None:
        await self._receiver._send_rtcp_pli(ssrc)
        await asyncio.sleep(0.02)  # spacing between the copies
        await self._receiver._send_rtcp_pli(ssrc)

    def send_remb(self, bitrate: int) -> bool:
        rtcp_ssrc = self._receiver._RTCRtpReceiver__rtcp_ssrc  # type: ignore[attr-defined]
        ssrc = self.media_ssrc
        if rtcp_ssrc is None or ssrc is None:
            return False
        packet = RtcpPsfbPacket(
            fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0, fci=pack_remb_fci(bitrate, [ssrc])
        )
        self._spawn(self._send_rtcp(packet))
        return True

    async def _filtered_send_rtcp(self, packet: AnyRtcpPacket) -> None:
        if (
            self.remb_filter is not None
            and isinstance(packet, RtcpPsfbPacket)
            and packet.fmt == RTCP_PSFB_APP
        ):
            try:
                bitrate, ssrcs = unpack_remb_fci(packet.fci)
            except ValueError:
                pass
            else:
                filtered = self.remb_filter(bitrate)
                if filtered is None:
                    return
                packet = RtcpPsfbPacket(
                    fmt=RTCP_PSFB_APP,
                    ssrc=packet.ssrc,
                    media_ssrc=0,
                    fci=pack_remb_fci(filtered, ssrcs),
                )
        await self._send_rtcp(packet)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _install_recovery(receiver: RTCRtpReceiver, nack: Nack, assembler: Assembler) -> None:
    if receiver._RTCRtpReceiver__decoder_thread is not None:  # type: ignore[attr-defined]
        raise RuntimeError("patch the receiver before it starts receiving")
    receiver._RTCRtpReceiver__nack_generator = nack  # type: ignore[attr-defined]
    receiver._RTCRtpReceiver__jitter_buffer = assembler  # type: ignore[attr-defined]
    if receiver._RTCRtpReceiver__remote_bitrate_estimator is not None:  # type: ignore[attr-defined]
        # video: the same REMB, without aiortc's per-packet bookkeeping (.remb)
        receiver._RTCRtpReceiver__remote_bitrate_estimator = new_uplink_estimator()  # type: ignore[attr-defined]
    _route_rtx_by_ssrc(receiver)


def _route_rtx_by_ssrc(receiver: RTCRtpReceiver) -> None:
    """Register the receiver's RTX SSRC with the transport's RTP router.

    aiortc registers only the media SSRC; a retransmission (RTX SSRC unknown) is
    then routed by payload type alone, which works only while a single receiver
    on the bundle uses that RTX payload type.  A subscriber receiving several
    seats' video would silently drop every retransmission.
    """
    original_receive = receiver.receive

    async def receive(parameters: RTCRtpReceiveParameters) -> None:
        await original_receive(parameters)
        router = receiver.transport._rtp_router
        for encoding in parameters.encodings:
            if encoding.rtx is not None:
                router.ssrc_table[encoding.rtx.ssrc] = receiver

    receiver.receive = receive  # type: ignore[method-assign]


def pass_through_receiver(
    receiver: RTCRtpReceiver,
    *,
    nack: Nack,
    assembler: Assembler,
    on_frame: Callable[[Any, int], None],
    on_end: Callable[[], None],
    on_packet: PacketHook | None = None,
    layers: Layers | None = None,
) -> ReceiverControl:
    """Make ``receiver`` hand over what it receives, without a decoder, with
    ``nack`` and ``assembler`` in place of aiortc's NACK generator and jitter buffer.

    ``on_frame(frame, clock_rate)``: each complete encoded frame, in order.
    ``on_packet(packet, ext, arrival)``: each RTP packet as soon as it arrived
    (after SRTP, RTX unwrapping and depayloading; retransmissions included, so
    a packet may come twice), with its sequence number extended past 16 bits,
    awaited in the receive task itself.
    ``layers``: the receiver may get simulcast; each layer (told apart by RID,
    :class:`~media.aiortc_internals.simulcast.LayerDemux`) gets its own NACK
    scheduler, assembler and hooks, packets without a RID go to the above.
    """
    _install_recovery(receiver, nack, assembler)
    receiver._RTCRtpReceiver__decoder_queue = PassThroughQueue(  # type: ignore[attr-defined]
        receiver, assembler, on_frame, on_end
    )
    handler = ForwardingReceive(receiver, nack, assembler, on_packet)
    control = ReceiverControl(receiver, nack)
    if layers is None:
        receiver._handle_rtp_packet = handler  # type: ignore[method-assign]
        return control

    def layer_handler(index: int) -> ForwardingReceive:
        layer = layers.layer(index)
        control.layer_nacks.append(layer.nack)
        mapper = TimestampMapper()
        frames: queue.Queue[Any] = _NoFrames()
        if layer.on_frame is not None:
            frames = PassThroughQueue(
                receiver, layer.assembler, layer.on_frame, on_end=lambda: None, mapper=mapper
            )
        return ForwardingReceive(
            receiver, layer.nack, layer.assembler, layer.on_packet, frames=frames, mapper=mapper
        )

    receiver._handle_rtp_packet = LayerDemux(  # type: ignore[method-assign]
        receiver, handler, layers.rids, layer_handler, layers.on_layer
    )
    return control


@dataclass
class Layer:
    """One simulcast layer's receiving parts (see :func:`pass_through_receiver`)."""

    nack: Nack
    assembler: Assembler
    on_packet: PacketHook
    on_frame: Callable[[Any, int], None] | None  # None: its frames are not wanted


@dataclass
class Layers:
    """How a receiver takes simulcast: the RIDs offered (lowest layer first), each
    layer's parts made when its first packet arrives, and each layer's SSRC as learnt."""

    rids: Sequence[str]
    layer: Callable[[int], Layer]
    on_layer: Callable[[int, int], None] | None = None


class _NoFrames(queue.Queue[Any]):
    """A layer whose complete frames nobody wants (only one layer is recorded)."""

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        pass
