"""Several processes writing one SQLite database, as `caucus serve --workers N` does.

Each writer process runs transactions that read and then write (the shape that,
in WAL mode, fails at once with "database is locked" when another process
committed in between and the transaction began deferred), all at the same time,
on the same file. Every transaction must commit and none may be lost.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.database import Database, default_url
from storage.migrate import upgrade
from storage.schema import events, simulations

WRITERS = 3
TRANSACTIONS = 60

WRITER = """
import asyncio, sys
from sqlalchemy import func, insert, select
from storage.database import Database
from storage.schema import events

async def main(url: str, writer: int, count: int) -> None:
    database = Database(url)
    try:
        for n in range(count):
            async with database.transaction() as conn:
                seen = (await conn.execute(select(func.count()).select_from(events))).scalar_one()
                await conn.execute(insert(events).values(
                    simulation_id="shared", t_ms=seen, kind="note", seat=None,
                    detail={"writer": writer, "n": n}))
    finally:
        await database.close()

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
"""


@pytest.mark.timeout(120)
async def test_writers_in_several_processes_all_commit(tmp_path: Path) -> None:
    url = default_url(tmp_path)
    database = Database(url)
    await upgrade(database)
    async with database.reading() as conn:
        # a writer waits for another process's write lock instead of failing at once
        assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar_one() >= 5000
        assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one() == "wal"
    async with database.transaction() as conn:
        await conn.execute(
            simulations.insert().values(
                id="shared", scenario_id="boundary-fence", observers=1, created_ms=0
            )
        )
    root = Path(__file__).resolve().parents[2]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WRITER,
            url,
            str(w),
            str(TRANSACTIONS),
            cwd=root,
            stderr=subprocess.PIPE,
        )
        for w in range(WRITERS)
    ]
    results = await asyncio.gather(*(p.communicate() for p in procs))
    errors = [err.decode() for (_, err), p in zip(results, procs, strict=True) if p.returncode]
    assert not errors, errors[0][-2000:]
    async with database.reading() as conn:
        stored = (await conn.execute(select(func.count()).select_from(events))).scalar_one()
    await database.close()
    assert stored == WRITERS * TRANSACTIONS
