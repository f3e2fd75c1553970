"""GET /metrics: the node's figures in Prometheus's text format, for a scraper only.

Two ways to protect it, either or both:

* ``CAUCUS_METRICS_TOKEN``: the main port answers ``/metrics`` only to
  ``Authorization: Bearer <token>`` (401 otherwise);
* ``CAUCUS_METRICS_ADDRESS`` (``host:port``): a listener of its own serves
  ``/metrics`` and nothing else (bind it to a private interface the scraper
  reaches); the main port then answers 404. With a token as well, that listener
  asks for it too.

Neither set: metrics are off (404, and nothing is measured). What is measured
is decided in ``caucus/metrics.py``; this module serves a registry and counts
HTTP requests by route template (never the raw path: bounded label values).
"""

from __future__ import annotations

import asyncio
import hmac
import time
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

from web.errors import Handler, json_error
from web.security import add_security_headers

PATH = "/metrics"
#: request methods counted under their own name; anything else is "other"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: seconds; a page, an API answer, an export or a PDF
_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


@dataclass(frozen=True)
class MetricsAccess:
    """Where and to whom the registry is shown."""

    registry: CollectorRegistry | None
    """None: metrics are off."""
    token: str = ""
    """Asked for as a bearer token wherever /metrics is served; "" asks none."""
    on_main_port: bool = True
    """False: a listener of its own serves them (CAUCUS_METRICS_ADDRESS)."""


METRICS: web.AppKey[MetricsAccess] = web.AppKey("metrics", MetricsAccess)

routes = web.RouteTableDef()


@routes.get(PATH)
async def metrics(request: web.Request) -> web.Response:
    access = request.app.get(METRICS)
    if access is None or access.registry is None:
        return json_error("not_found", "metrics are off (CAUCUS_METRICS_TOKEN)", 404)
    if not access.on_main_port:
        return json_error("not_found", "metrics are served on CAUCUS_METRICS_ADDRESS", 404)
    return exposition(request, access)


def exposition(request: web.Request, access: MetricsAccess) -> web.Response:
    """The registry as Prometheus text, to a caller that shows the token (if one is set)."""
    assert access.registry is not None
    if access.token and not bearer_matches(request, access.token):
        response = json_error("unauthorized", "metrics need the metrics bearer token", 401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return web.Response(
        body=generate_latest(access.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


def bearer_matches(request: web.Request, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )


def parse_address(address: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port``) of CAUCUS_METRICS_ADDRESS; ValueError names the setting."""
    host, sep, port = address.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(
            f"CAUCUS_METRICS_ADDRESS must be host:port (e.g. 10.0.0.5:9464), not {address!r}"
        )
    return host, int(port)


class MetricsListener:
    """The listener of CAUCUS_METRICS_ADDRESS: ``/metrics`` only, every other path 404."""

    def __init__(self, host: str, port: int, access: MetricsAccess) -> None:
        self.host = host
        self.port = port  # the bound port once started (port 0: one the system chose)
        self._access = access
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application(middlewares=[add_security_headers])
        access = self._access

        async def serve(request: web.Request) -> web.Response:
            return exposition(request, access)

        app.router.add_get(PATH, serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class HttpCounts:
    """Requests by method, route template and status; their durations by route."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "caucus_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "caucus_http_request_duration_seconds",
            "Time to answer an HTTP request (WebSocket upgrades left out), by route template",
            ["method", "route"],
            buckets=_DURATION_BUCKETS,
            registry=registry,
        )

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except asyncio.CancelledError:
            status = 499  # the client went away first (nginx's "client closed request")
            raise
        finally:
            method = request.method if request.method in _METHODS else "other"
            route = route_of(request)
            self.requests.labels(method, route, str(status)).inc()
            if status != 101:  # a WebSocket's "request" lasts as long as the socket
                self.duration.labels(method, route).observe(time.perf_counter() - started)


def route_of(request: web.Request) -> str:
    """The matched route's template (``/api/recordings/{room}``), "unmatched" if none."""
    resource = request.match_info.route.resource
    return "unmatched" if resource is None else resource.canonical
