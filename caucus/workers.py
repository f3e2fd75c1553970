"""`caucus serve --workers N`: N nodes on one machine behind one public port.

One Caucus process forwards on one core (docs/PERFORMANCE.md), so a machine with
N cores runs N nodes. Each node is a normal `caucus serve` process (`--node NAME`)
on its own loopback port and its own share of `CAUCUS_UDP_PORTS`; this
supervisor runs the migrations and the crash recovery once, starts the nodes,
serves the front (caucus/front.py) on the public host and port, asks every node
for its live rooms every `REPORT_EVERY_S` (the placement's load reports),
restarts a node that dies (its open recordings are closed as interrupted first,
then its rooms are placed anew) and, on SIGTERM/SIGINT, drains every node.

All nodes share the data directory: the SQLite database (WAL, busy timeout) or
PostgreSQL, the recordings and the secrets.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from ssl import SSLContext
from typing import Any

import aiohttp
from aiohttp import web

from caucus.config import Config
from caucus.front import Front
from caucus.worker_placement import WorkerPlacement
from media.announce import parse_port_range
from recordings.recovery import recover_interrupted
from sessions.ids import RoomId
from storage.catalogue import Catalogue
from storage.database import Database
from storage.migrate import upgrade
from web.forwarded import parse_networks

logger = logging.getLogger(__name__)

#: how often the supervisor asks each node for its live rooms
REPORT_EVERY_S = 2.0
#: how long a node may take from exec to a healthy /healthz
START_TIMEOUT_S = 180.0  # a loaded 2-core machine takes a minute to import aiortc twice
#: a node that keeps dying is restarted at most this often
MAX_BACKOFF_S = 10.0
#: the supervisor's own requests to its nodes, left out of their access logs
SUPERVISOR_AGENT = "caucus-supervisor"
#: the project root, put first on every node's path (the nodes run this very code)
ROOT = Path(__file__).resolve().parent.parent


def default_workers() -> int:
    return os.cpu_count() or 1


def split_ports(spec: str, workers: int) -> list[str]:
    """`CAUCUS_UDP_PORTS` shared out: "40000-40999" over 2 → 40000-40499, 40500-40999."""
    ports = parse_port_range(spec)
    if ports is None:
        return [""] * workers
    low, high = ports
    size = (high - low + 1) // workers
    if size < 1:
        raise ValueError(
            f"CAUCUS_UDP_PORTS: {spec} has fewer ports than the {workers} workers need"
        )
    return [f"{low + i * size}-{low + (i + 1) * size - 1}" for i in range(workers)]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the node, before exec: SIGTERM when the supervisor dies (Linux prctl)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def shifted_address(address: str, by: int) -> str:
    """host:port with the port moved by `by` (each node's own metrics listener)."""
    if not address or by == 0:
        return address
    host, _, port = address.rpartition(":")
    return f"{host}:{int(port) + by}"


@dataclass
class Node:
    name: str
    index: int
    port: int
    udp_ports: str
    proc: asyncio.subprocess.Process | None = None
    restarts: int = 0
    started_at: float = field(default_factory=time.monotonic)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def info(self) -> dict[str, Any]:
        return {
            "port": self.port,
            "udp_ports": self.udp_ports or "any",
            "pid": self.proc.pid if self.proc is not None else None,
            "restarts": self.restarts,
        }


class Supervisor:
    def __init__(self, config: Config, workers: int, ssl_context: SSLContext | None = None) -> None:
        self.config = config
        self.ssl_context = ssl_context
        self.nodes = [
            Node(f"node-{i}", i, free_port(), udp)
            for i, udp in enumerate(split_ports(config.udp_ports, workers))
        ]
        self.placement = WorkerPlacement([n.name for n in self.nodes])
        self.front = Front(
            {n.name: n.url for n in self.nodes},
            self.placement,
            parse_networks(config.trusted_proxies),
            node_info=lambda name: self._node(name).info(),
        )
        self.stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def _node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    # --- a node's life -----------------------------------------------------------

    def node_env(self, node: Node) -> dict[str, str]:
        config = self.config
        proxies = ",".join(p for p in (config.trusted_proxies, "127.0.0.1", "::1") if p)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
            ),
            # links, cookies and the socket's origin check name the public origin
            "CAUCUS_PUBLIC_URL": config.base_url,
            "CAUCUS_TRUSTED_PROXIES": proxies,
            "CAUCUS_UDP_PORTS": node.udp_ports,
            # the front terminates TLS; a node speaks plain HTTP on loopback
            "CAUCUS_TLS_CERT": "",
            "CAUCUS_TLS_KEY": "",
            "CAUCUS_METRICS_ADDRESS": shifted_address(config.metrics_address, node.index),
        }
        if node.index > 0:  # one node deletes old recordings, not N racing each other
            env["CAUCUS_RETENTION_DAYS"] = "0"
        return env

    async def start_node(self, node: Node) -> None:
        node.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "caucus",
            "serve",
            "--workers",
            "1",
            "--node",
            node.name,
            "--host",
            "127.0.0.1",
            "--port",
            str(node.port),
            "--data-dir",
            str(self.config.data_dir),
            env=self.node_env(node),
            cwd=ROOT,
            preexec_fn=_die_with_parent,
        )
        node.started_at = time.monotonic()
        await self._healthy(node)
        self.placement.node_up(node.name)
        await self.front.notify()
        logger.info("%s up on port %d (pid %d)", node.name, node.port, node.proc.pid)

    async def _healthy(self, node: Node) -> None:
        """Bounded polling of a starting process's /healthz: it has no event to await."""
        assert node.proc is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        async with aiohttp.ClientSession(headers={"User-Agent": SUPERVISOR_AGENT}) as http:
            while time.monotonic() < deadline:
                if node.proc.returncode is not None:
                    raise RuntimeError(f"{node.name} exited with {node.proc.returncode} at start")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{node.url}/healthz") as r:
                        if r.status == 200:
                            return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{node.name} did not become healthy in {START_TIMEOUT_S:.0f} s")

    async def watch(self, node: Node) -> None:
        """Restart `node` whenever it exits, until the supervisor stops."""
        backoff = 0.5
        while True:
            assert node.proc is not None
            code = await node.proc.wait()
            if self.stopping.is_set():
                return
            lived = time.monotonic() - node.started_at
            logger.error("%s exited with code %s after %.0f s; restarting", node.name, code, lived)
            rooms = self.placement.node_down(node.name)
            try:
                await self.recover(rooms)
            except Exception:  # the database is away: the rooms go on, their segments later
                logger.exception("%s: its open recordings could not be closed now", node.name)
            self.placement.release_all(rooms)
            await self.front.notify()
            backoff = 0.5 if lived > 60 else min(MAX_BACKOFF_S, backoff * 2)
            await asyncio.sleep(backoff)  # a crash loop is not restarted at full speed
            node.restarts += 1
            try:
                await self.start_node(node)
            except RuntimeError as exc:
                logger.error("%s: %s", node.name, exc)
                if node.proc is not None and node.proc.returncode is None:
                    node.proc.kill()  # hung at start: the next turn of the loop retries

    async def recover(self, rooms: set[RoomId] | None) -> None:
        """Close the segments a dead node left open (None: every room, at start)."""
        if rooms is not None and not rooms:
            return
        database = Database(self.config.database)
        try:
            if rooms is None:
                await upgrade(database)  # once, before any node starts
            for room_id in await recover_interrupted(Catalogue(database), rooms):
                logger.warning(
                    "simulation %s was interrupted; its recording plays up to the crash", room_id
                )
        finally:
            await database.close()

    async def report_loop(self) -> None:
        """Every node's live rooms and connected seats, every `REPORT_EVERY_S`."""
        headers = {
            "Authorization": f"Bearer {self.config.admin_token}",
            "User-Agent": SUPERVISOR_AGENT,
        }
        timeout = aiohttp.ClientTimeout(total=REPORT_EVERY_S * 2)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while not self.stopping.is_set():
                for node in self.nodes:
                    if not self.placement.live(node.name):
                        continue
                    asked_at = time.monotonic()
                    try:
                        async with http.get(f"{node.url}/api/live", headers=headers) as r:
                            body = await r.json() if r.status == 200 else None
                    except (aiohttp.ClientError, TimeoutError, ValueError):
                        body = None
                    if body is not None:
                        rooms = body.get("rooms", [])
                        live = {RoomId(r["id"]) for r in rooms}
                        seats = sum(int(r.get("connected", 0)) for r in rooms)
                        self.placement.reported(node.name, live, seats, asked_at)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), REPORT_EVERY_S)

    # --- the whole ---------------------------------------------------------------

    async def run(self) -> None:
        await self.recover(None)
        try:
            await asyncio.gather(*(self.start_node(n) for n in self.nodes))
        except RuntimeError:
            for node in self.nodes:  # none is left behind without its supervisor
                if node.proc is not None and node.proc.returncode is None:
                    node.proc.kill()
                    await node.proc.wait()
            raise
        runner = web.AppRunner(self.front.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port, ssl_context=self.ssl_context)
        await site.start()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        self._tasks = [asyncio.ensure_future(self.watch(n)) for n in self.nodes]
        self._tasks.append(asyncio.ensure_future(self.report_loop()))
        ports = ", ".join(f"{n.name} :{n.port} udp {n.udp_ports or 'any'}" for n in self.nodes)
        print(
            f"Caucus serving on {self.config.base_url} with {len(self.nodes)} workers ({ports})",
            flush=True,
        )
        await self.stopping.wait()
        await self.drain()
        await runner.cleanup()

    async def drain(self) -> None:
        """SIGTERM to every node (each drains: clients told, recordings finished), within
        CAUCUS_DRAIN_S; the front relays their last words, then closes."""
        start = time.monotonic()
        self.front.closing = True
        logger.info("draining %d workers", len(self.nodes))
        procs = [n.proc for n in self.nodes if n.proc is not None and n.proc.returncode is None]
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        budget = max(1.0, self.config.drain_s - 0.5)
        done, pending = await asyncio.wait(
            [asyncio.ensure_future(p.wait()) for p in procs], timeout=budget
        )
        for proc in procs:
            if proc.returncode is None:
                logger.error("a worker (pid %d) did not drain in time: killed", proc.pid)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
        if pending:
            await asyncio.wait(pending, timeout=2)
        for task in self._tasks:
            task.cancel()
        logger.info("workers drained in %.2f s", time.monotonic() - start)


def serve_workers(config: Config, workers: int, ssl_context: SSLContext | None) -> None:
    """Run the supervisor until SIGTERM/SIGINT (caucus/cli.py, `serve --workers N`)."""
    try:
        asyncio.run(Supervisor(config, workers, ssl_context).run())
    except RuntimeError as exc:  # a node that would not start
        raise SystemExit(f"caucus: {exc}") from None
