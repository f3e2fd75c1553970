"""Availability (weekly slots and dated exceptions, in each person's own zone),
experience levels per cohort member, and practice rounds.

Revision ID: 0005_rounds
Revises: 0004_tracker
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_rounds"
down_revision = "0004_tracker"
branch_labels = None
depends_on = None


def _person() -> sa.Column[str]:
    return sa.Column(
        "person_id", sa.Text, sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=False
    )


def _cohort() -> sa.Column[str]:
    return sa.Column(
        "cohort_id", sa.Text, sa.ForeignKey("cohorts.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "availability_slots",
        _person(),
        sa.Column("weekday", sa.Integer, nullable=False),
        sa.Column("start_min", sa.Integer, nullable=False),
        sa.Column("end_min", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("person_id", "weekday", "start_min"),
    )
    op.create_table(
        "availability_exceptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _person(),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("starts", sa.Text, nullable=False),
        sa.Column("ends", sa.Text, nullable=False),
    )
    op.create_index("ix_availability_exceptions_person", "availability_exceptions", ["person_id"])
    op.create_table(
        "experience_levels",
        _cohort(),
        _person(),
        sa.Column("level", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("cohort_id", "person_id"),
    )
    op.create_table(
        "practice_rounds",
        sa.Column("id", sa.Text, primary_key=True),
        _cohort(),
        sa.Column("scenario_id", sa.Text, nullable=False),
        sa.Column("window_start_ms", sa.BigInteger, nullable=False),
        sa.Column("window_end_ms", sa.BigInteger, nullable=False),
        sa.Column("duration_min", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("proposal", sa.JSON, nullable=False),
        sa.Column("created_by", sa.Text, sa.ForeignKey("people.id", ondelete="SET NULL")),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("published_ms", sa.BigInteger),
    )
    op.create_index(
        "ix_practice_rounds_cohort", "practice_rounds", ["cohort_id", "window_start_ms"]
    )


def downgrade() -> None:
    raise NotImplementedError("Caucus migrations go forward only")
