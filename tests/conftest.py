"""Fixtures shared by the whole suite: an injected clock, fresh databases, a service.

Storage tests run on SQLite always and on PostgreSQL as well when ``CHAIRSIDE_TEST_PG_URL``
names a server (``.ci/run`` sets it, and under CI an unreachable server fails the run
instead of skipping). Each PostgreSQL test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

from monitor.clock import ManualClock
from monitor.storage.store import Store, open_store

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Messages name local wall-clock times; the tests pin the zone so they read the same anywhere.
os.environ["TZ"] = "UTC"
time.tzset()

PG_URL_ENV = "CHAIRSIDE_TEST_PG_URL"

#: The database secret every test service uses (the app keeps its own outside the database).
TEST_SECRET = b"chairside-test-secret-0123456789"
#: The PIN of the staff the fixtures create.
TEST_PIN = "482913"


#: The database of this run (of this worker's, under ``-n``) on the server of PG_URL_ENV.
_run_database: str | None = None


def pg_base_url() -> str | None:
    """A database of this run's own on the server named by ``CHAIRSIDE_TEST_PG_URL``.

    Made on first use and dropped when the run ends. The audit trail's appends take an
    advisory lock of the whole database (one clinic, one database): tests of runs side by
    side (``-n``, or two people's runs on one server) would otherwise wait on each other's
    appends, and a wait past the statement timeout reads as "busy".
    """
    global _run_database  # noqa: PLW0603 - one database per process, made on first use
    url = os.environ.get(PG_URL_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_URL_ENV} must be set under CI", pytrace=False)
        return None
    if _run_database is None:
        name = f"chairside_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # noqa: BLE001 - any failure here means the server is not usable
            pytest.fail(f"PostgreSQL at {url}: could not create a database for this run: {exc}",
                        pytrace=False)
        finally:
            admin.dispose()
        _run_database = make_url(url).set(database=name).render_as_string(hide_password=False)
    return _run_database


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _run_database is None:
        return
    url = os.environ[PG_URL_ENV]
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(
                f'DROP DATABASE IF EXISTS "{make_url(_run_database).database}" WITH (FORCE)'))
    finally:
        admin.dispose()


#: Where platformdirs (and Qt) put a user's files on Linux: the settings, the drafts, the
#: outbox, the default database.
XDG_FOLDERS = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")


@pytest.fixture(autouse=True)
def _key_file(tmp_path_factory, monkeypatch) -> None:
    """Commands that load the secret use a key file of the test's own, never the keyring;
    and the user's folders are the test's own, so no test reads or writes the account's
    settings, drafts or outbox, nor those of a test running beside it (``-n``)."""
    from monitor.service.auth import KEY_FILE_ENV  # noqa: PLC0415 - keeps UI-only runs light

    own = tmp_path_factory.mktemp("home")
    monkeypatch.setenv(KEY_FILE_ENV, str(own / "chairside.key"))
    for variable in XDG_FOLDERS:
        monkeypatch.setenv(variable, str(own / variable.lower()))


@pytest.fixture(autouse=True)
def _cheap_pin_hashes(request, monkeypatch) -> None:
    """PINs hashed at argon2id's least cost (1 pass, 8 KiB) instead of the clinic's.

    At the clinic's cost (19 MiB, 2 passes: :mod:`monitor.service.auth`) every PIN set or
    checked takes a tenth of a second or more, and most tests set or check several. The hash
    and its check go through the same code; the cost is read from each hash. The test of the
    cost itself is marked ``pin_cost`` and hashes at the clinic's.
    """
    if request.node.get_closest_marker("pin_cost") is not None:
        return
    from argon2 import PasswordHasher, Type  # noqa: PLC0415 - keeps UI-only runs light

    from monitor.service import auth  # noqa: PLC0415

    monkeypatch.setattr(auth, "_HASHER", PasswordHasher(
        time_cost=1, memory_cost=8, parallelism=1, hash_len=32, salt_len=16, type=Type.ID))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'chairside.sqlite3'}"


def _schema_url(base: str, schema: str) -> str:
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh, private schema."""
    base = pg_base_url()
    if base is None:
        pytest.skip(f"{PG_URL_ENV} is not set: no PostgreSQL server for this run")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - any failure here means the server is not usable
        admin.dispose()
        pytest.fail(f"PostgreSQL at {base} is unreachable: {exc}", pytrace=False)
    try:
        yield _schema_url(base, schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request) -> str:
    """Every storage test runs once per backend."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


#: A statement as the driver got it: (SQL, parameters, executemany).
Statement = tuple[str, Any, bool]


@pytest.fixture(scope="session")
def pg_schema_statements() -> Iterator[list[Statement]]:
    """What :func:`open_store` sends to bring an empty schema to the newest revision.

    Recorded once per run (per worker) from a real open of an empty schema: the migration
    scripts, run by Alembic, with their statements as the driver got them. Replaying them
    into a test's empty schema gives the same schema (tests/test_pg_schema_replay.py proves
    it), in a fraction of Alembic's time; tests/monitor/storage/test_migrations.py runs the
    scripts themselves on both backends.
    """
    base = pg_base_url()
    if base is None:
        pytest.skip(f"{PG_URL_ENV} is not set: no PostgreSQL server for this run")
    schema = f"t_template_{uuid.uuid4().hex[:16]}"
    url = _schema_url(base, schema)
    admin = create_engine(base)
    recorded: list[Statement] = []

    def record(connection, _cursor, statement, parameters, _context, executemany) -> None:
        if connection.engine.url.query.get("options") == f"-csearch_path={schema}":
            recorded.append((statement, parameters, executemany))

    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - any failure here means the server is not usable
        admin.dispose()
        pytest.fail(f"PostgreSQL at {base} is unreachable: {exc}", pytrace=False)
    event.listen(Engine, "before_cursor_execute", record)
    try:
        open_store(url).close()
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    try:
        yield recorded
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def replay_schema(url: str, statements: list[Statement]) -> None:
    """Send ``statements`` (see :func:`pg_schema_statements`) to the schema of ``url``."""
    engine = create_engine(url)
    try:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            for statement, parameters, executemany in statements:
                if executemany:
                    cursor.executemany(statement, parameters)
                else:
                    cursor.execute(statement, parameters)
            connection.commit()
        finally:
            connection.close()
    finally:
        engine.dispose()


@pytest.fixture
def store(request, db_url) -> Iterator[Store]:
    if make_url(db_url).get_backend_name() == "postgresql":
        # The schema the migrations would make, made by replaying them (open_store then
        # finds it at the newest revision, as a tablet finds a clinic's database).
        replay_schema(db_url, request.getfixturevalue("pg_schema_statements"))
    opened = open_store(db_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def sqlite_store(sqlite_url) -> Iterator[Store]:
    opened = open_store(sqlite_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def service(store, clock):
    from monitor.service.clinic import ClinicService  # noqa: PLC0415 - keeps UI-only runs light

    return ClinicService(store, clock, secret=TEST_SECRET)


@pytest.fixture
def nurse(service) -> uuid.UUID:
    """A nurse who can sign with :data:`TEST_PIN`."""
    return service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)


@pytest.fixture
def clinician(service) -> uuid.UUID:
    """A clinician who can sign with :data:`TEST_PIN`."""
    return service.ensure_staff("Cleo Clinician", "clinician", pin=TEST_PIN)


#: Runs the long forms of the fault, kill and race tests (50 rounds, 3 × 500 readings, …),
#: whose short forms run by default.
LONG_TESTS_ENV = "CHAIRSIDE_LONG_TESTS"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(LONG_TESTS_ENV) == "1":
        return
    skip = pytest.mark.skip(reason=f"long form: its short form runs; {LONG_TESTS_ENV}=1 runs it")
    for item in items:
        if item.get_closest_marker("long") is not None:
            item.add_marker(skip)
