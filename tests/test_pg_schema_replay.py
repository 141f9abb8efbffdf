"""The suite's PostgreSQL ``store``: a replayed schema is the schema the migrations make.

``tests/conftest.py`` records what :func:`open_store` sends to an empty schema once per run
and replays it into each test's schema instead of running the migration scripts again. This
compares the two schemas through the server's catalogues: tables and columns, constraints,
indexes, triggers, functions, table rights and rows.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from monitor.storage.store import current_revision, head_revision, make_engine, open_store
from tests.conftest import replay_schema

pytestmark = pytest.mark.postgres

CATALOGUE = {
    "columns": """
        SELECT table_name, column_name, ordinal_position, data_type, is_nullable,
               column_default, character_maximum_length, numeric_precision
        FROM information_schema.columns WHERE table_schema = :schema""",
    "constraints": """
        SELECT cl.relname, co.conname, co.contype, pg_get_constraintdef(co.oid)
        FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid
        WHERE co.connamespace = to_regnamespace(:schema)""",
    "indexes": """
        SELECT tablename, indexname, replace(indexdef, :schema || '.', '')
        FROM pg_indexes WHERE schemaname = :schema""",
    "triggers": """
        SELECT cl.relname, tg.tgname, replace(pg_get_triggerdef(tg.oid), :schema || '.', '')
        FROM pg_trigger tg JOIN pg_class cl ON cl.oid = tg.tgrelid
        WHERE cl.relnamespace = to_regnamespace(:schema) AND NOT tg.tgisinternal""",
    "functions": """
        SELECT proname, prosrc, prorettype::regtype::text FROM pg_proc
        WHERE pronamespace = to_regnamespace(:schema)""",
    "rights": """
        SELECT table_name, grantee, privilege_type FROM information_schema.table_privileges
        WHERE table_schema = :schema""",
}


def _catalogue(url: str) -> dict[str, set[tuple[object, ...]]]:
    schema = make_url(url).query["options"].removeprefix("-csearch_path=")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            found = {name: {tuple(row) for row in connection.execute(text(query),
                                                                      {"schema": schema})}
                     for name, query in CATALOGUE.items()}
            tables = sorted(row[0] for row in found["columns"])
            found["rows"] = {
                (table, tuple(sorted(map(str, connection.execute(
                    text(f'SELECT * FROM "{table}"')).all()))))
                for table in tables}
    finally:
        engine.dispose()
    return found


def test_a_replayed_schema_is_the_migrated_schema(pg_url, pg_schema_statements):
    migrated_url = pg_url
    open_store(migrated_url).close()  # the migration scripts, run by Alembic
    other = create_engine(make_url(migrated_url).set(query={}))
    schema = f"r_{uuid.uuid4().hex[:16]}"
    try:
        with other.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        replayed_url = make_url(migrated_url).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
        replay_schema(replayed_url, pg_schema_statements)
        engine = make_engine(replayed_url)
        try:
            assert current_revision(engine) == head_revision()
        finally:
            engine.dispose()
        migrated, replayed = _catalogue(migrated_url), _catalogue(replayed_url)
        assert migrated["columns"], "the migrated schema has no tables"
        assert migrated["triggers"], "the migrated schema has no triggers"
        for part, rows in migrated.items():
            assert replayed[part] == rows, part
    finally:
        with other.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        other.dispose()
