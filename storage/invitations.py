"""Invitation links: one-time, expiring tokens that let a person set their password.

A new person gets an "invite"; an admin's reset issues a "reset" (and signs the
person out everywhere). Only the token's hash is stored, so the link exists
only where it was shown or sent. Issuing a new link voids the person's unused
ones; using a link sets the password, marks it used and signs the person in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from sessions.errors import DomainError
from sessions.people import Person, Role
from storage import audit
from storage.people import People, now_ms, person_of_row, token_hash
from storage.schema import invitations, people

INVITATION_TTL_S = 7 * 24 * 3600


class Purpose(StrEnum):
    INVITE = "invite"
    RESET = "reset"


class UnknownInvitation(DomainError):
    code = "unknown_invitation"


class InvitationUsed(DomainError):
    code = "invitation_used"


class InvitationExpired(DomainError):
    code = "invitation_expired"


@dataclass(frozen=True)
class Invitation:
    """A link just issued: the token exists only in this object (and the link made from it)."""

    token: str
    person: Person
    purpose: Purpose
    expires_ms: int


@dataclass(frozen=True)
class SignedIn:
    person: Person
    token: str  # the session cookie
    csrf: str


class Invitations:
    def __init__(self, people_store: People) -> None:
        self.people = people_store
        self.db = people_store.db

    async def invite(
        self,
        email: str,
        name: str,
        role: Role,
        time_zone: str,
        actor: str,
        ttl_s: int = INVITATION_TTL_S,
    ) -> Invitation:
        """Add a person and their invitation in one transaction (EmailTaken if known)."""
        async with self.db.transaction() as conn:
            person = await self.people.add_in(conn, email, name, role, time_zone)
            invitation = await self._issue(conn, person, Purpose.INVITE, actor, ttl_s)
            detail = {"email": person.email, "role": role.value}
            await audit.record(conn, actor, "person.invite", person.id, detail)
        return invitation

    async def reset(self, person_id: str, actor: str, ttl_s: int = INVITATION_TTL_S) -> Invitation:
        """A new link to set a password; the person is signed out everywhere meanwhile.

        The old password keeps working until the link is used (a reset an admin
        started by mistake locks nobody out); a deactivated person stays refused.
        """
        async with self.db.transaction() as conn:
            person = await self.people.person_in(conn, person_id)
            ended = await self.people.end_sessions_in(conn, person_id)
            invitation = await self._issue(conn, person, Purpose.RESET, actor, ttl_s)
            await audit.record(conn, actor, "person.reset", person_id, {"sessions": ended})
        return invitation

    async def _issue(
        self, conn: AsyncConnection, person: Person, purpose: Purpose, actor: str, ttl_s: int
    ) -> Invitation:
        await conn.execute(
            delete(invitations).where(
                invitations.c.person_id == person.id, invitations.c.used_ms.is_(None)
            )
        )
        token, now = secrets.token_urlsafe(32), now_ms()
        creator = (
            await conn.execute(select(people.c.id).where(people.c.id == actor))
        ).scalar_one_or_none()
        await conn.execute(
            insert(invitations).values(
                token_hash=token_hash(token),
                person_id=person.id,
                purpose=purpose.value,
                created_ms=now,
                expires_ms=now + ttl_s * 1000,
                created_by=creator,  # None for the admin token or the command line
            )
        )
        return Invitation(token, person, purpose, now + ttl_s * 1000)

    async def look(self, token: str) -> tuple[Person, Purpose]:
        """Whom an unused, unexpired link is for; otherwise the reason it is not."""
        async with self.db.reading() as conn:
            return await self._valid(conn, token)

    async def _valid(self, conn: AsyncConnection, token: str) -> tuple[Person, Purpose]:
        query = (
            select(people, invitations.c.purpose, invitations.c.used_ms, invitations.c.expires_ms)
            .join(invitations, invitations.c.person_id == people.c.id)
            .where(invitations.c.token_hash == token_hash(token))
        )
        row = (await conn.execute(query)).first()
        if row is None or not row.active:
            raise UnknownInvitation(
                "this link is not valid (a newer one may replace it); ask an admin for a new one"
            )
        if row.used_ms is not None:
            raise InvitationUsed("this link has been used already; sign in with your password")
        if row.expires_ms <= now_ms():
            raise InvitationExpired("this link has expired; ask an admin for a new one")
        return person_of_row(row), Purpose(row.purpose)

    async def use(self, token: str, password: str, address: str | None) -> SignedIn:
        """Set the password the link is for, spend the link, and sign the person in."""
        await self.look(token)  # refuse before spending a hash on a dead link
        hashed = await self.people.passwords.hash(password)
        async with self.db.transaction() as conn:
            person, _ = await self._valid(conn, token)
            spent = await conn.execute(
                update(invitations)
                .where(
                    invitations.c.token_hash == token_hash(token), invitations.c.used_ms.is_(None)
                )
                .values(used_ms=now_ms())
            )
            if spent.rowcount != 1:  # used at the same moment from another window
                raise InvitationUsed("this link has been used already; sign in with your password")
            await self.people.store_hash_in(conn, person.id, hashed)
        cookie, csrf = await self.people.start_session(person.id, address)
        return SignedIn(person, cookie, csrf)
