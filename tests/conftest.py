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

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

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


def pg_base_url() -> str | None:
    url = os.environ.get(PG_URL_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_URL_ENV} must be set under CI", pytrace=False)
        return None
    return url


@pytest.fixture(autouse=True)
def _key_file(tmp_path_factory, monkeypatch) -> None:
    """Commands that load the secret use a key file of the test's own, never the keyring."""
    from monitor.service.auth import KEY_FILE_ENV  # noqa: PLC0415 - keeps UI-only runs light

    monkeypatch.setenv(KEY_FILE_ENV, str(tmp_path_factory.mktemp("key") / "chairside.key"))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'chairside.sqlite3'}"


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
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
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


@pytest.fixture
def store(db_url) -> Iterator[Store]:
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
