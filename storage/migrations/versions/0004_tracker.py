"""The accountability tracker: which feedback notes each person has read, and certificates.

Revision ID: 0004_tracker
Revises: 0003_logbook
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_tracker"
down_revision = "0003_logbook"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "note_reads",
        sa.Column(
            "person_id", sa.Text, sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "note_id", sa.Text, sa.ForeignKey("annotations.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("read_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("person_id", "note_id", name="pk_note_reads"),
    )
    op.create_index("ix_note_reads_note", "note_reads", ["note_id"])
    op.create_table(
        "certificates",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column(
            "person_id", sa.Text, sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "cohort_id", sa.Text, sa.ForeignKey("cohorts.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("issued_ms", sa.BigInteger, nullable=False),
        sa.Column("revoked_ms", sa.BigInteger),
        sa.Column("snapshot", sa.JSON, nullable=False),
    )
    op.create_index("ix_certificates_person", "certificates", ["person_id", "cohort_id"])


def downgrade() -> None:
    raise NotImplementedError("Caucus migrations go forward only")
