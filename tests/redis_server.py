"""A throwaway redis-server on a loopback port, for the paths that use Redis.

`RedisServer` can also be stopped and started again on the same port (an outage);
it keeps nothing on disk, so a restarted server is empty, as after a crash.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import redis.asyncio as aioredis


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed; scripts/test.sh installs it")
        self._binary = binary
        self._workdir = workdir
        self.port = _free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self._proc = subprocess.Popen(  # noqa: ASYNC220 - started once, waited on by polling PING
            [
                self._binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self._workdir),
            ],
            stdout=subprocess.DEVNULL,
        )
        client = aioredis.from_url(self.url)
        try:
            for _ in range(600):  # 30 s: a loaded machine starts it slowly
                try:
                    if await client.ping():
                        return
                except (ConnectionError, OSError, aioredis.ConnectionError):
                    await asyncio.sleep(0.05)  # polling a starting process: nothing to await
            raise RuntimeError("redis-server did not answer PING")
        finally:
            await client.aclose()

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(10)


@asynccontextmanager
async def redis_server(workdir: Path) -> AsyncIterator[str]:
    server = RedisServer(workdir)
    try:
        await server.start()
        yield server.url
    finally:
        server.stop()
