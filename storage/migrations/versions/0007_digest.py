"""Feedback digests: what a coach writes and shares with one trainee.

Revision ID: 0007_digest
Revises: 0006_browser_copy
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_digest"
down_revision = "0006_browser_copy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digests",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column(
            "person_id", sa.Text, sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("author_id", sa.Text, sa.ForeignKey("people.id", ondelete="SET NULL")),
        sa.Column("strengths", sa.Text, nullable=False),
        sa.Column("develop", sa.Text, nullable=False),
        sa.Column("next_steps", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("history", sa.JSON, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
        sa.Column("shared_ms", sa.BigInteger),
    )
    op.create_index("ix_digests_person", "digests", ["person_id", "created_ms"])


def downgrade() -> None:
    raise NotImplementedError("Caucus migrations go forward only")
