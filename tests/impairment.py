"""User-space link impairment for tests and benchmarks (the kernel has no netem); test-side only.

:func:`impair` wraps the UDP endpoints (aioice ``StunProtocol``) under one
peer connection – normally a client's – so everything that peer sends goes
through the ``outbound`` profile and everything it receives through the
``inbound`` one: seeded one-way delay, uniform jitter and Bernoulli loss, per
direction, and optionally a bandwidth cap (``rate_bps``: a token bucket of
``burst_bytes`` in front of a FIFO queue of at most ``queue_bytes``; a packet
that would overflow the queue is dropped, as at a full bottleneck buffer).

It applies to every datagram (STUN, DTLS, SRTP, SRTCP), as a real
lossy last mile would.

By default a direction is FIFO (``reorder=False``): a packet never overtakes the
one sent before it, so jitter shows up as delay variation, like a queue at a
bottleneck.  ``reorder=True`` draws every packet's delay independently.

Call it after the peer connection has gathered its candidates
(``setLocalDescription``) and before connectivity checks start.
"""

from __future__ import annotations

import asyncio
import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCPeerConnection

from media.aiortc_internals import ice_datagram_protocols


@dataclass(frozen=True)
class LinkProfile:
    delay: float = 0.0
    """One-way delay, seconds."""
    jitter: float = 0.0
    """Each packet's delay is drawn uniformly in delay ± jitter, seconds."""
    loss: float = 0.0
    """Probability that a packet is dropped."""
    reorder: bool = False
    rate_bps: int | None = None
    """Bandwidth cap, bits per second of whole datagrams (None: no cap)."""
    burst_bytes: int = 3000
    """How much may leave back to back after a quiet spell (the bucket's depth)."""
    queue_bytes: int | None = None
    """Bytes that may wait for the cap; more are dropped (None: 250 ms at ``rate_bps``)."""

    def __post_init__(self) -> None:
        if self.delay < 0 or self.jitter < 0 or self.jitter > self.delay:
            raise ValueError("need 0 <= jitter <= delay")
        if not 0.0 <= self.loss <= 1.0:
            raise ValueError("loss is a probability")
        if self.rate_bps is not None and self.rate_bps <= 0:
            raise ValueError("rate_bps must be positive")
        if self.burst_bytes < 0 or (self.queue_bytes is not None and self.queue_bytes < 0):
            raise ValueError("burst and queue sizes cannot be negative")

    @property
    def queue_limit(self) -> int:
        if self.queue_bytes is not None:
            return self.queue_bytes
        return 0 if self.rate_bps is None else self.rate_bps // 8 // 4


class TokenBucket:
    """A bandwidth cap: when may a datagram of ``size`` bytes leave (None: dropped).

    The bucket fills at ``rate`` bytes per second up to ``burst``; a datagram
    takes its size in tokens.  Tokens may go negative: the debt is the queue
    (bytes admitted, waiting for the cap), paid off in order, so a datagram
    leaves once the debt before it is paid; one that would push the debt past
    ``queue_limit`` is dropped.
    """

    def __init__(self, rate: float, burst: int, queue_limit: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.queue_limit = queue_limit
        self.tokens = float(burst)
        self.updated = now

    def admit(self, now: float, size: int) -> float | None:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if size - self.tokens > self.queue_limit:
            return None
        self.tokens -= size
        return now if self.tokens >= 0 else now - self.tokens / self.rate


@dataclass
class DirectionStats:
    packets: int = 0
    dropped: int = 0
    """Lost at random (``loss``)."""
    overflowed: int = 0
    """Dropped by the bandwidth cap's full queue."""
    bytes: int = 0
    """Bytes of the datagrams delivered."""


@dataclass
class _Direction:
    profile: LinkProfile
    rng: random.Random
    stats: DirectionStats = field(default_factory=DirectionStats)
    last_due: float = 0.0
    bucket: TokenBucket | None = None

    def schedule(self, now: float, size: int) -> float | None:
        """When to deliver the next packet (``size`` bytes), or None to drop it."""
        self.stats.packets += 1
        profile = self.profile
        leaves = now
        if profile.rate_bps is not None:
            bucket = self.bucket
            if bucket is None or bucket.rate * 8 != profile.rate_bps:  # new or changed cap
                bucket = self.bucket = TokenBucket(
                    profile.rate_bps / 8, profile.burst_bytes, profile.queue_limit, now
                )
            admitted = bucket.admit(now, size)
            if admitted is None:
                self.stats.overflowed += 1
                return None
            leaves = admitted
        if profile.loss and self.rng.random() < profile.loss:
            self.stats.dropped += 1
            return None
        self.stats.bytes += size
        due = leaves + self.profile.delay
        if self.profile.jitter:
            due += self.rng.uniform(-self.profile.jitter, self.profile.jitter)
        if not self.profile.reorder:
            due = max(due, self.last_due)
            self.last_due = due
        return due


class Impairment:
    """Handle on one impaired peer connection: its counters, and ``close()``."""

    def __init__(self, outbound: LinkProfile, inbound: LinkProfile, seed: int) -> None:
        self.outbound = _Direction(outbound, random.Random(f"{seed}/out"))
        self.inbound = _Direction(inbound, random.Random(f"{seed}/in"))
        # (due, order, deliver): the order breaks ties, so equal due times keep
        # their sending order (asyncio's timer heap does not promise that)
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._order = 0
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False

    def delay(self, direction: _Direction, size: int, deliver: Callable[[], None]) -> None:
        if self._closed:
            return
        loop = asyncio.get_running_loop()
        due = direction.schedule(loop.time(), size)
        if due is None:
            return
        self._order += 1
        heapq.heappush(self._queue, (due, self._order, deliver))
        self._arm(loop)

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._queue and (self._timer is None or self._queue[0][0] < self._timer.when()):
            if self._timer is not None:
                self._timer.cancel()
            self._timer = loop.call_at(self._queue[0][0], self._fire)

    def _fire(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self._queue and self._queue[0][0] <= now:
            _, _, deliver = heapq.heappop(self._queue)
            deliver()
        self._arm(loop)

    def close(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._queue.clear()


class _ImpairedTransport:
    """Delegates to the real datagram transport; delays or drops ``sendto``."""

    def __init__(self, inner: asyncio.DatagramTransport, impairment: Impairment) -> None:
        self._inner = inner
        self._impairment = impairment

    def sendto(self, data: bytes, addr: Any = None) -> None:
        def deliver() -> None:
            if not self._inner.is_closing():
                self._inner.sendto(data, addr)

        self._impairment.delay(self._impairment.outbound, len(data), deliver)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def impair(
    pc: RTCPeerConnection,
    *,
    outbound: LinkProfile,
    inbound: LinkProfile,
    seed: int,
) -> Impairment:
    impairment = Impairment(outbound, inbound, seed)
    for protocol in ice_datagram_protocols(pc):
        transport = protocol.transport  # type: ignore[attr-defined]
        protocol.transport = _ImpairedTransport(transport, impairment)  # type: ignore[attr-defined]
        received = protocol.datagram_received

        def datagram_received(
            data: bytes, addr: Any, received: Callable[[bytes, Any], None] = received
        ) -> None:
            impairment.delay(impairment.inbound, len(data), lambda: received(data, addr))

        protocol.datagram_received = datagram_received  # type: ignore[method-assign]
    return impairment
