"""a session keeps the patient's own limits it started with

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-06 19:20:00

A patient's own limits (``patients.limit_overrides``) were read afresh whenever a session
was evaluated, so setting them re-judged every past session of the patient. Each session
now keeps the limits it started with (``sessions.limit_overrides``), as it keeps its
protocol version. Existing sessions are given their patient's limits as they are at the
upgrade: what they were when a session ran was never kept, so the current ones are the best
record there is (and what those sessions were judged by until now).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("limit_overrides", sa.JSON(), nullable=True))
    op.execute(
        "UPDATE sessions SET limit_overrides = (SELECT patients.limit_overrides FROM patients "
        "WHERE patients.id = sessions.patient_id)")


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN on both engines (SQLite has it since 3.35): a batch copy of
    # ``sessions`` would have to drop the table every entry refers to, which SQLite refuses
    # while foreign keys are enforced.
    op.drop_column("sessions", "limit_overrides")
