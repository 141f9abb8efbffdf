"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21 00:14:30.502173
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.storage.model

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", monitor.storage.model.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
    )
    op.create_table(
        "patients",
        sa.Column("mrn", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("weight_kg", sa.Float(), nullable=True),
        sa.Column("limit_overrides", sa.JSON(), nullable=False),
        sa.Column("limit_override_reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", monitor.storage.model.UTCDateTime(timezone=True), nullable=False),
        sa.Column("entered_by", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entered_by"], ["staff.id"], name=op.f("fk_patients_entered_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("mrn", name=op.f("uq_patients_mrn")),
    )
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.create_index("ix_patients_name", ["name"], unique=False)

    op.create_table(
        "sessions",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("time", monitor.storage.model.UTCDateTime(timezone=True), nullable=False),
        sa.Column("chair", sa.String(length=20), nullable=False),
        sa.Column("profile", sa.String(length=40), nullable=False),
        sa.Column("protocol_version", sa.String(length=20), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=True),
        sa.Column("planned_mg_per_kg", sa.Float(), nullable=True),
        sa.Column("infusion_minutes", sa.Integer(), nullable=True),
        sa.Column("bag_volume_ml", sa.Float(), nullable=True),
        sa.Column("dose_mg", sa.Float(), nullable=True),
        sa.Column("rate_mg_per_min", sa.Float(), nullable=True),
        sa.Column("pump_ml_per_h", sa.Float(), nullable=True),
        sa.Column("lot_number", sa.String(length=40), nullable=False),
        sa.Column("concomitant_medications", sa.JSON(), nullable=False),
        sa.Column("escort_name", sa.String(length=120), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", monitor.storage.model.UTCDateTime(timezone=True), nullable=False),
        sa.Column("entered_by", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entered_by"], ["staff.id"], name=op.f("fk_sessions_entered_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_sessions_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index("ix_sessions_patient_time", ["patient_id", "time"], unique=False)
        batch_op.create_index("ix_sessions_time", ["time"], unique=False)

    op.create_table(
        "corrections",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("time", monitor.storage.model.UTCDateTime(timezone=True), nullable=False),
        sa.Column("target_kind", sa.String(length=10), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("replacement_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", monitor.storage.model.UTCDateTime(timezone=True), nullable=False),
        sa.Column("entered_by", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entered_by"], ["staff.id"], name=op.f("fk_corrections_entered_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_corrections_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrections")),
    )
    with op.batch_alter_table("corrections", schema=None) as batch_op:
        batch_op.create_index("ix_corrections_session", ["session_id"], unique=False)

    op.create_table(
        "events",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("time", monitor.storage.model.UTCDateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", monitor.storage.model.UTCDateTime(timezone=True), nullable=False),
        sa.Column("entered_by", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entered_by"], ["staff.id"], name=op.f("fk_events_entered_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_events_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_session_time", ["session_id", "time"], unique=False)

    op.create_table(
        "readings",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("time", monitor.storage.model.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sbp", sa.SmallInteger(), nullable=True),
        sa.Column("dbp", sa.SmallInteger(), nullable=True),
        sa.Column("hr", sa.SmallInteger(), nullable=True),
        sa.Column("spo2", sa.SmallInteger(), nullable=True),
        sa.Column("rr", sa.SmallInteger(), nullable=True),
        sa.Column("on_oxygen", sa.Boolean(), nullable=False),
        sa.Column("cadss6", sa.SmallInteger(), nullable=True),
        sa.Column("cadss6_items", sa.JSON(), nullable=True),
        sa.Column("moaas", sa.SmallInteger(), nullable=True),
        sa.Column("nausea", sa.SmallInteger(), nullable=True),
        sa.Column("anxiety", sa.SmallInteger(), nullable=True),
        sa.Column("pain", sa.SmallInteger(), nullable=True),
        sa.Column("phq9", sa.SmallInteger(), nullable=True),
        sa.Column("phq9_items", sa.JSON(), nullable=True),
        sa.Column("gad7", sa.SmallInteger(), nullable=True),
        sa.Column("gad7_items", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", monitor.storage.model.UTCDateTime(timezone=True), nullable=False),
        sa.Column("entered_by", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entered_by"], ["staff.id"], name=op.f("fk_readings_entered_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_readings_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readings")),
    )
    with op.batch_alter_table("readings", schema=None) as batch_op:
        batch_op.create_index("ix_readings_session_time", ["session_id", "time"], unique=False)

    op.create_table(
        "flags",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=30), nullable=False),
        sa.Column("measure", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.SmallInteger(), nullable=False),
        sa.Column("time", monitor.storage.model.UTCDateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("reading_id", sa.Uuid(), nullable=True),
        sa.Column("raised_at", monitor.storage.model.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["reading_id"], ["readings.id"], name=op.f("fk_flags_reading_id_readings")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_flags_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flags")),
    )
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.create_index("ix_flags_session", ["session_id", "severity"], unique=False)

    op.create_table(
        "acknowledgements",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("flag_id", sa.Uuid(), nullable=False),
        sa.Column("time", monitor.storage.model.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", monitor.storage.model.UTCDateTime(timezone=True), nullable=False),
        sa.Column("entered_by", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entered_by"], ["staff.id"], name=op.f("fk_acknowledgements_entered_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["flag_id"], ["flags.id"], name=op.f("fk_acknowledgements_flag_id_flags")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name=op.f("fk_acknowledgements_session_id_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_acknowledgements")),
    )
    with op.batch_alter_table("acknowledgements", schema=None) as batch_op:
        batch_op.create_index("ix_acknowledgements_session", ["session_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("acknowledgements", schema=None) as batch_op:
        batch_op.drop_index("ix_acknowledgements_session")

    op.drop_table("acknowledgements")
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_index("ix_flags_session")

    op.drop_table("flags")
    with op.batch_alter_table("readings", schema=None) as batch_op:
        batch_op.drop_index("ix_readings_session_time")

    op.drop_table("readings")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_session_time")

    op.drop_table("events")
    with op.batch_alter_table("corrections", schema=None) as batch_op:
        batch_op.drop_index("ix_corrections_session")

    op.drop_table("corrections")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_time")
        batch_op.drop_index("ix_sessions_patient_time")

    op.drop_table("sessions")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_index("ix_patients_name")

    op.drop_table("patients")
    op.drop_table("staff")
