"""One subscriber's downlink: the simulcast layer of each video it receives, and its page told.

A :class:`Downlink` belongs to a subscriber's :class:`~media.seat_connection.SeatConnection`.
Its consumers report the subscriber's REMB and receiver-report loss here
(``Consumer.on_estimate`` / ``on_loss``); every ``TICK_S`` the layers are chosen
(:class:`~media.layers.LayerSelector`) for the video of simulcast publishers the
subscriber is allowed to receive, and applied (``Consumer.set_layer``).  When the
set of paused videos or a chosen layer changes, the subscriber's page is sent
``media_video`` (docs/protocol.md)::

    {"paused": ["party_a"], "layers": {"mediator": {"layer": 2, "of": 3}}}

A publisher without simulcast (Firefox, an aiortc client) sends one stream: it is
one layer, forwarded or paused, and the page hears of it only when it is paused.

Audio is never paused; when the link is still short with every video paused, the
voices it receives lose RED's redundant copy one at a time, lowest priority first,
and get it back as the loss clears (:class:`~media.voice_redundancy.VoiceRedundancy`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from media.consumer import Consumer
from media.layer_knobs import LayerKnobs
from media.layers import PAUSED, LayerSelector, seat_priority
from media.simulcast_sdp import RIDS
from media.voice_redundancy import VoiceRedundancy
from sessions.media_kinds import MediaKind

logger = logging.getLogger(__name__)

TICK_S = 0.5
EVENT = "media_video"
#: bytes a forwarded packet takes on the wire besides its payload: IPv4 and UDP
#: headers, the RTP header with its extensions, SRTP's authentication tag
PACKET_OVERHEAD = 20 + 8 + 20 + 10
#: a video that stops being forwarded (its publisher reconnects, a caucus gates it)
#: keeps its layer memory this long, so coming back does not restart it on top
FORGET_S = 15.0


class Downlink:
    def __init__(
        self,
        name: str = "",
        knobs: LayerKnobs | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.selector = LayerSelector(knobs)
        self.voices = VoiceRedundancy()
        self._clock = clock
        # what the page was last told (it hears nothing until a video is simulcast or paused)
        self._told: dict[str, Any] = {"paused": [], "layers": {}}
        self._absent: dict[str, float] = {}  # stream -> since when it is not forwarded
        self._losses: list[float] = []  # the receiver reports' loss since the last tick
        self._rtts: list[float] = []  # and their round trips, seconds
        self._audio_at: float | None = None  # the last tick, and each voice's wire bytes then
        self._audio_marks: dict[str, int] = {}  # by publisher

    def watch(self, consumer: Consumer) -> None:
        """Hear the subscriber's reports through ``consumer`` (each of its consumers)."""
        consumer.on_estimate = self._estimate
        consumer.on_loss = self._losses.append
        consumer.on_rtt = self._rtts.append

    def _estimate(self, bitrate: int) -> None:
        self.selector.estimate(bitrate, self._clock())

    def choose(self, consumers: Iterable[Consumer]) -> dict[str, Any] | None:
        """Choose and apply every layer; the ``media_video`` payload if the page must hear."""
        now = self._clock()
        # The reports are heard once a tick, as the mean of those since the last: every
        # consumer reports on its own stream (~50 packets a second), so one report alone
        # is a small sample, and a subscriber of three seats sends about six a second.
        # Fed one by one, one unlucky report could pause videos on a link that carries
        # them (tests/media/test_impaired.py saw two paused on a 3 % link, in CI).
        for reports, hear in ((self._losses, self.selector.loss), (self._rtts, self.selector.rtt)):
            if reports:
                hear(sum(reports) / len(reports), now)
                reports.clear()
        rates: dict[str, list[int]] = {}
        videos: dict[str, Consumer] = {}
        simulcast: set[str] = set()
        voices: dict[str, Consumer] = {}
        for consumer in consumers:
            if not consumer.forwarding:
                continue
            if consumer.kind is MediaKind.AUDIO:
                voices[consumer.publisher] = consumer
                continue
            producer = consumer.producer
            if producer is None:
                continue
            key = consumer.publisher
            self.selector.stream(key, seat_priority(key))
            rates[key] = producer.layer_rates(now, len(RIDS))
            videos[key] = consumer
            if producer.simulcast:
                simulcast.add(key)
        for present in rates:
            self._absent.pop(present, None)
        for gone in [k for k in self.selector.streams if k not in rates]:
            since = self._absent.setdefault(gone, now)
            if now - since >= FORGET_S:
                self.selector.forget(gone)  # long gone: starts afresh when back
                del self._absent[gone]
        # a voice without its copy comes back before any paused video does
        red = sum(1 for k, c in voices.items() if c.takes_red and k not in self.voices.thinned)
        chosen = self.selector.choose(
            rates,
            len(voices),
            now,
            may_resume=self.voices.all_restored(now),
            red_streams=red,
            audio_bps=self._audio_rate(voices, now),
        )
        for seat, layer in chosen.items():
            videos[seat].set_layer(layer)
        self._choose_redundancy(voices, any(layer != PAUSED for layer in chosen.values()), now)
        payload = {
            "paused": sorted(k for k, layer in chosen.items() if layer == PAUSED),
            "layers": {
                k: {"layer": layer, "of": sum(1 for r in rates[k] if r > 0)}
                for k, layer in sorted(chosen.items())
                if layer != PAUSED and k in simulcast
            },
        }
        if payload == self._told:
            return None
        logger.info(
            "video layers for %s: %s (REMB %s bit/s, loss %s, queued %.0f ms)",
            self.name,
            payload,
            self.selector.last_estimate,
            self.selector.last_loss,
            1000 * self.selector.queued(now),
        )
        self._told = payload
        return payload

    def _audio_rate(self, voices: dict[str, Consumer], now: float) -> float | None:
        """What the voices took on the wire since the last tick, bit/s (None at first)."""
        marks = {}
        for seat, voice in voices.items():
            payload, packets = voice.sent
            marks[seat] = payload + PACKET_OVERHEAD * packets
        before, self._audio_marks = self._audio_marks, marks
        then, self._audio_at = self._audio_at, now
        if then is None or now <= then:
            return None
        # a voice new since the last tick counts from the next; a new consumer of a
        # voice (its publisher reconnected) counts from its first packet
        sent = sum(
            total - before[k] if total >= before[k] else total
            for k, total in marks.items()
            if k in before
        )
        return sent * 8 / (now - then)

    def _choose_redundancy(
        self, voices: dict[str, Consumer], video_forwarded: bool, now: float
    ) -> None:
        # only a voice sent as RED has a copy to shed (a subscriber may not take RED)
        voices = {seat: consumer for seat, consumer in voices.items() if consumer.takes_red}
        before = self.voices.thinned[:]
        queue, knobs = self.selector.queued(now), self.selector.knobs
        thinned = self.voices.choose(
            {seat: seat_priority(seat) for seat in voices},
            loss=self.selector.current_loss(now),
            video_forwarded=video_forwarded,
            now=now,
            queued=queue > knobs.queue_short_s,
            queue_clear=queue <= knobs.queue_clear_s,
        )
        for seat, consumer in voices.items():
            consumer.send_redundancy(seat not in thinned)
        if self.voices.thinned != before:
            if len(self.voices.thinned) > len(before):
                self.selector.sent_less(now)
            logger.info(
                "voices without their RED copy for %s: %s (loss %s)",
                self.name,
                sorted(thinned),
                self.selector.last_loss,
            )
