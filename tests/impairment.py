"""User-space link impairment for tests and benchmarks (the kernel has no netem); test-side only.

:func:`impair` wraps the UDP endpoints (aioice ``StunProtocol``) under one
peer connection – normally a client's – so everything that peer sends goes
through the ``outbound`` profile and everything it receives through the
``inbound`` one: seeded one-way delay, uniform jitter and Bernoulli loss, per
direction.  It applies to every datagram (STUN, DTLS, SRTP, SRTCP), as a real
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

    def __post_init__(self) -> None:
        if self.delay < 0 or self.jitter < 0 or self.jitter > self.delay:
            raise ValueError("need 0 <= jitter <= delay")
        if not 0.0 <= self.loss <= 1.0:
            raise ValueError("loss is a probability")


@dataclass
class DirectionStats:
    packets: int = 0
    dropped: int = 0


@dataclass
class _Direction:
    profile: LinkProfile
    rng: random.Random
    stats: DirectionStats = field(default_factory=DirectionStats)
    last_due: float = 0.0

    def schedule(self, now: float) -> float | None:
        """When to deliver the next packet, or None to drop it."""
        self.stats.packets += 1
        if self.profile.loss and self.rng.random() < self.profile.loss:
            self.stats.dropped += 1
            return None
        due = now + self.profile.delay
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

    def delay(self, direction: _Direction, deliver: Callable[[], None]) -> None:
        if self._closed:
            return
        loop = asyncio.get_running_loop()
        due = direction.schedule(loop.time())
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

        self._impairment.delay(self._impairment.outbound, deliver)

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
            impairment.delay(impairment.inbound, lambda: received(data, addr))

        protocol.datagram_received = datagram_received  # type: ignore[method-assign]
    return impairment
