"""Every table Caucus keeps, in one place (SQLAlchemy Core).

Times are integer milliseconds: wall-clock UTC for `*_ms` columns named after a
moment (`created_ms`), session-clock for `t_ms` and `start_ms`. Identifiers are
text (URL-safe random). A table's rows that belong to a simulation are deleted
with it (ON DELETE CASCADE), so deleting a recording deletes its notes too.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# --- people ------------------------------------------------------------------------

#: a person who signs in; `role` is their standing in the organisation (admin, coach,
#: trainee); within a cohort they may hold another (cohort_members.role)
people = Table(
    "people",
    metadata,
    Column("id", Text, primary_key=True),
    Column("email", Text, nullable=False, unique=True),  # stored lower-case
    Column("name", Text, nullable=False),
    Column("time_zone", Text, nullable=False, server_default="UTC"),  # IANA name
    Column("role", Text, nullable=False),
    Column("password_hash", Text),  # argon2id; NULL until the invitation is used
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_ms", BigInteger, nullable=False),
    Column("deactivated_ms", BigInteger),
)

#: a signed-in browser: the cookie carries a random token, only its hash is stored
login_sessions = Table(
    "login_sessions",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("person_id", Text, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("csrf", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    Column("address", Text),
    Index("ix_login_sessions_person", "person_id"),
)

#: one-time links to set a password (a new person's invitation, or a reset)
invitations = Table(
    "invitations",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("person_id", Text, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("purpose", Text, nullable=False),  # "invite" | "reset"
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    Column("used_ms", BigInteger),
    Column("created_by", Text, ForeignKey("people.id", ondelete="SET NULL")),
)

# --- cohorts and scenarios -----------------------------------------------------------

#: a course run; `requirements` is the practice its certificate asks for (JSON object)
cohorts = Table(
    "cohorts",
    metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("starts_on", Text, nullable=False),  # ISO date
    Column("ends_on", Text, nullable=False),  # ISO date
    Column("requirements", JSON, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

cohort_members = Table(
    "cohort_members",
    metadata,
    Column("cohort_id", Text, ForeignKey("cohorts.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", Text, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("role", Text, nullable=False),  # "coach" | "trainee"
    PrimaryKeyConstraint("cohort_id", "person_id", "role"),
    Index("ix_cohort_members_person", "person_id"),
)

cohort_scenarios = Table(
    "cohort_scenarios",
    metadata,
    Column("cohort_id", Text, ForeignKey("cohorts.id", ondelete="CASCADE"), nullable=False),
    Column("scenario_id", Text, nullable=False),
    PrimaryKeyConstraint("cohort_id", "scenario_id"),
)

#: scenarios written in the console (the shipped ones are files, read-only);
#: `document` has the shape of sessions/scenarios/*.json
scenarios = Table(
    "scenarios",
    metadata,
    Column("id", Text, primary_key=True),
    Column("document", JSON, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("created_by", Text, ForeignKey("people.id", ondelete="SET NULL")),
)

# --- simulations, their timelines and recordings -----------------------------------

simulations = Table(
    "simulations",
    metadata,
    Column("id", Text, primary_key=True),
    Column("scenario_id", Text, nullable=False),
    Column("observers", Integer, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("t0_ms", BigInteger),  # wall clock at the session clock's zero
    Column("cohort_id", Text, ForeignKey("cohorts.id", ondelete="SET NULL")),
    Column("scheduled_ms", BigInteger),  # planned start, UTC
    Column("duration_min", Integer),  # planned length
    Column("ended_ms", BigInteger),  # ended by staff or by the room (wall clock)
    Column("created_by", Text, ForeignKey("people.id", ondelete="SET NULL")),
    Index("ix_simulations_cohort", "cohort_id"),
)

#: who sits where in a scheduled simulation (signed-in people need no link)
seat_assignments = Table(
    "seat_assignments",
    metadata,
    Column("simulation_id", Text, ForeignKey("simulations.id", ondelete="CASCADE"), nullable=False),
    Column("seat", Text, nullable=False),
    Column("person_id", Text, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    PrimaryKeyConstraint("simulation_id", "seat"),
    Index("ix_seat_assignments_person", "person_id"),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("simulation_id", Text, ForeignKey("simulations.id", ondelete="CASCADE"), nullable=False),
    Column("t_ms", BigInteger, nullable=False),
    Column("kind", Text, nullable=False),
    Column("seat", Text),
    Column("detail", JSON, nullable=False),
    # the seat holder's identity on join/resume/replace events (a person's id when signed in)
    Column("identity", Text),
    Index("events_by_simulation", "simulation_id", "t_ms"),
    Index("ix_events_identity", "identity"),
)

segments = Table(
    "segments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("simulation_id", Text, ForeignKey("simulations.id", ondelete="CASCADE"), nullable=False),
    Column("seat", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("codec", Text, nullable=False),
    # "public" or "caucus:<party seat>": who may later watch this stretch
    Column("visibility", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("start_ms", BigInteger, nullable=False),
    Column("duration_ms", BigInteger, nullable=False, server_default="0"),
    Column("frames", Integer, nullable=False, server_default="0"),
    Column("bytes", BigInteger, nullable=False, server_default="0"),
    # "recording" while open; "complete" when closed; "interrupted" after a crash;
    # "failed" when the disk refused it (reason says why)
    Column("status", Text, nullable=False, server_default="recording"),
    Column("reason", Text),
    Index("segments_by_simulation", "simulation_id", "start_ms"),
)

notes = Table(
    "annotations",
    metadata,
    Column("id", Text, primary_key=True),
    Column("simulation_id", Text, ForeignKey("simulations.id", ondelete="CASCADE"), nullable=False),
    Column("author", Text),  # identity; NULL for an admin
    Column("author_seat", Text),
    Column("t_ms", BigInteger, nullable=False),
    Column("text", Text, nullable=False),
    Column("skill", Text),
    Column("rating", Integer),
    Column("target", Text),
    Column("visibility", Text, nullable=False),
    Column("reply_to", Text),
    Column("created_ms", BigInteger, nullable=False),
    Column("edited_ms", BigInteger),
    Index("annotations_by_simulation", "simulation_id", "t_ms"),
)

#: every deletion, by hand or by retention: who, what, when
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at_ms", BigInteger, nullable=False),
    Column("actor", Text, nullable=False),  # a person's id, "admin-token" or "retention"
    Column("action", Text, nullable=False),  # e.g. "recording.delete", "person.deactivate"
    Column("target", Text, nullable=False),
    Column("detail", JSON, nullable=False),
)

# --- the logbook (issue 15) ----------------------------------------------------------

#: a person's practice record: one entry per completed simulation they sat in (source
#: "caucus"), and practice elsewhere entered by hand ("manual"); it outlives the
#: simulation (SET NULL). `feedback` is {"count", "ratings": [{skill, name, average,
#: count}]}; `co_participants` a list of names.
logbook_entries = Table(
    "logbook_entries",
    metadata,
    Column("id", Text, primary_key=True),
    Column("person_id", Text, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("simulation_id", Text, ForeignKey("simulations.id", ondelete="SET NULL")),
    Column("source", Text, nullable=False),  # "caucus" | "manual"
    Column("at_ms", BigInteger, nullable=False),  # when it began, UTC
    Column("duration_min", Integer, nullable=False),
    Column("role", Text, nullable=False),  # sessions.logbook.LogRole
    Column("medium", Text, nullable=False),  # sessions.logbook.Medium
    Column("scenario", Text, nullable=False),
    Column("coach", Text),
    Column("co_participants", JSON, nullable=False),
    Column("feedback", JSON, nullable=False),
    Column("went_well", Text, nullable=False, server_default=""),
    Column("challenging", Text, nullable=False, server_default=""),
    Column("next_steps", Text, nullable=False, server_default=""),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Index("ix_logbook_entries_person", "person_id", "at_ms"),
    Index("ix_logbook_entries_simulation", "simulation_id"),
    Index("uq_logbook_entries_person_simulation", "person_id", "simulation_id", unique=True),
)

# --- the accountability tracker (issue 15) ---------------------------------------------

#: a feedback note its addressee has opened (on the playback page, or by the API)
note_reads = Table(
    "note_reads",
    metadata,
    Column("person_id", Text, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("note_id", Text, ForeignKey("annotations.id", ondelete="CASCADE"), nullable=False),
    Column("read_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("person_id", "note_id"),
    Index("ix_note_reads_note", "note_id"),
)

#: a certificate of completion: `id` is the random part of its public verification URL;
#: `snapshot` is what was met when it was issued ({name, cohort, starts_on, ends_on,
#: items}), so it reads the same after the cohort changes or goes (cohort_id SET NULL)
certificates = Table(
    "certificates",
    metadata,
    Column("id", Text, primary_key=True),
    Column("person_id", Text, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("cohort_id", Text, ForeignKey("cohorts.id", ondelete="SET NULL")),
    Column("issued_ms", BigInteger, nullable=False),
    Column("revoked_ms", BigInteger),
    Column("snapshot", JSON, nullable=False),
    Index("ix_certificates_person", "person_id", "cohort_id"),
)

# --- availability and practice rounds (issue 15) --------------------------------------

#: a person's weekly availability, in their own zone (people.time_zone): on `weekday`
#: (0 = Monday) from `start_min` to `end_min` minutes after local midnight; an end not
#: after the start crosses midnight (sessions.availability.WeeklySlot)
availability_slots = Table(
    "availability_slots",
    metadata,
    Column("person_id", Text, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("weekday", Integer, nullable=False),
    Column("start_min", Integer, nullable=False),
    Column("end_min", Integer, nullable=False),
    PrimaryKeyConstraint("person_id", "weekday", "start_min"),
)

#: dated exceptions to the weekly pattern, naive local wall times "YYYY-MM-DDTHH:MM" in the
#: person's zone: "unavailable" (away; wins over everything) or "extra" (free beyond it)
availability_exceptions = Table(
    "availability_exceptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", Text, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("kind", Text, nullable=False),  # "unavailable" | "extra"
    Column("starts", Text, nullable=False),
    Column("ends", Text, nullable=False),
    Index("ix_availability_exceptions_person", "person_id"),
)

#: a trainee's experience level in a cohort (0 = newest): the matcher mixes levels
experience_levels = Table(
    "experience_levels",
    metadata,
    Column("cohort_id", Text, ForeignKey("cohorts.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", Text, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("level", Integer, nullable=False),
    PrimaryKeyConstraint("cohort_id", "person_id"),
)

#: a practice round of a cohort: the matcher's proposal (its inputs, groups, scores and
#: explanations as JSON, sessions/round_json.py), a draft until published; publishing
#: creates one simulation per group (their ids are written into the proposal)
practice_rounds = Table(
    "practice_rounds",
    metadata,
    Column("id", Text, primary_key=True),
    Column("cohort_id", Text, ForeignKey("cohorts.id", ondelete="CASCADE"), nullable=False),
    Column("scenario_id", Text, nullable=False),
    Column("window_start_ms", BigInteger, nullable=False),
    Column("window_end_ms", BigInteger, nullable=False),
    Column("duration_min", Integer, nullable=False),
    Column("status", Text, nullable=False),  # "draft" | "published"
    Column("proposal", JSON, nullable=False),
    Column("created_by", Text, ForeignKey("people.id", ondelete="SET NULL")),
    Column("created_ms", BigInteger, nullable=False),
    Column("published_ms", BigInteger),
    Index("ix_practice_rounds_cohort", "cohort_id", "window_start_ms"),
)

# --- the browser's second copy (issue 18 item 4) -------------------------------------

#: one chunk of a seat's own recording made by its page (MediaRecorder, WebM), uploaded
#: during and after the session; `n` numbers the seat's chunks from 0, `start_ms` is the
#: session-clock time of its first frame as the page knew it; `visibility` as segments'
browser_copies = Table(
    "browser_copies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("simulation_id", Text, ForeignKey("simulations.id", ondelete="CASCADE"), nullable=False),
    Column("seat", Text, nullable=False),
    Column("n", Integer, nullable=False),
    Column("start_ms", BigInteger, nullable=False),
    Column("duration_ms", BigInteger, nullable=False),
    Column("visibility", Text, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Index("uq_browser_copies_chunk", "simulation_id", "seat", "n", unique=True),
    Index("ix_browser_copies_simulation", "simulation_id", "start_ms"),
)

# --- feedback digests (issue 15) ---------------------------------------------------------

#: what a coach (or an admin) writes to one trainee across sessions: a draft until shared;
#: an edit after sharing bumps `version` and keeps the earlier shared texts in `history`
#: (a list of {version, strengths, develop, next_steps, shared_ms, updated_ms})
digests = Table(
    "digests",
    metadata,
    Column("id", Text, primary_key=True),
    Column("person_id", Text, ForeignKey("people.id", ondelete="CASCADE"), nullable=False),
    Column("author_id", Text, ForeignKey("people.id", ondelete="SET NULL")),  # NULL: admin token
    Column("strengths", Text, nullable=False),
    Column("develop", Text, nullable=False),
    Column("next_steps", Text, nullable=False),
    Column("status", Text, nullable=False),  # "draft" | "shared"
    Column("version", Integer, nullable=False),
    Column("history", JSON, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("shared_ms", BigInteger),  # the first sharing
    Index("ix_digests_person", "person_id", "created_ms"),
)
