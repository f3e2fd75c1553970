"""ICE (aioice) under the peer connections: which host addresses are gathered,
how fast a silent peer fails, the UDP endpoints, and a connect() that respects
close().
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import aioice.ice
from aiortc import RTCPeerConnection

_original_get_host_addresses = aioice.ice.get_host_addresses
_original_ice_connect = aioice.ice.Connection.connect


async def _connect_then_respect_close(self: aioice.ice.Connection) -> None:
    """aioice's connect() starts consent freshness checks when the check list
    completes, even if close() ran meanwhile (a peer leaving while ICE finishes);
    that task then polls an emptied pair list forever.  Stop it."""
    await _original_ice_connect(self)
    task = self._query_consent_task
    if self._closing and task is not None and not task.done():
        task.cancel()


def limit_ice_host_addresses(addresses: Sequence[str] | None) -> None:
    """Gather host candidates only on ``addresses`` (None: aioice's default).

    aioice skips 127.0.0.1; tests and benchmarks need exactly that, and a
    production server wants its public interface only.
    """
    if addresses is None:
        aioice.ice.get_host_addresses = _original_get_host_addresses
        return
    fixed = list(addresses)

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [a for a in fixed if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]

    aioice.ice.get_host_addresses = get_host_addresses


def set_consent_timing(interval: float, failures: int) -> None:
    """ICE consent freshness: a silent peer is declared failed after ~interval*failures."""
    aioice.ice.CONSENT_INTERVAL = interval  # type: ignore[assignment]
    aioice.ice.CONSENT_FAILURES = failures


def ice_datagram_protocols(pc: RTCPeerConnection) -> list[asyncio.DatagramProtocol]:
    """The UDP endpoints (aioice ``StunProtocol``) under a peer connection."""
    protocols: list[asyncio.DatagramProtocol] = []
    for transceiver in pc.getTransceivers():
        connection = transceiver.receiver.transport.transport._connection
        for protocol in connection._protocols:
            if protocol not in protocols:
                protocols.append(protocol)
    return protocols
