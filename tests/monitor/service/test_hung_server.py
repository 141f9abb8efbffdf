"""A clinic server that hangs: its processes stopped (SIGSTOP), its kernel still answering TCP.

Keepalives are acknowledged and the server's statement timeout cannot fire, so only this
device's deadline (monitor/storage/deadline.py) ends a call: a save is cut and reported
unreachable, a tablet holds its entry and gives it to the server once after the server goes
on (SIGCONT), and the change feed notices the silence, connects again and delivers what
follows. A server hung as a save's COMMIT leaves gives an unknown outcome, asked about by
id: never "Saved" nor "NOT saved" until the server says, and stored once after. The deadline
is short here (:data:`NO_ANSWER_S`); nothing sleeps.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event

from monitor.clock import ManualClock
from monitor.service.clinic import ClinicService
from monitor.service.outcome import Verdict, settle
from monitor.service.tablet import TabletService
from monitor.storage.changes.feed import ChangeFeed
from monitor.storage.changes.kinds import Change, ChangeKind
from monitor.storage.deadline_connection import DeadlineConnection
from monitor.storage.integrity import check_database
from monitor.storage.outbox import Outbox
from monitor.storage.store import (
    OutcomeUnknownError,
    StorageError,
    Store,
    open_store,
    statement_timeout_ms,
)
from tests.conftest import TEST_SECRET
from tests.support.pgserver import PrivateServer, private_server, require_private_server, wait_for

#: The deadline in these tests: seconds without an answer before a call is cut.
NO_ANSWER_S = 1.0
#: A bound on waits that end at once when the code is right (a hung test fails, not hangs).
WAIT_S = 60.0
NORMAL = {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98"}


@pytest.fixture(scope="module")
def server() -> Iterator[PrivateServer]:
    require_private_server()
    with private_server() as started:
        with psycopg.connect(started.dsn(), autocommit=True) as connection:
            connection.execute("CREATE DATABASE chairside")
        yield started


def url(server: PrivateServer) -> str:
    # libpq's shortest connect timeout: a connection to the stopped postmaster fails in 2 s.
    return f"{server.url('chairside')}?connect_timeout=2"


class Chair:
    """One tablet's service on the private server, with a session open."""

    def __init__(self, server: PrivateServer) -> None:
        self.server = server
        self.clock = ManualClock()
        self.store: Store = open_store(url(server), application_name="Chair 7",
                                       no_answer_s=NO_ANSWER_S)
        self.used: list[Any] = []
        event.listen(self.store.engine, "checkout",
                     lambda dbapi, _record, _proxy: self.used.append(dbapi))
        self.service = ClinicService(self.store, self.clock, secret=TEST_SECRET)
        self.nurse = self.service.ensure_staff("Nora Nurse", "nurse")
        patient = self.service.add_patient(f"MRN-{uuid.uuid4().hex[:8]}", by=self.nurse,
                                           name="Pat Example", weight_kg=70.0)
        self.session_id = self.service.start_session(patient.id, by=self.nurse, chair="7")

    def reading(self, service: Any, reading_id: uuid.UUID) -> Any:
        self.clock.advance(timedelta(minutes=5))
        return service.record_reading(self.session_id, NORMAL, by=self.nurse,
                                      reading_id=reading_id)

    def stored(self, reading_id: uuid.UUID) -> tuple[int, int]:
        """The reading's rows on the server, and its audit entries of creation."""
        with psycopg.connect(self.server.dsn("chairside")) as connection:
            rows = connection.execute("SELECT count(*) FROM readings WHERE id = %s",
                                      (reading_id,)).fetchone()
            audited = connection.execute(
                "SELECT count(*) FROM audit_log WHERE action = 'create' AND record_id = %s",
                (reading_id,)).fetchone()
        assert rows is not None
        assert audited is not None
        return rows[0], audited[0]

    def close(self) -> None:
        self.store.close()


@pytest.fixture
def chair(server: PrivateServer) -> Iterator[Chair]:
    made = Chair(server)
    try:
        yield made
    finally:
        server.thaw()
        made.close()


def test_the_default_deadline_is_the_statement_timeout_and_five_seconds(
        monkeypatch: pytest.MonkeyPatch, server: PrivateServer) -> None:
    monkeypatch.delenv("CHAIRSIDE_PG_NO_ANSWER_MS", raising=False)
    store = open_store(server.url("chairside"))
    try:
        with store.engine.connect() as connection:
            raw = connection.connection.driver_connection
            assert isinstance(raw, DeadlineConnection)
            assert raw.no_answer_s == (statement_timeout_ms() + 5000) / 1000
    finally:
        store.close()


def test_a_save_to_a_hung_server_is_cut_after_the_deadline_and_reported_unreachable(
        chair: Chair) -> None:
    rid = uuid.uuid4()
    chair.reading(chair.service, uuid.uuid4())  # the pool holds a connection, known good
    with chair.server.hung():
        started = time.monotonic()
        with pytest.raises(StorageError) as raised:
            chair.reading(chair.service, rid)
        assert time.monotonic() - started >= NO_ANSWER_S  # cut by the deadline, not before
        assert raised.value.reason == "unreachable"
        # Hung before the save began: cut before its COMMIT was sent, surely not stored.
        assert not isinstance(raised.value, OutcomeUnknownError)
        cut = chair.used[-1]
        assert cut.closed  # this device closed the connection it waited on
    # The server goes on: the pool makes a new connection, and the save again stores once.
    assert settle(chair.service.stored, "reading", rid).verdict is Verdict.NOT_SAVED
    assert chair.used[-1] is not cut
    assert chair.stored(rid) == (0, 0)
    chair.reading(chair.service, rid)
    assert chair.stored(rid) == (1, 1)
    assert chair.service.verify_audit().first_bad is None


