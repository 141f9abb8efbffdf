"""Live changes: what one tablet commits reaches the other tablets' feeds, once, on both
backends; a dropped listener catches up; ``watch`` prints the lines."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, text

from monitor.cli.watch import line
from monitor.service.clinic import ClinicService
from monitor.service.views import ImportedRow
from monitor.storage import audit
from monitor.storage.changes import Change, ChangeKind
from monitor.storage.changes.feed import ChangeFeed, backoff, open_feed
from monitor.storage.model import FlagRow
from monitor.storage.store import open_store
from tests.conftest import TEST_PIN, TEST_SECRET

ROOT = Path(__file__).resolve().parents[3]
MIN = timedelta(minutes=1)
WAIT_S = 10.0


class Collected:
    """A subscriber that keeps what it got and lets a test wait for what it expects."""

    def __init__(self) -> None:
        self.changes: list[Change] = []
        self._condition = threading.Condition()

    def __call__(self, change: Change) -> None:
        with self._condition:
            self.changes.append(change)
            self._condition.notify_all()

    def wait_for(self, kind: ChangeKind, record_id: uuid.UUID) -> Change:
        def found() -> Change | None:
            return next((c for c in self.changes
                         if c.kind is kind and c.record_id == record_id), None)

        with self._condition:
            assert self._condition.wait_for(lambda: found() is not None, WAIT_S), (
                f"no {kind} change for {record_id}; got {self.changes}")
            change = found()
        assert change is not None
        return change

    def keys(self) -> list[tuple[ChangeKind, uuid.UUID | None]]:
        with self._condition:
            return [(c.kind, c.record_id) for c in self.changes]


@pytest.fixture
def tablets(db_url, clock):
    """Two tablets on one database: each with its own store (engine) and service."""
    stores = [open_store(db_url), open_store(db_url)]
    services = [ClinicService(s, clock, secret=TEST_SECRET) for s in stores]
    try:
        yield services
    finally:
        for s in stores:
            s.close()


@pytest.fixture
def ward(tablets, clock):
    """Tablet A with a nurse and a session in chair 2; the session id."""
    a = tablets[0]
    nurse = a.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    patient = a.add_patient("MRN100200", by=nurse, name="Ada Byrne",
                            date_of_birth=date(1980, 4, 2), weight_kg=70.0)
    session_id = a.start_session(patient.id, by=nurse, chair="2")
    clock.advance(MIN)
    return nurse, session_id


def feed_of(service: ClinicService, **options) -> ChangeFeed:
    """A started feed of ``service``'s database; polls only when poked unless told."""
    options.setdefault("poll_interval", 3600.0)
    options.setdefault("tick", 0.05)
    feed = open_feed(service.store, **options)
    feed.start()
    assert feed.connected.wait(WAIT_S)
    return feed


def vitals(sbp=128, dbp=78, hr=72, spo2=98):
    return {"sbp": str(sbp), "dbp": str(dbp), "hr": str(hr), "spo2": str(spo2)}


def saved_elsewhere(feed: ChangeFeed) -> None:
    """Another engine committed: a SQLite feed looks now (PostgreSQL hears it anyway)."""
    feed.poke()


def test_a_reading_saved_on_one_tablet_reaches_the_other(tablets, ward, clock):
    a, b = tablets
    nurse, session_id = ward
    got = Collected()
    feed = feed_of(b)
    feed.subscribe(got)
    try:
        rid = a.record_reading(session_id, vitals(), by=nurse).id
        saved_elsewhere(feed)
        change = got.wait_for(ChangeKind.READING, rid)
    finally:
        feed.stop()
    assert change.session_id == session_id
    assert change.chair == "2"
    assert change.by == nurse
    assert change.time == clock.now()
    assert change.severity is None
    assert got.keys() == [(ChangeKind.READING, rid)]


