"""bedside-monitor feed: devices, chair bindings, every observation, device readings

Revision ID: 0009
Revises: 0004
Create Date: 2026-12-06 14:30:00

Adds ``feed_devices`` (each monitor that sent, with its first and last message time),
``feed_bindings`` (a monitor bound to a chair; unbinding records a time and keeps the row),
``feed_observations`` (every observation received and what became of it; the de-duplication
key is unique) and ``device_readings`` (a reading assembled from a monitor's NIBP, pending
until a nurse confirms or discards it, linked to the reading row it became).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.storage.model

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = monitor.storage.model.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "feed_devices",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("eui64", sa.String(length=16), nullable=True),
        sa.Column("location", sa.String(length=120), nullable=True),
        sa.Column("first_message_at", _TIME, nullable=False),
        sa.Column("last_message_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_feed_devices")),
    )
    op.create_table(
        "feed_bindings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("device_key", sa.String(length=200), nullable=False),
        sa.Column("chair", sa.String(length=20), nullable=False),
        sa.Column("bound_by", sa.Uuid(), nullable=False),
        sa.Column("bound_at", _TIME, nullable=False),
        sa.Column("unbound_at", _TIME, nullable=True),
        sa.Column("unbound_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["bound_by"], ["staff.id"],
                                name=op.f("fk_feed_bindings_bound_by_staff")),
        sa.ForeignKeyConstraint(["unbound_by"], ["staff.id"],
                                name=op.f("fk_feed_bindings_unbound_by_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_bindings")),
    )
    op.create_index("ix_feed_bindings_device", "feed_bindings", ["device_key"])
    op.create_index("ix_feed_bindings_chair", "feed_bindings", ["chair"])
    op.create_table(
        "feed_observations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("device_key", sa.String(length=200), nullable=False),
        sa.Column("location", sa.String(length=120), nullable=True),
        sa.Column("chair", sa.String(length=20), nullable=True),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.Column("measure", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=40), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("observed_at", _TIME, nullable=True),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("message_id", sa.String(length=80), nullable=False),
        sa.Column("mrn", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("dedup_key", sa.String(length=300), nullable=True),
        sa.Column("device_reading_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"],
                                name=op.f("fk_feed_observations_session_id_sessions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_observations")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_feed_observations_dedup_key")),
    )
    op.create_index("ix_feed_observations_device_observed", "feed_observations",
                    ["device_key", "observed_at"])
    op.create_index("ix_feed_observations_received", "feed_observations", ["received_at"])
    op.create_table(
        "device_readings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("device_key", sa.String(length=200), nullable=False),
        sa.Column("chair", sa.String(length=20), nullable=False),
        sa.Column("time", _TIME, nullable=False),
        sa.Column("sbp", sa.SmallInteger(), nullable=True),
        sa.Column("dbp", sa.SmallInteger(), nullable=True),
        sa.Column("mean_bp", sa.SmallInteger(), nullable=True),
        sa.Column("hr", sa.SmallInteger(), nullable=True),
        sa.Column("spo2", sa.SmallInteger(), nullable=True),
        sa.Column("rr", sa.SmallInteger(), nullable=True),
        sa.Column("message_id", sa.String(length=80), nullable=False),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", _TIME, nullable=True),
        sa.Column("reading_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["decided_by"], ["staff.id"],
                                name=op.f("fk_device_readings_decided_by_staff")),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"],
                                name=op.f("fk_device_readings_session_id_sessions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_readings")),
        sa.UniqueConstraint("reading_id", name=op.f("uq_device_readings_reading_id")),
    )
    op.create_index("ix_device_readings_session", "device_readings", ["session_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_device_readings_session", table_name="device_readings")
    op.drop_table("device_readings")
    op.drop_index("ix_feed_observations_received", table_name="feed_observations")
    op.drop_index("ix_feed_observations_device_observed", table_name="feed_observations")
    op.drop_table("feed_observations")
    op.drop_index("ix_feed_bindings_chair", table_name="feed_bindings")
    op.drop_index("ix_feed_bindings_device", table_name="feed_bindings")
    op.drop_table("feed_bindings")
    op.drop_table("feed_devices")