def test_a_tablet_holds_its_entry_while_the_server_hangs_and_drains_it_once_after(
        chair: Chair, tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    try:
        tablet = TabletService(chair.service, outbox, chair.clock)
        tablet.load(chair.session_id)
        rid = uuid.uuid4()
        with chair.server.hung():
            saved = chair.reading(tablet, rid)
            assert saved.held == 1  # saved on the tablet, not on the server
            assert tablet.load(chair.session_id).on_tablet  # read cut too: the tablet's copy
            assert tablet.drain() == 0  # still hung: nothing taken, nothing lost
            assert tablet.held(chair.session_id) == 1
        assert tablet.drain() == 1
        assert tablet.drain() == 0
        assert tablet.held(chair.session_id) == 0
        assert chair.stored(rid) == (1, 1)
        assert chair.service.verify_audit().first_bad is None
        checked = check_database(chair.server.url("chairside"))
        assert checked.ok, checked.problems
    finally:
        outbox.close()


def test_the_change_feed_notices_a_hung_server_and_delivers_what_follows_after(
        chair: Chair) -> None:
    got: list[Change] = []
    feed = ChangeFeed(url(chair.server), tick=0.05, probe_every=0.2, no_answer_s=NO_ANSWER_S,
                      backoff_first=0.05, backoff_max=0.2)
    feed.subscribe(got.append)
    feed.start()
    try:
        wait_for(feed.connected.is_set, WAIT_S, "the feed to connect")
        first_pid = feed.backend_pid
        with chair.server.hung():
            wait_for(lambda: not feed.connected.is_set(), WAIT_S,
                     "the feed to notice the hung server")
            assert feed.probes >= 1
        wait_for(feed.connected.is_set, WAIT_S, "the feed to connect again")
        assert feed.reconnections >= 1
        assert feed.backend_pid != first_pid
        rid = uuid.uuid4()
        chair.reading(chair.service, rid)
        wait_for(lambda: any(c.kind is ChangeKind.READING and c.record_id == rid for c in got),
                 WAIT_S, "the reading saved after the server went on")
        assert sum(1 for c in got if c.record_id == rid) == 1
    finally:
        chair.server.thaw()
        feed.stop()


def test_a_call_of_the_store_cut_makes_the_feed_connect_again_without_waiting_to_probe(
        chair: Chair) -> None:
    feed = ChangeFeed(url(chair.server), tick=0.05, probe_every=3600, no_answer_s=NO_ANSWER_S,
                      backoff_first=0.05, backoff_max=0.2)
    feed.start()
    try:
        wait_for(feed.connected.is_set, WAIT_S, "the feed to connect")
        with chair.server.hung():
            with pytest.raises(StorageError):
                chair.reading(chair.service, uuid.uuid4())
            wait_for(lambda: not feed.connected.is_set(), WAIT_S,
                     "the feed to drop its connection to the hung server")
            assert feed.probes == 0
        wait_for(feed.connected.is_set, WAIT_S, "the feed to connect again")
    finally:
        chair.server.thaw()
        feed.stop()


def hang_at_commit(chair: Chair) -> None:
    """Freeze the server, once, as the next save's last round trip (its audit entry and
    COMMIT, one pipeline) is about to leave: the server holds the COMMIT unread."""

    armed = [True]

    def before(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if armed[0] and "INSERT INTO AUDIT_LOG" in statement.upper():
            armed[0] = False
            chair.server.freeze()

    event.listen(chair.store.engine, "before_cursor_execute", before)


def test_a_commit_cut_on_a_hung_server_is_not_known_and_after_the_server_goes_on_is_told(
        chair: Chair) -> None:
    rid = uuid.uuid4()
    hang_at_commit(chair)
    try:
        with pytest.raises(OutcomeUnknownError):
            chair.reading(chair.service, rid)
        assert chair.server.frozen
        # Asking the server by id is cut (or refused at connect) too: not known, truthfully.
        assert settle(chair.service.stored, "reading", rid).verdict is Verdict.UNKNOWN
    finally:
        chair.server.thaw()
    # The server goes on and reads what was left in its socket: whatever it did, it now
    # tells, and a retry under the same id stores nothing twice.
    verdict = settle(chair.service.stored, "reading", rid).verdict
    assert verdict is not Verdict.UNKNOWN
    chair.reading(chair.service, rid)
    assert chair.stored(rid) == (1, 1)
    assert chair.service.verify_audit().first_bad is None


def test_a_tablet_holds_an_entry_whose_commit_was_cut_and_it_is_stored_once_after(
        chair: Chair, tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    try:
        tablet = TabletService(chair.service, outbox, chair.clock)
        tablet.load(chair.session_id)
        rid = uuid.uuid4()
        hang_at_commit(chair)
        try:
            saved = chair.reading(tablet, rid)
            assert chair.server.frozen
            assert saved.held == 1  # not known whether on the server: held, never "Saved"
        finally:
            chair.server.thaw()
        tablet.drain()
        assert tablet.held(chair.session_id) == 0
        assert tablet.drain() == 0
        assert chair.stored(rid) == (1, 1)
        assert chair.service.verify_audit().first_bad is None
        checked = check_database(chair.server.url("chairside"))
        assert checked.ok, checked.problems
    finally:
        outbox.close()
