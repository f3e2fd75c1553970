"""Behind a reverse proxy: believe X-Forwarded-Proto/Host/For only from trusted peers.

A proxy such as Caddy terminates TLS and calls us over plain http on loopback,
so without this the join links the API builds from the request's origin would
say ``http://127.0.0.1:8080`` and every client would look like 127.0.0.1.  The
headers are set by whoever sends the request, so they are honoured only when
the TCP peer itself is one of ``CAUCUS_TRUSTED_PROXIES``; from anyone else they
are ignored (never an error: a browser may send them innocently).
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: a host[:port] as a proxy forwards it; anything else is ignored
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})(:[0-9]{1,5})?$")


def parse_networks(spec: str) -> tuple[Network, ...]:
    """``"127.0.0.1, 10.0.0.0/8, ::1"`` → networks; a clear ValueError for a bad entry."""
    networks = []
    for entry in (e.strip() for e in spec.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(
                f"CAUCUS_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR"
            ) from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def trusted(text: str | None, networks: Iterable[Network]) -> bool:
    address = _address(text or "")
    return address is not None and any(address in n for n in networks)


def client_address(forwarded_for: str, peer: str, networks: tuple[Network, ...]) -> str:
    """The nearest address in the X-Forwarded-For chain that is not a trusted proxy.

    Proxies append the peer they saw, so the chain is read right to left; a
    client can write anything at its left end, which is why trusted hops are the
    only ones skipped.
    """
    client = peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        address = _address(hop)
        if address is None:
            break  # garbage from further left: keep the last hop we could believe
        client = str(address)
        if not any(address in n for n in networks):
            break
    return client


def _last(value: str | None) -> str:
    return (value or "").split(",")[-1].strip()


def forwarded_headers(
    networks: tuple[Network, ...],
) -> Callable[..., Awaitable[web.StreamResponse]]:
    """An aiohttp middleware applying the trusted proxies' X-Forwarded-* headers."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not networks or not trusted(request.remote, networks):
            return await handler(request)
        peer = request.remote or ""
        proto = _last(request.headers.get("X-Forwarded-Proto")).lower()
        host = _last(request.headers.get("X-Forwarded-Host"))
        forwarded_for = request.headers.get("X-Forwarded-For", "")
        request = request.clone(
            scheme=proto if proto in ("http", "https") else request.scheme,
            host=host if host and _HOST.match(host) else request.host,
            remote=client_address(forwarded_for, peer, networks) if forwarded_for else peer,
        )
        return await handler(request)

    return middleware
