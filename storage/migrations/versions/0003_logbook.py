"""The logbook: one entry per person per completed simulation, and hand-written ones.

An entry outlives its simulation (simulation_id SET NULL): a logbook is the
person's record, not the recording's.

Revision ID: 0003_logbook
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_logbook"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "logbook_entries",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column(
            "person_id",
            sa.Text,
            sa.ForeignKey("people.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("simulation_id", sa.Text, sa.ForeignKey("simulations.id", ondelete="SET NULL")),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
        sa.Column("duration_min", sa.Integer, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("medium", sa.Text, nullable=False),
        sa.Column("scenario", sa.Text, nullable=False),
        sa.Column("coach", sa.Text),
        sa.Column("co_participants", sa.JSON, nullable=False),
        sa.Column("feedback", sa.JSON, nullable=False),
        sa.Column("went_well", sa.Text, nullable=False, server_default=""),
        sa.Column("challenging", sa.Text, nullable=False, server_default=""),
        sa.Column("next_steps", sa.Text, nullable=False, server_default=""),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    # a simulation writes one entry per person (manual entries, simulation NULL, are many)
    op.create_index(
        "uq_logbook_entries_person_simulation",
        "logbook_entries",
        ["person_id", "simulation_id"],
        unique=True,
    )
    op.create_index("ix_logbook_entries_person", "logbook_entries", ["person_id", "at_ms"])
    op.create_index("ix_logbook_entries_simulation", "logbook_entries", ["simulation_id"])


def downgrade() -> None:
    raise NotImplementedError("Caucus migrations go forward only")
