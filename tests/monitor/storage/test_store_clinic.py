"""PostgreSQL connection settings for a clinic's server, read back from the server.

Every connection names its device (``application_name``), gives up on an unanswered connect
and on a silent peer (``connect_timeout``, TCP keepalives), and has a ``statement_timeout``
so a lock held by a stuck device becomes "NOT saved" instead of a tablet that hangs.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from monitor.clock import ManualClock
from monitor.service.clinic import ClinicService
from monitor.storage.audit import PG_LOCK_KEY
from monitor.storage.store import (
    PG_STATEMENT_TIMEOUT_ENV,
    NotSavedError,
    Store,
    StoreOpenError,
    open_store,
)
from tests.conftest import TEST_SECRET

pytestmark = pytest.mark.postgres


@pytest.fixture
def opened(pg_url: str) -> Iterator[Store]:
    store = open_store(pg_url, application_name="Chair 3 tablet")
    try:
        yield store
    finally:
        store.close()


def _show(store: Store, setting: str) -> str:
    with store.read() as db:
        return str(db.execute(text(f"SHOW {setting}")).scalar())


def test_connections_carry_the_tablet_name_timeouts_and_keepalives(
    opened: Store, pg_url: str,
) -> None:
    with opened.read() as db:
        seen = db.execute(text(
            "SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()"
        )).scalar()
        raw = db.connection().connection.dbapi_connection
        parameters = raw.info.get_parameters()  # type: ignore[union-attr]
    assert seen == "Chair 3 tablet"
    assert _show(opened, "statement_timeout") == "5s"
    # The URL's own options (here the test's search_path) are kept beside the timeout.
    schema = make_url(pg_url).query["options"].removeprefix("-csearch_path=")
    assert _show(opened, "search_path") == schema
    assert {key: parameters.get(key) for key in (
        "connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
        "keepalives_count", "tcp_user_timeout")} == {
        "connect_timeout": "5", "keepalives": "1", "keepalives_idle": "10",
        "keepalives_interval": "5", "keepalives_count": "3", "tcp_user_timeout": "15000"}


def test_application_name_defaults_to_the_host_name(pg_url: str) -> None:
    store = open_store(pg_url)
    try:
        assert _show(store, "application_name") == socket.gethostname()[:63]
    finally:
        store.close()


def test_statement_timeout_is_overridden_by_the_environment_or_the_url(
    pg_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PG_STATEMENT_TIMEOUT_ENV, "250")
    store = open_store(pg_url)
    try:
        assert _show(store, "statement_timeout") == "250ms"
    finally:
        store.close()
    url = make_url(pg_url)
    options = f"{url.query['options']} -c statement_timeout=1500"
    store = open_store(url.update_query_dict({"options": options}))
    try:
        assert _show(store, "statement_timeout") == "1500ms"
    finally:
        store.close()


@pytest.mark.parametrize("given", ["5s", "-1", ""])
def test_a_statement_timeout_that_is_not_milliseconds_is_refused_naming_the_variable(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, given: str,
) -> None:
    monkeypatch.setenv(PG_STATEMENT_TIMEOUT_ENV, given)
    with pytest.raises(StoreOpenError, match=f"{PG_STATEMENT_TIMEOUT_ENV}: a whole number"):
        open_store(pg_url)


def test_a_save_blocked_by_another_devices_lock_is_not_saved_within_the_timeout(
    pg_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PG_STATEMENT_TIMEOUT_ENV, "300")
    store = open_store(pg_url)
    other_device = create_engine(pg_url)
    try:
        service = ClinicService(store, ManualClock(), secret=TEST_SECRET)
        with other_device.begin() as held:
            # Another tablet stuck half-way through an audited save holds the trail's lock.
            held.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
            started = time.monotonic()
            with pytest.raises(NotSavedError):
                service.ensure_staff(f"Nurse {uuid.uuid4().hex[:6]}", "nurse")
            assert time.monotonic() - started < 3
    finally:
        other_device.dispose()
        store.close()
