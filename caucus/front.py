"""The one public port of `caucus serve --workers N`: a reverse proxy to the nodes.

Everything about a room goes to the node holding that room; the room is read from
the request itself:

- Socket.IO (`/socket.io/`, polling and WebSocket): the `room` query parameter the
  join page adds (`io({query: {room}})`); the node refuses a join whose token names
  another room (`wrong_room`), so a connection cannot reach a room placed elsewhere.
  A Socket.IO request without it is refused here (400 `bad_request`).
- Paths that name a simulation: `/join/{room}`, `/api/join/{room}`,
  `/api/simulations/{room}…`, `/api/recordings/{room}…`, `/recordings/{room}`,
  `/api/schedule/{room}…`.

A socket, the join page's `/api/join/{room}` and the console's
`/api/simulations/{room}/end` (which opens a room to end it) place a room that is
not placed yet (on the least-loaded node, caucus/worker_placement.py), so the node
that opens it is the one later joins go to; any other request about an
unplaced room, and every request about no room, goes to the first live node (they
share the database and the recordings directory; what a process keeps in memory,
such as the console's scenarios and sign-in attempt limits, stays consistent).
Five questions about every node (`/healthz`, `/api/live`, `GET /api/schedule`,
`/metrics?node=NAME`, `POST /api/people/{id}/deactivate`) the front answers itself:
caucus/front_answers.py. Media never passes here: ICE goes to the node's own UDP ports.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

from caucus.front_answers import FrontAnswers, unavailable
from caucus.worker_placement import NoLiveNode, WorkerPlacement
from sessions.ids import RoomId
from signaling.protocol import MAX_PACKET_BYTES
from web.errors import json_error
from web.forwarded import Network, trusted

logger = logging.getLogger(__name__)

#: a path that names a simulation; group 1 is its id (ids are token_urlsafe)
ROOM_PATH = re.compile(
    r"^/(?:api/)?(?:join|simulations|recordings|schedule)/([A-Za-z0-9_-]{1,64})(?:\.ics)?(?:/|$)"
)
ROOM_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SOCKET_PATH = "/socket.io/"
#: requests that place their room (they may open it); other requests only follow a placement
PLACING = re.compile(r"^/api/(?:join/|simulations/[A-Za-z0-9_-]{1,64}/end$)")
#: hop-by-hop headers (RFC 9110 7.6.1) and those the proxy sets itself
HOP_BY_HOP = frozenset(
    h.lower()
    for h in (
        "Connection",
        "Keep-Alive",
        "Proxy-Authenticate",
        "Proxy-Authorization",
        "TE",
        "Trailer",
        "Transfer-Encoding",
        "Upgrade",
        "Host",
        "Sec-WebSocket-Key",
        "Sec-WebSocket-Version",
        "Sec-WebSocket-Extensions",
        "Sec-WebSocket-Accept",
    )
)
#: how long a request for a room on a node that just died waits for its recordings to close
RECOVERY_WAIT_S = 15.0


class FrontError(Exception):
    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def room_of(request: web.Request) -> tuple[RoomId | None, bool]:
    """(the room a request is about, whether it places that room). FrontError if a
    Socket.IO request names no room or a malformed one."""
    if request.path.startswith(SOCKET_PATH):
        room = request.query.get("room", "")
        if not ROOM_ID.match(room):
            raise FrontError(
                "bad_request",
                "name the simulation when connecting Socket.IO here: /socket.io/?room=<id>"
                " (the join page does; this server runs several worker processes)",
                400,
            )
        return RoomId(room), True
    match = ROOM_PATH.match(request.path)
    if match is None:
        return None, False
    return RoomId(match.group(1)), bool(PLACING.match(request.path))


class Front:
    """The front's aiohttp application and its way to the nodes."""

    def __init__(
        self,
        nodes: dict[str, str],
        placement: WorkerPlacement,
        trusted_proxies: tuple[Network, ...] = (),
        node_info: Callable[[str], dict[str, Any]] | None = None,
    ) -> None:
        #: node name → its base URL on loopback
        self.nodes = nodes
        self.placement = placement
        self.trusted_proxies = trusted_proxies
        self.node_info = node_info or (lambda name: {})
        #: notified whenever nodes come up or a dead node's rooms are released
        self.changed = asyncio.Condition()
        self.closing = False
        self._http: aiohttp.ClientSession | None = None
        self.app = web.Application(client_max_size=0)  # bodies are streamed to the node
        answers = FrontAnswers(self)  # the front's own: about every node, not one
        self.app.router.add_get("/healthz", answers.health)
        self.app.router.add_get("/api/live", answers.live)
        self.app.router.add_get("/metrics", answers.metrics)
        self.app.router.add_post("/api/people/{id}/deactivate", answers.deactivate)
        self.app.router.add_get("/api/schedule", answers.schedule)
        self.app.router.add_route("*", "/{tail:.*}", self.forward)
        self.app.cleanup_ctx.append(self._session)

    async def _session(self, _app: web.Application) -> Any:
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),  # one upstream per open socket
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=5),
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        yield
        await self._http.close()

    @property
    def http(self) -> aiohttp.ClientSession:
        assert self._http is not None, "the front is not started"
        return self._http

    async def notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    # --- where a request goes --------------------------------------------------------

    async def node_for(self, request: web.Request) -> str:
        room, places = room_of(request)
        if room is None:
            return self.placement.home()
        if self.placement.placed_on_dead_node(room):
            # its node just died: wait until its recordings are closed and it is unplaced
            async with self.changed:
                await asyncio.wait_for(
                    self.changed.wait_for(lambda: not self.placement.placed_on_dead_node(room)),
                    RECOVERY_WAIT_S,
                )
        node = self.placement.place(room) if places else self.placement.node_of(room)
        return node if node is not None else self.placement.home()

    def upstream_headers(self, request: web.Request) -> dict[str, str]:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        if not (
            self.trusted_proxies and trusted(request.remote, self.trusted_proxies)
        ):  # what an untrusted peer says about scheme and host is not passed on
            headers.pop("X-Forwarded-Proto", None)
            headers.pop("X-Forwarded-Host", None)
        headers.setdefault("X-Forwarded-Proto", request.scheme)
        headers.setdefault("X-Forwarded-Host", request.host)
        chain = request.headers.get("X-Forwarded-For", "")
        remote = request.remote or ""
        headers["X-Forwarded-For"] = f"{chain}, {remote}" if chain else remote
        return headers

    # --- the proxy -------------------------------------------------------------------

    async def forward(self, request: web.Request) -> web.StreamResponse:
        if self.closing:
            return json_error("server_closing", "the server is shutting down", 503)
        try:
            node = await self.node_for(request)
        except FrontError as exc:
            return json_error(exc.code, exc.message, exc.status)
        except (NoLiveNode, TimeoutError):
            return unavailable("no worker can take this request now")
        url = self.nodes[node] + request.rel_url.raw_path_qs
        headers = self.upstream_headers(request)
        try:
            if request.headers.get("Upgrade", "").lower() == "websocket":
                return await self._websocket(request, url, headers)
            return await self.relay(request, url, headers)
        except aiohttp.WSServerHandshakeError as exc:  # the node refused the upgrade
            code = "forbidden" if exc.status == 403 else "bad_request"
            return json_error(code, f"the server refused the WebSocket: {exc.message}", exc.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("front: %s %s → %s failed: %r", request.method, request.path, node, exc)
            return unavailable(f"{node} did not answer (restarting?)")

    async def relay(
        self, request: web.Request, url: str, headers: dict[str, str]
    ) -> web.StreamResponse:
        body = request.content.iter_any() if request.body_exists else None
        async with self.http.request(
            request.method, url, headers=headers, data=body, allow_redirects=False
        ) as upstream:
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            for name, value in upstream.headers.items():
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    response.headers.add(name, value)
            if upstream.content_length is not None:
                response.content_length = upstream.content_length
            await response.prepare(request)
            try:
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
            except (aiohttp.ClientError, TimeoutError):  # the node went mid-answer
                return response  # the body ends short; its status is already sent
            await response.write_eof()
            return response

    async def _websocket(
        self, request: web.Request, url: str, headers: dict[str, str]
    ) -> web.StreamResponse:
        protocols = [
            p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p
        ]
        headers.pop("Sec-WebSocket-Protocol", None)
        async with self.http.ws_connect(
            url, headers=headers, protocols=protocols, max_msg_size=MAX_PACKET_BYTES * 2
        ) as upstream:
            client = web.WebSocketResponse(
                protocols=protocols, max_msg_size=MAX_PACKET_BYTES * 2, compress=False
            )
            await client.prepare(request)
            pumps = [
                asyncio.ensure_future(_pump(client, upstream)),
                asyncio.ensure_future(_pump(upstream, client)),
            ]
            try:
                await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pump in pumps:
                    pump.cancel()
                await upstream.close()
                await client.close()
            return client


async def _pump(
    source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
    sink: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
) -> None:
    try:
        async for message in source:
            if message.type is aiohttp.WSMsgType.TEXT:
                await sink.send_str(message.data)
            elif message.type is aiohttp.WSMsgType.BINARY:
                await sink.send_bytes(message.data)
            else:
                break
    except (aiohttp.ClientError, ConnectionError):
        pass  # one side went away: the caller closes both
