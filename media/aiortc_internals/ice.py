"""ICE (aioice) under the peer connections: which host addresses are gathered,
which ports they bind and which address they announce, how fast a silent peer
fails, the UDP endpoints, the selected pair, and a connect() that respects
close().
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import random
import socket
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

import aioice.ice
import aioice.turn
from aioice.candidate import Candidate, candidate_foundation, candidate_priority
from aiortc import RTCPeerConnection

logger = logging.getLogger(__name__)

_original_get_host_addresses = aioice.ice.get_host_addresses
_original_ice_connect = aioice.ice.Connection.connect
_original_get_component_candidates = aioice.ice.Connection.get_component_candidates


async def _connect_then_respect_close(self: aioice.ice.Connection) -> None:
    """aioice's connect() starts consent freshness checks when the check list
    completes, even if close() ran meanwhile (a peer leaving while ICE finishes);
    that task then polls an emptied pair list forever.  Stop it."""
    await _original_ice_connect(self)
    task = self._query_consent_task
    if self._closing and task is not None and not task.done():
        task.cancel()


def set_consent_timing(interval: float, failures: int) -> None:
    """ICE consent freshness: a silent peer is declared failed after ~interval*failures.

    Only tests call it (to see consent expire in seconds); it stays here rather
    than under tests/ because it patches aioice, and every aioice patch is in
    this package (docs/ARCHITECTURE.md, "Packages").
    """
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


# -- where the server's candidates bind and what they announce -----------------


class UdpPortsExhausted(OSError):
    """Every port of the configured range is taken on every host address."""


@dataclass(frozen=True)
class GatherPolicy:
    """How the peer connections gathering inside :func:`gather_policy` find their host candidates.

    ``host_addresses`` are the only interfaces gathered on (aioice's own
    choice is every interface but 127.0.0.1: a production server wants its
    public interface only, tests and benchmarks loopback only);
    ``udp_ports`` bounds the ports their sockets bind (inclusive), so a firewall
    rule can be written; ``announced_address`` (an IP) is offered beside each
    host candidate of the same family, as a server-reflexive candidate with the
    same port (a 1:1 NAT keeps ports), while the socket stays on the local
    interface.
    """

    announced_address: str | None = None
    udp_ports: tuple[int, int] | None = None
    host_addresses: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for address in self.host_addresses or ():
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ValueError(f"ICE host address {address!r} is not an IP address") from None


LOOPBACK = GatherPolicy(host_addresses=("127.0.0.1",))
"""Host candidates on 127.0.0.1 only: in-process clients of a server on loopback."""

# A context variable, not a module setting: each SFU's peer connections follow
# its own policy (gathering runs in tasks created inside Sfu._gathering, which
# copy the context), and in-process clients follow whatever their code entered
# (tests: LOOPBACK), never the server's. Outside any policy, aioice's own.
_gather_policy: ContextVar[GatherPolicy | None] = ContextVar("caucus_gather_policy", default=None)


@contextlib.contextmanager
def gather_policy(policy: GatherPolicy | None) -> Iterator[None]:
    """Peer connections whose candidates are gathered inside follow ``policy``
    (None: aioice's own gathering, whatever policy encloses this one)."""
    token = _gather_policy.set(policy)
    try:
        yield
    finally:
        _gather_policy.reset(token)


def _host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    """aioice's ``get_host_addresses`` under the current :class:`GatherPolicy`.

    aioice's ``Connection.gather_candidates`` looks this module-level function up
    at call time, in the gathering task (so in its context), and only for the
    "all" transport policy: a relay-only connection still gathers no host.
    """
    policy = _gather_policy.get()
    if policy is None or policy.host_addresses is None:
        return _original_get_host_addresses(use_ipv4, use_ipv6)
    return [
        a for a in policy.host_addresses if (":" in a and use_ipv6) or (":" not in a and use_ipv4)
    ]


async def _gather_component(
    self: aioice.ice.Connection,
    component: int,
    addresses: list[str],
    timeout: int = 5,  # noqa: ASYNC109 - aioice's signature, handed on
) -> list[Candidate]:
    """aioice's ``get_component_candidates`` under the current :class:`GatherPolicy`."""
    policy = _gather_policy.get()
    if policy is None:
        return await _original_get_component_candidates(self, component, addresses, timeout)
    if policy.udp_ports is None:
        candidates = await _original_get_component_candidates(self, component, addresses, timeout)
    else:
        # Host sockets are ours; aioice still connects to a TURN server if one
        # is configured (server peer connections have none, nor a STUN server:
        # the announced address replaces a server-reflexive one).
        candidates = await _bind_host_candidates(self, component, addresses, policy.udp_ports)
        candidates += await _original_get_component_candidates(self, component, [], timeout)
    for protocol in self._protocols:
        widen_receive_buffer(protocol.transport)
    return candidates + announced_candidates(candidates, policy.announced_address)


#: bytes of datagrams a media socket may hold while its event loop is busy
#: elsewhere: ~1-2 s of a publisher's audio, video and RTCP.  Linux's default
#: (208 KiB, of which each ~1.2 KB datagram takes ~2.3 KB) overflows after a
#: few hundred ms of a loop descheduled on a busy machine, and what overflows
#: is lost: media (NACKed again) and ICE consent checks alike.  Capped by
#: ``net.core.rmem_max`` (docs/DEPLOY.md).
RECEIVE_BUFFER_BYTES = 1 << 20


def widen_receive_buffer(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is None:
        return
    try:
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) < RECEIVE_BUFFER_BYTES:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
    except OSError as exc:
        logger.info("could not widen a media socket's receive buffer: %s", exc)


def announced_candidates(candidates: list[Candidate], announced: str | None) -> list[Candidate]:
    """A server-reflexive twin, at ``announced``, of each host candidate of its family."""
    if announced is None:
        return []
    version = ipaddress.ip_address(announced).version
    return [
        Candidate(
            foundation=candidate_foundation("srflx", "udp", c.host),
            component=c.component,
            transport="udp",
            priority=candidate_priority(c.component, "srflx"),
            host=announced,
            port=c.port,
            type="srflx",
            related_address=c.host,
            related_port=c.port,
        )
        for c in candidates
        if c.type == "host"
        and c.host != announced
        and ipaddress.ip_address(c.host).version == version
    ]


async def _bind_host_candidates(
    connection: aioice.ice.Connection, component: int, addresses: list[str], ports: tuple[int, int]
) -> list[Candidate]:
    """What aioice's host gathering does, with each socket bound inside ``ports``."""
    loop = asyncio.get_running_loop()
    protocols: list[aioice.ice.StunProtocol] = []
    exhausted: list[str] = []
    for address in addresses:
        try:
            sock = bind_in_range(address, ports)
        except UdpPortsExhausted:
            exhausted.append(address)
            continue
        except OSError as exc:
            logger.info("could not bind %s: %s", address, exc)
            continue
        _, protocol = await loop.create_datagram_endpoint(
            lambda: aioice.ice.StunProtocol(connection), sock=sock
        )
        host, port = protocol.transport.get_extra_info("sockname")[:2]
        protocol.local_candidate = Candidate(
            foundation=candidate_foundation("host", "udp", host),
            component=component,
            transport="udp",
            priority=candidate_priority(component, "host"),
            host=host,
            port=port,
            type="host",
        )
        protocols.append(protocol)
    if exhausted:
        low, high = ports
        message = f"no free UDP port in {low}-{high} on {', '.join(exhausted)}"
        if not protocols:
            raise UdpPortsExhausted(errno.EADDRINUSE, message)
        logger.warning("%s; gathering on the other addresses only", message)
    connection._protocols += protocols
    return [p.local_candidate for p in protocols]


def bind_in_range(address: str, ports: tuple[int, int]) -> socket.socket:
    """A non-blocking UDP socket on ``address`` and a free port in ``ports`` (inclusive).

    Probing starts at a random port so a port just released (whose old peer
    may still be sending) is not handed straight to the next participant.
    """
    low, high = ports
    family, _, _, _, sockaddr = socket.getaddrinfo(
        address, None, type=socket.SOCK_DGRAM, flags=socket.AI_NUMERICHOST
    )[0]
    span = high - low + 1
    start = random.randrange(span)
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        for i in range(span):
            port = low + (start + i) % span
            try:
                sock.bind((sockaddr[0], port, *sockaddr[2:]))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    continue
                raise
            sock.setblocking(False)
            # room for a burst of video, or a busy loop (RECEIVE_BUFFER_BYTES)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
            return sock
    except BaseException:
        sock.close()
        raise
    sock.close()
    raise UdpPortsExhausted(errno.EADDRINUSE, f"no free UDP port in {low}-{high} on {address}")


def selected_pair(pc: RTCPeerConnection) -> tuple[Candidate, Candidate] | None:
    """The nominated (local, remote) candidates of the peer connection's transport."""
    for transceiver in pc.getTransceivers():
        connection = transceiver.receiver.transport.transport._connection
        pair = connection._nominated.get(1)
        if pair is not None:
            return pair.local_candidate, pair.remote_candidate
    return None
