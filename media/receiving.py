"""A published track's receiver: aiortc's, with our loss recovery and no decoder.

Video gets a :class:`~media.nack.NackScheduler` (NACKs repeated until repaired)
and a VP8 :func:`~media.assembler.vp8_assembler` that waits for holes the
scheduler still expects repaired; audio gets the NACK scheduler and an
unordered assembler (each Opus packet is a frame) behind a RED unwrapper
(:mod:`media.audio_redundancy`: RED in, Opus frames out, lost packets rebuilt
from the redundancy).  Only the wiring into
aiortc's receiver lives in :mod:`media.aiortc_internals`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiortc import RTCRtpReceiver
from aiortc.rtp import RtpPacket

from media.aiortc_internals import (
    Layer,
    Layers,
    PacketHook,
    ReceiverControl,
    pass_through_receiver,
)
from media.assembler import AssembledFrame, FrameAssembler, vp8_assembler
from media.audio_redundancy import RedUnwrapper
from media.latency import ForwardingStats
from media.nack import NackScheduler
from media.simulcast_sdp import RIDS

LayerPacketHook = Callable[[RtpPacket, int, float, int], Awaitable[None]]
LayerFrameHook = Callable[[int, AssembledFrame, int], None]


def forward_receiver(
    receiver: RTCRtpReceiver,
    kind: str,
    *,
    on_frame: Callable[[AssembledFrame, int], None],
    on_end: Callable[[], None],
    on_packet: PacketHook | None = None,
    clock: Callable[[], float] = time.monotonic,
    stats: ForwardingStats | None = None,
    on_layer: Callable[[int, int], None] | None = None,
    on_layer_packet: LayerPacketHook | None = None,
    on_layer_frame: LayerFrameHook | None = None,
) -> ReceiverControl:
    """Make ``receiver`` hand over what it receives, without a decoder.

    ``on_frame(frame, clock_rate)``: each complete encoded frame, in order.
    ``on_packet(packet, ext, arrival)``: each RTP packet once, as soon as it
    arrived (after SRTP, RTX unwrapping and depayloading; a retransmission that
    raced its original is dropped), with its sequence number extended past 16
    bits, awaited in the receive task itself.
    ``stats``: the SFU's counters, where the NACK scheduler counts losses and NACKs,
    the assembler its keyframe requests.
    ``on_layer(index, ssrc)``, ``on_layer_packet(packet, ext, arrival, index)``,
    ``on_layer_frame(index, frame, clock_rate)``: a video receiver takes
    simulcast; each layer gets its own NACK scheduler and assembler.
    """
    nack = NackScheduler(clock, stats=stats)
    assembler: FrameAssembler | RedUnwrapper
    if kind == "video":
        assembler = vp8_assembler(nack, clock, stats)
    else:
        assembler = RedUnwrapper(FrameAssembler(ordered=False, clock=clock), nack, stats)
    layers = None
    if kind == "video" and on_layer is not None and on_layer_packet and on_layer_frame:
        layer_packet, layer_frame = on_layer_packet, on_layer_frame

        def layer(index: int) -> Layer:
            layer_nack = NackScheduler(clock, stats=stats)

            async def hook(packet: RtpPacket, ext: int, arrival: float) -> None:
                await layer_packet(packet, ext, arrival, index)

            def frame(assembled: AssembledFrame, clock_rate: int) -> None:
                layer_frame(index, assembled, clock_rate)

            return Layer(layer_nack, vp8_assembler(layer_nack, clock, stats), hook, frame)

        layers = Layers(RIDS, layer, on_layer)
    return pass_through_receiver(
        receiver,
        nack=nack,
        assembler=assembler,
        on_frame=on_frame,
        on_end=on_end,
        on_packet=on_packet,
        layers=layers,
    )