def test_a_rolled_back_save_announces_nothing(tablets, ward):
    a, b = tablets
    nurse, session_id = ward
    got = Collected()
    feed = feed_of(b)
    feed.subscribe(got)
    never = uuid.uuid4()
    try:
        with pytest.raises(RuntimeError):
            _fail_after_audit(a, nurse, session_id, never)
        saved_elsewhere(feed)
        rid = a.record_reading(session_id, vitals(), by=nurse).id
        saved_elsewhere(feed)
        got.wait_for(ChangeKind.READING, rid)
    finally:
        feed.stop()
    # Announcements arrive in commit order: one of the rolled-back save would be first.
    assert got.keys() == [(ChangeKind.READING, rid)]


def _fail_after_audit(service, nurse, session_id, record_id):
    with service.store.write() as db:
        audit.append(db.connection(), service.guard.audit_key, at=service.clock.now(),
                     staff_id=nurse, action="create", record_kind="reading",
                     record_id=record_id, session_id=session_id)
        raise RuntimeError("the save fails after its audit entry")


def test_flags_and_acknowledgements_arrive_as_their_kinds(tablets, ward, clock):
    a, b = tablets
    nurse, session_id = ward
    got = Collected()
    feed = feed_of(b)
    feed.subscribe(got)
    try:
        saved = a.record_reading(session_id, vitals(spo2=90), by=nurse)
        (flag,) = saved.new_flags
        saved_elsewhere(feed)
        reading = got.wait_for(ChangeKind.READING, saved.id)
        raised = got.wait_for(ChangeKind.FLAG, flag.id)
        clock.advance(MIN)
        a.acknowledge(session_id, flag, action="Repeated reading", by=nurse, pin=TEST_PIN)
        saved_elsewhere(feed)
        acknowledged = got.wait_for(ChangeKind.ACKNOWLEDGEMENT, flag.id)
    finally:
        feed.stop()
    severity = flag.severity.name.lower()
    assert (reading.severity, raised.severity, acknowledged.severity) == (severity,) * 3
    assert raised.session_id == acknowledged.session_id == session_id
    assert raised.seq == reading.seq < acknowledged.seq


def test_each_record_is_passed_on_once(tablets, ward, clock):
    """An import names its flags with every entry of its save; each is passed on once."""
    a, b = tablets
    nurse, _session_id = ward
    got = Collected()
    feed = feed_of(b)
    feed.subscribe(got)
    start = clock.now() - 30 * MIN
    rows = [ImportedRow(start + i * 10 * MIN, vitals(spo2=90 - i)) for i in range(3)]
    try:
        session_id = a.import_session(rows, mrn="MRN100300", by=nurse, name="Bo Lind")
        saved_elsewhere(feed)
        got.wait_for(ChangeKind.SESSION, session_id)
        flags = a.load(session_id).flags
        for flag in flags:
            got.wait_for(ChangeKind.FLAG, flag.id)
    finally:
        feed.stop()
    keys = got.keys()
    assert len(keys) == len(set(keys))
    assert [k for k, _ in keys].count(ChangeKind.READING) == 3
    assert flags


def test_staff_changes_are_announced_and_sign_ins_are_not(tablets, ward):
    a, b = tablets
    nurse, _session_id = ward
    admin = a.ensure_staff("Ann Admin", "admin", pin=TEST_PIN)
    got = Collected()
    feed = feed_of(b)
    feed.subscribe(got)
    try:
        a.login(nurse, TEST_PIN)
        new = a.add_staff("Tom Nurse", "nurse", "739164", by=admin)
        saved_elsewhere(feed)
        change = got.wait_for(ChangeKind.STAFF, new)
    finally:
        feed.stop()
    assert change.session_id is None
    assert change.chair is None
    assert got.keys() == [(ChangeKind.STAFF, new)]


