"""RED on the forwarding path: unwrapped on arrival, shaped per subscriber, never decoded.

A publisher that negotiated RED (``audio/red``, RFC 2198; Chromium does when the
offer lists it before Opus) sends each Opus payload again in the next packet.

On arrival (:class:`RedUnwrapper`, in the publisher's receiver, in front of the
audio frame assembler):

* a RED packet's primary block becomes the packet's frame data, so the
  recording and every plain-Opus consumer see Opus only;
* a redundant block whose packet never arrived (the NACK scheduler still has
  its hole) is turned back into that packet, with its own sequence number
  (the k-th newest block is the packet k numbers back, as Chromium sends them)
  and timestamp, and handed on *before* the packet that carried it: a lost
  audio packet is recovered one packet interval later instead of a NACK round
  trip later, and its hole is closed so it is not NACKed again;
* a malformed RED packet, or one whose primary is not Opus, is dropped and
  counted (``ForwardingStats.red_refused``): it never reaches a consumer.

Per subscriber (:class:`SubscriberAudio`, the consumer's payload hook): one that
accepted RED gets the publisher's RED payload as it came, or – for a plain Opus
packet (an aiortc publisher, a recovered packet) – a RED payload the SFU wraps
around it, carrying the previous packet it sent as the redundant block; one
that did not accept RED gets the primary block only, and one whose link cannot
carry the copy gets RED with the primary block alone (``thin``).  Wrapping and unwrapping
copy bytes; no audio is decoded or encoded.
"""

from __future__ import annotations

from collections.abc import Callable

from aiortc.rtp import RtpPacket

from media import red
from media.aiortc_internals import RED_PAYLOAD_TYPE, depayloaded, opus_payload_type
from media.assembler import AssembledFrame, FrameAssembler
from media.latency import ForwardingStats
from media.nack import NackScheduler


class RedUnwrapper:
    """The audio assembler of a publisher's receiver, RED-aware (same ``add``/``drain``)."""

    def __init__(
        self, inner: FrameAssembler, nack: NackScheduler, stats: ForwardingStats | None = None
    ) -> None:
        self._inner = inner
        self._nack = nack
        self._stats = stats if stats is not None else ForwardingStats()
        self._red = RED_PAYLOAD_TYPE
        self._opus = opus_payload_type()
        self._ready: list[AssembledFrame] = []

    @property
    def on_packet(self) -> Callable[[RtpPacket, int, float], None] | None:
        return self._inner.on_packet

    @on_packet.setter
    def on_packet(self, hook: Callable[[RtpPacket, int, float], None] | None) -> None:
        self._inner.on_packet = hook

    def drain(self) -> list[AssembledFrame]:
        ready, self._ready = self._ready, []
        return ready + self._inner.drain()

    def add(self, packet: RtpPacket) -> tuple[bool, AssembledFrame | None]:
        if packet.payload_type != self._red:
            return self._inner.add(packet)
        self._stats.red_in += 1
        parsed = red.parse(packet.payload)
        if parsed is None or parsed.primary.payload_type != self._opus:
            self._stats.red_refused += 1
            return False, None
        frames = self._recover(packet, parsed)
        if parsed.primary.data:
            packet._data = parsed.primary.data  # type: ignore[attr-defined]
            frames.append(self._inner.add(packet)[1])
        out = [frame for frame in frames if frame is not None]
        if not out:
            return False, None
        self._ready.extend(out[1:])
        return False, out[0]

    def _recover(self, packet: RtpPacket, parsed: red.RedPayload) -> list[AssembledFrame | None]:
        """Frames for the redundant blocks whose packets are still missing, oldest first."""
        frames = []
        newest_first = parsed.redundant[::-1]
        for back in range(len(newest_first), 0, -1):
            block = newest_first[back - 1]
            seq = (packet.sequence_number - back) & 0xFFFF
            if (
                block.payload_type != self._opus
                or not block.data
                or block.timestamp_offset == 0
                or not self._nack.is_pending(seq)
            ):
                continue
            copy = RtpPacket(
                payload_type=self._opus,
                sequence_number=seq,
                timestamp=(packet.timestamp - block.timestamp_offset) & 0xFFFFFFFF,
                ssrc=packet.ssrc,
                payload=block.data,
            )
            copy._data = block.data  # type: ignore[attr-defined]
            self._nack.recovered(seq)
            self._stats.audio_recovered += 1
            frames.append(self._inner.add(copy)[1])
        return frames


class SubscriberAudio:
    """What one subscriber's audio payloads look like: RED or plain Opus, as it accepted."""

    def __init__(self, payload_type: Callable[[], int | None]) -> None:
        self._payload_type = payload_type  # the consumer's negotiated (first) codec
        self._opus = opus_payload_type()
        self._previous: tuple[int, bytes] | None = None  # (timestamp, Opus) last sent
        #: RED with the primary block only: the subscriber's link cannot carry the
        #: copy (media.voice_redundancy); the payload type stays RED
        self.thin = False

    @property
    def takes_red(self) -> bool:
        """The subscriber accepted RED (negotiated it first)."""
        return self._payload_type() == RED_PAYLOAD_TYPE

    def payload(self, packet: RtpPacket) -> bytes:
        """The payload to send for ``packet``."""
        takes_red = self.takes_red
        if takes_red and self.thin:
            self._previous = None
            return red.build(self._opus, _frame_data(packet))
        if packet.payload_type == RED_PAYLOAD_TYPE:
            if takes_red:
                self._previous = None  # the publisher's own redundancy rides along
                return bytes(packet.payload)
            return _frame_data(packet)
        opus = _frame_data(packet)
        if not takes_red:
            return opus
        previous, self._previous = self._previous, (packet.timestamp, opus)
        blocks = []
        if previous is not None:
            offset = (packet.timestamp - previous[0]) & 0xFFFFFFFF
            if red.fits(offset, previous[1]):
                blocks.append(red.RedBlock(self._opus, offset, previous[1]))
        return red.build(self._opus, opus, blocks)

    def restart(self) -> None:
        """The stream starts again (another publisher, a re-opened gate): no old block."""
        self._previous = None


def _frame_data(packet: RtpPacket) -> bytes:
    """The Opus payload: the receiver stored it (the primary block, for RED)."""
    return depayloaded(packet)
