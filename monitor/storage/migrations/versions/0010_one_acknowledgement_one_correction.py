"""one acknowledgement per flag, one correction per entry, refused by the database

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-06 14:50:00

Two tablets on one server acknowledging the same flag, or voiding the same entry, at the
same moment each stored a row. Unique indexes make the database refuse the second:
``uq_acknowledgements_flag`` (acknowledgements.flag_id) and ``uq_corrections_target``
(corrections.target_id).

A unique index cannot be built over rows that already break it, and nothing entered is
deleted. So each index is created only where the table holds no such duplicate; where it
does, the upgrade leaves that table's rows and its index out, logs a warning, and
``monitor check`` names the duplicates (it reports them whether the index exists or not).
Once the duplicates are resolved by hand, running this index creation again
(``create_missing``) adds the index.
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

#: (index, table, column): one row per value of the column.
UNIQUE_INDEXES: tuple[tuple[str, str, str], ...] = (
    ("uq_acknowledgements_flag", "acknowledgements", "flag_id"),
    ("uq_corrections_target", "corrections", "target_id"),
)


def create_missing(connection: sa.Connection) -> list[str]:
    """Create each index whose table holds no duplicate; the indexes left out, explained."""
    left_out = []
    present = {
        index["name"]
        for _, table, _ in UNIQUE_INDEXES
        for index in sa.inspect(connection).get_indexes(table)
    }
    for name, table, column in UNIQUE_INDEXES:
        if name in present:
            continue
        duplicates = connection.scalar(sa.text(
            f"SELECT count(*) FROM (SELECT {column} FROM {table} "
            f"GROUP BY {column} HAVING count(*) > 1) AS d"))
        if duplicates:
            left_out.append(
                f"{name} not created: {duplicates} {column} value(s) of {table} occur more "
                "than once; `monitor check` lists them")
            continue
        connection.execute(sa.text(f"CREATE UNIQUE INDEX {name} ON {table} ({column})"))
    return left_out


def upgrade() -> None:
    for message in create_missing(op.get_bind()):
        log.warning(message)


def downgrade() -> None:
    for name, _, _ in UNIQUE_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
