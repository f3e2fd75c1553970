"""The database's own failures (disk full, I/O error, locked) as one domain error.

A full disk is not a bug in the request that met it: signalling answers
`unavailable` and the request changes nothing (every write is one autocommit
statement, so a refused write leaves nothing behind).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from sessions.errors import DomainError

# SQLite primary result codes that mean "the storage failed", not "the SQL is wrong"
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN = 5, 6, 8, 10, 11, 13, 14
_STORAGE_CODES = frozenset((_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN))


class StorageUnavailable(DomainError):
    code = "unavailable"


def is_storage_fault(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _STORAGE_CODES
    return isinstance(exc, sqlite3.OperationalError)


class GuardedConnection:
    """A sqlite3 connection whose storage failures raise :class:`StorageUnavailable`."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, args: Iterable[Any] = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, tuple(args))
        except sqlite3.Error as exc:
            if is_storage_fault(exc):
                raise StorageUnavailable(f"storage is unavailable: {exc}") from exc
            raise

    def executescript(self, script: str) -> None:
        self._db.executescript(script)

    def close(self) -> None:
        self._db.close()
