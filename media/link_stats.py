"""Each seat's uplink sampled every 2 s; its troubled stretches stored on the session clock.

What is read, all of it already counted for forwarding (nothing per packet is added):

* loss: the packets each published track's NACK scheduler found missing on
  arrival (``ReceiverControl.lost``, before any repair: the link's own loss),
  over how far its highest sequence number advanced (``Producer.newest_ext``);
* round trip: what the seat's RTCP receiver reports about the server's streams
  to it (aiortc's ``remote-inbound-rtp``; none while the seat receives nothing);
* jitter: aiortc's RFC 3550 arrival jitter of the seat's audio (else video);
* bitrate: bytes the seat's transport received;
* freezes: a sink on the video producer notes each frame's arrival; no frame
  for more than ``FREEZE_MS`` is a freeze.

:class:`sessions.link_trouble.TroubleTracker` turns the samples into stretches;
each is stored once closed, as a ``trouble`` timeline event at its start.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCPeerConnection

from media.codecs import FORWARDED
from media.producer import Producer
from media.seat_connection import SeatConnection
from sessions.ids import RoomId, SeatId
from sessions.link_trouble import FREEZE_MS, LinkSample, Stretch, TroubleTracker
from sessions.media_kinds import MediaKind
from sessions.timeline import Event, EventKind

logger = logging.getLogger(__name__)

SAMPLE_S = 2.0

SessionClock = Callable[[RoomId], int]
StoreEvent = Callable[[RoomId, Event], None]


class FrameGaps:
    """When a video track's frames stopped arriving: a producer sink, one per seat."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last: float | None = None
        self._freezes: list[tuple[float, float]] = []

    def sink(self, seat: SeatId, kind: MediaKind, packet: Any) -> None:
        if kind is not MediaKind.VIDEO:
            return
        now = self._clock()
        if self._last is not None and now - self._last > FREEZE_MS / 1000:
            self._freezes.append((self._last, now))
        self._last = now

    def take(self, now: float) -> list[tuple[float, float]]:
        """Freezes since the last call, the one still going on included (up to `now`)."""
        freezes, self._freezes = self._freezes, []
        if self._last is not None and now - self._last > FREEZE_MS / 1000:
            freezes.append((self._last, now))
        return freezes


@dataclass
class _Counts:
    newest: dict[MediaKind, int] = field(default_factory=dict)
    lost: dict[MediaKind, int] = field(default_factory=dict)
    bytes_in: int | None = None


@dataclass
class _Watched:
    participant: SeatConnection
    tracker: TroubleTracker
    gaps: FrameGaps
    since_ms: int
    counts: _Counts = field(default_factory=_Counts)
    #: the latest sample, for the console's live rooms
    last: LinkSample | None = None


