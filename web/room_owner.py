"""A REST call that changes a live room, made at a node that does not run it, is sent
to the node that does (docs/protocol.md, "Placement").

A room runs whole on one node (placement/): its lock, its clock and its seats are in
that process's memory, so only that node can end it, or know that it is live. The
console may be served by any node. A route that changes a room is wrapped in
`sent_to_its_node`: when the handler finds the room placed elsewhere (it raises
`PlacedElsewhere`, before it changed anything), the same request – method, path,
query, body, the caller's credentials – goes to that node's origin, and the caller
gets that node's answer.

Only to an origin the placement itself named for a live node (never one taken from
the request), and only once: a forwarded request carries `FORWARDED_BY`, and a node
that would have to send such a request on answers 409 `wrong_node` with the origin
instead (two placements that disagree must not bounce a request between them). An
owner that does not answer within `FORWARD_TIMEOUT_S` gets the caller 503
`node_unavailable`; nothing was changed here.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
from aiohttp import web

from placement.nodes import NodeInfo, PlacedElsewhere
from sessions.ids import RoomId
from web.errors import json_error
from web.keys import PLACEMENT
from web.security import origin_of

logger = logging.getLogger(__name__)

#: set on a forwarded request (the sending node's id); such a request is never sent on
FORWARDED_BY = "X-Caucus-Forwarded-By"
#: the owner's whole answer, from connecting to the last byte
FORWARD_TIMEOUT_S = 10.0
_CONNECT_TIMEOUT_S = 3.0
#: what of the caller's request the owner needs: its body's type and who is asking
_PASSED_ON = ("Authorization", "Cookie", "X-CSRF-Token", "Content-Type", "Accept")
#: what of the owner's answer the caller needs besides its status and body
_PASSED_BACK = ("Content-Type", "Retry-After")

HTTP = web.AppKey("room_owner_http", aiohttp.ClientSession)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def setup(app: web.Application) -> None:
    """The client session forwarded requests go out on (one per app)."""

    async def session(app: web.Application) -> AsyncIterator[None]:
        app[HTTP] = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=FORWARD_TIMEOUT_S, sock_connect=_CONNECT_TIMEOUT_S),
            # one caller's cookies must never ride along with another caller's request
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
        )
        yield
        await app[HTTP].close()

    app.cleanup_ctx.append(session)


async def check_runs_here(request: web.Request, room_id: str) -> None:
    """For a route that must see the room where it is live: `PlacedElsewhere` if the
    room is placed on another live node (`unavailable` if the placement cannot say)."""
    placement = request.app[PLACEMENT]
    node = await placement.node_of(RoomId(room_id))
    if node is not None and node.id != placement.here.id:
        raise PlacedElsewhere(node)


def sent_to_its_node(handler: Handler) -> Handler:
    """Wrap a route handler that raises `PlacedElsewhere` before it changes anything."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except PlacedElsewhere as exc:
            return await forward(request, exc.node)

    return wrapped


def passed_on(request: web.Request) -> dict[str, str]:
    """The headers a request sent to another node carries: who asks (the caller's own
    credentials), its body's type, and `FORWARDED_BY` this node."""
    headers = {name: request.headers[name] for name in _PASSED_ON if name in request.headers}
    headers[FORWARDED_BY] = request.app[PLACEMENT].here.id
    return headers


def reachable(request: web.Request, node: NodeInfo) -> str | None:
    """The origin a request for `node` may be sent to from here: None for this node,
    or one behind this node's own origin (it could only come back here)."""
    here = request.app[PLACEMENT].here
    origin = origin_of(node.origin)
    if origin is None or node.id == here.id or origin == origin_of(here.origin):
        return None
    return origin


def wrong_node(node: NodeInfo) -> web.Response:
    """409 `wrong_node` with the origin to ask, as a `join` is refused."""
    message = f"this simulation runs on {node.origin}; ask there"
    return json_error("wrong_node", message, origin=node.origin)


async def forward(request: web.Request, node: NodeInfo) -> web.Response:
    """`request` as `node` answers it (its status and body)."""
    origin = reachable(request, node)
    sender = request.headers.get(FORWARDED_BY)
    if sender is not None:
        # two placements that disagree (or a client that sent the header itself)
        logger.info(
            "%s %s came forwarded (by %s) but the room runs on %s: not sent on",
            request.method,
            request.path,
            sender[:80],
            node.id,
        )
        return wrong_node(node)
    if origin is None:
        # nowhere else to send it (several nodes behind one origin): the caller decides
        return wrong_node(node)
    headers = passed_on(request)
    data = await request.read() if request.can_read_body else None
    url = origin + request.rel_url.raw_path_qs
    try:
        async with request.app[HTTP].request(
            request.method, url, headers=headers, data=data, allow_redirects=False
        ) as answer:
            body = await answer.read()
            passed = {k: answer.headers[k] for k in _PASSED_BACK if k in answer.headers}
            status = answer.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        logger.warning("%s %s → %s failed: %r", request.method, request.path, node.id, exc)
        if isinstance(exc, aiohttp.ClientConnectorError):  # it never reached the owner
            outcome = "nothing changed; try again in a few seconds"
        else:  # the owner may have acted before it went silent
            outcome = "asking again in a few seconds says whether it was done"
        response = json_error(
            "node_unavailable",
            f"the node that runs this simulation ({node.origin}) did not answer; {outcome}",
        )
        response.headers["Retry-After"] = "2"
        return response
    logger.info("%s %s sent to %s: %d", request.method, request.path, node.id, status)
    return web.Response(status=status, body=body, headers=passed)
