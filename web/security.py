"""Security headers on every response, and which browser origins may open a socket.

The pages load scripts, styles and media only from this server (no inline
script, no inline `style=` attribute; `element.style` set from a module is
allowed), never render inside another site's frame, and send no Referer with
their join links' tokens in them.  A WebSocket is not bound by CORS, so
engine.io checks the Origin of every handshake against :func:`origin_policy`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from web.errors import Handler

#: one year; sent only over TLS, where it means anything (RFC 6797 §7.2)
HSTS_MAX_AGE_S = 365 * 24 * 3600
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


#: other origins a page may open its socket to (CAUCUS_ALLOWED_ORIGINS: with several
#: nodes, the one that runs the room; docs/protocol.md "Placement")
CONNECT_ORIGINS = web.AppKey("connect_origins", tuple[str, ...])


def content_security_policy(host: str, others: Iterable[str] = ()) -> str:
    # 'self' covers ws:/wss: of the same host in CSP Level 3 browsers; they are
    # named as well for browsers that read connect-src 'self' as http(s) only.
    sockets = f" ws://{host} wss://{host}" if _HOST.match(host) else ""
    for origin in others:  # origin_of's form: scheme://host[:port], nothing else
        sockets += f" {origin} {origin.replace('http', 'ws', 1)}"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"connect-src 'self'{sockets}",
            "media-src 'self' blob:",
            "img-src 'self' data: blob:",
            "style-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ]
    )


def security_headers(request: web.Request) -> dict[str, str]:
    others = request.app[CONNECT_ORIGINS] if CONNECT_ORIGINS in request.app else ()
    headers = {
        "Content-Security-Policy": content_security_policy(request.host, others),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }
    if request.secure:
        headers["Strict-Transport-Security"] = f"max-age={HSTS_MAX_AGE_S}"
    return headers


@web.middleware
async def add_security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every page, file, API answer and error carries the headers above."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(security_headers(request))
        raise
    if not response.prepared:  # a WebSocket's handshake has already gone out
        response.headers.update(security_headers(request))
    return response


def origin_of(url: str) -> str | None:
    """scheme://host[:port] of a URL, lower-cased, or None if it has none."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


OriginPolicy = Callable[[str | None, Mapping[str, Any]], bool]


def origin_policy(own: Iterable[str]) -> OriginPolicy:
    """engine.io's `cors_allowed_origins`: the named origins, or the request's own.

    "Own" is the scheme this request came in on with its Host header: what a
    page served by this server sends as its Origin, whatever name it was
    reached by.
    """
    allowed = {o for o in (origin_of(u) for u in own) if o is not None}

    def allow(origin: str | None, environ: Mapping[str, Any]) -> bool:
        if origin is None:
            return True  # not a browser: engine.io checks only browsers' origins
        candidate = origin.strip().lower()
        if candidate in allowed:
            return True
        request = environ.get("aiohttp.request")
        host = environ.get("HTTP_HOST", "")
        scheme = request.scheme if isinstance(request, web.BaseRequest) else "http"
        return bool(host) and candidate == f"{scheme}://{host}".lower()

    return allow
