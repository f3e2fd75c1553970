"""What reaches a peer connection from its peer: counts of RTP, RTCP and ICE checks.

The SFU declares a participant's media path dead when *nothing at all* arrives
from it for a few seconds while ICE still says "connected" (aioice's consent
checks take ~30 s to notice).  Only traffic that proved it came from the peer is
counted: SRTP and SRTCP that decrypted (``RTCDtlsTransport._handle_rtp_data`` /
``_handle_rtcp_data`` are called after ``unprotect``) and STUN checks that passed
the peer's credentials (aioice ``Connection.check_incoming`` is called after
authentication).  ICE checks count because a client that publishes nothing and
receives only audio may send RTCP as rarely as every 5 s, while browsers check
a selected pair every ~2.5 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aiortc import RTCPeerConnection


class Arrivals:
    """Counters bumped by the wrapped transports, the time of the latest arrival
    (``time.monotonic()``; creation time before any), and ``on_first_rtp``, fired once."""

    def __init__(self) -> None:
        self.rtp = 0
        self.rtcp = 0
        self.checks = 0
        self.last_at = time.monotonic()
        self.on_first_rtp: Callable[[], None] | None = None

    @property
    def total(self) -> int:
        return self.rtp + self.rtcp + self.checks


def count_arrivals(pc: RTCPeerConnection) -> Arrivals:
    """Count what arrives on ``pc``'s (max-bundle) transport from now on.

    Call once the first transceiver exists: with ``bundlePolicy=max-bundle``
    every transceiver shares the first one's DTLS and ICE transports.
    """
    arrivals = Arrivals()
    dtls = pc.getTransceivers()[0].receiver.transport
    handle_rtp = dtls._handle_rtp_data
    handle_rtcp = dtls._handle_rtcp_data
    connection = dtls.transport._connection
    check_incoming = connection.check_incoming

    async def counted_rtp(data: bytes, arrival_time_ms: int) -> None:
        arrivals.rtp += 1
        arrivals.last_at = time.monotonic()
        if arrivals.rtp == 1 and arrivals.on_first_rtp is not None:
            arrivals.on_first_rtp()
        await handle_rtp(data, arrival_time_ms)

    async def counted_rtcp(data: bytes) -> None:
        arrivals.rtcp += 1
        arrivals.last_at = time.monotonic()
        await handle_rtcp(data)

    def counted_check(message: Any, addr: Any, protocol: Any) -> None:
        arrivals.checks += 1
        arrivals.last_at = time.monotonic()
        check_incoming(message, addr, protocol)

    dtls._handle_rtp_data = counted_rtp  # type: ignore[method-assign]
    dtls._handle_rtcp_data = counted_rtcp  # type: ignore[method-assign]
    connection.check_incoming = counted_check  # type: ignore[method-assign]
    return arrivals
