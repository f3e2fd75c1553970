"""The database's own failures as one domain error, on SQLite and on PostgreSQL.

A full disk, an I/O error, a locked database or a lost connection is not a bug
in the request that met it: callers answer `unavailable` and the request changes
nothing (every write is one transaction, so a refused write leaves nothing
behind). A wrong statement or a broken constraint is a bug and stays what it is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection

from sessions.errors import DomainError
from storage.database import Database

# SQLite primary result codes that mean "the storage failed", not "the SQL is wrong"
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN = 5, 6, 8, 10, 11, 13, 14
_SQLITE_CODES = frozenset((_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN))
# PostgreSQL SQLSTATE classes and codes of the same kind: connection exceptions (08),
# insufficient resources (53: disk full, out of memory, too many connections),
# operator intervention (57P: shutdown, cannot connect now), system errors (58: I/O)
_PG_CLASSES = ("08", "53", "57P", "58")
# a read-only transaction (a standby after failover) and a lock not available
_PG_CODES = frozenset(("25006", "55P03"))


class StorageUnavailable(DomainError):
    code = "unavailable"


def is_storage_fault(exc: BaseException) -> bool:
    """True when `exc` says the database could not do its job (not that the SQL was wrong)."""
    if isinstance(exc, sa_exc.TimeoutError):  # no connection free in the pool in time
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        return _driver_fault(exc.orig)
    if isinstance(exc, OSError):  # the driver could not reach the server at all
        return True
    return _driver_fault(exc)


def _driver_fault(orig: BaseException | None) -> bool:
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        if code is not None:
            return (code & 0xFF) in _SQLITE_CODES
        return isinstance(orig, sqlite3.OperationalError)
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str):
        return state in _PG_CODES or state.startswith(_PG_CLASSES)
    return isinstance(orig, OSError)


def unavailable(exc: BaseException) -> StorageUnavailable:
    return StorageUnavailable(f"storage is unavailable: {str(exc).splitlines()[0][:300]}")


@asynccontextmanager
async def transaction(database: Database) -> AsyncIterator[AsyncConnection]:
    """`database.transaction()` whose storage failures raise :class:`StorageUnavailable`."""
    try:
        async with database.transaction() as conn:
            yield conn
    except (sa_exc.SQLAlchemyError, OSError) as exc:
        if is_storage_fault(exc):
            raise unavailable(exc) from exc
        raise


@asynccontextmanager
async def reading(database: Database) -> AsyncIterator[AsyncConnection]:
    """`database.reading()` whose storage failures raise :class:`StorageUnavailable`."""
    try:
        async with database.reading() as conn:
            yield conn
    except (sa_exc.SQLAlchemyError, OSError) as exc:
        if is_storage_fault(exc):
            raise unavailable(exc) from exc
        raise
