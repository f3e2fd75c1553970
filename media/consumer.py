"""A Consumer: one subscriber's copy of one publisher seat's audio or video.

Each consumer owns a ``sendonly`` transceiver in the subscriber's peer
connection, created when the publisher's track first appears and kept (or
recycled for another seat) for the life of the subscriber's connection.

Forwarding is per RTP packet, as soon as the packet arrives – never held back
behind a lost one (the subscriber's jitter buffer waits once, not the SFU and
then the subscriber).  The payload is forwarded byte for byte; only the SSRC,
sequence number, timestamp, payload type and header extensions are rewritten:

    out_seq = in_seq + seq_offset,  out_ts = in_ts + ts_offset   (per consumer)

Offsets are chosen whenever forwarding (re)starts – gate opened, producer
attached, sender ready – so the subscriber sees one continuous stream: no
sequence gap (no NACK storm), timestamps advancing with wall-clock time.  A
packet the SFU recovers late (its own NACK to the publisher) is forwarded late
with its mapped number and fills the subscriber's gap.  The sender keeps
answering the subscriber's NACKs from its history.

Gating follows the audience (``allowed``), never renegotiation.  Closing the
gate stops audio at once and video at the end of the frame in progress;
(re)opening video waits for a keyframe (asking the producer for one), so the
picture appears after about one round trip to the publisher; a keyframe whose
first packet the SFU repairs late still starts it, whole
(:mod:`media.keyframe_wait`).

Simulcast: a consumer forwards one ``layer`` of its producer (chosen for its
subscriber by :mod:`media.layers`), or none (``PAUSED``).  A switch waits for
a keyframe of the target layer (asked for by PLI on that layer) while the
current layer keeps flowing, then maps the new layer onto the same outgoing
SSRC, sequence and timestamp line, as a restart does.  The gate and the floor
of the wait hold for every layer: nothing sent before the wait began goes out.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av
from aiortc import RTCRtpTransceiver
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtp import RtpPacket

from media.aiortc_internals import RtpWriter, relay_feedback, set_stream_id, set_track_id
from media.audio_redundancy import SubscriberAudio
from media.codecs import FORWARDED
from media.keyframe_wait import KeyframeWait
from media.latency import ForwardingStats
from media.layers import PAUSED
from media.packet_info import PacketInfo
from media.producer import Producer
from sessions.ids import SeatId
from sessions.media_kinds import MediaKind

logger = logging.getLogger(__name__)


class SilentTrack(MediaStreamTrack):
    """Parks the sender's own RTP loop: packets go out through an RtpWriter."""

    def __init__(self, kind: MediaKind, track_id: str) -> None:
        super().__init__()
        self.kind = kind.value
        set_track_id(self, track_id)
        self._ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def recv(self) -> av.Packet[Any]:
        await asyncio.shield(self._ended)
        raise MediaStreamError

    def stop(self) -> None:
        super().stop()
        if not self._ended.done():
            self._ended.set_result(None)


@dataclass
class _Mapping:
    seq_offset: int
    ts_offset: int
    base_ext: int  # packets older than the restart point are not forwarded
    max_ext: int


