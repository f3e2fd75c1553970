"""The tests' lever for a database that refuses writes, as a full or failing one does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event

from storage.database import Database


@asynccontextmanager
async def read_only(database: Database) -> AsyncIterator[None]:
    """Every connection refuses writes until the block ends (the test's lever): the pool
    is emptied so that each connection the block uses is opened read-only."""

    def refuse(dbapi_connection: Any, _record: Any) -> None:
        if database.sqlite:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA query_only = 1")
            cursor.close()
        else:
            dbapi_connection.run_async(
                lambda conn: conn.execute("SET default_transaction_read_only = on")
            )

    event.listen(database.engine.sync_engine, "connect", refuse)
    await database.engine.dispose()
    try:
        yield
    finally:
        event.remove(database.engine.sync_engine, "connect", refuse)
        await database.engine.dispose()
