"""protocol drafts and activations: edited by an admin, approved by a clinician

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-06 14:10:00

Adds ``protocol_drafts`` (a change an admin is writing; editable while its state is
``draft``) and ``protocol_activations`` (a stored version made the clinic's protocol for a
profile by a clinician's e-signature). Activations never change: UPDATE and DELETE are
refused by trigger on both backends (and TRUNCATE on PostgreSQL, rights revoked from
PUBLIC). A draft that was approved or withdrawn never changes again, and no draft is deleted.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import monitor.storage.model

revision: str = "0008"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVATION_IMMUTABLE = "a protocol activation never changes"
DRAFT_CLOSED = "an approved or withdrawn protocol draft never changes"
DRAFT_KEPT = "a protocol draft is never deleted"


def upgrade() -> None:
    op.create_table(
        "protocol_drafts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("profile", sa.String(length=40), nullable=False),
        sa.Column("base_version_id", sa.Uuid(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", monitor.storage.model.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", monitor.storage.model.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("approved_version_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["approved_version_id"], ["protocol_versions.id"],
                                name=op.f("fk_protocol_drafts_approved_version_id_protocol_versions")),
        sa.ForeignKeyConstraint(["base_version_id"], ["protocol_versions.id"],
                                name=op.f("fk_protocol_drafts_base_version_id_protocol_versions")),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"],
                                name=op.f("fk_protocol_drafts_created_by_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protocol_drafts")),
    )
    op.create_table(
        "protocol_activations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("profile", sa.String(length=40), nullable=False),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("draft_id", sa.Uuid(), nullable=True),
        sa.Column("activated_at", monitor.storage.model.UTCDateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.Uuid(), nullable=False),
        sa.Column("approver_name", sa.String(length=120), nullable=False),
        sa.Column("approver_role", sa.String(length=20), nullable=False),
        sa.Column("meaning", sa.String(length=80), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["approved_by"], ["staff.id"],
                                name=op.f("fk_protocol_activations_approved_by_staff")),
        sa.ForeignKeyConstraint(["draft_id"], ["protocol_drafts.id"],
                                name=op.f("fk_protocol_activations_draft_id_protocol_drafts")),
        sa.ForeignKeyConstraint(["version_id"], ["protocol_versions.id"],
                                name=op.f("fk_protocol_activations_version_id_protocol_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protocol_activations")),
    )
    op.create_index("ix_protocol_activations_profile", "protocol_activations",
                    ["profile", "activated_at"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION protocol_activations_immutable() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN RAISE EXCEPTION '{ACTIVATION_IMMUTABLE}' "
            "USING ERRCODE = 'insufficient_privilege'; END $$"
        )
        op.execute(
            "CREATE TRIGGER protocol_activations_no_change BEFORE UPDATE OR DELETE "
            "ON protocol_activations FOR EACH ROW "
            "EXECUTE FUNCTION protocol_activations_immutable()"
        )
        op.execute(
            "CREATE TRIGGER protocol_activations_no_truncate BEFORE TRUNCATE "
            "ON protocol_activations FOR EACH STATEMENT "
            "EXECUTE FUNCTION protocol_activations_immutable()"
        )
        op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON protocol_activations FROM PUBLIC")
        op.execute(
            "CREATE FUNCTION protocol_drafts_closed() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN "
            f"IF TG_OP = 'DELETE' THEN RAISE EXCEPTION '{DRAFT_KEPT}' "
            "USING ERRCODE = 'insufficient_privilege'; END IF; "
            f"IF OLD.state <> 'draft' THEN RAISE EXCEPTION '{DRAFT_CLOSED}' "
            "USING ERRCODE = 'insufficient_privilege'; END IF; "
            "RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER protocol_drafts_closed BEFORE UPDATE OR DELETE "
            "ON protocol_drafts FOR EACH ROW EXECUTE FUNCTION protocol_drafts_closed()"
        )
        op.execute(
            "CREATE TRIGGER protocol_drafts_no_truncate BEFORE TRUNCATE ON protocol_drafts "
            "FOR EACH STATEMENT EXECUTE FUNCTION protocol_activations_immutable()"
        )
        op.execute("REVOKE DELETE, TRUNCATE ON protocol_drafts FROM PUBLIC")
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER protocol_activations_no_{verb.lower()} BEFORE {verb} "
                f"ON protocol_activations BEGIN SELECT RAISE(ABORT, '{ACTIVATION_IMMUTABLE}'); END"
            )
        op.execute(
            "CREATE TRIGGER protocol_drafts_closed BEFORE UPDATE ON protocol_drafts "
            f"WHEN OLD.state <> 'draft' BEGIN SELECT RAISE(ABORT, '{DRAFT_CLOSED}'); END"
        )
        op.execute(
            "CREATE TRIGGER protocol_drafts_no_delete BEFORE DELETE ON protocol_drafts "
            f"BEGIN SELECT RAISE(ABORT, '{DRAFT_KEPT}'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS protocol_drafts_no_truncate ON protocol_drafts")
        op.execute("DROP TRIGGER IF EXISTS protocol_drafts_closed ON protocol_drafts")
        op.execute("DROP FUNCTION IF EXISTS protocol_drafts_closed()")
        op.execute("DROP TRIGGER IF EXISTS protocol_activations_no_truncate "
                   "ON protocol_activations")
        op.execute("DROP TRIGGER IF EXISTS protocol_activations_no_change ON protocol_activations")
        op.execute("DROP FUNCTION IF EXISTS protocol_activations_immutable()")
    else:
        for name in ("protocol_activations_no_update", "protocol_activations_no_delete",
                     "protocol_drafts_closed", "protocol_drafts_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_protocol_activations_profile", table_name="protocol_activations")
    op.drop_table("protocol_activations")
    op.drop_table("protocol_drafts")
