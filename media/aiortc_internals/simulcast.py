"""Simulcast on one publisher's video m-section: its layers told apart by RID.

aiortc 1.16.0 parses the RID header extensions (``rtp_stream_id``,
``repaired_rtp_stream_id`` on :class:`aiortc.rtp.HeaderExtensions`) once they
are negotiated, but neither offers them nor separates the streams: every SSRC
of the m-section reaches its one receiver (the transport's router maps an
unknown SSRC to the only receiver of its payload type), which would feed all
layers to one NACK generator and one jitter buffer as if they were one stream.

* :func:`enable_rid_extensions` (process-wide, from
  :func:`~media.aiortc_internals.install`) adds the two RID extensions to the
  video header extensions aiortc offers and accepts;
* :class:`LayerDemux` stands in for the receiver's ``_handle_rtp_packet``: a
  packet goes to the handler of its layer, found by its RID (a browser sends
  the RID on each SSRC's first packets, until a receiver report acknowledges
  the SSRC) and from then on by its SSRC; a retransmission (RTX, with the
  repaired RID) is mapped onto its layer's media SSRC so the layer's handler
  unwraps it.  Packets without a RID (a publisher that sends no simulcast)
  go to the plain handler, as before.

The layers' handlers are :class:`~media.aiortc_internals.forwarding_receive.ForwardingReceive`
objects, each with its own NACK scheduler and frame assembler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from aiortc import RTCRtpReceiver
from aiortc.codecs import HEADER_EXTENSIONS, is_rtx
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters
from aiortc.rtp import RtpPacket

RID_URI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
REPAIRED_RID_URI = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
#: one-byte ids beside aiortc's own (mid 1, audio level 2, abs-send-time 3)
RID_EXTENSION_IDS = {RID_URI: 4, REPAIRED_RID_URI: 5}

Handler = Callable[[RtpPacket, int], Awaitable[None]]


def enable_rid_extensions() -> None:
    """Offer and accept the RID header extensions on video m-sections (idempotent)."""
    video = HEADER_EXTENSIONS["video"]
    for uri, ext_id in RID_EXTENSION_IDS.items():
        if not any(e.uri == uri for e in video):
            video.append(RTCRtpHeaderExtensionParameters(id=ext_id, uri=uri))


class LayerDemux:
    """``RTCRtpReceiver._handle_rtp_packet`` for a video receiver that may get simulcast.

    ``rids``: the RIDs offered, lowest layer first (a layer's index is its
    position). ``layer_handler(index)`` makes the handler of a layer the first
    time a packet of it arrives; ``on_layer(index, ssrc)`` is told each
    layer's media SSRC as it is learnt.
    """

    def __init__(
        self,
        receiver: RTCRtpReceiver,
        plain: Handler,
        rids: Sequence[str],
        layer_handler: Callable[[int], Handler],
        on_layer: Callable[[int, int], None] | None = None,
    ) -> None:
        self._receiver = receiver
        self._plain = plain
        self._index = {rid: i for i, rid in enumerate(rids)}
        self._layer_handler = layer_handler
        self._on_layer = on_layer
        self._handlers: dict[int, Handler] = {}
        self._by_ssrc: dict[int, Handler] = {}
        self._media_ssrc: dict[int, int] = {}
        # aiortc fills this dict in place, never replaces it: RTX SSRC -> media SSRC
        self._rtx_ssrc: dict[int, int] = receiver._RTCRtpReceiver__rtx_ssrc  # type: ignore[attr-defined]
        self._codecs: dict[int, object] = receiver._RTCRtpReceiver__codecs  # type: ignore[attr-defined]

    @property
    def layers(self) -> dict[int, int]:
        """Layer index -> media SSRC, for the layers seen so far."""
        return dict(self._media_ssrc)

    async def __call__(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        handler = self._by_ssrc.get(packet.ssrc)
        if handler is None:
            handler = self._classify(packet)
            if handler is None:
                return
        await handler(packet, arrival_time_ms)

    def _handler(self, layer: int) -> Handler:
        handler = self._handlers.get(layer)
        if handler is None:
            handler = self._handlers[layer] = self._layer_handler(layer)
        return handler

    def _classify(self, packet: RtpPacket) -> Handler | None:
        extensions = packet.extensions
        if extensions.rtp_stream_id is not None:
            layer = self._index.get(extensions.rtp_stream_id)
            if layer is None:
                return None  # a RID that was not offered
            self._media_ssrc[layer] = packet.ssrc
            handler = self._by_ssrc[packet.ssrc] = self._handler(layer)
            if self._on_layer is not None:
                self._on_layer(layer, packet.ssrc)
            return handler
        if extensions.repaired_rtp_stream_id is not None:
            layer = self._index.get(extensions.repaired_rtp_stream_id)
            media_ssrc = None if layer is None else self._media_ssrc.get(layer)
            if layer is None or media_ssrc is None:
                return None  # a repair of a layer not seen yet: nothing to repair
            self._rtx_ssrc[packet.ssrc] = media_ssrc
            handler = self._by_ssrc[packet.ssrc] = self._handler(layer)
            return handler
        codec = self._codecs.get(packet.payload_type)
        if codec is not None and not is_rtx(codec):  # type: ignore[arg-type]
            # a stream without RIDs (no simulcast): the plain handler, from now on
            self._by_ssrc[packet.ssrc] = self._plain
        return self._plain


__all__ = [
    "LayerDemux",
    "REPAIRED_RID_URI",
    "RID_EXTENSION_IDS",
    "RID_URI",
    "enable_rid_extensions",
]
