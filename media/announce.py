"""What the media server tells browsers to send to, and on which ports.

A server behind a 1:1 NAT (a cloud VM: AWS, GCP, Azure) binds its media
sockets on a private interface but must offer its public address
(``CAUCUS_ANNOUNCED_ADDRESS``, like mediasoup's ``announcedAddress`` or
LiveKit's ``node_ip``).  Given as a hostname it is resolved once, at start; not
given, a STUN server (``CAUCUS_STUN_URL``) can be asked for it at start.
``CAUCUS_UDP_PORTS`` bounds the media ports so a firewall rule can be written.

Everything here runs once while the server starts, so it blocks: a STUN query
waits at most :data:`STUN_TIMEOUTS_S` in all.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import struct
import time
from collections.abc import Sequence

from aioice import stun

logger = logging.getLogger(__name__)

#: one STUN Binding request per entry, each waiting this long for its answer
STUN_TIMEOUTS_S = (0.5, 1.0, 2.0)
DEFAULT_STUN_PORT = 3478


def parse_port_range(text: str) -> tuple[int, int] | None:
    """``"40000-40999"`` -> ``(40000, 40999)``; ``""`` -> None (any port)."""
    text = text.strip()
    if not text:
        return None
    low, dash, high = text.partition("-")
    try:
        ports = (int(low), int(high if dash else low))
    except ValueError:
        raise ValueError(
            f"CAUCUS_UDP_PORTS: {text!r} is not a port range such as 40000-40999"
        ) from None
    check_port_range(ports)
    return ports


def check_port_range(ports: tuple[int, int]) -> None:
    low, high = ports
    if not 1024 <= low <= high <= 65535:
        raise ValueError(
            f"CAUCUS_UDP_PORTS: {low}-{high} must be LOW-HIGH with 1024 <= LOW <= HIGH <= 65535"
        )


def check_announced_ip(address: str) -> None:
    """An address browsers can be told to send to: an IP, not 0.0.0.0 or multicast."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise ValueError(f"CAUCUS_ANNOUNCED_ADDRESS: {address!r} is not an IP address") from None
    if ip.is_unspecified or ip.is_multicast:
        raise ValueError(f"CAUCUS_ANNOUNCED_ADDRESS: {address} cannot be announced")


def resolve_address(name: str) -> str:
    """An IP as it is, a hostname resolved now (IPv4 preferred)."""
    name = name.strip()
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        check_announced_ip(name)
        return name
    try:
        infos = socket.getaddrinfo(name, None, type=socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as exc:
        raise ValueError(f"CAUCUS_ANNOUNCED_ADDRESS: cannot resolve {name!r}: {exc}") from None
    addresses = [str(info[4][0]) for info in infos]
    ipv4 = [a for a in addresses if ":" not in a]
    address = (ipv4 or addresses)[0]
    check_announced_ip(address)
    logger.info("announced address %s resolves to %s", name, address)
    return address


def parse_stun_url(url: str) -> tuple[str, int]:
    """``stun:host[:port]`` (RFC 7064) -> (host, port)."""
    scheme, colon, rest = url.strip().partition(":")
    if scheme.lower() != "stun" or not colon or not rest or "?" in rest or "/" in rest:
        raise ValueError(f"CAUCUS_STUN_URL: {url!r} is not a stun:host[:port] URL")
    if rest.startswith("["):  # stun:[2001:db8::1]:3478
        host, _, port_text = rest[1:].partition("]")
        port_text = port_text.removeprefix(":")
    else:
        host, _, port_text = rest.partition(":")
    try:
        port = int(port_text) if port_text else DEFAULT_STUN_PORT
    except ValueError:
        raise ValueError(f"CAUCUS_STUN_URL: {url!r} has a bad port") from None
    if not host or not 0 < port < 65536:
        raise ValueError(f"CAUCUS_STUN_URL: {url!r} is not a stun:host[:port] URL")
    return host, port


def discover_public_address(server: tuple[str, int], source: str | None = None) -> str:
    """Ask a STUN server which address our packets come from (RFC 8489 Binding).

    ``source`` is the local interface to ask from (the one media binds on);
    None lets the routing table choose.  Raises OSError when nobody answers.
    """
    host, port = server
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        if source is not None:
            sock.bind((source, 0))
        for timeout in STUN_TIMEOUTS_S:
            request = stun.Message(
                message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST
            )
            sock.sendto(bytes(request), address)
            deadline = time.monotonic() + timeout
            # other datagrams (a late answer to an earlier try, noise) are skipped
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                try:
                    data, _ = sock.recvfrom(2048)
                except TimeoutError:
                    break
                answer = _mapped_address(data, request.transaction_id)
                if answer is not None:
                    return answer
    raise OSError(f"STUN server {host}:{port} did not answer in {sum(STUN_TIMEOUTS_S):g} s")


def _mapped_address(data: bytes, transaction_id: bytes) -> str | None:
    try:
        message = stun.parse_message(data)
    except (ValueError, struct.error):
        return None
    if message.transaction_id != transaction_id or message.message_class != stun.Class.RESPONSE:
        return None
    mapped = message.attributes.get("XOR-MAPPED-ADDRESS") or message.attributes.get(
        "MAPPED-ADDRESS"
    )
    return str(mapped[0]) if mapped else None


def announced_address(
    announced: str, stun_url: str, host_addresses: Sequence[str] = ()
) -> str | None:
    """The address to announce: the one given (resolved), or what STUN says, or None.

    A malformed setting raises ValueError (the server refuses to start); a STUN
    server that does not answer only costs the announcement, with a warning:
    media still works for browsers that reach a host candidate, or via TURN.
    """
    if announced.strip():
        return resolve_address(announced)
    if not stun_url.strip():
        return None
    server = parse_stun_url(stun_url)
    ipv4 = [a for a in host_addresses if ":" not in a]
    try:
        address = discover_public_address(server, ipv4[0] if ipv4 else None)
    except OSError as exc:
        logger.warning(
            "no announced address: asking %s failed (%s); set CAUCUS_ANNOUNCED_ADDRESS",
            stun_url,
            exc,
        )
        return None
    logger.info("announced address %s (discovered through %s)", address, stun_url)
    return address
