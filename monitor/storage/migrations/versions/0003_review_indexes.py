"""indexes for the clinician's review

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 03:00:00

The session list is read newest first and cut into pages by the keyset ``(time, id)``;
``ix_sessions_time_id`` serves that order and the keyset comparison directly, so a page
reads only its own rows at any depth (``ix_sessions_time`` alone leaves the tie-break on
``id`` to a sort of every session at or after the cursor's time). It replaces
``ix_sessions_time``, whose every use its first column serves.

The flagged-only filter and the flag counts per row run on ``ix_flags_session``, the
text filter on the patients table (a few thousand rows) and ``ix_sessions_patient_time``,
a patient's course on ``ix_sessions_patient_time``: those indexes exist already.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index("ix_sessions_time_id", ["time", "id"], unique=False)
        batch_op.drop_index("ix_sessions_time")


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index("ix_sessions_time", ["time"], unique=False)
        batch_op.drop_index("ix_sessions_time_id")