def test_sqlite_feed_hears_its_own_process_commit_without_polling(sqlite_url, clock):
    store = open_store(sqlite_url)
    try:
        service = ClinicService(store, clock, secret=TEST_SECRET)
        got = Collected()
        feed = feed_of(service)  # polls hourly: only the commit hook can wake it
        feed.subscribe(got)
        try:
            staff = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
            got.wait_for(ChangeKind.STAFF, staff)
        finally:
            feed.stop()
    finally:
        store.close()


def test_sqlite_feed_notices_another_process_by_data_version(sqlite_url, clock):
    """A commit through another engine changes ``PRAGMA data_version`` on the feed's own."""
    mine, theirs = open_store(sqlite_url), open_store(sqlite_url)
    try:
        other = ClinicService(theirs, clock, secret=TEST_SECRET)
        got = Collected()
        feed = open_feed(mine, poll_interval=0.02)
        feed.subscribe(got)
        with feed:
            assert feed.connected.wait(WAIT_S)
            staff = other.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
            got.wait_for(ChangeKind.STAFF, staff)
    finally:
        mine.close()
        theirs.close()


def test_backoff_doubles_up_to_its_limit():
    delays = backoff(0.25, 2.0)
    assert [next(delays) for _ in range(6)] == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


@pytest.mark.postgres
def test_an_announcement_too_long_for_notify_is_read_from_the_trail(pg_url, clock):
    stores = [open_store(pg_url), open_store(pg_url)]
    a, b = (ClinicService(s, clock, secret=TEST_SECRET) for s in stores)
    nurse = a.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    patient = a.add_patient("MRN100200", by=nurse, name="Ada Byrne")
    session_id = a.start_session(patient.id, by=nurse, chair="3")
    got = Collected()
    feed = feed_of(b)
    feed.subscribe(got)
    event_id, now = uuid.uuid4(), clock.now()
    flags = [{"id": uuid.uuid4(), "session_id": session_id, "key": f"k{n}", "measure": "sbp",
              "severity": 2, "time": now, "message": "m", "reading_id": None, "raised_at": now}
             for n in range(80)]  # far more than one save raises: too long for NOTIFY
    try:
        at_rest = feed.statements
        with a.store.write() as db:
            db.execute(insert(FlagRow), flags)
            audit.append(db.connection(), a.guard.audit_key, at=now, staff_id=nurse,
                         action="create", record_kind="event", record_id=event_id,
                         session_id=session_id)
        got.wait_for(ChangeKind.EVENT, event_id)
        for flag in flags:
            got.wait_for(ChangeKind.FLAG, flag["id"])
    finally:
        feed.stop()
        for s in stores:
            s.close()
    assert len(got.keys()) == 81
    assert feed.statements == at_rest + 2  # the changes read from the trail


@pytest.mark.postgres
def test_a_dropped_listener_reconnects_and_catches_up(pg_url, clock):
    stores = [open_store(pg_url), open_store(pg_url)]
    a, b = (ClinicService(s, clock, secret=TEST_SECRET) for s in stores)
    nurse = a.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    patient = a.add_patient("MRN100200", by=nurse, name="Ada Byrne")
    session_id = a.start_session(patient.id, by=nurse, chair="3")
    down, resume = threading.Event(), threading.Event()
    delays: list[float] = []

    def wait(delay: float) -> bool:
        delays.append(delay)
        down.set()
        return not resume.wait(WAIT_S)

    got = Collected()
    feed = open_feed(b.store, tick=0.05, wait=wait)
    feed.subscribe(got)
    admin = create_engine(pg_url)
    try:
        feed.start()
        assert feed.connected.wait(WAIT_S)
        before = a.record_reading(session_id, vitals(), by=nurse).id
        got.wait_for(ChangeKind.READING, before)
        with admin.begin() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"),
                               {"pid": feed.backend_pid})
        assert down.wait(WAIT_S)
        clock.advance(MIN)
        missed = [a.record_reading(session_id, vitals(hr=70 + i), by=nurse).id
                  for i in range(2)]
        resume.set()
        for rid in missed:
            got.wait_for(ChangeKind.READING, rid)
        clock.advance(MIN)
        after = a.record_reading(session_id, vitals(hr=80), by=nurse).id
        got.wait_for(ChangeKind.READING, after)
        down.clear()
        with admin.begin() as connection:  # dropped again: the backoff starts afresh
            connection.execute(text("SELECT pg_terminate_backend(:pid)"),
                               {"pid": feed.backend_pid})
        assert down.wait(WAIT_S)
    finally:
        resume.set()
        feed.stop()
        admin.dispose()
        for s in stores:
            s.close()
    assert got.keys() == [(ChangeKind.READING, r) for r in (before, *missed, after)]
    assert delays == [0.25, 0.25]