class LinkWatch:
    """Samples every watched seat's link every ``SAMPLE_S`` and stores troubled stretches."""

    def __init__(
        self,
        session_ms: SessionClock,
        store: StoreEvent,
        *,
        interval: float = SAMPLE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session_ms = session_ms
        self._store = store
        self._interval = interval
        self._clock = clock
        self._seats: dict[tuple[RoomId, SeatId], _Watched] = {}
        self._task: asyncio.Task[None] | None = None
        #: told of every sample (the /metrics loss and round-trip histograms)
        self.on_sample: list[Callable[[RoomId, SeatId, LinkSample], None]] = []

    def watch(self, room_id: RoomId, seat: SeatId, participant: SeatConnection) -> None:
        """Start sampling a seat that just connected (a reconnect starts afresh)."""
        self.forget(room_id, seat)
        now_ms = self._now_ms(room_id)
        if now_ms is None:
            return
        gaps = FrameGaps(self._clock)
        video = participant.producers.get(MediaKind.VIDEO)
        if video is not None:
            video.sinks.append(gaps.sink)
        self._seats[(room_id, seat)] = _Watched(participant, TroubleTracker(seat), gaps, now_ms)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="link-watch")

    def forget(self, room_id: RoomId, seat: SeatId) -> None:
        """The seat left: store the stretch it was in, if any."""
        watched = self._seats.pop((room_id, seat), None)
        if watched is None:
            return
        video = watched.participant.producers.get(MediaKind.VIDEO)
        if video is not None and watched.gaps.sink in video.sinks:
            video.sinks.remove(watched.gaps.sink)
        self._keep(room_id, watched.tracker.flush())
        if not self._seats and self._task is not None:
            self._task.cancel()  # nothing to sample: no task idles on an empty server
            self._task = None

    async def close(self) -> None:
        for room_id, seat in list(self._seats):
            self.forget(room_id, seat)
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)  # the sampling period is the behaviour
            for (room_id, seat), watched in list(self._seats.items()):
                try:
                    await self.sample(room_id, seat, watched)
                except Exception:  # one seat's closing connection must not stop the rest
                    logger.exception("link sample of %s/%s failed", room_id, seat)

    def latest(self, room_id: RoomId, seat: SeatId) -> LinkSample | None:
        """The seat's most recent sample (None before the first, or once it left)."""
        watched = self._seats.get((room_id, seat))
        return None if watched is None else watched.last

    async def sample_seat(self, room_id: RoomId, seat: SeatId) -> None:
        """Sample one watched seat now (the loop does this every interval)."""
        watched = self._seats.get((room_id, seat))
        if watched is not None:
            await self.sample(room_id, seat, watched)

    async def sample(self, room_id: RoomId, seat: SeatId, watched: _Watched) -> None:
        now_ms, since_ms = self._now_ms(room_id), watched.since_ms
        if now_ms is None or now_ms <= since_ms:
            return
        watched.since_ms = now_ms  # claimed before awaiting: intervals never overlap
        now = self._clock()
        # read before awaiting: a frame arriving meanwhile would end a freeze after `now`
        freezes = [
            (now_ms - round(1000 * (now - a)), min(now_ms, now_ms - round(1000 * (now - b))))
            for a, b in watched.gaps.take(now)
        ]
        stats = await _stats(watched.participant.pc)
        expected = lost = 0
        for kind, producer in watched.participant.producers.items():
            e, lo = _advance(watched.counts, kind, producer)
            expected, lost = expected + e, lost + lo
        bytes_in = _bytes_received(stats)
        kbps = None
        if bytes_in is not None and watched.counts.bytes_in is not None:
            kbps = round(8 * (bytes_in - watched.counts.bytes_in) / (now_ms - since_ms))
        watched.counts.bytes_in = bytes_in
        # not the NACK repair time: a lost NACK or repair inflates it to a second or more
        rtt = _round_trip_s(stats)
        link = LinkSample(
            now_ms,
            now_ms - since_ms,
            expected=expected,
            lost=min(lost, expected),
            rtt_ms=None if rtt is None else round(rtt * 1000),
            jitter_ms=_jitter_ms(stats),
            kbps=kbps,
            freezes=tuple((max(0, a), b) for a, b in freezes if max(0, a) < b),
        )
        logger.debug("link %s/%s: %s", room_id, seat, link)
        watched.last = link
        for hook in self.on_sample:
            hook(room_id, seat, link)
        self._keep(room_id, watched.tracker.add(link))

    def _keep(self, room_id: RoomId, stretches: list[Stretch]) -> None:
        for stretch in stretches:
            logger.info("link trouble %s/%s: %s", room_id, stretch.seat, stretch.what)
            self._store(
                room_id, Event(stretch.start_ms, EventKind.TROUBLE, stretch.seat, stretch.detail())
            )

    def _now_ms(self, room_id: RoomId) -> int | None:
        try:
            return self._session_ms(room_id)
        except KeyError:  # the room is not live in this process (closed meanwhile)
            return None


def _advance(counts: _Counts, kind: MediaKind, producer: Producer) -> tuple[int, int]:
    """(packets sent, packets lost) by a published track since the last sample."""
    newest, control = producer.newest_ext, producer.control
    if newest is None or control is None:
        return 0, 0
    before_newest = counts.newest.get(kind, newest)
    before_lost = counts.lost.get(kind, control.lost)
    counts.newest[kind], counts.lost[kind] = newest, control.lost
    return max(0, newest - before_newest), max(0, control.lost - before_lost)


async def _stats(pc: RTCPeerConnection) -> list[Any]:
    if pc.connectionState in ("closed", "failed"):
        return []
    try:
        return list((await pc.getStats()).values())
    except Exception as exc:  # a connection closing under us is normal, not an error
        logger.debug("link stats unavailable: %r", exc)
        return []


def _bytes_received(stats: list[Any]) -> int | None:
    values = [int(s.bytesReceived) for s in stats if s.type == "transport"]
    return max(values) if values else None


def _round_trip_s(stats: list[Any]) -> float | None:
    values = [
        s.roundTripTime
        for s in stats
        if s.type == "remote-inbound-rtp" and s.roundTripTime and s.roundTripTime > 0
    ]
    return max(values) if values else None


def _jitter_ms(stats: list[Any]) -> int | None:
    """The audio's arrival jitter (how a seat sounds), else the video's, in ms."""
    by_kind: dict[str, int] = {
        s.kind: int(s.jitter) for s in stats if s.type == "inbound-rtp" and s.jitter
    }
    for kind in ("audio", "video"):
        if kind in by_kind:
            return round(1000 * by_kind[kind] / FORWARDED[MediaKind(kind)].clock_rate)
    return None
