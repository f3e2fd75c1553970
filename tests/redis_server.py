"""A throwaway redis-server on a loopback port, for the paths that use Redis."""

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


@asynccontextmanager
async def redis_server(workdir: Path) -> AsyncIterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed; scripts/test.sh installs it")
    port = _free_port()
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, waited on by polling PING
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = aioredis.from_url(url)
        for _ in range(100):
            try:
                if await client.ping():
                    break
            except (ConnectionError, OSError, aioredis.ConnectionError):
                await asyncio.sleep(0.05)  # polling a starting process: nothing to await
        await client.aclose()
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
