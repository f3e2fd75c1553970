"""What the front of `caucus serve --workers N` answers itself, from the nodes' answers.

The front (caucus/front.py) relays everything else to one node; these five questions
are about every node, so no single node can answer them:

- `/healthz`: every node's, summed (503 while one is down or the server is closing).
- `/api/live`: every node's live rooms, merged, as the caller may see them (each node
  applies the caller's permissions).
- `GET /api/schedule`: the first live node's list, a simulation someone sits in on
  another node marked "live" from that node's `/api/live` (a node says "live" only of
  the rooms it holds).
- `/metrics?node=NAME`: one node's (Prometheus scrapes each).
- `POST /api/people/{id}/deactivate`: the first live node's, then sent to every other
  node so the seats the person holds there end too (web/every_node.py).

A node that is down or silent counts as a 503 answer; `unavailable` is the front's
503 when no node can take a request.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any, Protocol

import aiohttp
from aiohttp import web

from caucus.worker_placement import NoLiveNode, WorkerPlacement
from web import every_node
from web.errors import json_error
from web.room_owner import FORWARDED_BY

logger = logging.getLogger(__name__)

#: a node's answer to the front's fan-out questions (/healthz, /api/live)
FAN_OUT_TIMEOUT_S = 5.0


class Front(Protocol):
    """What these answers need of the front (caucus/front.py's Front): its nodes, how
    to reach them, and how it relays a request to one."""

    nodes: dict[str, str]
    placement: WorkerPlacement
    node_info: Callable[[str], dict[str, Any]]
    closing: bool

    @property
    def http(self) -> aiohttp.ClientSession: ...

    def upstream_headers(self, request: web.Request) -> dict[str, str]: ...

    async def relay(
        self, request: web.Request, url: str, headers: dict[str, str]
    ) -> web.StreamResponse: ...


class FrontAnswers:
    """The front's own routes, answered by asking its nodes."""

    def __init__(self, front: Front) -> None:
        self.front = front

    async def _ask_every_node(
        self,
        path: str,
        headers: dict[str, str],
        method: str = "GET",
        data: bytes | None = None,
        but: str | None = None,
    ) -> dict[str, tuple[int, Any]]:
        """Every node's answer (but `but`'s), asked at once; 503 for one down or silent."""
        front = self.front

        async def ask(name: str) -> tuple[int, Any]:
            if not front.placement.live(name):
                return 503, {"ok": False, "code": "unavailable", "message": f"{name} is down"}
            try:
                async with front.http.request(
                    method,
                    front.nodes[name] + path,
                    headers=headers,
                    data=data,
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=FAN_OUT_TIMEOUT_S),
                ) as r:
                    return r.status, await r.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                return 503, {"ok": False, "code": "unavailable", "message": f"{name}: {exc}"}

        names = [name for name in front.nodes if name != but]
        answers = await asyncio.gather(*(ask(name) for name in names))
        return dict(zip(names, answers, strict=True))

    async def health(self, request: web.Request) -> web.Response:
        path = request.rel_url.raw_path_qs
        answers = await self._ask_every_node(path, {})
        nodes = [
            {"node": name, **self.front.node_info(name), **body}
            for name, (_, body) in answers.items()
        ]
        ok = not self.front.closing and all(status == 200 for status, _ in answers.values())

        def total(key: str) -> int:
            return sum(int(b.get(key, 0)) for _, b in answers.values() if isinstance(b, dict))

        return web.json_response(
            {
                "ok": ok,
                "workers": len(self.front.nodes),
                "rooms_live": total("rooms_live"),
                "participants_connected": total("participants_connected"),
                "peer_connections": total("peer_connections"),
                "nodes": nodes,
            },
            status=200 if ok else 503,
        )

    async def live(self, request: web.Request) -> web.Response:
        """Every node's live rooms, merged (each node applies the caller's permissions)."""
        answers = await self._ask_every_node("/api/live", self.front.upstream_headers(request))
        rooms: list[dict[str, Any]] = []
        for status, body in answers.values():
            if status in (401, 403):
                return web.json_response(body, status=status)
            if status == 200:
                rooms += body.get("rooms", [])
        rooms.sort(key=lambda r: (r["phase"]["kind"] == "ended", -r["connected"], r["id"]))
        return web.json_response({"rooms": rooms})

    async def deactivate(self, request: web.Request) -> web.Response:
        """The first live node deactivates the person (and ends the seats it holds); then
        every other node is sent the same request, forwarded, to end the seats it holds
        (web/every_node.py): seats on any worker are ended, not only on one."""
        data = await request.read()
        answered = await self._ask_home(request, data)
        if isinstance(answered, web.Response):
            return answered
        home, headers, answer = answered
        if not isinstance(answer, dict):
            return web.json_response(answer)
        headers[FORWARDED_BY] = "front"
        path = request.rel_url.raw_path_qs
        others = await self._ask_every_node(path, headers, "POST", data, but=home)
        return web.json_response(every_node.summed(answer, others))

    async def schedule(self, request: web.Request) -> web.Response:
        """The first live node's schedule, each simulation's status as its own node
        knows it: a node says "live" only of the rooms it holds, so a simulation
        someone sits in on another node is marked from that node's /api/live (the
        console's list would show it "open")."""
        answered = await self._ask_home(request)
        if isinstance(answered, web.Response):
            return answered
        home, headers, listing = answered
        if not isinstance(listing, list):
            return web.json_response(listing)
        answers = await self._ask_every_node("/api/live", headers, but=home)
        occupied = {
            room.get("id")
            for status, body in answers.values()
            if status == 200 and isinstance(body, dict)
            for room in body.get("rooms", [])
            if room.get("connected") and room.get("phase", {}).get("kind") != "ended"
        }
        for simulation in listing:
            if simulation.get("status") == "open" and simulation.get("id") in occupied:
                simulation["status"] = "live"
        return web.json_response(listing)

    async def _ask_home(
        self, request: web.Request, data: bytes | None = None
    ) -> web.Response | tuple[str, dict[str, str], Any]:
        """Send `request` to the first live node: (that node, the headers sent, its JSON
        answer) when it answered 200 with JSON, else the response for the caller (the
        node's own refusal, as it is, or 503)."""
        front = self.front
        if front.closing:
            return json_error("server_closing", "the server is shutting down", 503)
        try:
            home = front.placement.home()
        except NoLiveNode:
            return unavailable("no worker can take this request now")
        headers = front.upstream_headers(request)
        try:
            async with front.http.request(
                request.method,
                front.nodes[home] + request.rel_url.raw_path_qs,
                headers=headers,
                data=data,
                allow_redirects=False,
            ) as upstream:
                status, raw = upstream.status, await upstream.read()
                kind = upstream.headers.get("Content-Type", "application/json")
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("front: %s %s at %s failed: %r", request.method, request.path, home, exc)
            return unavailable(f"{home} did not answer (restarting?)")
        try:
            answer = json.loads(raw) if status == 200 else None
        except ValueError:
            answer = None
        if not isinstance(answer, dict | list):  # refused (or odd): the caller gets it as it is
            return web.Response(status=status, body=raw, headers={"Content-Type": kind})
        return home, headers, answer

    async def metrics(self, request: web.Request) -> web.StreamResponse:
        front = self.front
        name = request.query.get("node", "")
        if name not in front.nodes:
            return json_error(
                "bad_request",
                f"each worker has its own metrics: scrape /metrics?node=NAME, NAME one of"
                f" {', '.join(front.nodes)}",
                400,
            )
        if not front.placement.live(name):
            return unavailable(f"{name} is down")
        url = front.nodes[name] + "/metrics"
        return await front.relay(request, url, front.upstream_headers(request))


def unavailable(message: str) -> web.Response:
    """The front's 503 when no node can answer now (`Retry-After: 2`)."""
    response = json_error("unavailable", f"{message}; try again in a few seconds", 503)
    response.headers["Retry-After"] = "2"
    return response
