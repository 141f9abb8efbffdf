"""The tablet's own deadline on PostgreSQL calls (monitor/storage/deadline.py): its setting, and
what counts as an answer. A call that hears nothing for the deadline is cut; a server that
keeps sending, and a wait for notifications, are never cut. (A hung server end to end:
tests/monitor/service/test_hung_server.py.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import OperationalError

from monitor.storage import deadline
from monitor.storage.deadline import NO_ANSWER_ENV
from monitor.storage.deadline_connection import DeadlineConnection, NoAnswerError
from monitor.storage.store import StoreOpenError, classify, make_engine

#: A short deadline: seconds without an answer before a call is cut.
SHORT_S = 0.3


@pytest.mark.parametrize(("options", "expected"), [
    (None, None), ("-c search_path=x", None), ("-c statement_timeout=60000", 60000),
    ("-csearch_path=x -c statement_timeout=5s", 5000), ("-c statement_timeout='2min'", 120000),
    ("-c statement_timeout=0", 0),
])
def test_the_statement_timeout_is_read_from_the_urls_options(
        options: str | None, expected: int | None) -> None:
    assert deadline.statement_timeout_in(options) == expected


def test_the_default_is_the_statement_timeout_and_five_seconds_or_none_without_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NO_ANSWER_ENV, raising=False)
    assert deadline.no_answer_s(5000) == 10.0
    assert deadline.no_answer_s(5000, options="-c statement_timeout=60000") == 65.0
    assert deadline.no_answer_s(0) is None
    monkeypatch.setenv(NO_ANSWER_ENV, "1500")
    assert deadline.no_answer_s(5000) == 1.5
    monkeypatch.setenv(NO_ANSWER_ENV, "0")
    assert deadline.no_answer_s(5000) is None


@pytest.mark.parametrize("given", ["10s", "-1", "", "1.5"])
def test_a_deadline_that_is_not_milliseconds_is_refused_naming_the_variable(
        monkeypatch: pytest.MonkeyPatch, given: str) -> None:
    monkeypatch.setenv(NO_ANSWER_ENV, given)
    with pytest.raises(StoreOpenError, match=f"{NO_ANSWER_ENV}: a whole number"):
        make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")


def test_a_tablet_on_its_sqlite_file_does_not_load_psycopg(tmp_path: Path) -> None:
    """The deadline's connection class is loaded by a PostgreSQL engine only (psycopg costs
    a noticeable part of a start-up)."""
    url = f"sqlite:///{tmp_path / 'tablet.sqlite3'}"
    code = ("import sys; from monitor.storage.store import open_store; "
            "import monitor.storage.changes.feed; "
            f"open_store({url!r}).close(); "
            "print(any(m == 'psycopg' or m.startswith('psycopg.') for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parents[3])
    assert result.stdout.strip() == "False"


def connection(pg_url: str, no_answer_s: float | None) -> DeadlineConnection:
    url = make_url(pg_url)
    raw = DeadlineConnection.connect(
        host=url.host or "127.0.0.1", port=url.port or 5432, user=url.username,
        password=url.password, dbname=url.database, autocommit=True)
    raw.no_answer_s = no_answer_s
    return raw


@pytest.mark.postgres
def test_a_statement_the_server_says_nothing_about_is_cut_and_the_connection_closed(
        pg_url: str) -> None:
    raw = connection(pg_url, SHORT_S)
    try:
        with pytest.raises(NoAnswerError, match=r"sent nothing for 0\.3 s"):
            raw.execute("SET statement_timeout = 10000; SELECT pg_sleep(5)")
        assert raw.closed
    finally:
        raw.close()


@pytest.mark.postgres
def test_rows_that_keep_coming_are_an_answer_and_a_wait_for_notifications_is_not_cut(
        pg_url: str) -> None:
    limit = 0.6
    raw = connection(pg_url, limit)
    try:
        # Ten rows of 100 kB, one each 0.1 s: each leaves the server at once (more than its
        # output buffer), the whole taking longer than the deadline.
        rows = raw.execute("SELECT repeat('x', 100000), pg_sleep(0.1) "
                           "FROM generate_series(1, 10)").fetchall()
        assert len(rows) == 10
        raw.execute("LISTEN chairside_deadline_test")
        assert list(raw.notifies(timeout=limit * 2)) == []
        assert not raw.closed
        assert raw.execute("SELECT 1").fetchone() == (1,)
    finally:
        raw.close()


@pytest.mark.postgres
def test_a_cut_call_is_classified_unreachable_and_the_pool_connects_afresh(
        pg_url: str) -> None:
    engine = make_engine(pg_url, no_answer_s=SHORT_S)
    try:
        with engine.connect() as first:
            cut = first.connection.driver_connection
            with pytest.raises(OperationalError) as raised:
                first.execute(text("SELECT pg_sleep(5)"))
            assert raised.value.connection_invalidated
            assert classify(raised.value) == "unreachable"
        with engine.connect() as second:
            assert second.connection.driver_connection is not cut
            assert second.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
