"""Wave 1's schema: simulations, events, segments, annotations.

A `./data` database written before migrations existed already has these tables
(made by `CREATE TABLE IF NOT EXISTS`, perhaps without `segments.reason`); this
revision then only adopts them. A fresh database gets them created.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "simulations" not in existing:
        op.create_table(
            "simulations",
            sa.Column("id", sa.Text, primary_key=True),
            sa.Column("scenario_id", sa.Text, nullable=False),
            sa.Column("observers", sa.Integer, nullable=False),
            sa.Column("created_ms", sa.BigInteger, nullable=False),
            sa.Column("t0_ms", sa.BigInteger),
        )
    if "events" not in existing:
        op.create_table(
            "events",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column(
                "simulation_id",
                sa.Text,
                sa.ForeignKey("simulations.id", ondelete="CASCADE"),
                nullable=False,
            ),
            sa.Column("t_ms", sa.BigInteger, nullable=False),
            sa.Column("kind", sa.Text, nullable=False),
            sa.Column("seat", sa.Text),
            sa.Column("detail", sa.JSON, nullable=False),
        )
        op.create_index("events_by_simulation", "events", ["simulation_id", "t_ms"])
    if "segments" not in existing:
        op.create_table(
            "segments",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column(
                "simulation_id",
                sa.Text,
                sa.ForeignKey("simulations.id", ondelete="CASCADE"),
                nullable=False,
            ),
            sa.Column("seat", sa.Text, nullable=False),
            sa.Column("kind", sa.Text, nullable=False),
            sa.Column("codec", sa.Text, nullable=False),
            sa.Column("visibility", sa.Text, nullable=False),
            sa.Column("path", sa.Text, nullable=False),
            sa.Column("start_ms", sa.BigInteger, nullable=False),
            sa.Column("duration_ms", sa.BigInteger, nullable=False, server_default="0"),
            sa.Column("frames", sa.Integer, nullable=False, server_default="0"),
            sa.Column("bytes", sa.BigInteger, nullable=False, server_default="0"),
            sa.Column("status", sa.Text, nullable=False, server_default="recording"),
            sa.Column("reason", sa.Text),
        )
        op.create_index("segments_by_simulation", "segments", ["simulation_id", "start_ms"])
    else:
        columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("segments")}
        if "reason" not in columns:  # a database from before failed segments had reasons
            op.add_column("segments", sa.Column("reason", sa.Text))
    if "annotations" not in existing:
        op.create_table(
            "annotations",
            sa.Column("id", sa.Text, primary_key=True),
            sa.Column("simulation_id", sa.Text, nullable=False),
            sa.Column("author", sa.Text),
            sa.Column("author_seat", sa.Text),
            sa.Column("t_ms", sa.BigInteger, nullable=False),
            sa.Column("text", sa.Text, nullable=False),
            sa.Column("skill", sa.Text),
            sa.Column("rating", sa.Integer),
            sa.Column("target", sa.Text),
            sa.Column("visibility", sa.Text, nullable=False),
            sa.Column("reply_to", sa.Text),
            sa.Column("created_ms", sa.BigInteger, nullable=False),
            sa.Column("edited_ms", sa.BigInteger),
        )
        op.create_index("annotations_by_simulation", "annotations", ["simulation_id", "t_ms"])


def downgrade() -> None:
    raise NotImplementedError("Caucus migrations go forward only")
