"""People, their passwords and their signed-in browsers, in the database.

Deactivating a person keeps their row (their recordings and notes still name
them) but ends every signed-in session, refuses their password and, through
the seat check in `signaling/revocation.py`, their seat tokens. Each
deactivation and reactivation leaves an audit row.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from sessions.errors import DomainError
from sessions.people import Person, Role
from storage import audit
from storage.database import Database
from storage.passwords import Passwords
from storage.schema import cohort_members, cohorts, login_sessions, people

#: a signed-in browser stays signed in this long without signing in again
SESSION_TTL_S = 14 * 24 * 3600


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def token_hash(token: str) -> str:
    """Only hashes of cookies and invitation tokens are stored: a copied database admits nobody."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


class EmailTaken(DomainError):
    code = "email_taken"


class UnknownPerson(DomainError):
    code = "unknown_person"


@dataclass(frozen=True)
class Membership:
    cohort_id: str
    cohort_name: str
    role: str


@dataclass(frozen=True)
class Account:
    """A person as the console lists them."""

    person: Person
    created_ms: int
    deactivated_ms: int | None
    has_password: bool
    cohorts: tuple[Membership, ...]


def person_of_row(row: Any) -> Person:
    return Person(row.id, row.email, row.name, row.time_zone, Role(row.role), bool(row.active))


