"""A throwaway PostgreSQL cluster (Debian's postgresql) on a loopback port, one per test run.

`initdb` and `postgres` refuse to run as root, so as root the cluster is made and
started as the `postgres` system user. Each storage test gets its own fresh
database in the cluster (`fresh_database`).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg


def _pg_bin() -> Path:
    """Debian's newest installed PostgreSQL (15 on bookworm)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed; scripts/test.sh installs it")
    return found[-1].parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@contextmanager
def postgres_cluster(fsync: bool = False) -> Iterator[str]:
    """Start a cluster; yield the server's base URL (no database name). Tests run it
    without fsync (durability is not what they test); a benchmark asks for it."""
    bin_dir = _pg_bin()
    root = Path(tempfile.mkdtemp(prefix="caucus-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    subprocess.run(
        _as_postgres(
            [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "caucus", "-E", "UTF8"]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync={'on' if fsync else 'off'}"
    )
    subprocess.run(
        _as_postgres(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(root / "log")]
            + ["start"]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        yield f"postgresql+asyncpg://caucus@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            check=False,
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(root, ignore_errors=True)


async def fresh_database(base_url: str, template: str | None = None) -> str:
    """A new database in the cluster, empty or a copy of database `template`; its
    SQLAlchemy URL."""
    name = f"t_{secrets.token_hex(6)}"
    host_port = base_url.split("@", 1)[1]
    conn = await asyncpg.connect(f"postgresql://caucus@{host_port}/postgres")
    try:
        copy = f' TEMPLATE "{template}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await conn.close()
    return f"{base_url}/{name}"
