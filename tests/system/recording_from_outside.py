"""A recorded session seen from outside the server process: the seats' media clients
in a process of their own (tests/system/crash_clients.py), and what the server wrote –
its catalogue rows and .webm files – read and decoded without its help.

The server may be dead or alive: the readers open its SQLite database read-only (no
WAL checkpoint), so after a SIGKILL recovery still finds the database as the killed
server left it.  Used by the crash, drain and disk-full tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import av

from sessions.ids import RoomId
from storage.catalogue import Segment
from tests.media.synthetic import SEATS

TRACKS = frozenset((str(seat), kind) for seat in SEATS for kind in ("audio", "video"))
ROOT = Path(__file__).resolve().parents[2]
CLIENT_LIFETIME_S = 90  # the client process exits by itself after this, come what may

T = TypeVar("T")


# -- the media clients, in a process of their own ----------------------------------------


class Clients:
    """tests/system/crash_clients.py as a subprocess: four seats publishing until killed.

    Its stdout is read all along: the "ready" report, and the wall time at which
    every encoded frame was sent, per track.
    """

    def __init__(self, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.proc = proc
        self.log = log
        self.sent: dict[tuple[str, str], list[float]] = defaultdict(list)
        self._ready: asyncio.Future[dict[str, object]] = asyncio.get_running_loop().create_future()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, url: str, room: RoomId, tokens: dict[str, str], log: Path) -> Clients:
        with log.open("ab") as stderr:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.system.crash_clients",
                url,
                room,
                json.dumps(tokens),
                str(CLIENT_LIFETIME_S),
                stdin=subprocess.PIPE,  # closed when this process ends: the clients exit
                stdout=subprocess.PIPE,
                stderr=stderr,
                cwd=ROOT,
            )
        return cls(proc, log)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            word, _, rest = line.decode().strip().partition(" ")
            if word == "sent":
                seat, kind, wall = rest.split()
                self.sent[(seat, kind)].append(float(wall))
            elif word == "ready" and not self._ready.done():
                self._ready.set_result(json.loads(rest))
        if not self._ready.done():
            self._ready.set_exception(AssertionError(f"the clients exited; see {self.log}"))

    async def ready(self, timeout: float) -> dict[str, object]:
        """Wait (bounded) for the clients' report that every peer connection is up."""
        report = await asyncio.wait_for(asyncio.shield(self._ready), timeout)
        assert report.get("ready"), f"the clients failed: {report}; see {self.log}"
        return report

    def last_sent(self, track: tuple[str, str], before: float) -> float | None:
        """Wall time of the last frame of `track` the clients sent before `before`."""
        return max((t for t in self.sent[track] if t <= before), default=None)

    async def kill(self) -> None:
        """SIGKILL, then read what it had written to stdout before it died (bounded)."""
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.proc.wait(), 10)
        await asyncio.wait_for(self._reader, 10)
        if self.proc.stdin is not None:
            self.proc.stdin.close()


# -- reading what the server left -----------------------------------------------------------


def read_db(database: Path) -> sqlite3.Connection:
    """Read-only: between a kill and the restart this must not checkpoint the WAL, so
    recovery finds the database exactly as the killed server left it."""
    return sqlite3.connect(f"file:{database}?mode=ro", uri=True)


def segments_of(database: Path, room: RoomId) -> dict[int, Segment]:
    with contextlib.closing(read_db(database)) as db:
        rows = db.execute(
            "SELECT id, simulation_id, seat, kind, codec, visibility, path, start_ms,"
            " duration_ms, frames, bytes, status FROM segments WHERE simulation_id = ?",
            (room,),
        ).fetchall()
    return {row[0]: Segment(*row) for row in rows}


def interrupted_events(database: Path, room: RoomId) -> list[int]:
    with contextlib.closing(read_db(database)) as db:
        rows = db.execute(
            "SELECT t_ms FROM events WHERE simulation_id = ? AND kind = 'interrupted' ORDER BY id",
            (room,),
        ).fetchall()
    return [int(r[0]) for r in rows]


def t0_of(database: Path, room: RoomId) -> int:
    with contextlib.closing(read_db(database)) as db:
        row = db.execute("SELECT t0_ms FROM simulations WHERE id = ?", (room,)).fetchone()
    assert row is not None and row[0] is not None, "the session clock never started"
    return int(row[0])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Decoded:
    packets: int = 0
    frames: int = 0
    last_ms: float | None = None  # pts of the last decoded frame, ms from the file's start
    errors: list[str] = field(default_factory=list)


def decode_fully(path: Path) -> Decoded:
    """Demux and decode every packet of every stream; any exception is an error."""
    result = Decoded()
    try:
        with av.open(str(path)) as container:
            for packet in container.demux():
                if packet.size:
                    result.packets += 1
                for frame in packet.decode():  # the flush packet (size 0) drains the decoder
                    assert isinstance(frame, av.AudioFrame | av.VideoFrame), frame
                    result.frames += 1
                    if frame.pts is not None and frame.time_base is not None:
                        ms = float(frame.pts * frame.time_base * 1000)
                        result.last_ms = ms if result.last_ms is None else max(result.last_ms, ms)
    except Exception as exc:  # noqa: BLE001 - any failure to decode is the finding
        result.errors.append(f"{type(exc).__name__}: {exc}")
    return result


async def poll(check: Callable[[], T | None], timeout: float, what: str) -> T:
    """Wait (bounded) for another process's database to show `check`; it cannot notify us."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)  # polling a file another process writes: nothing to await
