"""People and their signed-in browsers, in the database."""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

from sqlalchemy import delete, insert, select

from sessions.people import Person, Role
from storage.database import Database
from storage.schema import login_sessions, people

#: a signed-in browser stays signed in this long without signing in again
SESSION_TTL_S = 14 * 24 * 3600


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def token_hash(token: str) -> str:
    """Only hashes of cookies and invitation tokens are stored: a copied database admits nobody."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def _person(row: Any) -> Person:
    return Person(row.id, row.email, row.name, row.time_zone, Role(row.role), bool(row.active))


class People:
    def __init__(self, database: Database) -> None:
        self.db = database

    async def add(self, email: str, name: str, role: Role, time_zone: str = "UTC") -> Person:
        person = Person(
            secrets.token_urlsafe(9), email.strip().lower(), name, time_zone, role, True
        )
        async with self.db.transaction() as conn:
            await conn.execute(
                insert(people).values(
                    id=person.id,
                    email=person.email,
                    name=person.name,
                    time_zone=person.time_zone,
                    role=person.role.value,
                    active=True,
                    created_ms=now_ms(),
                )
            )
        return person

    async def get(self, person_id: str) -> Person | None:
        async with self.db.reading() as conn:
            row = (await conn.execute(select(people).where(people.c.id == person_id))).first()
        return None if row is None else _person(row)

    async def by_email(self, email: str) -> Person | None:
        async with self.db.reading() as conn:
            row = (
                await conn.execute(select(people).where(people.c.email == email.strip().lower()))
            ).first()
        return None if row is None else _person(row)

    async def start_session(self, person_id: str, address: str | None) -> tuple[str, str]:
        """A new signed-in session: (cookie token, CSRF token)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        now = now_ms()
        async with self.db.transaction() as conn:
            await conn.execute(
                insert(login_sessions).values(
                    token_hash=token_hash(token),
                    person_id=person_id,
                    csrf=csrf,
                    created_ms=now,
                    expires_ms=now + SESSION_TTL_S * 1000,
                    address=address,
                )
            )
        return token, csrf

    async def session(self, token: str) -> tuple[Person, str] | None:
        """The active person a cookie token signs in, with the session's CSRF token."""
        query = (
            select(people, login_sessions.c.csrf)
            .join(login_sessions, login_sessions.c.person_id == people.c.id)
            .where(
                login_sessions.c.token_hash == token_hash(token),
                login_sessions.c.expires_ms > now_ms(),
                people.c.active.is_(True),
            )
        )
        async with self.db.reading() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else (_person(row), str(row.csrf))

    async def end_session(self, token: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                delete(login_sessions).where(login_sessions.c.token_hash == token_hash(token))
            )
