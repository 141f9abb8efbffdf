"""protocol versions: each session judged by the protocol it ran under

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 13:30:00

Adds ``protocol_versions`` (a protocol written out in full, inherited parameters included,
and the SHA-256 of that text) and ``sessions.protocol_version_id``. Stored versions never
change: UPDATE and DELETE are refused by trigger on both backends; on PostgreSQL a trigger
also refuses TRUNCATE, and UPDATE, DELETE and TRUNCATE are revoked from PUBLIC, as for the
audit trail.

Existing sessions are pinned to a version stored here from the *current* file of their
profile: the content their recorded ``protocol_version`` label had when they ran was never
kept, so the current file is the best record of it there is. A session whose profile's file
cannot be loaded is left unpinned (``check`` reports it) and keeps being judged by the file.
"""

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import monitor.storage.model

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IMMUTABLE = "a stored protocol version never changes"

log = logging.getLogger(__name__)


def upgrade() -> None:
    op.create_table(
        "protocol_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("profile", sa.String(length=40), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", monitor.storage.model.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protocol_versions")),
        sa.UniqueConstraint("hash", name=op.f("uq_protocol_versions_hash")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("protocol_version_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_sessions_protocol_version_id_protocol_versions"),
            "protocol_versions", ["protocol_version_id"], ["id"],
        )

    _pin_existing_sessions()

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION protocol_versions_immutable() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN RAISE EXCEPTION '{IMMUTABLE}' "
            "USING ERRCODE = 'insufficient_privilege'; END $$"
        )
        op.execute(
            "CREATE TRIGGER protocol_versions_no_change BEFORE UPDATE OR DELETE "
            "ON protocol_versions FOR EACH ROW EXECUTE FUNCTION protocol_versions_immutable()"
        )
        op.execute(
            "CREATE TRIGGER protocol_versions_no_truncate BEFORE TRUNCATE ON protocol_versions "
            "FOR EACH STATEMENT EXECUTE FUNCTION protocol_versions_immutable()"
        )
        op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON protocol_versions FROM PUBLIC")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER protocol_versions_no_{verb.lower()} BEFORE {verb} "
                f"ON protocol_versions BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END"
            )


def _pin_existing_sessions() -> None:
    """Store the current file of each profile in use and point its sessions at it."""
    from monitor.clinical.protocol import ProtocolError, load_protocol  # noqa: PLC0415
    from monitor.storage import protocol_store  # noqa: PLC0415 - the app's own rendering and hash

    connection = op.get_bind()
    sessions = sa.table("sessions", sa.column("profile", sa.String),
                        sa.column("protocol_version_id", sa.Uuid))
    versions = sa.table(
        "protocol_versions", sa.column("id", sa.Uuid), sa.column("profile", sa.String),
        sa.column("version", sa.String), sa.column("hash", sa.String),
        sa.column("content", sa.Text),
        sa.column("created_at", monitor.storage.model.UTCDateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    profiles = connection.execute(sa.select(sessions.c.profile).distinct()).scalars().all()
    for profile in profiles:
        try:
            protocol = load_protocol(profile)
        except ProtocolError as exc:
            log.warning("sessions of profile %r left unpinned: %s", profile, exc)
            continue
        version = protocol_store.version_of(protocol, profile, now)
        if connection.execute(sa.select(versions.c.id).where(
                versions.c.id == version.id)).first() is None:
            connection.execute(versions.insert().values(
                id=version.id, profile=profile, version=version.version, hash=version.hash,
                content=version.content, created_at=now))
        connection.execute(sessions.update().where(sessions.c.profile == profile)
                           .values(protocol_version_id=version.id))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS protocol_versions_no_truncate ON protocol_versions")
        op.execute("DROP TRIGGER IF EXISTS protocol_versions_no_change ON protocol_versions")
        op.execute("DROP FUNCTION IF EXISTS protocol_versions_immutable()")
    else:
        op.execute("DROP TRIGGER IF EXISTS protocol_versions_no_update")
        op.execute("DROP TRIGGER IF EXISTS protocol_versions_no_delete")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_sessions_protocol_version_id_protocol_versions"), type_="foreignkey")
        batch_op.drop_column("protocol_version_id")
    op.drop_table("protocol_versions")
