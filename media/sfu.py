"""The media server's public face: a no-transcoding SFU driven by signalling.

Usage (all coroutines run on one asyncio loop)::

    sfu = Sfu(send_to_client, config=SfuConfig())
    offer = await sfu.join(room_id, seat)            # emit as "media_offer"
    await sfu.answer(room_id, seat, answer)          # on "media_answer"
    await sfu.add_ice_candidate(room_id, seat, c)    # on "media_ice"
    await sfu.apply_audience(room_id, audience(room))  # on every phase change
    await sfu.restart(room_id, seat, "client: failed")   # on "media_restart"
    await sfu.leave(room_id, seat)
    await sfu.close()

Signalling payloads (event names as in docs/protocol.md):

``media_offer`` server -> client (returned by :meth:`Sfu.join`; later offers are
pushed with ``send_to_client(room_id, seat, "media_offer", payload)``)::

    {"type": "offer", "sdp": "...",
     "publish": {"audio": "0", "video": "1"},
     "tracks": {"2": {"seat": "party_a", "kind": "audio", "active": true}, ...}}

  The client attaches its microphone and camera to the ``publish`` m-sections
  (in a browser: ``addTrack`` after ``setRemoteDescription`` reuses them, being
  the first audio and video transceivers) and answers.  Every other m-section
  is ``sendonly`` from the server and carries one seat's audio or video:
  ``tracks[mid]`` says which (``transceiver.mid`` in ``ontrack``); the same seat
  is also the msid stream id (``event.streams[0].id``).  ``active: false``
  marks a seat that left; its m-section is reused if it comes back.

``media_answer`` client -> server: ``{"type": "answer", "sdp": "..."}``.

``media_ice`` client -> server: ``{"candidate": "candidate:...", "sdpMid": "0",
  "sdpMLineIndex": 0}``; ``{"candidate": ""}`` or ``null`` ends the list.  The
  server never trickles: its candidates are all in its offers.

Only Opus and VP8 are offered (forwarding needs one codec per kind in a room).
Forwarding is per RTP packet, at once (payload untouched; SSRC, sequence
number, timestamp and header extensions rewritten per subscriber), so a loss
on the publisher's link stalls only the subscriber's jitter buffer, not the
SFU as well; complete frames are also assembled, in order, as ``av.Packet``s
for packet sinks (recording).  Audio and video are both protected by NACK/RTX
(>= 1 s of history, NACKs repeated until repaired); keyframe requests and
REMB are relayed/aggregated toward publishers.

Reach (``SfuConfig``): host candidates are gathered on ``ice_host_addresses``
with their sockets inside ``udp_ports``; ``announced_address`` is offered
beside each host candidate (see media/announce.py, docs/design-notes.md).
When a participant's connection comes up, the selected ICE pair is logged
(``media path ROOM/SEAT: local host A:P <-> remote prflx B:Q``), which says
whether the browser came directly, through a NAT (prflx/srflx) or via TURN.

Without ``recovery`` a connection that dies is released (``on_lost`` is told).
With a :class:`~media.recovery.RecoveryConfig` it is replaced by a new one in
the same seat, offered with ``"restart": true`` (:mod:`media.recovery`), and
``observer`` hears of every connection opened, lost and flowing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from media import aiortc_internals
from media.latency import ForwardingStats
from media.recovery import MediaObserver, RecoveryConfig
from media.router import Router
from media.seat_connection import ConnectionClosed, SeatConnection, SendToClient
from media.sfu_config import SfuConfig as SfuConfig  # re-exported: Sfu's own config
from sessions.audience import Route
from sessions.errors import DomainError
from sessions.ids import RoomId, SeatId

logger = logging.getLogger(__name__)

OnLost = Callable[[RoomId, SeatId, str], Awaitable[None]]


class UnknownParticipant(LookupError):
    pass


class MediaUnavailable(DomainError):
    """The server cannot give this seat media now (every media port is taken)."""

    code = "media_unavailable"


class RestartRefused(Exception):
    """A client asked for a restart too soon after the seat's last new connection."""


