"""Senders without an encoder: they relay feedback to the SFU and send RTP
packets the SFU rewrote.

Each sender keeps what aiortc does well: its SSRC, RTX, NACK history and
answers, sender reports and header extensions.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable

from aiortc import RTCDtlsTransport, RTCRtpSender, rtcrtpsender
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtcrtpparameters import RTCRtpSendParameters
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_RTPFB_NACK,
    AnyRtcpPacket,
    HeaderExtensions,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSrPacket,
    unpack_remb_fci,
)

from media.aiortc_internals.native_send import MAX_PACKET, Write, native_write, rtp_send
from media.aiortc_internals.sender_reports import report_together
from media.aiortc_internals.sent_history import AUDIO_HISTORY, new_history


def relay_feedback(
    sender: RTCRtpSender,
    *,
    on_keyframe_request: Callable[[], None],
    on_remb: Callable[[int], None],
    on_nack: Callable[[int, int], None] | None = None,
    on_loss: Callable[[float], None] | None = None,
    on_rtt: Callable[[float], None] | None = None,
) -> None:
    """Hand a sender's PLI/FIR and REMB to the caller instead of its encoder.

    aiortc's sender turns PLI/FIR into a flag for its encoder and REMB into the
    encoder's target bitrate; a sender without an encoder must relay both.
    NACKs are still answered by the sender, from its history; ``on_nack(asked,
    held)`` is told how many packets a NACK asked for and how many of them the
    history still holds (those ``_retransmit`` sends again).  ``on_loss(fraction)``
    hears the fraction lost of each receiver report block about this sender, and
    ``on_rtt(seconds)`` the round trip of each block that answers the sender's last
    sender report (as aiortc's own statistics measure it, unsmoothed).
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
        elif isinstance(packet, (RtcpRrPacket, RtcpSrPacket)):
            for report in packet.reports:
                if report.ssrc != sender._ssrc:
                    continue
                if on_loss is not None:
                    on_loss(report.fraction_lost / 256)
                lsr = sender._RTCRtpSender__lsr  # type: ignore[attr-defined]
                if on_rtt is not None and report.dlsr and lsr == report.lsr:
                    sent_at = sender._RTCRtpSender__lsr_time  # type: ignore[attr-defined]
                    on_rtt(time.time() - sent_at - report.dlsr / 65536)
        elif on_nack is not None and isinstance(packet, RtcpRtpfbPacket):
            history = sender._RTCRtpSender__rtp_history  # type: ignore[attr-defined]
            if packet.fmt == RTCP_RTPFB_NACK and hasattr(history, "holds"):
                on_nack(len(packet.lost), sum(map(history.holds, packet.lost)))
        # NACK -> _retransmit from history, PLI/FIR -> _send_keyframe, RR stats
        await original_handle_rtcp(packet)

    sender._send_keyframe = on_keyframe_request  # type: ignore[method-assign]
    sender._handle_rtcp_packet = handle_rtcp_packet  # type: ignore[method-assign]


class RtpWriter:
    """Sends RTP packets we built through an ``RTCRtpSender``.

    The sender keeps its SSRC, RTX, NACK history (the packets are filed where
    ``_retransmit`` looks), sender reports (the counters its RTCP loop reads)
    and header extensions; its own RTP loop is left idle on a silent track.

    Per packet this is the SFU's hottest code, so it skips the generic layers
    forwarding does not need: the header is packed here from ids read once
    (:class:`RtpHeaderPacker`, not ``RtpPacket.serialize``), and the packet is
    SRTP-protected and handed to the nominated ICE pair's datagram transport
    directly (what ``RTCDtlsTransport._send_rtp`` and aioice's ``send`` do,
    minus two coroutines and their checks).  ``write`` is the C of
    ``_rtp_send.c`` where it was built (:mod:`.native_send`), these same steps
    in Python otherwise.
    """

    #: ``write(sequence_number, timestamp, marker, payload, audio_level)``
    write: Write

    def __init__(self, sender: RTCRtpSender) -> None:
        self._sender = sender
        self._native = rtp_send() == "native"
        self._history = new_history(
            history_size() if sender.kind == "video" else min(history_size(), AUDIO_HISTORY),
            native=self._native,
        )
        sender._RTCRtpSender__rtp_history = self._history  # type: ignore[attr-defined]
        report_together(sender, send_rtcp)
        self._header: RtpHeaderPacker | None = None
        self.payload_type: int | None = None
        self._mid: str | None = None
        self.write = self._write
        original_send = sender.send

        async def send(parameters: RTCRtpSendParameters) -> None:
            await original_send(parameters)
            self._mid = parameters.muxId
            payload_type = self.payload_type = parameters.codecs[0].payloadType
            assert payload_type is not None  # negotiated codecs carry one
            header = self._header = RtpHeaderPacker.from_sender(sender, payload_type, self._mid)
            self._history.describe(payload_type, sender._ssrc, self._mid)
            if self._native:
                self.write = native_write(
                    sender,
                    self._history,
                    payload_type,
                    mid_element=header.mid_element,
                    abs_send_time_id=header.abs_send_time_id,
                    audio_level_id=header.audio_level_id,
                )

        sender.send = send  # type: ignore[method-assign]

    @property
    def ready(self) -> bool:
        """The transport is up and the direction lets this sender send."""
        return self.payload_type is not None and self._sender._enabled

    @property
    def sent(self) -> tuple[int, int]:
        """(payload bytes, packets) written so far: the sender reports' own counts."""
        sender = self._sender
        return sender._RTCRtpSender__octet_count, sender._RTCRtpSender__packet_count  # type: ignore[attr-defined]

    def _write(
        self,
        sequence_number: int,
        timestamp: int,
        marker: int,
        payload: bytes,
        audio_level: tuple[bool, int] | None,
    ) -> None:
        assert self.payload_type is not None and self._header is not None
        sender = self._sender
        ntp = ntp_now()
        abs_send_time = (ntp >> 14) & 0x00FFFFFF
        data = self._header.pack(
            sequence_number, timestamp, marker, abs_send_time, audio_level, payload
        )
        if len(data) > MAX_PACKET:  # a publisher's packet too long to forward: dropped
            return
        self._history.file(sequence_number, timestamp, marker, payload, abs_send_time, audio_level)
        # what the sender's RTCP loop puts in its sender reports
        sender._RTCRtpSender__ntp_timestamp = ntp  # type: ignore[attr-defined]
        sender._RTCRtpSender__rtp_timestamp = timestamp  # type: ignore[attr-defined]
        sender._RTCRtpSender__octet_count += len(payload)  # type: ignore[attr-defined]
        sender._RTCRtpSender__packet_count += 1  # type: ignore[attr-defined]
        send_rtp(sender.transport, data)


def send_rtp(dtls: RTCDtlsTransport, data: bytes) -> None:
    """``RTCDtlsTransport._send_rtp`` for RTP, without awaiting: protect, send.

    Dropped silently before DTLS is up or once the ICE pair is gone (where
    aiortc raises ``ConnectionError``, which the writer ignored anyway).  The
    datagram transport is looked up per packet: tests put impaired links there.
    """
    if dtls._state is DtlsState.CONNECTED:
        _send_protected(dtls, dtls._tx_srtp.protect(data))


def send_rtcp(dtls: RTCDtlsTransport, data: bytes) -> None:
    """:func:`send_rtp` for a compound RTCP packet (SRTCP)."""
    if dtls._state is DtlsState.CONNECTED:
        _send_protected(dtls, dtls._tx_srtp.protect_rtcp(data))


def _send_protected(dtls: RTCDtlsTransport, data: bytes) -> None:
    pair = dtls.transport._connection._nominated.get(1)
    if pair is None:
        return
    pair.protocol.transport.sendto(data, pair.remote_addr)
    dtls._RTCDtlsTransport__tx_bytes += len(data)  # type: ignore[attr-defined]
    dtls._RTCDtlsTransport__tx_packets += 1  # type: ignore[attr-defined]


_NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01


def ntp_now() -> int:
    """The current time as a 64-bit NTP timestamp (``aiortc.clock.current_ntp_time``
    without building two datetimes per packet)."""
    now = time.time() + _NTP_EPOCH_OFFSET
    seconds = int(now)
    return (seconds << 32) | int((now - seconds) * 4294967296.0)


class RtpHeaderPacker:
    """Packs an RTP header as ``RtpPacket.serialize`` would for a forwarded
    packet: no CSRCs or padding; extensions mid, abs-send-time and audio level
    in the one-byte form (RFC 8285) with the ids the sender negotiated.

    ``tests/media/test_rtp_header.py`` checks the bytes against aiortc's.
    """

    def __init__(
        self,
        payload_type: int,
        ssrc: int,
        *,
        mid: tuple[int, str] | None,
        abs_send_time_id: int | None,
        audio_level_id: int | None,
    ) -> None:
        self._payload_type = payload_type
        self._ssrc = ssrc
        self.abs_send_time_id = abs_send_time_id
        self.audio_level_id = audio_level_id
        #: the mid element as packed: id and length, then the value
        self.mid_element = b""
        if mid is not None:
            value = mid[1].encode("utf8")
            self.mid_element = bytes([(mid[0] << 4) | (len(value) - 1)]) + value
        self._abs = None if abs_send_time_id is None else (abs_send_time_id << 4) | 2
        self._level = None if audio_level_id is None else audio_level_id << 4

    @classmethod
    def from_sender(
        cls, sender: RTCRtpSender, payload_type: int, mid: str | None
    ) -> RtpHeaderPacker:
        extensions_map = sender._RTCRtpSender__rtp_header_extensions_map  # type: ignore[attr-defined]
        ids: HeaderExtensions = extensions_map._HeaderExtensionsMap__ids
        one_byte = all(
            i is None or 0 < i <= 14 for i in (ids.mid, ids.abs_send_time, ids.audio_level)
        )
        if not one_byte or (mid is not None and not 0 < len(mid.encode("utf8")) <= 16):
            raise ValueError(f"header extension ids {ids} need the two-byte form")
        return cls(
            payload_type,
            sender._ssrc,
            mid=(ids.mid, mid) if ids.mid and mid is not None else None,
            abs_send_time_id=ids.abs_send_time or None,
            audio_level_id=ids.audio_level or None,
        )

    def pack(
        self,
        sequence_number: int,
        timestamp: int,
        marker: int,
        abs_send_time: int,
        audio_level: tuple[bool, int] | None,
        payload: bytes,
    ) -> bytes:
        extension = self.mid_element
        if self._abs is not None:
            extension += bytes([self._abs]) + abs_send_time.to_bytes(3, "big")
        if self._level is not None and audio_level is not None:
            extension += bytes(
                [self._level, (0x80 if audio_level[0] else 0) | (audio_level[1] & 0x7F)]
            )
        if not extension:
            return (
                _HEADER.pack(
                    0x80, (marker << 7) | self._payload_type, sequence_number, timestamp, self._ssrc
                )
                + payload
            )
        extension += b"\x00" * (-len(extension) % 4)
        return (
            _HEADER_WITH_EXTENSION.pack(
                0x90,
                (marker << 7) | self._payload_type,
                sequence_number,
                timestamp,
                self._ssrc,
                0xBEDE,
                len(extension) >> 2,
            )
            + extension
            + payload
        )


_HEADER = struct.Struct("!BBHLL")
_HEADER_WITH_EXTENSION = struct.Struct("!BBHLLHH")


def history_size() -> int:
    """How many packets a sender keeps for NACKs (it files each under ``seq % size``).

    ``rtcrtpsender`` imports the name from ``aiortc.rtp``, so it is read and
    raised (:func:`~media.aiortc_internals.install`) in that module's namespace.
    """
    size: int = vars(rtcrtpsender)["RTP_HISTORY_SIZE"]
    return size


def set_track_id(track: MediaStreamTrack, track_id: str) -> None:
    """Rename a track (its msid track id); aiortc gives a track's id no setter."""
    track._id = track_id


def set_stream_id(sender: RTCRtpSender, stream_id: str) -> None:
    """The msid stream id the offer advertises for ``sender``'s track."""
    sender._stream_id = stream_id
