"""A SeatConnection: one seat's RTCPeerConnection on the server.

The server is the only offerer.  The first offer (returned by
:meth:`SeatConnection.start`) carries two ``recvonly`` m-sections, audio then
video (mids "0" and "1"), on which the client publishes, plus one ``sendonly``
m-section per (publisher seat, kind) already published in the room.  Later
offers are pushed through ``signal`` whenever a publisher's track appears or
disappears; the audience never causes one (gating is in the consumers).

Offers are serialised: a new one is made only after the previous one is
answered (no glare, no overlapping negotiations); requests made meanwhile are
merged into one.

The participant watches its own connection: if it is not connected within
``connect_timeout`` after the offer (ICE never finishes), or it fails (ICE
consent expiry included) or is closed by the peer, or – with ``silence_s`` –
nothing at all (RTP, RTCP, ICE checks) arrives from the peer for that long
while connected, ``on_lost(reason)`` is called once; the room then releases it
or replaces it with a new one (:mod:`media.recovery`).  ``on_flowing`` is called
once when the connection is up and its media arrives (at once for a client that
publishes nothing).

Every peer connection of a seat has its own ``connection`` number, carried by
its offers; a client's answer or candidate that names another one is stale
(meant for a connection that was replaced) and is ignored.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpTransceiver, RTCSessionDescription
from aiortc.rtcconfiguration import RTCBundlePolicy

from media.aiortc_internals import count_arrivals, deliver_directly
from media.consumer import Consumer, SilentTrack
from media.downlink import EVENT as VIDEO_EVENT
from media.downlink import TICK_S, Downlink
from media.latency import ForwardingStats
from media.offered_codecs import codec_preferences as codec_preferences  # imported from here
from media.offered_codecs import keep_answered_codecs
from media.producer import Producer
from media.receiving import forward_receiver
from media.sdp_check import check_answer, check_candidate
from media.simulcast_sdp import offer_simulcast
from media.tasks import Worker, run_to_end
from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind

logger = logging.getLogger(__name__)

SendToClient = Callable[[RoomId, SeatId, str, dict[str, Any]], Awaitable[None]]


class ConnectionClosed(Exception):
    """The connection was closed before (or while) its first offer was made."""


class SeatConnection:
    def __init__(
        self,
        room_id: RoomId,
        seat: SeatId,
        *,
        signal: SendToClient,
        on_lost: Callable[[SeatConnection, str], None],
        stats: ForwardingStats,
        connect_timeout: float,
        connection: int = 0,
        silence_s: float | None = None,
        on_flowing: Callable[[SeatConnection], None] | None = None,
    ) -> None:
        self.room_id = room_id
        self.seat = seat
        self.connection = connection
        self.opened_at = time.monotonic()
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
        # set unless start() is making the first offer, whose gathering binds the
        # connection's sockets: close() waits for it, or a socket bound after the
        # close would stay open with the connection (and this object) forever
        self._start_settled = asyncio.Event()
        self._start_settled.set()
        self._closed: asyncio.Task[None] | None = None  # close() began: its one closing
        self._silence_s = silence_s
        self._on_flowing = on_flowing
        self._answered_once = False
        self._offered_sdp = ""
        self.flowing = False
        self._negotiator = Worker(f"negotiator[{room_id}/{seat}]", self._run_negotiator)
        self._watchdog = Worker(f"watchdog[{room_id}/{seat}]", self._run_watchdog)
        self.downlink = Downlink(f"{room_id}/{seat}")
        self._layers = Worker(f"layers[{room_id}/{seat}]", self._run_layers)
        self.pc.on("connectionstatechange", self._on_connection_state)
        for kind in (MediaKind.AUDIO, MediaKind.VIDEO):
            self._add_publish_slot(kind)
        self.arrivals = count_arrivals(self.pc)
        deliver_directly(self.pc)
        self.arrivals.on_first_rtp = self._check_flowing

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # -- negotiation ---------------------------------------------------------

    async def start(self, *, restart: bool = False) -> dict[str, Any]:
        """Create the first offer and start the background tasks.

        ``restart``: this connection replaces a dead one of the same seat; the
        offer says so, and the client answers it from a new peer connection.
        The offer's gathering binds the connection's sockets: a cancelled caller
        waits for the offer to be made (:func:`~media.tasks.run_to_end`), so every
        socket is the connection's to close.
        """
        if self._closing:
            raise ConnectionClosed(f"{self.room_id}/{self.seat}: connection already closed")
        self._start_settled.clear()
        try:
            payload = await run_to_end(self._create_offer())
        finally:
            self._start_settled.set()
        if self._closing:
            raise ConnectionClosed(f"{self.room_id}/{self.seat}: closed while its offer was made")
        if restart:
            payload["restart"] = True
        self._negotiator.start()
        self._watchdog.start()
        self._layers.start()
        return payload

    async def apply_answer(self, description: dict[str, Any]) -> set[MediaKind]:
        """Apply the client's answer; return the kinds it newly publishes."""
        if description.get("type") != "answer" or not isinstance(description.get("sdp"), str):
            raise ValueError("media_answer must be {type: 'answer', sdp: str}")
        offer = self.pc.localDescription
        # a restarted seat's new connection may not have made its offer yet: an answer
        # to the old one (in flight across the restart) answers nothing
        if self._answered.is_set() or offer is None:
            raise ValueError("no offer is waiting for an answer")
        check_answer(self._offered_sdp, description["sdp"])  # before aiortc sees it
        await self.pc.setRemoteDescription(
            RTCSessionDescription(sdp=description["sdp"], type="answer")
        )
        self._answered.set()
        keep_answered_codecs(self.pc.getTransceivers(), description["sdp"])
        newly: set[MediaKind] = set()
        sending_now: set[MediaKind] = set()
        for kind, transceiver in self._publish_slots.items():
            sending = transceiver.currentDirection in ("recvonly", "sendrecv")
            if sending:
                sending_now.add(kind)
            if sending and kind not in self.published:
                self.published.add(kind)
                newly.add(kind)
        if not self._answered_once:
            self._answered_once = True
            # A restarted seat carries its old kinds over (its subscribers keep
            # their m-sections); what its first answer does not send is gone.
            self.published &= sending_now
        self._check_flowing()
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
        # the publish video m-section takes simulcast (aiortc writes no a=rid)
        video_mid = self._publish_slots[MediaKind.VIDEO].mid
        assert video_mid is not None  # set by setLocalDescription
        self._offered_sdp = offer_simulcast(description.sdp, video_mid)
        return {
            "type": description.type,
            "sdp": self._offered_sdp,
            "connection": self.connection,
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
            on_frame=producer.on_assembled_frame,
            on_end=producer.on_end,
            on_packet=producer.on_packet,
            stats=self._stats,
            on_layer=producer.on_layer,
            on_layer_packet=producer.on_packet,
            on_layer_frame=producer.on_layer_frame,
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
            self.downlink.watch(consumer)
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
            self._check_flowing()
        elif state in ("failed", "closed") and not self._closing:
            self._report_lost(f"connection {state}")

    def _check_flowing(self) -> None:
        """Media flows once connected and the first RTP arrived (or nothing is published)."""
        if self.flowing or self._lost or self._closing or not self._connected.is_set():
            return
        if self.arrivals.rtp == 0 and not (self._answered_once and not self.published):
            return
        self.flowing = True
        if self._on_flowing is not None:
            self._on_flowing(self)

    async def _run_layers(self) -> None:
        """Choose the simulcast layers this subscriber receives, every TICK_S (media.downlink)."""
        while not self._closing:
            await asyncio.sleep(TICK_S)  # the tick is the behaviour: layers follow the reports
            payload = self.downlink.choose(self.consumers.values())
            if payload is not None:
                await self._signal(self.room_id, self.seat, VIDEO_EVENT, payload)

    async def _run_watchdog(self) -> None:
        try:
            await asyncio.wait_for(self._connected.wait(), self._connect_timeout)
        except TimeoutError:
            self._report_lost("not connected in time")
            return
        if self._silence_s is not None:
            await self._watch_silence(self._silence_s)

    async def _watch_silence(self, limit: float) -> None:
        """Report the connection lost after ``limit`` seconds with nothing from the peer."""
        while not self._lost:
            await asyncio.sleep(min(0.5, limit / 4))  # the check interval is the behaviour
            if time.monotonic() - self.arrivals.last_at >= limit:
                self._report_lost(f"nothing received for {limit:g} s")

    def report_lost(self, reason: str) -> None:
        """Declare this connection dead (a client asked for a new one)."""
        self._report_lost(reason)

    def _report_lost(self, reason: str) -> None:
        if not self._lost:
            self._lost = True
            logger.info("participant %s/%s lost: %s", self.room_id, self.seat, reason)
            self._on_lost(self, reason)

    async def close(self) -> None:
        """Stop tasks, end tracks and close the peer connection.

        The closing, once begun, runs to its end even if the caller is cancelled
        meanwhile (:func:`~media.tasks.run_to_end`): a restart that the seat leaving
        or the room ending cancels while it closes the connection being replaced
        once left that peer connection open, its socket holding it in memory for
        good, with nobody left to close it. Every call awaits that one closing.
        """
        if self._closed is None:
            self._closing = True
            self._closed = asyncio.get_running_loop().create_task(
                self._close(), name=f"close[{self.room_id}/{self.seat}#{self.connection}]"
            )
        await run_to_end(self._closed)

    async def _close(self) -> None:
        await self._start_settled.wait()
        await self._negotiator.stop()
        await self._watchdog.stop()
        await self._layers.stop()
        for consumer in self.consumers.values():
            consumer.close()
        for producer in self.producers.values():
            producer.close()
        await self.pc.close()
        self.pc.remove_all_listeners()


def peer_connections_in_memory() -> int:
    """RTCPeerConnection objects still in memory, closed or not (a collection and a heap
    walk: tens of ms, for a soak run's ``/healthz?heap=1``, not for a load balancer)."""
    gc.collect()  # closed ones in reference cycles are not leaks: collect them first
    return sum(1 for o in gc.get_objects() if isinstance(o, RTCPeerConnection))
