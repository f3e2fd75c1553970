"""What /metrics reports, read at scrape time from what the server already counts.

Nothing here runs per packet. The media figures are plain integers the SFU
keeps (``media.latency.ForwardingStats``: packets, bytes, NACKs, losses,
retransmissions, keyframe requests) and the recorder's (``WriterStats``, the
catalogue queue); they are read when Prometheus scrapes, by
:class:`NodeCollector`. What happens at a slower pace is observed as it happens:
each seat's link sample (every 2 s, ``LinkWatch.on_sample``) into the loss and
round-trip histograms, each signalling event and its answer
(``GuardedServer.event_observers``), each recording failure, each HTTP request
(``web.metrics.HttpCounts``), and an event-loop probe every
:data:`LOOP_PROBE_S`. Label values are bounded: event names and error codes of
the protocol (anything else is "other"), route templates, no room or seat ids.

Counters of one process: a scraper sums them over nodes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from caucus.config import Config
from media.aiortc_internals import port_guard
from media.latency import BUCKET_SECONDS, LatencyHistogram
from media.link_stats import LinkWatch
from media.sfu import Sfu
from recordings.service import Recordings
from recordings.writer_thread import WriterThread
from rooms.directory import RoomDirectory
from sessions.ids import RoomId, SeatId
from sessions.link_trouble import LinkSample
from sessions.phases import PhaseKind
from signaling import namespace as namespace_module
from signaling import wire
from signaling.client_faults import ClientFaultLog
from signaling.protocol import ClientEvent, ErrorCode
from web import errors as web_errors
from web.metrics import HttpCounts, MetricsAccess, MetricsListener, parse_address

logger = logging.getLogger(__name__)

#: how often the event-loop probe wakes (its lateness is the loop's lag)
LOOP_PROBE_S = 0.5
_LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_LOSS_BUCKETS = (0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5, 1.0)
_RTT_BUCKETS = (0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.0)
_JITTER_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5)
#: the SFU's added forwarding delay, from its 10 µs histogram (media/latency.py)
_DELAY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2)

_EVENTS = frozenset({*(e.value for e in ClientEvent), "connect", "disconnect"})
_CODES = frozenset(c.value for c in ErrorCode)

#: every place a client's refused input is noted (one line per kind and interval)
_FAULT_LOGS: tuple[ClientFaultLog, ...] = (
    wire.client_faults,
    namespace_module.client_faults,
    web_errors.client_faults,
)


class NodeMetrics:
    """The registry of one server and everything that feeds it."""

    def __init__(self, token: str, address: tuple[str, int] | None) -> None:
        self.registry = CollectorRegistry()
        self.access = MetricsAccess(self.registry, token, on_main_port=address is None)
        self.listener = None if address is None else MetricsListener(*address, self.access)
        #: the link watch whose samples feed the seat histograms (None without media)
        self.links: LinkWatch | None = None
        self.http = HttpCounts(self.registry)
        ProcessCollector(registry=self.registry)  # process_cpu_seconds_total, RSS, fds
        self.loop_lag = Histogram(
            "caucus_event_loop_lag_seconds",
            f"How late the event loop ran a probe due every {LOOP_PROBE_S} s",
            buckets=_LAG_BUCKETS,
            registry=self.registry,
        )
        self.seat_loss = Histogram(
            "caucus_seat_loss_ratio",
            "Each seat's uplink loss before repair, one observation per seat every 2 s",
            buckets=_LOSS_BUCKETS,
            registry=self.registry,
        )
        self.seat_rtt = Histogram(
            "caucus_seat_rtt_seconds",
            "Each seat's round trip (its receiver reports), one observation per seat every 2 s",
            buckets=_RTT_BUCKETS,
            registry=self.registry,
        )
        self.seat_jitter = Histogram(
            "caucus_seat_jitter_seconds",
            "Each seat's arrival jitter (audio, else video), per seat every 2 s",
            buckets=_JITTER_BUCKETS,
            registry=self.registry,
        )
        self.events = Counter(
            "caucus_signalling_events",
            "Socket.IO events from clients, by name (connect and disconnect included)",
            ["event"],
            registry=self.registry,
        )
        self.errors = Counter(
            "caucus_signalling_errors",
            "Socket.IO events answered with an error, by name and error code",
            ["event", "code"],
            registry=self.registry,
        )
        self.recording_failures = Counter(
            "caucus_recording_failures",
            "Recordings failed (disk full, I/O error, catalogue refused, writer too slow)",
            registry=self.registry,
        )

    @classmethod
    def from_config(cls, config: Config) -> NodeMetrics | None:
        """None when neither a token nor an address is set (metrics are off).

        A malformed CAUCUS_METRICS_ADDRESS is a ValueError here, before anything opens.
        """
        address = parse_address(config.metrics_address) if config.metrics_address else None
        if not config.metrics_token and address is None:
            return None
        return cls(config.metrics_token, address)

    def watch(
        self,
        directory: RoomDirectory,
        recordings: Recordings,
        sio: wire.GuardedServer,
        sfu: Sfu | None,
        links: LinkWatch | None,
    ) -> None:
        """Read and hear the server's parts (once, after they are built and wired)."""
        self.registry.register(NodeCollector(directory, recordings, sio, sfu))
        sio.event_observers.append(self.signalling_event)
        self.links = links
        if links is not None:
            links.on_sample.append(self.link_sample)
        status = recordings.on_status

        def on_status(room_id: RoomId, reason: str | None) -> None:
            if reason is not None:
                self.recording_failures.inc()
            status(room_id, reason)

        recordings.on_status = on_status

    def signalling_event(self, event: str, answer: Any) -> None:
        name = event if event in _EVENTS else "other"
        self.events.labels(name).inc()
        if isinstance(answer, dict) and answer.get("ok") is False:
            code = answer.get("code")
            self.errors.labels(name, code if code in _CODES else "other").inc()

    def link_sample(self, room_id: RoomId, seat: SeatId, sample: LinkSample) -> None:
        if sample.expected > 0:
            self.seat_loss.observe(sample.loss)
        if sample.rtt_ms is not None:
            self.seat_rtt.observe(sample.rtt_ms / 1000)
        if sample.jitter_ms is not None:
            self.seat_jitter.observe(sample.jitter_ms / 1000)

    async def context(self, app: web.Application) -> AsyncIterator[None]:
        """The loop probe and the metrics listener, for the application's lifetime."""
        probe = asyncio.get_running_loop().create_task(self._probe(), name="loop-lag-probe")
        if self.listener is not None:
            await self.listener.start()
            logger.info("metrics on http://%s:%d/metrics", self.listener.host, self.listener.port)
        try:
            yield
        finally:
            if self.listener is not None:
                await self.listener.stop()
            probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await probe

    async def _probe(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + LOOP_PROBE_S
            await asyncio.sleep(LOOP_PROBE_S)  # the probe's period is what it measures against
            self.loop_lag.observe(max(0.0, loop.time() - due))


class NodeCollector(Collector):
    """Gauges and counters read from the server's own objects at each scrape."""

    def __init__(
        self,
        directory: RoomDirectory,
        recordings: Recordings,
        sio: wire.GuardedServer,
        sfu: Sfu | None,
    ) -> None:
        self._directory = directory
        self._recordings = recordings
        self._sio = sio
        self._sfu = sfu

    def collect(self) -> Iterator[Metric]:
        yield from self._rooms()
        if self._sfu is not None:
            yield from self._media(self._sfu)
        yield from self._recording()
        yield from self._refusals()
        yield from self._node()

    def _rooms(self) -> Iterator[Metric]:
        rooms = [r for r in self._directory.rooms() if r.room.phase.kind is not PhaseKind.ENDED]
        yield _gauge("caucus_rooms_live", "Rooms live in this process (not ended)", len(rooms))
        yield _gauge(
            "caucus_seats_connected",
            "Seats with a connected signalling socket, over the live rooms",
            sum(len(r.sockets) for r in rooms),
        )
        engine = getattr(self._sio, "eio", None)
        sockets = len(getattr(engine, "sockets", {}))
        yield _gauge("caucus_socket_connections", "Engine.IO connections open", sockets)

    def _media(self, sfu: Sfu) -> Iterator[Metric]:
        participants = [p for r in sfu.rooms.values() for p in r.participants.values()]
        yield _gauge("caucus_media_rooms", "Rooms with media connections", len(sfu.rooms))
        yield _gauge(
            "caucus_media_seats_connected",
            "Seats whose media (peer) connection is connected",
            sum(1 for p in participants if p.connected),
        )
        yield _gauge(
            "caucus_media_seats_flowing",
            "Seats whose media connection is up and whose media arrives",
            sum(1 for p in participants if p.flowing),
        )
        s = sfu.stats
        for name, doc, value in (
            ("received_packets", "RTP packets received from publishers", s.packets_in),
            ("received_bytes", "RTP payload bytes received from publishers", s.bytes_in),
            ("received_frames", "Complete frames assembled from publishers", s.frames_in),
            ("forwarded_packets", "RTP packets forwarded to subscribers", s.packets_out),
            ("forwarded_bytes", "RTP payload bytes forwarded to subscribers", s.bytes_out),
            ("nacks_sent", "NACKs (RTCP) sent to publishers", s.nacks_sent),
            ("nacked_packets", "Packets asked for in the NACKs to publishers", s.nacked_packets),
            ("packets_lost", "Publishers' packets found missing on arrival", s.packets_lost),
            ("packets_repaired", "Missing packets that arrived after a NACK", s.packets_repaired),
            ("packets_abandoned", "Missing packets given up on", s.packets_abandoned),
            (
                "retransmission_requests",
                "Packets subscribers asked for again (their NACKs)",
                s.retransmission_requests,
            ),
            ("retransmissions", "Packets sent again to subscribers", s.retransmissions),
            (
                "retransmissions_missed",
                "Packets subscribers asked for that had left the history",
                s.retransmissions_missed,
            ),
            (
                "keyframe_requests_received",
                "Keyframe requests (PLI/FIR) from subscribers",
                s.keyframe_requests_received,
            ),
        ):
            yield _counter(f"caucus_{name}", doc, value)
        plis = CounterMetricFamily(
            "caucus_keyframe_requests_sent",
            "Keyframe requests (PLI) sent to publishers: relayed for subscribers (throttled),"
            " or the server's own (a frame given up on, no keyframe yet)",
            labels=["reason"],
        )
        plis.add_metric(["relayed"], s.keyframe_requests)
        plis.add_metric(["repair"], s.keyframe_requests_repair)
        yield plis
        yield _histogram(
            "caucus_forwarding_delay_seconds",
            "Added delay from a packet's arrival to its copies' departure",
            s.delay,
        )
        drops = port_guard.process_counts().as_dict()
        family = CounterMetricFamily(
            "caucus_media_datagrams_dropped",
            "Datagrams a media port refused, by reason (process-wide)",
            labels=["reason"],
        )
        for reason, count in drops.items():
            family.add_metric([reason], count)
        yield family

    def _recording(self) -> Iterator[Metric]:
        recordings = self._recordings
        disk = recordings.disk
        if isinstance(disk, WriterThread):
            stats = disk.stats
            yield _counter(
                "caucus_recording_bytes", "Encoded bytes handed to the muxer", stats.bytes_written
            )
            yield _counter("caucus_recording_frames", "Frames muxed", stats.frames_written)
            yield _counter(
                "caucus_recording_frames_dropped",
                "Frames dropped because the writer's queue was full",
                stats.frames_dropped,
            )
            yield _counter(
                "caucus_recording_write_errors", "Writer jobs that failed", stats.jobs_failed
            )
            yield _gauge(
                "caucus_recording_queue_frames", "Frames waiting for the disk", disk.queued_frames
            )
        failed = sum(1 for r in self._directory.rooms() if recordings.status(r.id) is not None)
        yield _gauge("caucus_recordings_failed", "Live rooms whose recording is failed", failed)
        yield _gauge(
            "caucus_catalogue_writes_pending",
            "Catalogue writes queued for the database",
            recordings.writes.pending,
        )
        yield _gauge(
            "caucus_catalogue_writes_deferred",
            "Catalogue writes the database refused, kept for a retry",
            recordings.deferred_writes,
        )

    def _refusals(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "caucus_client_refusals",
            "Clients' malformed or refused input (frames, answers, requests), by kind",
            labels=["kind"],
        )
        totals: dict[str, int] = {}
        for log in _FAULT_LOGS:
            for kind, count in log.refusals.items():
                totals[kind] = totals.get(kind, 0) + count
        for kind, count in sorted(totals.items()):
            family.add_metric([kind], count)
        yield family

    def _node(self) -> Iterator[Metric]:
        yield _gauge("caucus_node_load1", "The machine's 1-minute load average", os.getloadavg()[0])
        yield _gauge("caucus_node_cpus", "CPUs of the machine", os.cpu_count() or 1)
        yield _gauge("caucus_threads", "Threads of the process", threading.active_count())
        yield _gauge("caucus_asyncio_tasks", "Tasks on the event loop", _tasks())


def _tasks() -> int:
    try:
        return len(asyncio.all_tasks())
    except RuntimeError:  # scraped outside the loop (a test's registry read)
        return 0


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, value=value)


def _histogram(name: str, doc: str, histogram: LatencyHistogram) -> HistogramMetricFamily:
    """Prometheus buckets out of the SFU's fine histogram (bucket i: [i, i+1) × 10 µs)."""
    counts = histogram.counts
    cumulative = list(itertools.accumulate(counts))
    buckets: list[tuple[str, float]] = []
    for edge in _DELAY_BUCKETS:
        below = int(round(edge / BUCKET_SECONDS))  # buckets wholly under the edge
        buckets.append((repr(edge), float(cumulative[below - 1] if below else 0)))
    buckets.append(("+Inf", float(histogram.total)))
    # the sum is estimated from each bucket's middle: the histogram keeps no exact sum
    estimate = sum(c * (i + 0.5) for i, c in enumerate(counts) if c) * BUCKET_SECONDS
    return HistogramMetricFamily(name, doc, buckets=buckets, sum_value=estimate)
