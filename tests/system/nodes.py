"""Caucus nodes on loopback for the scale-out tests: separate `caucus serve` processes
on one Redis, one PostgreSQL database and one recordings directory, each with its own
port and UDP range; and the roaming clients' process (tests/system/roaming_clients.py)
with its report lines."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sessions.ids import RoomId, ScenarioId
from signaling.admission import seat_token
from storage.catalogue import Catalogue
from storage.database import Database
from storage.migrate import upgrade
from tests.postgres_server import fresh_database
from tests.server_process import ServerProcess
from tests.system.roaming_clients import SEATS

SECRET = "scale-out-test-secret-0123456789abcdef"


def node(workdir: Path, n: int, redis_url: str, database_url: str) -> ServerProcess:
    """Node `n`: its own data directory, whose recordings/ is the shared one."""
    data = workdir / f"node{n}"
    data.mkdir(parents=True)
    shared = workdir / "recordings"
    shared.mkdir(exist_ok=True)
    (data / "recordings").symlink_to(shared)
    low = 42000 + 200 * n
    return ServerProcess(
        data,
        CAUCUS_MEDIA="1",
        CAUCUS_ICE_ADDRESSES="127.0.0.1",
        CAUCUS_UDP_PORTS=f"{low}-{low + 199}",
        CAUCUS_REDIS_URL=redis_url,
        CAUCUS_DATABASE_URL=database_url,
        CAUCUS_SECRET=SECRET,
        CAUCUS_GRACE_S="60",
    )


async def shared_database(postgres_base_url: str) -> tuple[str, Database]:
    url = await fresh_database(postgres_base_url)
    database = Database(url)
    await upgrade(database)
    return url, database


async def rooms_with_tokens(database: Database, count: int) -> dict[RoomId, dict[str, str]]:
    catalogue = Catalogue(database)
    rooms = {}
    for _ in range(count):
        room = (await catalogue.create_simulation(ScenarioId("boundary-fence"), 1)).id
        rooms[room] = {
            str(seat): seat_token(SECRET, room, seat, f"Person {seat}")[0] for seat in SEATS
        }
    return rooms


@dataclass
class Clients:
    """What the roaming client processes told, merged."""

    procs: list[asyncio.subprocess.Process] = field(default_factory=list)
    #: (room, seat) → [(origin, wall_s, outcome, consent)] for every seat taken
    joins: dict[tuple[str, str], list[tuple[str, float, str, str]]] = field(default_factory=dict)
    #: room → note ids acknowledged
    notes: dict[str, list[str]] = field(default_factory=dict)
    #: "ROOM SEAT" → frames received in each second told
    frames: dict[str, list[int]] = field(default_factory=dict)
    #: one entry per process that told "ready": whether all its seats were
    ready: list[bool] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            kind, _, rest = raw.decode().strip().partition(" ")
            if kind == "joined":
                room, seat, origin, wall, outcome, consent = rest.split()
                self.joins.setdefault((room, seat), []).append(
                    (origin, float(wall), outcome, consent)
                )
            elif kind == "note":
                room, note_id = rest.split()
                self.notes.setdefault(room, []).append(note_id)
            elif kind == "frames":
                for key, count in json.loads(rest).items():
                    self.frames.setdefault(key, []).append(int(count))
            elif kind == "ready":
                self.ready.append(bool(json.loads(rest)["ready"]))
            async with self.changed:
                self.changed.notify_all()

    async def until(self, done: Any, timeout: float) -> None:
        async def waiting() -> None:
            async with self.changed:
                await self.changed.wait_for(done)

        await asyncio.wait_for(waiting(), timeout)


@asynccontextmanager
async def roaming_clients(
    nodes: list[str], rooms: dict[RoomId, dict[str, str]], fps: int = 5, processes: int = 1
) -> AsyncIterator[Clients]:
    """The rooms' seats in `processes` client processes (rooms dealt out in turn)."""
    clients = Clients()
    shares = [dict(list(rooms.items())[i::processes]) for i in range(processes)]
    readers = []
    for share in shares:
        config = {"nodes": nodes, "rooms": share, "fps": fps, "lifetime_s": 300}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.system.roaming_clients",
            json.dumps(config),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parents[2],
        )
        clients.procs.append(proc)
        readers.append(asyncio.ensure_future(clients.read(proc)))
    try:
        await clients.until(lambda: len(clients.ready) == processes, 110)
        assert all(clients.ready), "the clients could not all take their seats"
        yield clients
    finally:
        for proc in clients.procs:
            assert proc.stdin is not None
            proc.stdin.close()
        for proc in clients.procs:
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        for reader in readers:
            reader.cancel()
