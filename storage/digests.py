"""Feedback digests in the database: written by a coach or an admin, shared with one trainee.

A digest is a draft (only its writers see it) until shared. Editing a draft rewrites
it; editing a shared digest keeps the text shared before (in `history`) and bumps
its version, so the trainee reads the newest and can see what it replaced. Who may
read or write is the caller's business (web/digest_api.py); this module stores.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from sessions.digests import SECTIONS, DigestText, EmptyDigest
from sessions.errors import DomainError
from storage import audit
from storage.database import Database
from storage.schema import digests, people

DRAFT = "draft"
SHARED = "shared"


class DigestBusy(DomainError):
    code = "digest_busy"
    status = 409


class UnknownDigest(DomainError):
    code = "unknown_digest"
    status = 404


@dataclass(frozen=True)
class Digest:
    id: str
    person_id: str
    author_id: str | None
    author_name: str | None
    text: DigestText
    status: str
    version: int
    #: the texts shared before this one, oldest first
    history: Sequence[Mapping[str, Any]]
    created_ms: int
    updated_ms: int
    shared_ms: int | None

    @property
    def shared(self) -> bool:
        return self.status == SHARED

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "person_id": self.person_id,
            "author_id": self.author_id,
            "author": self.author_name,
            **self.text.to_json(),
            "status": self.status,
            "version": self.version,
            "history": [dict(h) for h in self.history],
            "created_ms": self.created_ms,
            "updated_ms": self.updated_ms,
            "shared_ms": self.shared_ms,
            "pdf": f"/api/digests/{self.id}.pdf" if self.shared else None,
        }


_COLUMNS = (*digests.c, people.c.name.label("author_name"))


def _digest(row: Any) -> Digest:
    return Digest(
        id=row.id,
        person_id=row.person_id,
        author_id=row.author_id,
        author_name=row.author_name,
        text=DigestText(row.strengths, row.develop, row.next_steps),
        status=row.status,
        version=row.version,
        history=list(row.history or []),
        created_ms=row.created_ms,
        updated_ms=row.updated_ms,
        shared_ms=row.shared_ms,
    )


def _query() -> Any:
    return select(*_COLUMNS).select_from(
        digests.outerjoin(people, people.c.id == digests.c.author_id)
    )


async def _get(conn: AsyncConnection, digest_id: str, *, lock: bool = False) -> Digest | None:
    query = _query().where(digests.c.id == digest_id)
    if lock:  # PostgreSQL: two edits at once take turns, so no version's history is lost
        query = query.with_for_update(of=digests)
    row = (await conn.execute(query)).first()
    return None if row is None else _digest(row)


async def get(db: Database, digest_id: str) -> Digest | None:
    async with db.reading() as conn:
        return await _get(conn, digest_id)


async def of_person(db: Database, person_id: str, *, shared_only: bool) -> list[Digest]:
    """The digests written to `person_id`, newest first (only the shared ones if asked)."""
    query = _query().where(digests.c.person_id == person_id)
    if shared_only:
        query = query.where(digests.c.status == SHARED)
    query = query.order_by(digests.c.created_ms.desc(), digests.c.id)
    async with db.reading() as conn:
        return [_digest(row) for row in (await conn.execute(query)).all()]


async def add(
    db: Database, person_id: str, author_id: str | None, text: DigestText, now: int
) -> Digest:
    """A new draft to `person_id` (who must exist: the caller checked)."""
    digest_id = secrets.token_urlsafe(9)
    async with db.transaction() as conn:
        await conn.execute(
            insert(digests).values(
                id=digest_id,
                person_id=person_id,
                author_id=author_id,
                **text.to_json(),
                status=DRAFT,
                version=1,
                history=[],
                created_ms=now,
                updated_ms=now,
            )
        )
        made = await _get(conn, digest_id)
    assert made is not None
    return made


async def _require(conn: AsyncConnection, digest_id: str, *, lock: bool = False) -> Digest:
    found = await _get(conn, digest_id, lock=lock)
    if found is None:
        raise UnknownDigest(f"there is no digest {digest_id!r}")
    return found


#: how often an edit or a share is tried again after another one changed the digest first
_ATTEMPTS = 10


def _unchanged(current: Digest) -> Any:
    """The row as `current` read it: an update under this condition changes nothing if
    another edit came first (SQLite reads outside the write lock), and is tried again."""
    return (
        (digests.c.id == current.id)
        & (digests.c.version == current.version)
        & (digests.c.status == current.status)
        & (digests.c.strengths == current.text.strengths)
        & (digests.c.develop == current.text.develop)
        & (digests.c.next_steps == current.text.next_steps)
    )


async def edit(db: Database, digest_id: str, changes: Mapping[str, Any], now: int) -> Digest:
    """Replace the sections `changes` names. A shared digest keeps its earlier text in
    its history and gets the next version; a draft is rewritten in place."""
    for _ in range(_ATTEMPTS):
        async with db.transaction() as conn:
            current = await _require(conn, digest_id, lock=True)
            text = current.text.changed(changes)
            if text == current.text:
                return current
            values: dict[str, Any] = {**text.to_json(), "updated_ms": now}
            if current.shared:
                earlier = {
                    "version": current.version,
                    **current.text.to_json(),
                    "shared_ms": current.shared_ms,
                    "updated_ms": current.updated_ms,
                }
                values |= {"version": current.version + 1, "history": [*current.history, earlier]}
            done = await conn.execute(update(digests).where(_unchanged(current)).values(**values))
            if done.rowcount == 1:
                return await _require(conn, digest_id)
    raise DigestBusy("the digest is being changed by someone else; try again")


async def share(db: Database, digest_id: str, actor: str, now: int) -> Digest:
    """Show the digest to its trainee (once; sharing a shared digest changes nothing)."""
    for _ in range(_ATTEMPTS):
        async with db.transaction() as conn:
            current = await _require(conn, digest_id, lock=True)
            if current.shared:
                return current
            if current.text.empty:
                raise EmptyDigest("write at least one section before sharing the digest")
            done = await conn.execute(
                update(digests)
                .where(_unchanged(current))
                .values(status=SHARED, shared_ms=now, updated_ms=now)
            )
            if done.rowcount == 1:
                await audit.record(
                    conn, actor, "digest.share", digest_id, {"person": current.person_id}
                )
                return await _require(conn, digest_id)
    raise DigestBusy("the digest is being changed by someone else; try again")


__all__ = ["DRAFT", "SECTIONS", "SHARED", "Digest", "UnknownDigest", "add", "edit", "get"]