@pytest.mark.postgres
def test_a_listener_hears_changes_without_sending_statements(pg_url, clock):
    store = open_store(pg_url)
    try:
        service = ClinicService(store, clock, secret=TEST_SECRET)
        got = Collected()
        feed = feed_of(service, tick=0.01)
        feed.subscribe(got)
        try:
            at_rest = feed.statements
            staff = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
            got.wait_for(ChangeKind.STAFF, staff)
            assert feed.statements == at_rest  # the change came in the notification
        finally:
            feed.stop()
    finally:
        store.close()


def lines_of(stream, readers: list[threading.Thread]) -> queue.Queue[str]:
    """The lines of a child's output, readable with a timeout (a hung child fails the test)."""
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(x) for x in stream], daemon=True)
    reader.start()
    readers.append(reader)
    return lines


def test_watch_prints_one_json_line_per_change_and_stops_on_sigint(db_url, clock):
    store = open_store(db_url)
    service = ClinicService(store, clock, secret=TEST_SECRET)
    nurse = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    patient = service.add_patient("MRN100200", by=nurse, name="Ada Byrne")
    env = {**os.environ, "CHAIRSIDE_DB": db_url}
    watch = subprocess.Popen(
        [sys.executable, "-m", "monitor", "watch", "--json"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    readers: list[threading.Thread] = []
    out, err = lines_of(watch.stdout, readers), lines_of(watch.stderr, readers)
    try:
        ready = err.get(timeout=WAIT_S)
        assert ready.startswith("watching for changes"), ready
        session_id = service.start_session(patient.id, by=nurse, chair="4")
        clock.advance(MIN)
        rid = service.record_reading(session_id, vitals(spo2=90), by=nurse).id
        lines = [json.loads(out.get(timeout=WAIT_S)) for _ in range(3)]
        watch.send_signal(signal.SIGINT)
        watch.wait(timeout=WAIT_S)
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()
        for reader in readers:
            reader.join(WAIT_S)
        watch.stdout.close()
        watch.stderr.close()
        store.close()
    assert watch.returncode == 0, list(err.queue)
    assert out.empty()
    assert [line["kind"] for line in lines] == ["session", "reading", "flag"]
    assert {tuple(sorted(line)) for line in lines} == {
        ("by", "chair", "kind", "record_id", "session_id", "severity", "time")}
    assert lines[1]["record_id"] == str(rid)
    assert lines[1]["session_id"] == str(session_id)
    assert lines[1]["chair"] == "4"
    assert lines[2]["severity"] in ("advisory", "warning", "critical")


def test_watch_text_line_names_each_field():
    session_id, flag_id, nurse = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    change = Change(9, ChangeKind.FLAG, session_id, flag_id, "2",
                    datetime(2026, 3, 2, 10, 0, tzinfo=UTC), nurse, "warning")
    assert line(change, as_json=False).split("\t") == [
        "2026-03-02T10:00:00+00:00", "flag", "chair 2", f"session {session_id}",
        f"record {flag_id}", f"by {nurse}", "warning"]
    staff = Change(10, ChangeKind.STAFF, None, nurse, None, change.time, None)
    assert line(staff, as_json=False).split("\t")[2:] == [
        "chair -", "session -", f"record {nurse}", "by -"]