class Consumer:
    def __init__(
        self,
        subscriber: SeatId,
        publisher: SeatId,
        kind: MediaKind,
        transceiver: RTCRtpTransceiver,
        track: SilentTrack,
        *,
        stats: ForwardingStats,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.subscriber = subscriber
        self.publisher = publisher
        self.kind = kind
        self.transceiver = transceiver
        self.track = track
        self.producer: Producer | None = None
        self.allowed = False
        # gate opened -> first packet out, seconds (measures phase switches)
        self.opened_at: float | None = None
        self.open_latency: float | None = None
        self._stats = stats
        self._clock = clock
        self._writer = RtpWriter(transceiver.sender)
        self._mapping: _Mapping | None = None
        self._restart = True
        self._keyframe_wait = KeyframeWait()
        self._open_frame: int | None = None  # timestamp of a video frame in progress
        self._next_seq = random.randint(0, 0x7FFF)
        self._last: tuple[int, float] | None = None  # (out timestamp, wall clock)
        # audio: RED or plain Opus, as this subscriber accepted (media.audio_redundancy)
        self._audio = (
            SubscriberAudio(lambda: self._writer.payload_type) if kind is MediaKind.AUDIO else None
        )
        # simulcast: the layer forwarded (PAUSED: none), and the one switched to
        self.layer = 0
        self._switch_to: int | None = None
        self._switch_wait = KeyframeWait()
        # the subscriber's downlink reports, for its layer choices (SeatConnection)
        self.on_estimate: Callable[[int], None] | None = None
        self.on_loss: Callable[[float], None] | None = None
        self.on_rtt: Callable[[float], None] | None = None
        self._uplink_mark = (0, 0)  # the producer's (lost, packets) at the last report
        set_stream_id(transceiver.sender, publisher)
        relay_feedback(
            transceiver.sender,
            on_keyframe_request=self._on_keyframe_request,
            on_remb=self._on_remb,
            on_nack=self._on_nack,
            on_loss=self._on_loss,
            on_rtt=self._on_rtt,
        )

    @classmethod
    def create(
        cls,
        subscriber: SeatId,
        publisher: SeatId,
        kind: MediaKind,
        add_transceiver: Callable[[SilentTrack], RTCRtpTransceiver],
        *,
        stats: ForwardingStats,
    ) -> Consumer:
        track = SilentTrack(kind, f"{publisher}-{kind.value}")
        return cls(subscriber, publisher, kind, add_transceiver(track), track, stats=stats)

    @property
    def forwarding(self) -> bool:
        return self.allowed and self.producer is not None and self._writer.ready

    @property
    def paused(self) -> bool:
        """Held back for the subscriber's link (media.downlink): no layer forwarded."""
        return self.layer == PAUSED

    @property
    def mid(self) -> str | None:
        return self.transceiver.mid

    def reassign(self, publisher: SeatId) -> None:
        """Carry another seat's track from now on (a recycled m-section)."""
        self.detach()
        self.publisher = publisher
        self.allowed = False
        set_track_id(self.track, f"{publisher}-{self.kind.value}")
        self.transceiver.sender.replaceTrack(self.track)  # refreshes the msid track id
        set_stream_id(self.transceiver.sender, publisher)

    def attach(self, producer: Producer) -> None:
        if self.producer is producer:
            return
        self.detach()
        self.producer = producer
        self.layer, self._switch_to = 0, None
        producer.attach(self)
        self._begin_restart()

    def detach(self) -> None:
        if self.producer is not None:
            producer, self.producer = self.producer, None
            producer.detach(self)
        self._open_frame = None
        self._begin_restart()

    def set_allowed(self, allowed: bool) -> None:
        if allowed == self.allowed:
            return
        self.allowed = allowed
        if allowed:
            self.opened_at, self.open_latency = self._clock(), None
            self._begin_restart()
            if self.kind is MediaKind.VIDEO and self.producer is not None and self.layer != PAUSED:
                self.producer.request_keyframe(self.layer)

    @property
    def sent(self) -> tuple[int, int]:
        """(payload bytes, packets) forwarded so far (the downlink times its audio)."""
        return self._writer.sent

    @property
    def takes_red(self) -> bool:
        """Audio its subscriber receives as RED (which carries a redundant copy)."""
        return self._audio is not None and self._audio.takes_red

    def send_redundancy(self, on: bool) -> None:
        """Audio: RED's redundant copy on (as negotiated) or off (the primary alone)."""
        if self._audio is not None:
            self._audio.thin = not on

    def close(self) -> None:
        self.detach()
        self.track.stop()

    # -- from the producer ---------------------------------------------------

    def set_layer(self, layer: int) -> None:
        """Forward ``layer`` from its next keyframe on (PAUSED: stop at once)."""
        producer = self.producer
        if layer == PAUSED:
            self.layer, self._switch_to = PAUSED, None
            self._open_frame = None
            return
        if layer == (self.layer if self._switch_to is None else self._switch_to):
            return
        if layer == self.layer:
            self._switch_to = None  # back to the current layer: nothing to wait for
            return
        if self.layer == PAUSED or self._restart:
            # nothing flowing: wait for the new layer's keyframe as a restart does
            self.layer, self._switch_to = layer, None
            self._begin_restart()
        else:
            self._switch_to = layer
            self._switch_wait.reset(producer.newest_ext_of(layer) if producer else None)
        if producer is not None and self.allowed:
            producer.request_keyframe(layer)

    def _switch(self, packet: RtpPacket, info: PacketInfo) -> None:
        """A packet of the layer being switched to: switch at its keyframe."""
        if not self.allowed or self._restart or not self._writer.ready:
            return
        started = self._switch_wait.offer(packet, info)
        if started is None:
            if self.producer is not None:
                self.producer.request_keyframe(info.layer)  # throttled there
            return
        self.layer, self._switch_to = info.layer, None
        self._start(*started[0])
        for held_packet, held_info in started:
            self._send(held_packet, held_info)

    def forward(self, packet: RtpPacket, info: PacketInfo) -> None:
        if info.layer != self.layer:
            if info.layer == self._switch_to:
                self._switch(packet, info)
            return
        if not self._writer.ready:
            self._begin_restart()
            return
        if not self.allowed:
            # video: finish the frame in progress, so the subscriber never holds
            # a truncated frame; audio stops at once (the wait begins when the
            # gate re-opens)
            if self._open_frame is None or packet.timestamp != self._open_frame:
                self._restart = True
                return
        elif self._restart:
            started = self._keyframe_wait.offer(packet, info)
            if started is None:
                if self.producer is not None:
                    self.producer.request_keyframe(self.layer)  # throttled there
                return
            self._start(*started[0])
            for held_packet, held_info in started:
                if self._restart or not self.allowed:
                    return  # the gate closed or the producer changed meanwhile
                self._send(held_packet, held_info)
            return
        self._send(packet, info)

    def _begin_restart(self) -> None:
        """Forward again only from a keyframe that arrives from now on."""
        self._restart = True
        self._switch_to = None
        producer = self.producer
        self._keyframe_wait.reset(producer.newest_ext_of(self.layer) if producer else None)

    def _send(self, packet: RtpPacket, info: PacketInfo) -> None:
        mapping = self._mapping
        if mapping is None or info.ext < mapping.base_ext:
            return
        timestamp = (packet.timestamp + mapping.ts_offset) & 0xFFFFFFFF
        if info.ext > mapping.max_ext:
            mapping.max_ext = info.ext
            self._next_seq = (packet.sequence_number + mapping.seq_offset + 1) & 0xFFFF
            self._last = (timestamp, self._clock())
        payload = packet.payload if self._audio is None else self._audio.payload(packet)
        self._stats.bytes_out += len(payload)
        if self.kind is MediaKind.VIDEO:
            self._open_frame = None if packet.marker else packet.timestamp
        self._writer.write(
            (packet.sequence_number + mapping.seq_offset) & 0xFFFF,
            timestamp,
            packet.marker,
            payload,
            packet.extensions.audio_level,
        )
        self._stats.packets_out += 1  # the producer times the copies (ForwardingStats.delay)
        if self.open_latency is None and self.opened_at is not None:
            self.open_latency = self._clock() - self.opened_at

    def _start(self, packet: RtpPacket, info: PacketInfo) -> None:
        """Map this packet onto the next output number and the current time."""
        now = self._clock()
        if self._last is None:
            timestamp = random.randint(0, 0xFFFFFFFF)
        else:
            last_ts, last_wall = self._last
            elapsed = max(1, int((now - last_wall) * FORWARDED[self.kind].clock_rate))
            timestamp = (last_ts + elapsed) & 0xFFFFFFFF
        self._mapping = _Mapping(
            seq_offset=(self._next_seq - packet.sequence_number) & 0xFFFF,
            ts_offset=(timestamp - packet.timestamp) & 0xFFFFFFFF,
            base_ext=info.ext,
            max_ext=info.ext - 1,
        )
        self._restart = False
        if self._audio is not None:
            self._audio.restart()

    # -- from the subscriber (RTCP) ------------------------------------------

    def _on_keyframe_request(self) -> None:
        self._stats.keyframe_requests_received += 1
        if self.producer is not None and self.allowed and self.layer != PAUSED:
            self.producer.request_keyframe(self.layer)

    def _on_nack(self, asked: int, held: int) -> None:
        self._stats.retransmission_requests += asked
        self._stats.retransmissions += held
        self._stats.retransmissions_missed += asked - held

    def _on_remb(self, bitrate: int) -> None:
        if self.producer is not None:
            self.producer.on_consumer_remb(self, bitrate)
        if self.on_estimate is not None:
            self.on_estimate(bitrate)

    def _on_rtt(self, seconds: float) -> None:
        # A paused stream's sender reports repeat one NTP time (it sends no packets), so
        # a report answering an earlier one is timed from the later: not a round trip.
        if self.on_rtt is not None and self.forwarding and self.layer != PAUSED and seconds > 0:
            self.on_rtt(seconds)

    def _on_loss(self, fraction: float) -> None:
        """A receiver report's loss, less what the publisher's link lost meanwhile: a
        hole the SFU forwards (and repairs late) is a loss the subscriber reports too."""
        producer = self.producer
        if self.on_loss is None or producer is None or not self.forwarding:
            return
        lost, packets = producer.lost, producer.packets
        before_lost, before_packets = self._uplink_mark
        self._uplink_mark = (lost, packets)
        if lost < before_lost or packets < before_packets:  # another producer since
            return
        uplink = min(1.0, (lost - before_lost) / max(1, packets - before_packets))
        if self.layer != PAUSED:
            self.on_loss(max(0.0, fraction - uplink))