class Sfu:
    def __init__(
        self,
        send_to_client: SendToClient,
        *,
        config: SfuConfig | None = None,
        on_lost: OnLost | None = None,
        recovery: RecoveryConfig | None = None,
        observer: MediaObserver | None = None,
    ) -> None:
        self.config = config or SfuConfig()
        self.recovery = recovery
        self._observer = observer
        # restarts in a row that never got media flowing, per (room, seat)
        self._failures: dict[tuple[RoomId, SeatId], int] = {}
        aiortc_internals.require_installed()  # process-wide: the composition root's job
        # the SFU itself patches nothing: its settings reach aioice per connection
        # (the gather policy entered in _gathering)
        self._gather_policy = self.config.gather_policy
        if self._gather_policy is not None:
            ports = self.config.udp_ports
            hosts = self.config.ice_host_addresses
            logger.info(
                "media: host addresses %s, UDP ports %s, announced address %s",
                ", ".join(hosts) if hosts is not None else "all but loopback",
                f"{ports[0]}-{ports[1]}" if ports else "any",
                self.config.announced_address or "none",
            )
        self.stats = ForwardingStats()
        self.rooms: dict[RoomId, Router] = {}
        # kept while a room is empty, so whoever joins next gets the current audience
        self._audiences: dict[RoomId, frozenset[Route]] = {}
        self._send_to_client = send_to_client
        self._on_lost_callback = on_lost
        self._releases: set[asyncio.Task[None]] = set()
        self._recovering: dict[tuple[RoomId, SeatId], asyncio.Task[None]] = {}

    def router(self, room_id: RoomId) -> Router:
        router = self.rooms.get(room_id)
        if router is None:
            raise UnknownParticipant(f"no media room {room_id}")
        return router

    def participant(self, room_id: RoomId, seat: SeatId) -> SeatConnection:
        participant = self.router(room_id).participants.get(seat)
        if participant is None:
            raise UnknownParticipant(f"seat {seat} has no media connection in {room_id}")
        return participant

    async def join(self, room_id: RoomId, seat: SeatId) -> dict[str, Any]:
        """Open (or replace) ``seat``'s peer connection; return the offer to send."""
        router = self.rooms.get(room_id)
        if router is None:
            router = self.rooms[room_id] = Router(
                room_id,
                signal=self._send_to_client,
                on_lost=self._on_lost,
                stats=self.stats,
                connect_timeout=self.config.connect_timeout,
                silence_s=self.recovery.silence_s if self.recovery else None,
                on_flowing=self._on_flowing,
            )
            router.apply(self._audiences.get(room_id, frozenset()))
        participant = await router.join(seat)
        self._failures.pop((room_id, seat), None)
        if self._observer is not None:
            self._observer.connection_opened(participant, False)
        return await self._first_offer(participant)

    async def _first_offer(
        self, participant: SeatConnection, restart: bool = False
    ) -> dict[str, Any]:
        """Start a new connection (a seat's first, or a replacement) and make its offer."""
        participant.pc.on("connectionstatechange", lambda: self._log_path(participant))
        return await self._gathering(
            participant.room_id, participant.seat, participant.start(restart=restart)
        )

    async def _gathering(
        self, room_id: RoomId, seat: SeatId, first_offer: Awaitable[dict[str, Any]]
    ) -> dict[str, Any]:
        """Make a new connection's first offer under this SFU's gather policy.

        The first offer gathers the ICE candidates (binds the sockets): every
        path that starts a participant's peer connection goes through here, so
        its candidates are on ``ice_host_addresses``, its ports stay in
        ``udp_ports`` and it announces ``announced_address``. The policy is
        entered even when it is None (aioice's own), so a policy the caller's
        context holds (a test's in-process clients) never reaches the server.
        A full port range releases the seat's media and raises MediaUnavailable; so
        does the connection closing meanwhile (the seat left, the room ended).
        """
        try:
            with aiortc_internals.gather_policy(self._gather_policy):
                return await first_offer
        except aiortc_internals.UdpPortsExhausted as exc:
            logger.warning("seat %s/%s gets no media: %s", room_id, seat, exc)
            await self.leave(room_id, seat)
            raise MediaUnavailable(
                f"the media server has no free port ({exc.strerror}); try again later"
            ) from None
        except ConnectionClosed as exc:
            logger.info("seat %s/%s: %s", room_id, seat, exc)
            raise MediaUnavailable(
                "the seat's media connection closed while it was set up; join again"
            ) from None

    async def restart(self, room_id: RoomId, seat: SeatId, reason: str) -> None:
        """The client asks for a new connection (its own went disconnected or failed).

        Raises UnknownParticipant (no media connection in that seat) or
        RestartRefused (the seat's connection is younger than ``min_interval_s``).
        """
        participant = self.participant(room_id, seat)
        if self.recovery is None:
            raise RestartRefused("this media server does not restart connections")
        if time.monotonic() - participant.opened_at < self.recovery.min_interval_s:
            raise RestartRefused("the seat's media connection was just (re)started")
        participant.report_lost(reason)

    async def answer(
        self,
        room_id: RoomId,
        seat: SeatId,
        description: dict[str, Any],
        connection: int | None = None,
    ) -> bool:
        """Apply a ``media_answer``; raises ValueError if it is malformed or unexpected.

        False (and nothing done) if ``connection`` names a replaced connection.
        """
        participant = self.participant(room_id, seat)
        if connection is not None and connection != participant.connection:
            return False
        await self.router(room_id).answer(participant, description)
        return True

    async def add_ice_candidate(
        self,
        room_id: RoomId,
        seat: SeatId,
        candidate: dict[str, Any] | None,
        connection: int | None = None,
    ) -> bool:
        """Add a client candidate; False if it belongs to a replaced connection."""
        participant = self.participant(room_id, seat)
        if connection is not None and connection != participant.connection:
            return False
        await participant.add_ice_candidate(candidate)
        return True

    async def apply_audience(self, room_id: RoomId, routes: frozenset[Route]) -> None:
        """Forward exactly ``routes`` from now on (takes effect before returning)."""
        self._audiences[room_id] = routes
        router = self.rooms.get(room_id)
        if router is not None:
            router.apply(routes)

    async def leave(self, room_id: RoomId, seat: SeatId) -> None:
        self._failures.pop((room_id, seat), None)
        self._cancel_recovery(room_id, seat)
        router = self.rooms.get(room_id)
        if router is None or seat not in router.participants:
            return
        await router.leave(router.participants[seat])
        self._drop_if_empty(router)

    async def close_room(self, room_id: RoomId) -> None:
        """Release every participant of a finished room and forget its audience."""
        self._cancel_recovery(room_id)
        router = self.rooms.pop(room_id, None)
        if router is not None:
            await router.close()
        self._audiences.pop(room_id, None)

    async def close(self) -> None:
        for room_id in list(self.rooms):
            await self.close_room(room_id)
        self._audiences.clear()
        while self._releases:
            await asyncio.gather(*self._releases, return_exceptions=True)

    def _log_path(self, participant: SeatConnection) -> None:
        """Which way the participant's media came in: direct, through a NAT, or relayed."""
        if participant.pc.connectionState != "connected":
            return
        pair = aiortc_internals.selected_pair(participant.pc)
        if pair is not None:
            local, remote = pair
            logger.info(
                "media path %s/%s: local %s %s:%d <-> remote %s %s:%d",
                participant.room_id,
                participant.seat,
                local.type,
                local.host,
                local.port,
                remote.type,
                remote.host,
                remote.port,
            )

    def _on_lost(self, participant: SeatConnection, reason: str) -> None:
        if self.recovery is not None:
            work = self._recover(participant, reason)
        else:
            work = self._release(participant, reason)
        task = asyncio.get_running_loop().create_task(work)
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)
        if self.recovery is not None:
            # a recovery may wait out a backoff holding the dead connection: the seat
            # leaving or the room closing ends it (and lets the connection go) at once
            key = (participant.room_id, participant.seat)
            self._recovering[key] = task
            task.add_done_callback(lambda done: self._forget_recovery(key, done))

    def _forget_recovery(self, key: tuple[RoomId, SeatId], task: asyncio.Task[None]) -> None:
        if self._recovering.get(key) is task:
            del self._recovering[key]

    def _cancel_recovery(self, room_id: RoomId, seat: SeatId | None = None) -> None:
        for key, task in list(self._recovering.items()):
            if key[0] == room_id and (seat is None or key[1] == seat):
                if task is not asyncio.current_task():  # a recovery may release its own seat
                    task.cancel()

    def _on_flowing(self, participant: SeatConnection) -> None:
        self._failures.pop((participant.room_id, participant.seat), None)
        if self._observer is not None:
            task = asyncio.get_running_loop().create_task(
                self._observer.media_flowing(participant.room_id, participant.seat)
            )
            self._releases.add(task)
            task.add_done_callback(self._releases.discard)

    async def _recover(self, participant: SeatConnection, reason: str) -> None:
        """Replace a lost connection by a new one in the same seat and offer it."""
        assert self.recovery is not None
        room_id, seat = participant.room_id, participant.seat
        try:
            router = self.rooms.get(room_id)
            if router is None or router.participants.get(seat) is not participant:
                return
            if participant.flowing and self._observer is not None:
                silent_s = time.monotonic() - participant.arrivals.last_at
                await self._observer.media_lost(room_id, seat, reason, silent_s)
            key = (room_id, seat)
            failures = self._failures.get(key, 0)
            self._failures[key] = failures + 1
            if failures:
                # a restart that never got going: do not hammer a dead link
                await asyncio.sleep(min(2.0 ** (failures - 1), self.recovery.max_backoff_s))
            if self.rooms.get(room_id) is not router:
                return
            new = await router.restart(participant)
            if new is None:
                return
            logger.info(
                "media of %s/%s restarted (connection %d): %s",
                room_id,
                seat,
                new.connection,
                reason,
            )
            if self._observer is not None:
                self._observer.connection_opened(new, True)
            offer = await self._first_offer(new, restart=True)
            if router.participants.get(seat) is new:
                await self._send_to_client(room_id, seat, "media_offer", offer)
        except MediaUnavailable as exc:  # the seat left or the room ended meanwhile
            logger.info("media of %s/%s not restarted: %s", room_id, seat, exc)
        except Exception:
            logger.exception("restarting the media of %s/%s failed", room_id, seat)

    async def _release(self, participant: SeatConnection, reason: str) -> None:
        try:
            router = self.rooms.get(participant.room_id)
            if router is None or router.participants.get(participant.seat) is not participant:
                return
            await router.leave(participant)
            self._drop_if_empty(router)
            if self._on_lost_callback is not None:
                await self._on_lost_callback(participant.room_id, participant.seat, reason)
        except Exception:
            logger.exception("releasing %s/%s failed", participant.room_id, participant.seat)

    def _drop_if_empty(self, router: Router) -> None:
        if not router.participants and self.rooms.get(router.room_id) is router:
            del self.rooms[router.room_id]
