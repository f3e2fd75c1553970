"""Joins the SFU to the rooms and recording: the MediaPort the room service talks to.

It also keeps each seat's media status (``connecting``, ``connected``,
``reconnecting``) for the room state, and puts every gap in a seat's media on
the timeline: ``media_lost`` when a connection that carried media dies (or the
seat's socket drops), ``media_restored`` with the gap's length once media from
that seat flows again – on a restarted connection or after a re-join.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import av

from media.codecs import FORWARDED
from media.link_stats import LinkWatch
from media.producer import PacketSink
from media.recovery import RecoveryConfig
from media.seat_connection import SeatConnection
from media.sfu import RestartRefused, Sfu, SfuConfig, UnknownParticipant
from recordings.service import Recordings
from rooms.media_port import MediaStatus, ReportMedia, RestartOutcome, SendToSeat
from sessions.audience import Route
from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from sessions.timeline import EventKind
from signaling.protocol import ServerEvent

logger = logging.getLogger(__name__)

_RTP_MASK = 0xFFFFFFFF
SeatKey = tuple[RoomId, SeatId]


class RtpContinuity:
    """One recorded track's RTP timeline, continuous across the seat's connections.

    A new connection's frames start from timestamp 0 again; the recorder would
    read that as a jump.  Each new source is shifted to continue where the last
    one stopped plus the wall-clock time in between, so a short gap stays one
    segment and a long one is a pause, as for any silence.
    """

    def __init__(self) -> None:
        self._source: object | None = None
        self._offset = 0
        self._last: tuple[int, float] | None = None  # (timestamp out, monotonic time)

    def map(self, source: object, timestamp: int, clock_rate: int, now: float) -> int:
        if source is not self._source:
            self._source = source
            if self._last is not None:
                last_ts, last_at = self._last
                elapsed = max(1, int((now - last_at) * clock_rate))
                self._offset = (last_ts + elapsed - timestamp) & _RTP_MASK
        out = (timestamp + self._offset) & _RTP_MASK
        self._last = (out, now)
        return out


class SfuMedia:
    """MediaPort over :class:`media.sfu.Sfu`; every publisher's frames also go to recording."""

    def __init__(
        self,
        config: SfuConfig,
        recordings: Recordings,
        recovery: RecoveryConfig | None = None,
        links: LinkWatch | None = None,
    ) -> None:
        self._config = config
        self._recovery = recovery or RecoveryConfig()
        self._links = links
        self._recordings = recordings
        self._send: SendToSeat | None = None
        self._report: ReportMedia | None = None
        self._sfu: Sfu | None = None
        self._status: dict[SeatKey, MediaStatus] = {}
        self._lost: dict[SeatKey, tuple[float, str]] = {}  # since when, why
        self._timelines: dict[tuple[RoomId, SeatId, MediaKind], RtpContinuity] = {}
        recordings.request_keyframe = self._request_keyframe

    def attach(self, send: SendToSeat, report: ReportMedia | None = None) -> None:
        """Give the bridge signalling's way to reach a seat (offers) and the room (status)."""
        self._send = send
        self._report = report
        self._sfu = Sfu(send, config=self._config, recovery=self._recovery, observer=self)

    @property
    def sfu(self) -> Sfu:
        if self._sfu is None:
            raise RuntimeError("SfuMedia.attach() was not called")
        return self._sfu

    # -- MediaPort -----------------------------------------------------------------

    async def seat_connected(self, room_id: RoomId, seat: SeatId) -> None:
        key = (room_id, seat)
        self._status[key] = "reconnecting" if key in self._lost else "connecting"
        offer = await self.sfu.join(room_id, seat)
        assert self._send is not None
        await self._send(room_id, seat, ServerEvent.MEDIA_OFFER, offer)

    async def seat_disconnected(
        self, room_id: RoomId, seat: SeatId, gap: str | None = None
    ) -> None:
        if self._links is not None:
            self._links.forget(room_id, seat)
        key = (room_id, seat)
        was = self._status.pop(key, None)
        await self.sfu.leave(room_id, seat)
        if gap is None:  # left or released: no gap to close
            self._lost.pop(key, None)
            for kind in MediaKind:
                self._timelines.pop((room_id, seat, kind), None)
            return
        if was in ("connected", "reconnecting"):
            self._status[key] = "reconnecting"
        if was == "connected":
            await self._media_lost(key, gap, silent_s=0.0)

    async def audience_changed(self, room_id: RoomId, routes: frozenset[Route]) -> None:
        await self.sfu.apply_audience(room_id, routes)

    async def answer(
        self, room_id: RoomId, seat: SeatId, sdp: str, type_: str, connection: int | None = None
    ) -> bool:
        try:
            return await self.sfu.answer(room_id, seat, {"sdp": sdp, "type": type_}, connection)
        except UnknownParticipant as exc:  # an answer for a connection already released
            raise ValueError(str(exc)) from None

    async def ice_candidate(
        self,
        room_id: RoomId,
        seat: SeatId,
        candidate: dict[str, Any],
        connection: int | None = None,
    ) -> bool:
        try:
            return await self.sfu.add_ice_candidate(
                room_id, seat, candidate if candidate["candidate"] else None, connection
            )
        except UnknownParticipant as exc:
            raise ValueError(str(exc)) from None

    async def restart(self, room_id: RoomId, seat: SeatId, reason: str) -> RestartOutcome:
        try:
            await self.sfu.restart(room_id, seat, f"client: {reason}")
        except UnknownParticipant:
            return "no_connection"
        except RestartRefused:
            return "too_soon"
        return "restarting"

    def media_status(self, room_id: RoomId) -> dict[SeatId, MediaStatus]:
        return {seat: status for (room, seat), status in self._status.items() if room == room_id}

    async def close(self) -> None:
        if self._links is not None:
            await self._links.close()
        if self._sfu is not None:
            await self._sfu.close()

    # -- MediaObserver (told by the Sfu) --------------------------------------------

    def connection_opened(self, participant: SeatConnection, restart: bool) -> None:
        for producer in participant.producers.values():
            producer.sinks.append(self._sink_for(participant.room_id, producer))
        if self._links is not None:  # a new connection is sampled afresh
            self._links.watch(participant.room_id, participant.seat, participant)

    async def media_lost(self, room_id: RoomId, seat: SeatId, reason: str, silent_s: float) -> None:
        key = (room_id, seat)
        if key in self._status:
            self._status[key] = "reconnecting"
        await self._media_lost(key, reason, silent_s)

    async def media_flowing(self, room_id: RoomId, seat: SeatId) -> None:
        key = (room_id, seat)
        if key not in self._status:
            return  # the seat left meanwhile
        self._status[key] = "connected"
        lost = self._lost.pop(key, None)
        if lost is None:
            await self._tell(room_id, seat, None, {})
            return
        since, reason = lost
        gap_ms = int((time.monotonic() - since) * 1000)
        logger.info("media of %s/%s back after %d ms (%s)", room_id, seat, gap_ms, reason)
        await self._tell(
            room_id, seat, EventKind.MEDIA_RESTORED, {"reason": reason, "gap_ms": gap_ms}
        )

    # -- helpers -------------------------------------------------------------------

    async def _media_lost(self, key: SeatKey, reason: str, silent_s: float) -> None:
        """The gap began ``silent_s`` ago, when the last packet arrived."""
        if key in self._lost:
            return  # one gap, however many attempts it takes
        self._lost[key] = (time.monotonic() - silent_s, reason)
        logger.info("media of %s/%s lost: %s", key[0], key[1], reason)
        detail: dict[str, str | int | None] = {
            "reason": reason,
            "silent_ms": int(silent_s * 1000),
        }
        await self._tell(key[0], key[1], EventKind.MEDIA_LOST, detail)

    async def _tell(
        self,
        room_id: RoomId,
        seat: SeatId,
        kind: EventKind | None,
        detail: dict[str, str | int | None],
    ) -> None:
        if self._report is None:
            return
        try:
            await self._report(room_id, seat, kind, detail)
        except Exception:
            logger.exception("reporting the media of %s/%s failed", room_id, seat)

    def _sink_for(self, room_id: RoomId, source: object) -> PacketSink:
        recordings = self._recordings
        timelines = self._timelines

        def sink(seat: SeatId, kind: MediaKind, packet: av.Packet[Any]) -> None:
            time_base = packet.time_base
            clock_rate = int(1 / time_base) if time_base else 90_000
            timeline = timelines.get((room_id, seat, kind))
            if timeline is None:
                timeline = timelines[(room_id, seat, kind)] = RtpContinuity()
            timestamp = timeline.map(source, int(packet.pts or 0), clock_rate, time.monotonic())
            recordings.frame_forwarded(
                room_id, seat, kind, FORWARDED[kind].name, clock_rate, bytes(packet), timestamp
            )

        return sink

    def _request_keyframe(self, room_id: RoomId, seat: SeatId) -> None:
        try:
            producer = self.sfu.participant(room_id, seat).producers.get(MediaKind.VIDEO)
        except UnknownParticipant:
            return
        if producer is not None:
            producer.request_keyframe()
