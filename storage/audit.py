"""The audit log: every deletion and deactivation, by hand or by retention — who, what, when."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import audit_log

#: actors that are not people
RETENTION = "retention"
ADMIN_TOKEN = "admin-token"
CLI = "cli"


async def record(
    conn: AsyncConnection,
    actor: str,
    action: str,
    target: str,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Add a row in the caller's transaction, so the row exists exactly when the change does."""
    await conn.execute(
        insert(audit_log).values(
            at_ms=time.time_ns() // 1_000_000,
            actor=actor,
            action=action,
            target=target,
            detail=dict(detail or {}),
        )
    )


async def entries(conn: AsyncConnection, limit: int = 200) -> list[dict[str, Any]]:
    rows = await conn.execute(select(audit_log).order_by(audit_log.c.id.desc()).limit(limit))
    return [dict(row._mapping) for row in rows]