class People:
    def __init__(self, database: Database, passwords: Passwords | None = None) -> None:
        self.db = database
        self.passwords = passwords or Passwords()

    async def add(self, email: str, name: str, role: Role, time_zone: str = "UTC") -> Person:
        """A new person without a password (an invitation sets it); EmailTaken if known."""
        async with self.db.transaction() as conn:
            return await self.add_in(conn, email, name, role, time_zone)

    async def add_in(
        self, conn: AsyncConnection, email: str, name: str, role: Role, time_zone: str = "UTC"
    ) -> Person:
        person = Person(
            secrets.token_urlsafe(9), email.strip().lower(), name, time_zone, role, True
        )
        taken = await conn.execute(select(people.c.id).where(people.c.email == person.email))
        if taken.first() is not None:
            raise EmailTaken(f"{person.email} already has an account")
        try:
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
        except IntegrityError:  # the same address added at the same moment (the caller's
            # transaction is rolled back as this propagates)
            raise EmailTaken(f"{person.email} already has an account") from None
        return person

    async def get(self, person_id: str) -> Person | None:
        async with self.db.reading() as conn:
            row = (await conn.execute(select(people).where(people.c.id == person_id))).first()
        return None if row is None else person_of_row(row)

    async def by_email(self, email: str) -> Person | None:
        async with self.db.reading() as conn:
            row = (
                await conn.execute(select(people).where(people.c.email == email.strip().lower()))
            ).first()
        return None if row is None else person_of_row(row)

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
        return None if row is None else (person_of_row(row), str(row.csrf))

    async def end_session(self, token: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                delete(login_sessions).where(login_sessions.c.token_hash == token_hash(token))
            )

    # --- passwords ---------------------------------------------------------------------

    async def set_password(self, person_id: str, password: str) -> None:
        hashed = await self.passwords.hash(password)
        async with self.db.transaction() as conn:
            await self.store_hash_in(conn, person_id, hashed)

    async def store_hash_in(self, conn: AsyncConnection, person_id: str, hashed: str) -> None:
        result = await conn.execute(
            update(people).where(people.c.id == person_id).values(password_hash=hashed)
        )
        if result.rowcount == 0:
            raise UnknownPerson(f"there is no person {person_id!r}")

    async def check_password(self, email: str, password: str) -> Person | None:
        """The active person with this email and password, or None.

        Every refusal costs one hash, whether the address is unknown, has no
        password yet, or the password is wrong, so timing tells nothing apart.
        A hash made with weaker parameters than today's is replaced.
        """
        async with self.db.reading() as conn:
            row = (
                await conn.execute(select(people).where(people.c.email == email.strip().lower()))
            ).first()
        stored = None if row is None else row.password_hash
        if not await self.passwords.verify(stored, password):
            return None
        assert row is not None and stored is not None
        if not row.active:
            return None
        if self.passwords.needs_rehash(stored):
            await self.set_password(row.id, password)
        return person_of_row(row)

    # --- standing ----------------------------------------------------------------------

    async def end_sessions(self, person_id: str) -> int:
        """Sign the person out everywhere; the number of sessions ended."""
        async with self.db.transaction() as conn:
            return await self.end_sessions_in(conn, person_id)

    @staticmethod
    async def end_sessions_in(conn: AsyncConnection, person_id: str) -> int:
        result = await conn.execute(
            delete(login_sessions).where(login_sessions.c.person_id == person_id)
        )
        return int(result.rowcount or 0)

    async def deactivate(self, person_id: str, actor: str) -> Person:
        """Refuse the person from now on: sessions ended, password and seat tokens refused."""
        async with self.db.transaction() as conn:
            await self.person_in(conn, person_id)
            changed = await conn.execute(
                update(people)
                .where(people.c.id == person_id, people.c.active.is_(True))
                .values(active=False, deactivated_ms=now_ms())
            )
            ended = await self.end_sessions_in(conn, person_id)
            if changed.rowcount:  # deactivating twice is one deactivation
                detail = {"sessions": ended}
                await audit.record(conn, actor, "person.deactivate", person_id, detail)
            return await self.person_in(conn, person_id)

    async def reactivate(self, person_id: str, actor: str) -> Person:
        async with self.db.transaction() as conn:
            await self.person_in(conn, person_id)
            changed = await conn.execute(
                update(people)
                .where(people.c.id == person_id, people.c.active.is_(False))
                .values(active=True, deactivated_ms=None)
            )
            if changed.rowcount:
                await audit.record(conn, actor, "person.reactivate", person_id)
            return await self.person_in(conn, person_id)

    async def update(
        self,
        person_id: str,
        actor: str,
        *,
        name: str | None = None,
        role: Role | None = None,
        time_zone: str | None = None,
    ) -> Person:
        """Change what is given (values already validated, sessions/profiles.py)."""
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = name
        if role is not None:
            values["role"] = role.value
        if time_zone is not None:
            values["time_zone"] = time_zone
        async with self.db.transaction() as conn:
            before = await self.person_in(conn, person_id)
            if values:
                await conn.execute(update(people).where(people.c.id == person_id).values(values))
                if role is not None and role is not before.role:
                    detail = {"from": before.role.value, "to": role.value}
                    await audit.record(conn, actor, "person.role", person_id, detail)
            return await self.person_in(conn, person_id)

    async def person_in(self, conn: AsyncConnection, person_id: str) -> Person:
        row = (await conn.execute(select(people).where(people.c.id == person_id))).first()
        if row is None:
            raise UnknownPerson(f"there is no person {person_id!r}")
        return person_of_row(row)

    async def is_deactivated(self, person_id: str) -> bool:
        """True only for a known person who is deactivated (guests are nobody here)."""
        async with self.db.reading() as conn:
            row = (
                await conn.execute(select(people.c.active).where(people.c.id == person_id))
            ).first()
        return row is not None and not row.active

    async def accounts(self) -> list[Account]:
        """Everyone, by name, with the cohorts each belongs to."""
        async with self.db.reading() as conn:
            rows: Sequence[Any] = (
                await conn.execute(select(people).order_by(people.c.name, people.c.email))
            ).all()
            memberships = (
                await conn.execute(
                    select(
                        cohort_members.c.person_id,
                        cohorts.c.id,
                        cohorts.c.name,
                        cohort_members.c.role,
                    )
                    .join(cohorts, cohorts.c.id == cohort_members.c.cohort_id)
                    .order_by(cohorts.c.name)
                )
            ).all()
        member_of: dict[str, list[Membership]] = {}
        for m in memberships:
            member_of.setdefault(m.person_id, []).append(Membership(m.id, m.name, m.role))
        return [
            Account(
                person_of_row(row),
                int(row.created_ms),
                None if row.deactivated_ms is None else int(row.deactivated_ms),
                row.password_hash is not None,
                tuple(member_of.get(row.id, ())),
            )
            for row in rows
        ]


async def cards(db: Database, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """id → {id, name, email, time_zone} of each of `ids` that exists."""
    async with db.reading() as conn:
        rows = await conn.execute(
            select(people.c.id, people.c.name, people.c.email, people.c.time_zone).where(
                people.c.id.in_(sorted(ids))
            )
        )
        return {
            r.id: {"id": r.id, "name": r.name, "email": r.email, "time_zone": r.time_zone}
            for r in rows
        }
