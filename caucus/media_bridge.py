"""Joins the SFU to signalling and recording: the MediaPort the namespace talks to."""

from __future__ import annotations

import logging
from typing import Any

import av

from media.link_stats import LinkWatch
from media.sfu import Sfu, SfuConfig, UnknownParticipant
from recordings.service import Recordings
from sessions.audience import Route
from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from signaling.media_port import SendToSeat
from signaling.protocol import ServerEvent

logger = logging.getLogger(__name__)

_CODECS = {MediaKind.AUDIO: "opus", MediaKind.VIDEO: "vp8"}  # the only codecs offered


class SfuMedia:
    """MediaPort over :class:`media.sfu.Sfu`; every publisher's frames also go to recording."""

    def __init__(
        self, config: SfuConfig, recordings: Recordings, links: LinkWatch | None = None
    ) -> None:
        self._config = config
        self._links = links
        self._recordings = recordings
        self._send: SendToSeat | None = None
        self._sfu: Sfu | None = None
        recordings.request_keyframe = self._request_keyframe

    def attach(self, send: SendToSeat) -> None:
        """Give the bridge signalling's way to reach a seat (offers)."""
        self._send = send
        self._sfu = Sfu(send, config=self._config)

    @property
    def sfu(self) -> Sfu:
        if self._sfu is None:
            raise RuntimeError("SfuMedia.attach() was not called")
        return self._sfu

    async def seat_connected(self, room_id: RoomId, seat: SeatId) -> None:
        offer = await self.sfu.join(room_id, seat)
        participant = self.sfu.participant(room_id, seat)
        for producer in participant.producers.values():
            producer.sinks.append(self._sink_for(room_id))
        if self._links is not None:
            self._links.watch(room_id, seat, participant)
        assert self._send is not None
        await self._send(room_id, seat, ServerEvent.MEDIA_OFFER, offer)

    async def seat_disconnected(self, room_id: RoomId, seat: SeatId) -> None:
        if self._links is not None:
            self._links.forget(room_id, seat)
        await self.sfu.leave(room_id, seat)

    async def audience_changed(self, room_id: RoomId, routes: frozenset[Route]) -> None:
        await self.sfu.apply_audience(room_id, routes)

    async def answer(self, room_id: RoomId, seat: SeatId, sdp: str, type_: str) -> None:
        await self.sfu.answer(room_id, seat, {"sdp": sdp, "type": type_})

    async def ice_candidate(self, room_id: RoomId, seat: SeatId, candidate: dict[str, Any]) -> None:
        await self.sfu.add_ice_candidate(
            room_id, seat, candidate if candidate["candidate"] else None
        )

    async def close(self) -> None:
        if self._links is not None:
            await self._links.close()
        if self._sfu is not None:
            await self._sfu.close()

    def _sink_for(self, room_id: RoomId) -> Any:
        recordings = self._recordings

        def sink(seat: SeatId, kind: MediaKind, packet: av.Packet[Any]) -> None:
            time_base = packet.time_base
            clock_rate = int(1 / time_base) if time_base else 90_000
            recordings.on_frame(
                room_id, seat, kind, _CODECS[kind], clock_rate, bytes(packet), int(packet.pts or 0)
            )

        return sink

    def _request_keyframe(self, room_id: RoomId, seat: SeatId) -> None:
        try:
            producer = self.sfu.participant(room_id, seat).producers.get(MediaKind.VIDEO)
        except UnknownParticipant:
            return
        if producer is not None:
            producer.request_keyframe()
