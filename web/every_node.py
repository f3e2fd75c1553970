"""Deactivating a person ends their seats on every node, not only on the one asked
(docs/protocol.md, "People and sign-in").

A person may hold seats in rooms that run on other nodes (placement/, with
`CAUCUS_REDIS_URL`) or on other workers of `serve --workers N` (caucus/front_answers.py). The
node asked deactivates the person in the shared database and ends the seats held
here; then the same request – the caller's credentials, `FORWARDED_BY` – goes to
every other live node, which deactivates again (that changes nothing: one audit row),
ends the seats it holds and sends it on nowhere. The same route rather than an
internal one of its own: it is checked exactly as the caller's request (admin, CSRF),
so there is nothing new to protect, and a client that sends `FORWARDED_BY` itself
only spares the other nodes its own request.

The answer sums `seats_ended`; a node that does not answer 200 within
`FAN_OUT_TIMEOUT_S` is named in `nodes_unreached`. The person is deactivated all the
same (every node refuses their joins); a seat held there stays until its connection
drops or the request is made again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp
from aiohttp import web

from placement.nodes import PlacementUnavailable
from web.keys import PLACEMENT
from web.room_owner import FORWARDED_BY, HTTP, passed_on, reachable

logger = logging.getLogger(__name__)

#: every other node's answer, asked at once, from connecting to the last byte
FAN_OUT_TIMEOUT_S = 5.0
_CONNECT_TIMEOUT_S = 3.0
#: in `nodes_unreached` when the placement (Redis) could not say which nodes are live
PLACEMENT_UNKNOWN = "placement"

#: node → its answer (status, JSON body), None when it did not answer
Replies = Mapping[str, tuple[int, Any] | None]


def summed(answer: dict[str, Any], replies: Replies) -> dict[str, Any]:
    """This node's `answer` with the seats the other nodes ended added, and every node
    that did not answer 200 named in `nodes_unreached`."""
    seats = int(answer.get("seats_ended", 0))
    unreached = list(answer.get("nodes_unreached", []))
    for node, reply in replies.items():
        ended = reply[1].get("seats_ended") if reply and isinstance(reply[1], dict) else None
        if reply is None or reply[0] != 200 or not isinstance(ended, int):
            unreached.append(node)
        else:
            seats += ended
    return {**answer, "seats_ended": seats, "nodes_unreached": unreached}


async def ask(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    headers: Mapping[str, str],
    data: bytes | None,
) -> tuple[int, Any] | None:
    """One node's answer (status, JSON body or None), or None if it gave none in time."""
    timeout = aiohttp.ClientTimeout(total=FAN_OUT_TIMEOUT_S, sock_connect=_CONNECT_TIMEOUT_S)
    try:
        async with http.request(
            method, url, headers=headers, data=data, allow_redirects=False, timeout=timeout
        ) as answer:
            try:
                return answer.status, await answer.json(content_type=None)
            except ValueError:
                return answer.status, None
    except (aiohttp.ClientError, TimeoutError) as exc:
        logger.warning("%s %s did not answer: %r", method, url, exc)
        return None


async def other_nodes(request: web.Request) -> Replies:
    """`request` as every other live node answers it; nothing for a request that came
    forwarded (it was sent to every node already)."""
    placement = request.app.get(PLACEMENT)
    if placement is None or FORWARDED_BY in request.headers:
        return {}
    try:
        nodes = [status.node for status in await placement.live_nodes()]
    except PlacementUnavailable:
        logger.warning("%s: the placement cannot say which nodes are live", request.path)
        return {PLACEMENT_UNKNOWN: None}
    others = [node for node in nodes if node.id != placement.here.id]
    if not others:
        return {}
    replies: dict[str, tuple[int, Any] | None] = {}
    urls: dict[str, str] = {}
    for node in others:
        origin = reachable(request, node)
        if origin is None:  # behind this node's own origin: it cannot be addressed
            replies[node.id] = None
        else:
            urls[node.id] = origin + request.rel_url.raw_path_qs
    headers = passed_on(request)
    data = await request.read() if request.can_read_body else None
    http = request.app[HTTP]
    answers = await asyncio.gather(
        *(ask(http, request.method, url, headers, data) for url in urls.values())
    )
    replies.update(zip(urls, answers, strict=True))
    statuses = {node: reply[0] if reply else None for node, reply in replies.items()}
    logger.info("%s %s sent to the other nodes: %s", request.method, request.path, statuses)
    return replies
