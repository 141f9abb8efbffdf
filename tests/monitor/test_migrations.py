"""The Alembic migrations build exactly the schema the model declares, on both backends."""

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from monitor.model import Base
from monitor.store import MIGRATIONS_DIR, head_revision, open_store


def test_migrated_schema_matches_the_model(db_url):
    store = open_store(db_url)
    try:
        with store.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert context.get_current_revision() == head_revision()
            assert compare_metadata(context, Base.metadata) == []
    finally:
        store.close()


def test_head_revision_constant_names_the_newest_script():
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == head_revision()
