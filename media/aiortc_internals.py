"""Everything that reaches into aiortc's (and aioice's) private parts, in one place.

Pinned to aiortc 1.16.0 (aioice 0.13): ``tests/media/test_aiortc_internals.py``
fails loudly if a signature, attribute or source body used here changes.
Nothing is patched at import time; the SFU calls :func:`install` (process-wide,
idempotent) and the per-object functions below.

Process-wide (:func:`install`):

* ``rtcrtpreceiver.decoder_worker`` becomes a dispatcher: receivers whose
  decoder queue is a :class:`PassThroughQueue` get no decoding at all (the
  thread returns at once; frames are handed over on the event loop by the
  queue's ``put``, which saves two thread hops per frame); every other receiver
  keeps aiortc's decoder.
* ``rtcrtpsender.RTP_HISTORY_SIZE`` (128 packets, ~0.6 s of 2 Mbit/s video) is
  raised to 1024 so a NACK can be answered for at least one second.
* Opus is offered with ``nack`` feedback and an RTX payload type, so lost audio
  is retransmitted like video (DESIGN decision 5: audio protected first).
* aioice's ``Connection.connect`` no longer leaves a consent-check task running
  forever when the connection was closed while ICE completed.

Per object:

* :func:`forward_receiver` – a receiver that hands over each RTP packet on
  arrival and each encoded frame once complete (no decoder), with
  :class:`~media.nack.NackScheduler` and :class:`~media.assembler.FrameAssembler`
  replacing aiortc's NACK generator and jitter buffer; RTX is routed by SSRC.
* :class:`RtpWriter` – sends RTP packets the SFU rewrote through a sender, which
  keeps answering NACKs from its history and sending reports.
* :func:`relay_feedback` – a sender's PLI/FIR and REMB go to the SFU, not to an
  encoder it does not have.
* :func:`forward_sender` – a sender that packs frames encoded elsewhere (test
  clients, benchmark) without constructing an encoder (stock aiortc calls
  ``get_encoder`` even for packets, and ``OpusEncoder()`` opens libopus).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aioice.ice
import aiortc
from aiortc import (
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    clock,
    rtcrtpreceiver,
    rtcrtpsender,
)
from aiortc.codecs import CODECS
from aiortc.rtcrtpparameters import (
    RTCRtcpFeedback,
    RTCRtpCodecParameters,
    RTCRtpReceiveParameters,
    RTCRtpSendParameters,
)
from aiortc.rtcrtpsender import RTCEncodedFrame
from aiortc.rtp import (
    RTCP_PSFB_APP,
    AnyRtcpPacket,
    RtcpPsfbPacket,
    RtpPacket,
    pack_remb_fci,
    unpack_remb_fci,
)

from media.assembler import AssembledFrame, FrameAssembler
from media.nack import NackScheduler
from media.packetizer import vp8_is_keyframe, vp8_starts_frame

logger = logging.getLogger(__name__)

PINNED_AIORTC_VERSION = "1.16.0"
RTP_HISTORY_SIZE = 1024

_original_decoder_worker = rtcrtpreceiver.decoder_worker
_original_get_host_addresses = aioice.ice.get_host_addresses
_original_ice_connect = aioice.ice.Connection.connect


class AiortcVersionError(RuntimeError):
    pass


def check_version() -> None:
    if aiortc.__version__ != PINNED_AIORTC_VERSION:
        raise AiortcVersionError(
            f"media/aiortc_internals.py is written against aiortc {PINNED_AIORTC_VERSION}"
            f" but aiortc {aiortc.__version__} is installed: re-check every patch"
            " (tests/media/test_aiortc_internals.py) before changing the pin"
        )


def install(*, rtp_history_size: int = RTP_HISTORY_SIZE, audio_nack: bool = True) -> None:
    """Apply the process-wide patches (idempotent)."""
    check_version()
    if rtp_history_size & (rtp_history_size - 1) or not 128 <= rtp_history_size <= 32768:
        raise ValueError("rtp_history_size must be a power of two in [128, 32768]")
    rtcrtpreceiver.decoder_worker = _dispatching_decoder_worker
    # only ever grown: a sender files packets under seq % size, so shrinking
    # while senders run would lose history
    rtcrtpsender.RTP_HISTORY_SIZE = max(rtcrtpsender.RTP_HISTORY_SIZE, rtp_history_size)
    if audio_nack:
        _enable_audio_nack()
    aioice.ice.Connection.connect = _connect_then_respect_close  # type: ignore[method-assign]


async def _connect_then_respect_close(self: aioice.ice.Connection) -> None:
    """aioice's connect() starts consent freshness checks when the check list
    completes, even if close() ran meanwhile (a peer leaving while ICE finishes);
    that task then polls an emptied pair list forever.  Stop it."""
    await _original_ice_connect(self)
    task = self._query_consent_task
    if self._closing and task is not None and not task.done():
        task.cancel()


def _enable_audio_nack() -> None:
    """Opus with NACK, retransmitted on the original stream (no audio/rtx).

    An audio m-section with RTX carries two SSRCs (an ``ssrc-group:FID``), and
    Chromium's audio receiver accepts only one: it refuses the whole offer
    ("Failed to add remote stream ssrc"). Without RTX, a NACKed Opus packet is
    resent as it was, on the same SSRC, which every browser accepts.
    """
    audio = CODECS["audio"]
    opus = next(c for c in audio if c.mimeType.lower() == "audio/opus")
    if RTCRtcpFeedback(type="nack") not in opus.rtcpFeedback:
        opus.rtcpFeedback.append(RTCRtcpFeedback(type="nack"))


def _dispatching_decoder_worker(
    loop: asyncio.AbstractEventLoop,
    input_q: queue.Queue[Any],
    output_q: asyncio.Queue[Any],
    decode_error: Any,
) -> None:
    if isinstance(input_q, PassThroughQueue):
        return  # nothing to decode: PassThroughQueue.put hands frames over
    _original_decoder_worker(loop, input_q, output_q, decode_error)


# -- receivers ---------------------------------------------------------------


class PassThroughQueue(queue.Queue[Any]):
    """Stands in for a receiver's decoder queue: hands each encoded frame to
    ``on_frame`` on the event loop, and the frames the assembler released
    beyond the first (a retransmission can complete several)."""

    def __init__(
        self,
        receiver: RTCRtpReceiver,
        assembler: FrameAssembler,
        on_frame: Callable[[AssembledFrame, int], None],
        on_end: Callable[[], None],
    ) -> None:
        super().__init__()
        self._mapper = receiver._RTCRtpReceiver__timestamp_mapper  # type: ignore[attr-defined]
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

    def __init__(self, receiver: RTCRtpReceiver, nack: NackScheduler) -> None:
        self._receiver = receiver
        self._nack = nack
        self._send_rtcp: Callable[[AnyRtcpPacket], Awaitable[None]] = receiver._send_rtcp
        self._tasks: set[asyncio.Task[None]] = set()
        self.remb_filter: Callable[[int], int] | None = None
        # REMB the receiver computes itself passes through remb_filter
        receiver._send_rtcp = self._filtered_send_rtcp  # type: ignore[method-assign]

    @property
    def srtt(self) -> float:
        return self._nack.srtt

    @property
    def media_ssrc(self) -> int | None:
        return self._nack.media_ssrc

    def request_keyframe(self) -> bool:
        """Send a PLI to the publisher (twice, 20 ms apart: a PLI lost on a 3 %
        lossy link would cost a whole throttle period); False before any media."""
        ssrc = self._nack.media_ssrc
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
        ssrc = self._nack.media_ssrc
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
                packet = RtcpPsfbPacket(
                    fmt=RTCP_PSFB_APP,
                    ssrc=packet.ssrc,
                    media_ssrc=0,
                    fci=pack_remb_fci(self.remb_filter(bitrate), ssrcs),
                )
        await self._send_rtcp(packet)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _install_recovery(
    receiver: RTCRtpReceiver, kind: str, clock: Callable[[], float]
) -> tuple[NackScheduler, FrameAssembler]:
    if receiver._RTCRtpReceiver__decoder_thread is not None:  # type: ignore[attr-defined]
        raise RuntimeError("patch the receiver before it starts receiving")
    nack = NackScheduler(clock)
    if kind == "video":
        assembler = FrameAssembler(
            ordered=True,
            clock=clock,
            is_pending=nack.is_pending,
            is_frame_start=vp8_starts_frame,
            is_keyframe=vp8_is_keyframe,
            pli_interval=lambda: max(0.2, min(1.0, 1.5 * nack.srtt)),
        )
    else:
        assembler = FrameAssembler(ordered=False, clock=clock)
    receiver._RTCRtpReceiver__nack_generator = nack  # type: ignore[attr-defined]
    receiver._RTCRtpReceiver__jitter_buffer = assembler  # type: ignore[attr-defined]
    _route_rtx_by_ssrc(receiver)
    return nack, assembler


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


PacketHook = Callable[[RtpPacket, float], Awaitable[None]]


def forward_receiver(
    receiver: RTCRtpReceiver,
    kind: str,
    *,
    on_frame: Callable[[AssembledFrame, int], None],
    on_end: Callable[[], None],
    on_packet: PacketHook | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ReceiverControl:
    """Make ``receiver`` hand over what it receives, without a decoder.

    ``on_frame(frame, clock_rate)``: each complete encoded frame, in order.
    ``on_packet(packet, arrival)``: each RTP packet as soon as it arrived (after
    SRTP, RTX unwrapping and depayloading; retransmissions included, so a
    packet may come twice), awaited in the receive task itself.
    """
    nack, assembler = _install_recovery(receiver, kind, clock)
    receiver._RTCRtpReceiver__decoder_queue = PassThroughQueue(  # type: ignore[attr-defined]
        receiver, assembler, on_frame, on_end
    )
    if on_packet is not None:
        arrived: list[tuple[RtpPacket, float]] = []
        assembler.on_packet = lambda packet, now: arrived.append((packet, now))
        original = receiver._handle_rtp_packet

        async def handle_rtp_packet(packet: RtpPacket, arrival_time_ms: int) -> None:
            await original(packet, arrival_time_ms)
            while arrived:
                await on_packet(*arrived.pop(0))

        receiver._handle_rtp_packet = handle_rtp_packet  # type: ignore[method-assign]
    return ReceiverControl(receiver, nack)


# -- senders -----------------------------------------------------------------

Pack = Callable[[Any], tuple[list[bytes], int, "int | None"]]


def relay_feedback(
    sender: RTCRtpSender,
    *,
    on_keyframe_request: Callable[[], None],
    on_remb: Callable[[int], None],
) -> None:
    """Hand a sender's PLI/FIR and REMB to the caller instead of its encoder.

    aiortc's sender turns PLI/FIR into a flag for its encoder and REMB into the
    encoder's target bitrate; a sender without an encoder must relay both.
    NACKs are still answered by the sender, from its history.
    """
    original_handle_rtcp = sender._handle_rtcp_packet

    async def handle_rtcp_packet(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            try:
                bitrate, ssrcs = unpack_remb_fci(packet.fci)
            except ValueError:
                pass
            else:
                if sender._ssrc in ssrcs:
                    on_remb(bitrate)
        # NACK -> _retransmit from history, PLI/FIR -> _send_keyframe, RR stats
        await original_handle_rtcp(packet)

    sender._send_keyframe = on_keyframe_request  # type: ignore[method-assign]
    sender._handle_rtcp_packet = handle_rtcp_packet  # type: ignore[method-assign]


def forward_sender(
    sender: RTCRtpSender,
    *,
    pack: Pack,
    on_keyframe_request: Callable[[], None],
    on_remb: Callable[[int], None],
) -> None:
    """Make ``sender`` pack the encoded frames its track yields, without an encoder.

    ``pack(item) -> (payloads, rtp_timestamp, audio_level)``.  Used by the
    synthetic clients and the benchmark, which publish frames they encoded.
    """

    async def next_encoded_frame(codec: RTCRtpCodecParameters) -> RTCEncodedFrame | None:
        item = await sender.track.recv()
        if not sender._enabled:
            return None
        payloads, timestamp, audio_level = pack(item)
        if not payloads:
            return None
        return RTCEncodedFrame(payloads, timestamp, audio_level)  # type: ignore[arg-type]

    sender._next_encoded_frame = next_encoded_frame  # type: ignore[method-assign]
    relay_feedback(sender, on_keyframe_request=on_keyframe_request, on_remb=on_remb)


class RtpWriter:
    """Sends RTP packets we built through an ``RTCRtpSender``.

    The sender keeps its SSRC, RTX, NACK history (the packets are filed where
    ``_retransmit`` looks), sender reports (the counters its RTCP loop reads)
    and header extensions; its own RTP loop is left idle on a silent track.
    """

    def __init__(self, sender: RTCRtpSender) -> None:
        self._sender = sender
        self.payload_type: int | None = None
        self._mid: str | None = None
        original_send = sender.send

        async def send(parameters: RTCRtpSendParameters) -> None:
            await original_send(parameters)
            self._mid = parameters.muxId
            self.payload_type = parameters.codecs[0].payloadType

        sender.send = send  # type: ignore[method-assign]

    @property
    def ready(self) -> bool:
        """The transport is up and the direction lets this sender send."""
        return self.payload_type is not None and self._sender._enabled

    async def write(
        self,
        *,
        sequence_number: int,
        timestamp: int,
        marker: int,
        payload: bytes,
        audio_level: tuple[bool, int] | None = None,
    ) -> None:
        assert self.payload_type is not None
        sender = self._sender
        packet = RtpPacket(
            payload_type=self.payload_type,
            marker=marker,
            sequence_number=sequence_number,
            timestamp=timestamp,
            ssrc=sender._ssrc,
            payload=payload,
        )
        ntp = clock.current_ntp_time()
        packet.extensions.abs_send_time = (ntp >> 14) & 0x00FFFFFF
        packet.extensions.mid = self._mid
        packet.extensions.audio_level = audio_level
        history = sender._RTCRtpSender__rtp_history  # type: ignore[attr-defined]
        history[sequence_number % rtcrtpsender.RTP_HISTORY_SIZE] = packet
        data = packet.serialize(sender._RTCRtpSender__rtp_header_extensions_map)  # type: ignore[attr-defined]
        # what the sender's RTCP loop puts in its sender reports
        sender._RTCRtpSender__ntp_timestamp = ntp  # type: ignore[attr-defined]
        sender._RTCRtpSender__rtp_timestamp = timestamp  # type: ignore[attr-defined]
        sender._RTCRtpSender__octet_count += len(payload)  # type: ignore[attr-defined]
        sender._RTCRtpSender__packet_count += 1  # type: ignore[attr-defined]
        try:
            await sender.transport._send_rtp(data)
        except ConnectionError:
            pass


def set_stream_id(sender: RTCRtpSender, stream_id: str) -> None:
    """The msid stream id the offer advertises for ``sender``'s track."""
    sender._stream_id = stream_id


# -- ICE ---------------------------------------------------------------------


def limit_ice_host_addresses(addresses: Sequence[str] | None) -> None:
    """Gather host candidates only on ``addresses`` (None: aioice's default).

    aioice skips 127.0.0.1; tests and benchmarks need exactly that, and a
    production server wants its public interface only.
    """
    if addresses is None:
        aioice.ice.get_host_addresses = _original_get_host_addresses
        return
    fixed = list(addresses)

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in fixed if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = get_host_addresses


def set_consent_timing(interval: float, failures: int) -> None:
    """ICE consent freshness: a silent peer is declared failed after ~interval*failures."""
    aioice.ice.CONSENT_INTERVAL = interval  # type: ignore[assignment]
    aioice.ice.CONSENT_FAILURES = failures


def ice_datagram_protocols(pc: RTCPeerConnection) -> list[asyncio.DatagramProtocol]:
    """The UDP endpoints (aioice ``StunProtocol``) under a peer connection."""
    protocols: list[asyncio.DatagramProtocol] = []
    for transceiver in pc.getTransceivers():
        connection = transceiver.receiver.transport.transport._connection
        for protocol in connection._protocols:
            if protocol not in protocols:
                protocols.append(protocol)
    return protocols
