"""`caucus serve` as a real separate process, for tests that kill and restart it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    def __init__(
        self, data_dir: Path, port: int | None = None, workers: int = 1, **env: str
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        #: `serve --workers`: 1 is one process (what most tests test), more a supervisor
        self.workers = workers
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: ASYNC220 - one process, awaited by polling
            [
                sys.executable,
                "-m",
                "caucus",
                "serve",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
                "--workers",
                str(self.workers),
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(self.data_dir / "server.log", "ab"),  # noqa: SIM115, ASYNC230
            env={**os.environ, **self.env},
            cwd=Path(__file__).resolve().parents[1],
        )
        async with aiohttp.ClientSession() as http:
            # a supervisor starts its workers first: on a busy 2-core machine, minutes
            for _ in range(1200 if self.workers == 1 else 3600):
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"server exited with {self.proc.returncode}:\n{self.log_tail()}"
                    )
                try:
                    async with http.get(f"{self.url}/healthz") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)  # polling a starting process: nothing to await
        raise RuntimeError("server did not become healthy")

    def log_tail(self, lines: int = 20) -> str:
        """The end of the server's log: why it stopped."""
        log = self.data_dir / "server.log"
        if not log.exists():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing, like a power cut of the process."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)  # a drain takes up to CAUCUS_DRAIN_S (10 s by default)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
