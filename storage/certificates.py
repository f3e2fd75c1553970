"""Certificates of completion in the database: issued once per person and cohort when
every requirement is met (the progress is `sessions.tracker.progress`, gathered by
`storage.tracker`), read by their id for verification, revoked by an admin.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update

from sessions.cohorts import Cohort
from sessions.errors import DomainError
from sessions.people import Person
from sessions.tracker import Item, Progress
from storage import audit
from storage.database import Database
from storage.schema import certificates, people


class RequirementsNotMet(DomainError):
    """A certificate asked for before every requirement is met; `left` says what is missing."""

    code = "requirements_not_met"

    def __init__(self, left: Sequence[Item]) -> None:
        names = ", ".join(f"{i.requirement.label.lower()} ({i.left} left)" for i in left)
        super().__init__(f"not every requirement is met yet: {names}")
        self.left = [item.to_json() for item in left]


class CertificateRevoked(DomainError):
    code = "certificate_revoked"


class UnknownCertificate(DomainError):
    code = "unknown_certificate"


@dataclass(frozen=True)
class Certificate:
    id: str
    person_id: str
    cohort_id: str | None
    issued_ms: int
    revoked_ms: int | None
    #: what was met when it was issued: name, cohort, cohort_id, starts_on, ends_on, items
    snapshot: Mapping[str, Any]

    @property
    def valid(self) -> bool:
        return self.revoked_ms is None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "person_id": self.person_id,
            "cohort_id": self.cohort_id,
            "issued_ms": self.issued_ms,
            "revoked_ms": self.revoked_ms,
            "valid": self.valid,
            "url": f"/certificates/{self.id}",
            "pdf": f"/api/certificates/{self.id}.pdf",
            "snapshot": dict(self.snapshot),
        }


def _certificate(row: Any) -> Certificate:
    return Certificate(
        id=row.id,
        person_id=row.person_id,
        cohort_id=row.cohort_id,
        issued_ms=int(row.issued_ms),
        revoked_ms=None if row.revoked_ms is None else int(row.revoked_ms),
        snapshot=dict(row.snapshot or {}),
    )


async def certificate(db: Database, certificate_id: str) -> Certificate | None:
    async with db.reading() as conn:
        row = (
            await conn.execute(select(certificates).where(certificates.c.id == certificate_id))
        ).first()
    return None if row is None else _certificate(row)


async def certificate_for(db: Database, person_id: str, cohort_id: str) -> Certificate | None:
    """The person's certificate for the cohort: the valid one, else the latest revoked one."""
    async with db.reading() as conn:
        rows = await conn.execute(
            select(certificates)
            .where(certificates.c.person_id == person_id, certificates.c.cohort_id == cohort_id)
            .order_by(certificates.c.issued_ms.desc())
        )
        found = [_certificate(r) for r in rows]
    return next((c for c in found if c.valid), found[0] if found else None)


async def issue(
    db: Database, person: Person, cohort: Cohort, done: Progress, now_ms: int
) -> tuple[Certificate, bool]:
    """The person's certificate for the cohort, issued now if `done` (their progress)
    meets every requirement (True) or the one already issued (False).
    RequirementsNotMet names what is left; a revoked certificate is not issued again
    (CertificateRevoked: an admin decided)."""
    existing = await certificate_for(db, person.id, cohort.id)
    if existing is not None and existing.valid:
        return existing, False
    if existing is not None:
        raise CertificateRevoked(
            "your certificate for this cohort was revoked; ask an administrator"
        )
    if not done.complete:
        raise RequirementsNotMet(done.left)
    snapshot = {
        "name": person.name,
        "cohort": cohort.name,
        "cohort_id": cohort.id,
        "starts_on": cohort.starts_on.isoformat(),
        "ends_on": cohort.ends_on.isoformat(),
        "items": [item.to_json() for item in done.items],
        "counted": done.counted,
    }
    cert = Certificate(secrets.token_urlsafe(16), person.id, cohort.id, now_ms, None, snapshot)
    async with db.transaction() as conn:
        # one issue at a time per person: a write to their row first takes the lock
        # (PostgreSQL: the row; SQLite: the database), so a second request waits here
        # and then finds the first one's certificate
        await conn.execute(
            update(people).where(people.c.id == person.id).values(created_ms=people.c.created_ms)
        )
        raced = (
            await conn.execute(
                select(certificates)
                .where(certificates.c.person_id == person.id, certificates.c.cohort_id == cohort.id)
                .limit(1)
            )
        ).first()
        if raced is not None:
            return _certificate(raced), False
        await conn.execute(
            insert(certificates).values(
                id=cert.id,
                person_id=cert.person_id,
                cohort_id=cert.cohort_id,
                issued_ms=cert.issued_ms,
                revoked_ms=None,
                snapshot=snapshot,
            )
        )
    return cert, True


async def revoke(db: Database, certificate_id: str, actor: str, now_ms: int) -> Certificate:
    """Revoke a certificate (an audit row says who); revoking again changes nothing."""
    async with db.transaction() as conn:
        row = (
            await conn.execute(select(certificates).where(certificates.c.id == certificate_id))
        ).first()
        if row is None:
            raise UnknownCertificate(f"there is no certificate {certificate_id!r}")
        if row.revoked_ms is not None:
            return _certificate(row)
        await conn.execute(
            update(certificates)
            .where(certificates.c.id == certificate_id)
            .values(revoked_ms=now_ms)
        )
        await audit.record(
            conn,
            actor,
            "certificate.revoke",
            certificate_id,
            {"person": row.person_id, "cohort": row.cohort_id},
        )
        fresh = (
            await conn.execute(select(certificates).where(certificates.c.id == certificate_id))
        ).first()
    return _certificate(fresh)
