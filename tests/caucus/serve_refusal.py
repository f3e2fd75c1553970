"""`caucus serve` run as a process that is expected to refuse to start."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from caucus.workers import ROOT


async def refused_serve(data_dir: Path, env: dict[str, str], *args: str) -> str:
    """Run ``caucus serve ARGS`` with ``env`` over the environment; it must exit 1
    having served nothing. Its standard error, stripped."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "caucus",
        "serve",
        *args,
        "--data-dir",
        str(data_dir),
        "--port",
        "0",
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 1, (out, err)
    assert b"serving" not in out
    return err.decode().strip()
