"""A synthetic publisher that sends simulcast as Chromium does: test-side only.

aiortc sends one stream per m-section.  Chromium, answering the SFU's publish
video m-section (``a=rid:l/m/h recv``, ``a=simulcast:recv l;m;h``,
media/simulcast_sdp.py), answers ``a=rid:<rid> send`` and ``a=simulcast:send``
and sends each layer on an SSRC of its own, every packet carrying the layer's RID
(``rtp-stream-id``) and each retransmission the RID it repairs
(``repaired-rtp-stream-id``).  This does the same with aiortc's parts:

* :func:`answer_simulcast` adds the answer's lines;
* the transceiver's own sender carries the top layer; one more
  :class:`~aiortc.RTCRtpSender` per lower layer is started on the same DTLS
  transport with the same parameters when the peer connection starts the first
  (so each has its SSRC, its RTX SSRC, its history, and gets its own RTCP:
  receiver reports, NACKs and PLIs, by SSRC);
* :class:`RidTagging` writes the RID on every packet, and :func:`tag_layer` makes
  the sender's retransmissions carry the repaired RID.

Each layer encodes the same synthetic picture scaled down, its brightness grained
with noise so that the encoder spends its layer's bitrate as a camera's picture
makes it (:data:`LAYERS`), with aiortc's VP8 encoder; which layer a received frame
came from is found by the hash of its bytes (:attr:`SimulcastVideo.layer_of`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import fractions
import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import av
from aiortc import RTCRtpSender
from aiortc.rtcrtpparameters import RTCRtpSendParameters
from aiortc.rtp import RTP_HISTORY_SIZE, HeaderExtensions, HeaderExtensionsMap, wrap_rtx
from aiortc.utils import random16, uint16_add

from media.packetizer import packer_for
from media.simulcast_sdp import RIDS, offer_simulcast
from sessions.ids import SeatId
from sessions.media_kinds import MediaKind
from tests.forward_sender import forward_sender
from tests.media.client_packing import pack_encoded
from tests.media.synthetic import COLOUR, SPEED, ColourSource, EncodedTrack, SentLog

if TYPE_CHECKING:
    from tests.media.media_harness import ClientParticipant  # it imports this module

#: each layer's scale-down of the synthetic picture (192×144) and its encoder's target
#: bitrate, lowest first (RIDS' order): about what Chromium sends for 160×90, 320×180
#: and 640×360 at 15 fps
LAYERS: tuple[tuple[int, int], ...] = ((4, 30_000), (2, 150_000), (1, 400_000))


def answer_simulcast(sdp: str, mid: str) -> str:
    """An aiortc answer with Chromium's simulcast lines on the m-section of ``mid``:
    every offered RID answered ``send``."""
    lines = offer_simulcast(sdp, mid).split("\r\n")
    sending = [
        line.replace(" recv", " send") if line.startswith("a=rid:") else line for line in lines
    ]
    return "\r\n".join(line.replace("a=simulcast:recv ", "a=simulcast:send ") for line in sending)


class RidTagging(HeaderExtensionsMap):
    """A sender's header extensions map that writes its layer's RID on every packet
    but a retransmission (which carries the repaired RID instead)."""

    def __init__(self, rid: str) -> None:
        super().__init__()
        self.rid = rid

    def set(self, values: HeaderExtensions) -> tuple[int, bytes]:
        if values.repaired_rtp_stream_id is None and values.rtp_stream_id is None:
            values = dataclasses.replace(values, rtp_stream_id=self.rid)
        return super().set(values)


def tag_layer(sender: RTCRtpSender, rid: str) -> None:
    """Make ``sender`` send as simulcast layer ``rid`` (before it is started)."""
    extensions = RidTagging(rid)
    sender._RTCRtpSender__rtp_header_extensions_map = extensions  # type: ignore[attr-defined]
    history: dict[int, Any] = sender._RTCRtpSender__rtp_history  # type: ignore[attr-defined]
    rtx_sequence = random16()

    async def retransmit(sequence_number: int) -> None:
        # RTCRtpSender._retransmit, but the RTX packet says which layer it repairs
        nonlocal rtx_sequence
        packet = history.get(sequence_number % RTP_HISTORY_SIZE)
        rtx_type = sender._RTCRtpSender__rtx_payload_type  # type: ignore[attr-defined]
        if packet is None or packet.sequence_number != sequence_number or rtx_type is None:
            return
        rtx = wrap_rtx(packet, rtx_type, rtx_sequence, sender._rtx_ssrc)
        rtx.extensions = dataclasses.replace(
            packet.extensions, rtp_stream_id=None, repaired_rtp_stream_id=rid
        )
        rtx_sequence = uint16_add(rtx_sequence, 1)
        await sender.transport._send_rtp(rtx.serialize(extensions))

    sender._retransmit = retransmit  # type: ignore[method-assign]


class ScaledSource:
    """The seat's synthetic picture scaled down ``scale`` times, its brightness grained
    with noise of amplitude 15 (a flat picture encodes to a few kbit/s whatever the
    target; full-range noise to more than any target)."""

    def __init__(self, source: ColourSource, scale: int) -> None:
        self._source = source
        self._scale = scale
        self._grain_mask = 0
        #: cleared: the layer stops, as a browser stops a layer its uplink cannot carry
        self.sending = asyncio.Event()
        self.sending.set()

    async def next(self) -> av.VideoFrame:
        await self.sending.wait()
        frame = await self._source.next()
        scaled = frame.reformat(
            width=frame.width // self._scale, height=frame.height // self._scale
        )
        luma = scaled.planes[0]
        size = luma.buffer_size
        if not self._grain_mask:
            self._grain_mask = int.from_bytes(b"\x0f" * size)
        grain = int.from_bytes(os.urandom(size)) & self._grain_mask
        luma.update((int.from_bytes(bytes(luma)) ^ grain).to_bytes(size))
        scaled.pts, scaled.time_base = frame.pts, fractions.Fraction(1, 90000)
        return scaled


class SimulcastVideo:
    """One publisher's video as three simulcast layers on one m-section."""

    def __init__(self, seat: SeatId, sent: SentLog, fps: int) -> None:
        #: hash of an encoded frame's bytes → its layer index (0: lowest)
        self.layer_of: dict[int, int] = {}
        #: each layer's picture, lowest first (``sending`` stops and resumes a layer)
        self.sources = [
            ScaledSource(
                ColourSource(COLOUR.get(seat, (128, 128, 128)), SPEED.get(seat, 2), fps), scale
            )
            for scale, _ in LAYERS
        ]
        self.tracks = [
            EncodedTrack(MediaKind.VIDEO, source, functools.partial(self._encoded, seat, sent, i))
            for i, source in enumerate(self.sources)
        ]
        for track, (_, bps) in zip(self.tracks, LAYERS, strict=True):
            # under aiortc's floor of 250 kbit/s (Vp8Encoder.target_bitrate), as a browser's
            track._encoder._Vp8Encoder__target_bitrate = bps  # type: ignore[union-attr]
        self.lower: list[RTCRtpSender] = []

    def _encoded(self, seat: SeatId, sent: SentLog, index: int, data: bytes) -> None:
        self.layer_of[hash(data)] = index
        sent.add(seat, MediaKind.VIDEO, data)

    def publish(self, sender: RTCRtpSender, on_remb: Callable[[int], None]) -> None:
        """Send the top layer on ``sender`` (the transceiver's) and start the lower
        layers beside it when the peer connection starts it."""
        top = len(LAYERS) - 1
        self._pack(sender, top, on_remb)
        start = sender.send

        async def send(parameters: RTCRtpSendParameters) -> None:
            await start(parameters)
            if self.lower:
                return  # renegotiated: already sending
            for index in range(top):
                lower = RTCRtpSender(self.tracks[index], sender.transport)
                self._pack(lower, index, on_remb)
                self.lower.append(lower)
                await lower.send(parameters)

        sender.send = send  # type: ignore[method-assign]

    def _pack(self, sender: RTCRtpSender, index: int, on_remb: Callable[[int], None]) -> None:
        track = self.tracks[index]
        if sender.track is not track:
            sender.replaceTrack(track)
        tag_layer(sender, RIDS[index])
        packer = packer_for(track._codec)
        forward_sender(
            sender,
            pack=functools.partial(pack_encoded, packer),
            on_keyframe_request=track.request_keyframe,
            on_remb=on_remb,
        )

    async def close(self) -> None:
        for sender in self.lower:
            await sender.stop()


def layers_seen(subscriber: ClientParticipant, publisher: ClientParticipant) -> list[int | None]:
    """The layer of each video frame ``subscriber`` received from ``publisher``."""
    assert publisher.simulcast is not None
    mid = subscriber.mid_of(publisher.seat, MediaKind.VIDEO)
    assert mid is not None
    return [publisher.simulcast.layer_of.get(a.key) for a in subscriber.arrivals[mid]]
