"""Alembic migrations of the ChairSide schema.

``HEAD_REVISION`` names the newest script, so that a start-up whose database is already
current need not load Alembic at all; a test keeps it equal to the scripts' head. Add a
migration with ``revision --autogenerate`` and set ``HEAD_REVISION`` to its id.
"""

HEAD_REVISION = "0013"
