"""The receive step of a receiver that forwards: aiortc's ``_handle_rtp_packet``
without what forwarding does not use (:class:`ForwardingReceive`), and what it
knows of the caller's NACK scheduler and frame assembler (:class:`Nack`,
:class:`Assembler`: protocols, so this package imports nothing of the project).

Put in place by :func:`~media.aiortc_internals.receivers.pass_through_receiver`,
and per simulcast layer by :mod:`.simulcast`.
"""

from __future__ import annotations

import queue
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiortc import RTCRtpReceiver
from aiortc.codecs import is_rtx
from aiortc.rtcrtpreceiver import StreamStatistics
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, RtpPacket, pack_remb_fci, unwrap_rtx

from media.aiortc_internals.native_parse import DEPAYLOAD
from media.aiortc_internals.native_uplink import UplinkEstimate


class Frame(Protocol):
    """An encoded frame as aiortc's jitter buffer hands it on (``JitterFrame``)."""

    timestamp: int


class Nack(Protocol):
    """Stands in for aiortc's ``NackGenerator``: which lost packets to NACK, and when."""

    media_ssrc: int | None
    srtt: float
    lost: int

    @property
    def missing(self) -> list[int]: ...

    def add(self, packet: RtpPacket) -> bool: ...


class Assembler(Protocol):
    """Stands in for aiortc's ``JitterBuffer``: complete frames out of packets."""

    on_packet: Callable[[RtpPacket, int, float], None] | None

    def add(self, packet: RtpPacket) -> tuple[bool, Any]: ...

    def drain(self) -> list[Any]: ...


PacketHook = Callable[[RtpPacket, int, float], Awaitable[None]]


class ForwardingReceive:
    """``RTCRtpReceiver._handle_rtp_packet`` for a receiver that forwards.

    The same steps as aiortc's, in the same order, for a receiver whose NACK
    generator, jitter buffer and estimator are ours and which has no decoder:
    REMB estimate, codec check, RTCP statistics, RTX unwrapping, NACK,
    depayloading, frame assembly, a PLI if the assembler asks, the frame to
    the pass-through queue; then ``on_packet`` for each packet the assembler
    took.  Left out, per packet: two debug-log calls, the decoder-error event
    (there is no decoder) and the ``datetime`` filed per packet for
    ``getSynchronizationSources`` (which the SFU does not call).  Stats,
    RTX map, codecs and REMB go through aiortc's own objects, so ``getStats``,
    the receiver reports and ``receive()`` see what they saw before.
    """

    def __init__(
        self,
        receiver: RTCRtpReceiver,
        nack: Nack,
        assembler: Assembler,
        on_packet: PacketHook | None,
        *,
        frames: queue.Queue[Any] | None = None,
        mapper: Any = None,
    ) -> None:
        self._receiver = receiver
        self._nack = nack
        self._assembler = assembler
        self._on_packet = on_packet
        # aiortc fills these dicts in place (receive()), never replaces them
        self._codecs: dict[int, Any] = receiver._RTCRtpReceiver__codecs  # type: ignore[attr-defined]
        self._rtx_ssrc: dict[int, int] = receiver._RTCRtpReceiver__rtx_ssrc  # type: ignore[attr-defined]
        self._streams: dict[int, Any] = receiver._RTCRtpReceiver__remote_streams  # type: ignore[attr-defined]
        self._estimator: UplinkEstimate | None = receiver._RTCRtpReceiver__remote_bitrate_estimator  # type: ignore[attr-defined]
        self._mapper = mapper or receiver._RTCRtpReceiver__timestamp_mapper  # type: ignore[attr-defined]
        # where complete frames go (a simulcast layer's own queue, or the receiver's)
        self._frames: queue.Queue[Any] = (
            frames if frames is not None else receiver._RTCRtpReceiver__decoder_queue  # type: ignore[attr-defined]
        )
        self._rtx_types: set[int] | None = None  # known once receive() filled the codecs
        # per payload type, what takes its descriptor off (None: nothing), found once
        # (aiortc's depayload() reads codec.name, a property, for every packet)
        self._depayloaders: dict[int, Callable[[bytes], bytes] | None] = {}
        self._arrived: list[tuple[RtpPacket, int, float]] = []
        if on_packet is not None:
            assembler.on_packet = self._took

    def _took(self, packet: RtpPacket, ext: int, now: float) -> None:
        self._arrived.append((packet, ext, now))

    async def __call__(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        receiver = self._receiver
        if not receiver._enabled:
            return
        estimator = self._estimator
        if estimator is not None and packet.extensions.abs_send_time is not None:
            remb = estimator.add(
                arrival_time_ms,
                packet.extensions.abs_send_time,
                len(packet.payload) + packet.padding_size,
                packet.ssrc,
            )
            rtcp_ssrc = receiver._RTCRtpReceiver__rtcp_ssrc  # type: ignore[attr-defined]
            if remb is not None and rtcp_ssrc is not None:
                await receiver._send_rtcp(
                    RtcpPsfbPacket(
                        fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0, fci=pack_remb_fci(*remb)
                    )
                )
        codec = self._codecs.get(packet.payload_type)
        if codec is None:
            return
        stream = self._streams.get(packet.ssrc)
        if stream is None:
            stream = self._streams[packet.ssrc] = StreamStatistics(codec.clockRate)
        stream.add(packet)
        rtx_types = self._rtx_types
        if rtx_types is None:
            rtx_types = self._rtx_types = {pt for pt, c in self._codecs.items() if is_rtx(c)}
        if packet.payload_type in rtx_types:
            original_ssrc = self._rtx_ssrc.get(packet.ssrc)
            apt = codec.parameters.get("apt")
            if (
                original_ssrc is None
                or len(packet.payload) < 2
                or not isinstance(apt, int)
                or apt not in self._codecs
            ):
                return
            packet = unwrap_rtx(packet, payload_type=apt, ssrc=original_ssrc)
            codec = self._codecs[apt]
        nack = self._nack
        if nack.add(packet):
            await receiver._send_rtcp_nack(packet.ssrc, sorted(nack.missing))
        payload = packet.payload
        depayloaders = self._depayloaders
        if packet.payload_type not in depayloaders:
            depayloaders[packet.payload_type] = DEPAYLOAD.get(codec.name)
        depayload = depayloaders[packet.payload_type]
        try:
            packet._data = depayload(payload) if depayload and payload else payload  # type: ignore[attr-defined]
        except ValueError:
            return
        pli_flag, frame = self._assembler.add(packet)
        if pli_flag:
            await receiver._send_rtcp_pli(packet.ssrc)
        if frame is not None and receiver._RTCRtpReceiver__decoder_thread:  # type: ignore[attr-defined]
            frame.timestamp = self._mapper.map(frame.timestamp)
            self._frames.put((codec, frame))
        arrived = self._arrived
        on_packet = self._on_packet
        while arrived and on_packet is not None:
            await on_packet(*arrived.pop(0))
