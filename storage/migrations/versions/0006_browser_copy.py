"""The browser's second copy: chunks of a seat's own recording uploaded by its page.

Revision ID: 0006_browser_copy
Revises: 0005_rounds
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_browser_copy"
down_revision = "0005_rounds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "browser_copies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "simulation_id",
            sa.Text,
            sa.ForeignKey("simulations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seat", sa.Text, nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("start_ms", sa.BigInteger, nullable=False),
        sa.Column("duration_ms", sa.BigInteger, nullable=False),
        sa.Column("visibility", sa.Text, nullable=False),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "uq_browser_copies_chunk", "browser_copies", ["simulation_id", "seat", "n"], unique=True
    )
    op.create_index("ix_browser_copies_simulation", "browser_copies", ["simulation_id", "start_ms"])


def downgrade() -> None:
    raise NotImplementedError("Caucus migrations go forward only")
