"""A Participant: one seat's RTCPeerConnection on the server.

The server is the only offerer.  The first offer (returned by
:meth:`Participant.start`) carries two ``recvonly`` m-sections, audio then
video (mids "0" and "1"), on which the client publishes, plus one ``sendonly``
m-section per (publisher seat, kind) already published in the room.  Later
offers are pushed through ``signal`` whenever a publisher's track appears or
disappears; the audience never causes one (gating is in the consumers).

Offers are serialised: a new one is made only after the previous one is
answered (no glare, no overlapping negotiations); requests made meanwhile are
merged into one.

The participant watches its own connection: if it is not connected within
``connect_timeout`` after the offer (ICE never finishes), or it fails or is
closed by the peer, ``on_lost(reason)`` is called once and the room releases it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.rtcconfiguration import RTCBundlePolicy
from aiortc.rtcrtpparameters import RTCRtpCodecCapability

from media.aiortc_internals import forward_receiver
from media.consumer import Consumer, SilentTrack
from media.latency import ForwardingStats
from media.producer import Producer
from media.sdp_check import check_answer, check_candidate
from media.tasks import Worker
from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind

logger = logging.getLogger(__name__)

SendToClient = Callable[[RoomId, SeatId, str, dict[str, Any]], Awaitable[None]]

FORWARDED_CODEC = {MediaKind.AUDIO: "audio/opus", MediaKind.VIDEO: "video/vp8"}


def codec_preferences(kind: MediaKind) -> list[RTCRtpCodecCapability]:
    """Opus / VP8 (+ RTX) only: forwarding without transcoding needs one codec per kind."""
    wanted = {FORWARDED_CODEC[kind], f"{kind.value}/rtx"}
    return [
        c for c in RTCRtpSender.getCapabilities(kind.value).codecs if c.mimeType.lower() in wanted
    ]


class Participant:
    def __init__(
        self,
        room_id: RoomId,
        seat: SeatId,
        *,
        signal: SendToClient,
        on_lost: Callable[[Participant, str], None],
        stats: ForwardingStats,
        connect_timeout: float,
    ) -> None:
        self.room_id = room_id
        self.seat = seat
        self.pc = RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )
        self.producers: dict[MediaKind, Producer] = {}
        self.published: set[MediaKind] = set()
        self.consumers: dict[tuple[SeatId, MediaKind], Consumer] = {}
        self._signal = signal
        self._on_lost = on_lost
        self._stats = stats
        self._connect_timeout = connect_timeout
        self._publish_slots: dict[MediaKind, RTCRtpTransceiver] = {}
        self._answered = asyncio.Event()
        self._answered.set()
        self._offer_wanted = asyncio.Event()
        self._connected = asyncio.Event()
        self._lost = False
        self._closing = False
        self._negotiator = Worker(f"negotiator[{room_id}/{seat}]", self._run_negotiator)
        self._watchdog = Worker(f"watchdog[{room_id}/{seat}]", self._run_watchdog)
        self.pc.on("connectionstatechange", self._on_connection_state)
        for kind in (MediaKind.AUDIO, MediaKind.VIDEO):
            self._add_publish_slot(kind)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # -- negotiation ---------------------------------------------------------

    async def start(self) -> dict[str, Any]:
        """Create the first offer and start the background tasks."""
        payload = await self._create_offer()
        self._negotiator.start()
        self._watchdog.start()
        return payload

    async def apply_answer(self, description: dict[str, Any]) -> set[MediaKind]:
        """Apply the client's answer; return the kinds it newly publishes."""
        if description.get("type") != "answer" or not isinstance(description.get("sdp"), str):
            raise ValueError("media_answer must be {type: 'answer', sdp: str}")
        if self._answered.is_set():
            raise ValueError("no offer is waiting for an answer")
        check_answer(self.pc.localDescription.sdp, description["sdp"])  # before aiortc sees it
        await self.pc.setRemoteDescription(
            RTCSessionDescription(sdp=description["sdp"], type="answer")
        )
        self._answered.set()
        newly: set[MediaKind] = set()
        for kind, transceiver in self._publish_slots.items():
            sending = transceiver.currentDirection in ("recvonly", "sendrecv")
            if sending and kind not in self.published:
                self.published.add(kind)
                newly.add(kind)
        return newly

    async def add_ice_candidate(self, candidate: dict[str, Any] | None) -> None:
        """A trickled client candidate; None or an empty candidate ends the list."""
        if candidate is None or not candidate.get("candidate"):
            await self.pc.addIceCandidate(None)
            return
        parsed = check_candidate(str(candidate["candidate"]))
        # max-bundle: one transport, owned by the first m-section
        parsed.sdpMid = self._publish_slots[MediaKind.AUDIO].mid
        parsed.sdpMLineIndex = 0
        await self.pc.addIceCandidate(parsed)

    def request_offer(self) -> None:
        """Renegotiate soon (tracks appeared or disappeared)."""
        self._offer_wanted.set()

    async def _create_offer(self) -> dict[str, Any]:
        self._answered.clear()
        offer = await self.pc.createOffer()
        await self.pc.setLocalDescription(offer)
        description = self.pc.localDescription
        return {
            "type": description.type,
            "sdp": description.sdp,
            "tracks": {
                c.mid: {"seat": c.publisher, "kind": c.kind.value, "active": c.producer is not None}
                for c in self.consumers.values()
                if c.mid is not None
            },
            "publish": {kind.value: t.mid for kind, t in self._publish_slots.items()},
        }

    async def _run_negotiator(self) -> None:
        while True:
            await self._offer_wanted.wait()
            await self._answered.wait()
            self._offer_wanted.clear()
            if self._closing or self.pc.signalingState == "closed":
                return  # the peer is gone; the room releases us
            payload = await self._create_offer()
            await self._signal(self.room_id, self.seat, "media_offer", payload)

    # -- tracks --------------------------------------------------------------

    def _add_publish_slot(self, kind: MediaKind) -> None:
        transceiver = self.pc.addTransceiver(kind.value, direction="recvonly")
        transceiver.setCodecPreferences(codec_preferences(kind))
        producer = Producer(self.seat, kind, stats=self._stats)
        control = forward_receiver(
            transceiver.receiver,
            kind.value,
            on_frame=producer.on_frame,
            on_end=producer.on_end,
            on_packet=producer.on_packet,
        )
        producer.bind(control)
        self.producers[kind] = producer
        self._publish_slots[kind] = transceiver

    def consumer_for(self, publisher: SeatId, kind: MediaKind) -> Consumer:
        """This subscriber's consumer of ``publisher``'s ``kind``.

        Reuses, in order: this seat's own consumer (a publisher back after a
        drop), then an idle one of the same kind left by a seat that is gone
        (m-sections cannot be removed from a session, only recycled), and only
        then adds a transceiver.
        """
        key = (publisher, kind)
        consumer = self.consumers.get(key)
        if consumer is None:
            consumer = self._recycle(kind)
        if consumer is not None:
            if consumer.publisher != publisher:
                del self.consumers[(consumer.publisher, kind)]
                consumer.reassign(publisher)
                self.consumers[key] = consumer
        else:

            def add_transceiver(track: SilentTrack) -> RTCRtpTransceiver:
                transceiver = self.pc.addTransceiver(track, direction="sendonly")
                transceiver.setCodecPreferences(codec_preferences(kind))
                return transceiver

            consumer = Consumer.create(
                self.seat, publisher, kind, add_transceiver, stats=self._stats
            )
            self.consumers[key] = consumer
        return consumer

    def _recycle(self, kind: MediaKind) -> Consumer | None:
        for (_, k), consumer in self.consumers.items():
            if k is kind and consumer.producer is None and consumer.mid is not None:
                return consumer
        return None

    def activate(self, consumer: Consumer, producer: Producer) -> bool:
        """Attach a producer; True if the offer must change (new or revived m-section)."""
        consumer.attach(producer)
        changed = consumer.mid is None or consumer.transceiver.direction != "sendonly"
        consumer.transceiver.direction = "sendonly"
        return changed

    def deactivate(self, consumer: Consumer) -> None:
        consumer.detach()
        consumer.transceiver.direction = "inactive"

    # -- lifecycle -----------------------------------------------------------

    def _on_connection_state(self) -> None:
        state = self.pc.connectionState
        if state == "connected":
            self._connected.set()
        elif state in ("failed", "closed") and not self._closing:
            self._report_lost(f"connection {state}")

    async def _run_watchdog(self) -> None:
        try:
            await asyncio.wait_for(self._connected.wait(), self._connect_timeout)
        except TimeoutError:
            self._report_lost("not connected in time")

    def _report_lost(self, reason: str) -> None:
        if not self._lost:
            self._lost = True
            logger.info("participant %s/%s lost: %s", self.room_id, self.seat, reason)
            self._on_lost(self, reason)

    async def close(self) -> None:
        """Stop tasks, end tracks and close the peer connection."""
        self._closing = True
        await self._negotiator.stop()
        await self._watchdog.stop()
        for consumer in self.consumers.values():
            consumer.close()
        for producer in self.producers.values():
            producer.close()
        await self.pc.close()
        self.pc.remove_all_listeners()
