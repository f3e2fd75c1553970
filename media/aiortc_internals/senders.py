"""Senders without an encoder: they relay feedback to the SFU and send RTP
packets the SFU rewrote.

Each sender keeps what aiortc does well: its SSRC, RTX, NACK history and
answers, sender reports and header extensions.
"""

from __future__ import annotations

from collections.abc import Callable

from aiortc import RTCRtpSender, clock, rtcrtpsender
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpSendParameters
from aiortc.rtp import (
    RTCP_PSFB_APP,
    AnyRtcpPacket,
    RtcpPsfbPacket,
    RtpPacket,
    unpack_remb_fci,
)


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


class RtpWriter:
    """Sends RTP packets we built through an ``RTCRtpSender``.

    The sender keeps its SSRC, RTX, NACK history (the packets are filed where
    ``_retransmit`` looks), sender reports (the counters its RTCP loop reads)
    and header extensions; its own RTP loop is left idle on a silent track.
    """

    def __init__(self, sender: RTCRtpSender) -> None:
        self._sender = sender
        self._history_size = history_size()
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
        history[sequence_number % self._history_size] = packet
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
