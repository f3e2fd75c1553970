"""People, sign-in, cohorts, console scenarios, scheduling, audit; notes die with their session.

- new tables: people, login_sessions, invitations, cohorts, cohort_members,
  cohort_scenarios, scenarios, seat_assignments, audit_log;
- simulations gain cohort_id, scheduled_ms, duration_min, ended_ms, created_by;
- events gain `identity` (filled from the JSON detail of join/resume/replace
  events, so no query needs a JSON path function);
- annotations reference their simulation ON DELETE CASCADE (notes left behind by
  a deletion before this revision are removed).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _ms(name: str, nullable: bool = True) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger, nullable=nullable)


def _ref(name: str, table: str, ondelete: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(
        name, sa.Text, sa.ForeignKey(f"{table}.id", ondelete=ondelete), nullable=nullable
    )


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("email", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("time_zone", sa.Text, nullable=False, server_default="UTC"),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        _ms("created_ms", nullable=False),
        _ms("deactivated_ms"),
    )
    op.create_table(
        "login_sessions",
        sa.Column("token_hash", sa.Text, primary_key=True),
        _ref("person_id", "people", "CASCADE"),
        sa.Column("csrf", sa.Text, nullable=False),
        _ms("created_ms", nullable=False),
        _ms("expires_ms", nullable=False),
        sa.Column("address", sa.Text),
    )
    op.create_index("ix_login_sessions_person", "login_sessions", ["person_id"])
    op.create_table(
        "invitations",
        sa.Column("token_hash", sa.Text, primary_key=True),
        _ref("person_id", "people", "CASCADE"),
        sa.Column("purpose", sa.Text, nullable=False),
        _ms("created_ms", nullable=False),
        _ms("expires_ms", nullable=False),
        _ms("used_ms"),
        _ref("created_by", "people", "SET NULL", nullable=True),
    )
    op.create_table(
        "cohorts",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("starts_on", sa.Text, nullable=False),
        sa.Column("ends_on", sa.Text, nullable=False),
        sa.Column("requirements", sa.JSON, nullable=False),
        _ms("created_ms", nullable=False),
    )
    op.create_table(
        "cohort_members",
        _ref("cohort_id", "cohorts", "CASCADE"),
        _ref("person_id", "people", "CASCADE"),
        sa.Column("role", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("cohort_id", "person_id", "role"),
    )
    op.create_index("ix_cohort_members_person", "cohort_members", ["person_id"])
    op.create_table(
        "cohort_scenarios",
        _ref("cohort_id", "cohorts", "CASCADE"),
        sa.Column("scenario_id", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("cohort_id", "scenario_id"),
    )
    op.create_table(
        "scenarios",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("document", sa.JSON, nullable=False),
        _ms("created_ms", nullable=False),
        _ms("updated_ms", nullable=False),
        _ref("created_by", "people", "SET NULL", nullable=True),
    )
    with op.batch_alter_table("simulations") as batch:
        batch.add_column(_ref("cohort_id", "cohorts", "SET NULL", nullable=True))
        batch.add_column(_ms("scheduled_ms"))
        batch.add_column(sa.Column("duration_min", sa.Integer))
        batch.add_column(_ms("ended_ms"))
        batch.add_column(_ref("created_by", "people", "SET NULL", nullable=True))
        batch.create_index("ix_simulations_cohort", ["cohort_id"])
    op.create_table(
        "seat_assignments",
        _ref("simulation_id", "simulations", "CASCADE"),
        sa.Column("seat", sa.Text, nullable=False),
        _ref("person_id", "people", "CASCADE"),
        sa.PrimaryKeyConstraint("simulation_id", "seat"),
    )
    op.create_index("ix_seat_assignments_person", "seat_assignments", ["person_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _ms("at_ms", nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )

    op.add_column("events", sa.Column("identity", sa.Text))
    op.create_index("ix_events_identity", "events", ["identity"])
    _fill_event_identities()

    bind = op.get_bind()
    # notes whose session was deleted before notes were tied to it
    bind.execute(
        sa.text("DELETE FROM annotations WHERE simulation_id NOT IN (SELECT id FROM simulations)")
    )
    with op.batch_alter_table("annotations") as batch:
        batch.create_foreign_key(
            "fk_annotations_simulation_id_simulations",
            "simulations",
            ["simulation_id"],
            ["id"],
            ondelete="CASCADE",
        )


def _fill_event_identities() -> None:
    bind = op.get_bind()
    events = sa.table(
        "events",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.Text),
        sa.column("detail", sa.Text),
        sa.column("identity", sa.Text),
    )
    rows = bind.execute(
        sa.select(events.c.id, events.c.detail).where(
            events.c.kind.in_(("join", "resume", "replace"))
        )
    ).all()
    for event_id, detail in rows:
        data = json.loads(detail) if isinstance(detail, str) else detail
        identity = data.get("identity") if isinstance(data, dict) else None
        if isinstance(identity, str):
            bind.execute(events.update().where(events.c.id == event_id).values(identity=identity))


def downgrade() -> None:
    raise NotImplementedError("Caucus migrations go forward only")
