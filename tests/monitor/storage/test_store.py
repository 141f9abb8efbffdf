"""The store keeps every saved entry and says so plainly when it cannot.

What a nurse relies on: a reading shown as saved is on disk and stays there; when the
environment fails (disk full, read-only file, server gone) the save is reported NOT saved
and nothing half-written is left behind; a damaged or foreign file is refused with a
sentence; the schema moves only through Alembic, after a backup; and nothing stored is
ever changed in place. ``check_database`` (``python -m monitor check``) finds what breaks
those rules.
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, StatementError

from monitor.clinical.domain import EventKind
from monitor.clock import ManualClock
from monitor.service.clinic import ClinicService
from monitor.storage.integrity import check_database
from monitor.storage.model import Base, Correction, ReadingRow, Staff
from monitor.storage.store import (
    NotSavedError,
    OutcomeUnknownError,
    Store,
    StoreOpenError,
    StoreUnavailableError,
    current_revision,
    head_revision,
    make_engine,
    migrate,
    open_store,
    sqlite_file,
)
from tests.conftest import TEST_SECRET

NORMAL = {"sbp": 124, "dbp": 78, "hr": 72, "spo2": 98}
UNREACHABLE_PG = "postgresql+psycopg://postgres@127.0.0.1:1/test"


# -- helpers ------------------------------------------------------------------------------


def _path(url: str) -> Path:
    path = sqlite_file(make_url(url))
    assert path is not None
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sqlite_integrity(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as connection:
        return [row[0] for row in connection.execute("PRAGMA integrity_check")]


def _sqlite_reading_ids(path: Path) -> set[uuid.UUID]:
    with closing(sqlite3.connect(path)) as connection:
        return {uuid.UUID(row[0]) for row in connection.execute("SELECT id FROM readings")}


def _stored_reading_ids(store: Store) -> set[uuid.UUID]:
    with store.read() as db:
        return set(db.scalars(select(ReadingRow.id)))


def _open_session(service: ClinicService, nurse: uuid.UUID, mrn: str = "MRN-1") -> uuid.UUID:
    patient = service.add_patient(mrn, by=nurse, name="Pat Example", weight_kg=70.0)
    return service.start_session(patient.id, by=nurse, chair="3")


def _add_staff(store: Store, count: int) -> None:
    """Rows enough to give a file many pages (store-level, no clinical rules involved)."""
    now = datetime.now(UTC)
    with store.write() as db:
        for n in range(count):
            db.add(Staff(id=uuid.uuid4(), name=f"Staff member {n:05d} " + "x" * 80,
                         role="nurse", created_at=now))


def _real_database(url: str, rows: int = 400) -> Path:
    store = open_store(url)
    try:
        _add_staff(store, rows)
    finally:
        store.close()
    return _path(url)


def _limit_pages(engine: Engine, pages: int) -> Callable[[Any, Any], None]:
    """Make every new connection of ``engine`` see a disk with room for ``pages`` pages."""

    def limit(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    event.listen(engine, "connect", limit)
    engine.dispose()  # pooled connections were made before the limit: drop them
    return limit


# -- every SQLite connection is durable ----------------------------------------------


def test_every_pooled_sqlite_connection_uses_wal_full_sync_foreign_keys_and_busy_timeout(
    sqlite_store: Store,
) -> None:
    with ExitStack() as stack:
        # Held at once, so the pool has to make three distinct connections.
        connections = [stack.enter_context(sqlite_store.engine.connect()) for _ in range(3)]
        raw = {id(c.connection.dbapi_connection) for c in connections}
        assert len(raw) == 3
        for connection in connections:
            settings = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
            assert settings["journal_mode"] == "wal"
            assert settings["synchronous"] == 2  # FULL: a commit is on disk when it returns
            assert settings["foreign_keys"] == 1
            assert settings["busy_timeout"] > 0


def test_sqlite_connection_refuses_a_row_pointing_at_nothing(sqlite_store: Store) -> None:
    # foreign_keys=1 is only worth checking if it is enforced on the connection that writes.
    with pytest.raises(IntegrityError, match="FOREIGN KEY"), sqlite_store.write() as db:
        db.add(Correction(
            id=uuid.uuid4(), session_id=uuid.uuid4(), time=datetime.now(UTC),
            target_kind="reading", target_id=uuid.uuid4(), action="void", reason="x",
            recorded_at=datetime.now(UTC), entered_by=uuid.uuid4(),
        ))


# -- damaged and foreign files are refused with a sentence ----------------------------


def _random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(7).randbytes(64 * 1024))


def _pages_overwritten_in_the_middle(path: Path) -> None:
    _real_database(f"sqlite:///{path}")
    page = 4096
    pages = path.stat().st_size // page
    assert pages > 20, "the database must be large enough to have a middle"
    with path.open("r+b") as file:
        file.seek((pages // 2 - 2) * page)
        file.write(random.Random(11).randbytes(4 * page))


def _text_file(path: Path) -> None:
    path.write_text("Patient list\nMRN, name\n1001, Pat Example\n" * 50, encoding="utf-8")


@pytest.mark.parametrize(
    "spoil",
    [_random_bytes, _pages_overwritten_in_the_middle, _text_file],
    ids=["random-bytes", "pages-overwritten", "text-file"],
)
def test_damaged_or_foreign_file_is_refused_with_a_sentence_naming_it(
    tmp_path: Path, spoil: Callable[[Path], None]
) -> None:
    path = tmp_path / "chairside.sqlite3"
    spoil(path)
    before = _digest(path)

    with pytest.raises(StoreOpenError) as info:
        open_store(f"sqlite:///{path}")

    message = str(info.value)
    assert str(path) in message
    assert "\n" not in message
    assert "Traceback" not in message
    assert message.rstrip().endswith((".", ")"))
    assert "damaged" in message or "not a ChairSide database" in message
    # Refusing must leave the evidence as it was: no repair, no migration, no backup.
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chairside.sqlite3"]


# -- disk full ------------------------------------------------------------------------


def test_disk_full_is_not_saved_and_keeps_everything_saved_before(
    sqlite_url: str, clock: ManualClock
) -> None:
    store = open_store(sqlite_url)
    try:
        service = ClinicService(store, clock, secret=TEST_SECRET)
        nurse = service.ensure_staff("Nora Nurse", "nurse")
        session_id = _open_session(service, nurse)
        with store.engine.connect() as connection:
            pages = connection.exec_driver_sql("PRAGMA page_count").scalar()
        limit = _limit_pages(store.engine, pages + 8)

        saved: list[uuid.UUID] = []
        failure: NotSavedError | None = None
        refused_id = uuid.uuid4()
        for _ in range(5000):
            clock.advance(timedelta(seconds=30))
            attempt = uuid.uuid4()
            try:
                service.record_reading(session_id, NORMAL, by=nurse, reading_id=attempt,
                                       note="n" * 200)
            except NotSavedError as exc:
                failure, refused_id = exc, attempt
                break
            saved.append(attempt)
        assert failure is not None, "the page limit never filled up"
        assert failure.reason == "disk-full"
        assert "NOT saved" in failure.message
        assert saved, "some readings must have been saved before the disk filled"

        # Still full: a second attempt is refused the same way, not half-stored.
        with pytest.raises(NotSavedError) as again:
            service.record_reading(session_id, NORMAL, by=nurse, reading_id=refused_id)
        assert again.value.reason == "disk-full"
        assert _stored_reading_ids(store) == set(saved)

        # Space freed: the same store saves again, and the retried reading is stored once.
        event.remove(store.engine, "connect", limit)
        store.engine.dispose()
        service.record_reading(session_id, NORMAL, by=nurse, reading_id=refused_id)
        assert _stored_reading_ids(store) == {*saved, refused_id}
    finally:
        store.close()

    path = _path(sqlite_url)
    assert _sqlite_integrity(path) == ["ok"]
    assert _sqlite_reading_ids(path) == {*saved, refused_id}


# -- read-only ------------------------------------------------------------------------


@contextmanager
def _saved_reading(sqlite_url: str, clock: ManualClock) -> Iterator[tuple[uuid.UUID, uuid.UUID]]:
    """A migrated database holding one session with one reading; yields (session, reading)."""
    store = open_store(sqlite_url)
    try:
        service = ClinicService(store, clock, secret=TEST_SECRET)
        nurse = service.ensure_staff("Nora Nurse", "nurse")
        session_id = _open_session(service, nurse)
        reading = service.record_reading(session_id, NORMAL, by=nurse)
    finally:
        store.close()
    yield session_id, reading.id


def _assert_read_only_save_refused(store: Store, clock: ManualClock, session_id: uuid.UUID,
                                   kept: uuid.UUID) -> None:
    service = ClinicService(store, clock, secret=TEST_SECRET)
    with store.read() as db:
        nurse = db.scalar(select(Staff.id))
    assert nurse is not None
    refused = uuid.uuid4()
    clock.advance(timedelta(minutes=5))
    with pytest.raises(NotSavedError) as info:
        service.record_reading(session_id, NORMAL, by=nurse, reading_id=refused)
    assert info.value.reason == "read-only"
    assert "NOT saved" in info.value.message
    # Reading still works, and shows exactly what was there.
    assert _stored_reading_ids(store) == {kept}
    assert [r.id for r in service.load(session_id).record.readings] == [kept]


def test_read_only_database_refuses_a_save_as_not_saved_and_keeps_the_data(
    sqlite_url: str, clock: ManualClock
) -> None:
    with _saved_reading(sqlite_url, clock) as (session_id, kept):
        path = _path(sqlite_url)
        store = open_store(f"sqlite:///file:{path}?mode=ro&uri=true", migrate_schema=False)
        try:
            _assert_read_only_save_refused(store, clock, session_id, kept)
        finally:
            store.close()
    assert _sqlite_integrity(path) == ["ok"]
    assert _sqlite_reading_ids(path) == {kept}


def test_query_only_connection_refuses_a_save_as_not_saved(
    sqlite_url: str, clock: ManualClock
) -> None:
    with _saved_reading(sqlite_url, clock) as (session_id, kept):
        store = open_store(sqlite_url)
        try:
            event.listen(store.engine, "connect",
                         lambda dbapi, _record: dbapi.execute("PRAGMA query_only = ON"))
            store.engine.dispose()
            _assert_read_only_save_refused(store, clock, session_id, kept)
        finally:
            store.close()
    assert _sqlite_reading_ids(_path(sqlite_url)) == {kept}


def test_a_failed_save_logs_the_reason_but_not_the_patient(
    sqlite_url: str, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    with _saved_reading(sqlite_url, clock):
        store = open_store(sqlite_url)
        try:
            event.listen(store.engine, "connect",
                         lambda dbapi, _record: dbapi.execute("PRAGMA query_only = ON"))
            store.engine.dispose()
            service = ClinicService(store, clock, secret=TEST_SECRET)
            with store.read() as db:
                nurse = db.scalar(select(Staff.id))
            assert nurse is not None
            with pytest.raises(NotSavedError) as info:
                service.add_patient("MRN-424242", by=nurse, name="Zelda Quinn")
        finally:
            store.close()
    assert "Zelda Quinn" not in str(info.value.__cause__)
    assert "write failed" in caplog.text
    assert "readonly" in caplog.text
    assert "Zelda Quinn" not in caplog.text
    assert "MRN-424242" not in caplog.text


def test_file_without_write_permission_refuses_a_save_as_not_saved(
    sqlite_url: str, clock: ManualClock
) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: root writes to a 0444 file anyway, so the file "
                    "permission cannot make the database read-only here (mode=ro and "
                    "query_only are tested instead)")
    with _saved_reading(sqlite_url, clock) as (session_id, kept):
        path = _path(sqlite_url)
        path.chmod(0o444)
        try:
            store = open_store(sqlite_url, migrate_schema=False)
            try:
                _assert_read_only_save_refused(store, clock, session_id, kept)
            finally:
                store.close()
        finally:
            path.chmod(0o644)
    assert _sqlite_reading_ids(path) == {kept}


# -- PostgreSQL unreachable or gone ---------------------------------------------------


def test_unreachable_server_is_reported_quickly_as_unavailable() -> None:
    started = time.monotonic()
    with pytest.raises(StoreUnavailableError) as info:
        open_store(UNREACHABLE_PG)
    assert info.value.reason == "unreachable"
    assert "127.0.0.1" in info.value.message
    assert time.monotonic() - started < 5


def _tagged(pg_url: str) -> tuple[str, str]:
    """``pg_url`` with an application name of its own, so only its backends are ended."""
    name = f"chairside-test-{uuid.uuid4().hex[:12]}"
    tagged = make_url(pg_url).update_query_dict({"application_name": name})
    return tagged.render_as_string(hide_password=False), name


def _terminate(admin: Engine, where: str, value: object) -> int:
    # The timeout makes pg_terminate_backend wait until the backend has really gone.
    with admin.begin() as connection:
        ended = connection.execute(
            text(f"SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                 f"WHERE {where} = :value AND pid <> pg_backend_pid()"),
            {"value": value},
        ).scalars().all()
    return len(ended)


@pytest.fixture
def pg_admin(pg_url: str) -> Iterator[Engine]:
    admin = create_engine(pg_url)
    try:
        yield admin
    finally:
        admin.dispose()


@pytest.mark.postgres
def test_save_after_the_server_dropped_the_connection_is_stored_or_reported(
    pg_url: str, pg_admin: Engine, clock: ManualClock
) -> None:
    url, name = _tagged(pg_url)
    store = open_store(url)
    try:
        service = ClinicService(store, clock, secret=TEST_SECRET)
        nurse = service.ensure_staff("Nora Nurse", "nurse")
        session_id = _open_session(service, nurse)
        first = service.record_reading(session_id, NORMAL, by=nurse).id
        assert _terminate(pg_admin, "application_name", name) >= 1

        clock.advance(timedelta(minutes=5))
        attempt = uuid.uuid4()
        failure: NotSavedError | None = None
        try:
            service.record_reading(session_id, NORMAL, by=nurse, reading_id=attempt)
        except NotSavedError as exc:
            failure = exc
        # The contract the nurse sees: saved and stored, or NOT saved and not stored.
        if failure is None:
            assert _stored_reading_ids(store) == {first, attempt}
        else:
            assert failure.reason == "unreachable"
            assert _stored_reading_ids(store) == {first}
    finally:
        store.close()


@pytest.mark.postgres
def test_connection_lost_before_commit_is_an_unknown_outcome_and_nothing_is_stored(
    pg_url: str, pg_admin: Engine
) -> None:
    """The tablet learns of the lost connection only at COMMIT, when it cannot tell
    whether the server stored the transaction: the outcome is unknown (not "NOT saved"),
    and asking the server again shows nothing was stored."""
    store = open_store(pg_url)
    try:
        staff_id = uuid.uuid4()

        def save_while_the_server_ends_the_connection() -> None:
            with store.write() as db:
                db.add(Staff(id=staff_id, name="Lost", role="nurse",
                             created_at=datetime.now(UTC)))
                db.flush()  # the row is on the server, inside the open transaction
                pid = db.scalar(text("SELECT pg_backend_pid()"))
                assert _terminate(pg_admin, "pid", pid) == 1

        with pytest.raises(OutcomeUnknownError) as info:
            save_while_the_server_ends_the_connection()
        assert info.value.reason == "unreachable"
        # The pool notices the dead connection and the store reads again.
        with store.read() as db:
            assert db.get(Staff, staff_id) is None
    finally:
        store.close()


# -- Alembic --------------------------------------------------------------------------


def test_fresh_database_is_at_the_head_revision(store: Store) -> None:
    assert current_revision(store.engine) == head_revision()
    with store.read() as db:
        tables = set(db.connection().dialect.get_table_names(db.connection()))
    assert {t.name for t in Base.metadata.sorted_tables} <= tables


def _stamp(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


def test_database_from_a_newer_chairside_is_refused_without_a_backup(db_url: str) -> None:
    store = open_store(db_url)
    try:
        _stamp(store.engine, "9999_from_the_future")
    finally:
        store.close()
    path = sqlite_file(make_url(db_url))
    with pytest.raises(StoreOpenError, match="newer ChairSide"):
        open_store(db_url)
    if path is not None:
        assert not list(path.parent.glob("*.bak"))


def test_migrating_a_file_with_tables_but_no_revision_backs_it_up_first(tmp_path: Path) -> None:
    path = tmp_path / "chairside.sqlite3"
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("CREATE TABLE handover (note TEXT)")
        connection.execute("INSERT INTO handover VALUES ('chair 3 bag changed')")
    engine = make_engine(f"sqlite:///{path}")
    try:
        assert current_revision(engine) is None
        backup = migrate(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()

    assert backup is not None
    assert backup.parent == tmp_path
    assert "unversioned" in backup.name
    assert _sqlite_integrity(backup) == ["ok"]
    with closing(sqlite3.connect(backup)) as copy:
        assert copy.execute("SELECT note FROM handover").fetchall() == [("chair 3 bag changed",)]
        tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master")}
    assert "alembic_version" not in tables  # the copy is of the file as it was


def test_chairside_tables_without_a_revision_are_refused_after_a_backup(tmp_path: Path) -> None:
    path = _real_database(f"sqlite:///{tmp_path / 'chairside.sqlite3'}", rows=3)
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("DROP TABLE alembic_version")

    with pytest.raises(StoreOpenError, match="could not be brought up to date") as info:
        open_store(f"sqlite:///{path}")

    backups = list(tmp_path.glob("*.bak"))
    assert len(backups) == 1
    assert str(backups[0]) in str(info.value)
    with closing(sqlite3.connect(backups[0])) as copy:
        assert copy.execute("SELECT count(*) FROM staff").fetchone() == (3,)


def test_current_database_is_not_backed_up_again(sqlite_url: str) -> None:
    _real_database(sqlite_url, rows=1)
    open_store(sqlite_url).close()
    assert not list(_path(sqlite_url).parent.glob("*.bak"))


# -- times ----------------------------------------------------------------------------


def test_times_come_back_aware_utc_and_naive_times_are_refused(store: Store) -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    given = datetime(2026, 3, 2, 14, 45, 12, 345678, tzinfo=india)
    staff_id = uuid.uuid4()
    with store.write() as db:
        db.add(Staff(id=staff_id, name="Aware", role="nurse", created_at=given))

    with store.read() as db:
        back = db.scalar(select(Staff.created_at).where(Staff.id == staff_id))
    assert back == given
    assert back is not None
    assert back.utcoffset() == timedelta(0)
    assert back.tzinfo == UTC

    naive_id = uuid.uuid4()
    with pytest.raises(StatementError) as info, store.write() as db:
        db.add(Staff(id=naive_id, name="Naive", role="nurse",
                     created_at=datetime(2026, 3, 2, 9, 0)))  # noqa: DTZ001 - the point
    assert isinstance(info.value.orig, ValueError)
    assert "naive" in str(info.value.orig)
    with store.read() as db:
        assert db.get(Staff, naive_id) is None


# -- nothing is ever updated ----------------------------------------------------------


def _snapshot(store: Store) -> dict[str, set[tuple[Any, ...]]]:
    """Every row of every table as the driver returns it, before any type conversion."""
    snapshot: dict[str, set[tuple[Any, ...]]] = {}
    with store.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = connection.exec_driver_sql(f'SELECT * FROM "{table.name}"').all()
            snapshot[table.name] = {tuple(repr(v) for v in row) for row in rows}
    return snapshot


def test_corrections_add_rows_and_leave_every_stored_row_identical(
    service: ClinicService, nurse: uuid.UUID, clinician: uuid.UUID, clock: ManualClock
) -> None:
    session_id = _open_session(service, nurse)
    clock.advance(timedelta(minutes=2))
    wrong = service.record_reading(session_id, {"sbp": 184, "dbp": 112, "hr": 90, "spo2": 97},
                                   by=nurse).id
    clock.advance(timedelta(minutes=2))
    typo = service.record_reading(session_id, {"sbp": 128, "dbp": 80, "hr": 77, "spo2": 99},
                                  by=nurse).id
    note = service.record_event(session_id, EventKind.NOTE, by=nurse, detail="wrong chair")
    before = _snapshot(service.store)

    clock.advance(timedelta(minutes=1))
    service.void(session_id, "reading", wrong, reason="cuff on the wrong arm", by=nurse)
    replacement = service.amend_reading(session_id, typo, {"sbp": 128, "dbp": 80, "hr": 72,
                                                           "spo2": 99},
                                        reason="typed 77 for 72", by=clinician)
    service.void(session_id, "event", note, reason="entered for the wrong patient", by=nurse)
    after = _snapshot(service.store)

    for table, rows in before.items():
        assert rows <= after[table], f"a row of {table} was changed or removed"
    assert len(after["corrections"]) == len(before["corrections"]) + 3
    assert len(after["readings"]) == len(before["readings"]) + 1
    assert len(after["events"]) == len(before["events"])

    view = service.load(session_id)
    assert [r.id for r in view.record.readings] == [replacement]
    assert {r.id for r in view.superseded_readings} == {wrong, typo}
    assert not view.record.events
    assert check_database(service.store.url.render_as_string(hide_password=False)).ok


# -- check_database ------------------------------------------------------------------


def _url(store: Store) -> str:
    return store.url.render_as_string(hide_password=False)


def test_check_passes_a_sound_record_without_writing_to_it(
    service: ClinicService, nurse: uuid.UUID, clinician: uuid.UUID, clock: ManualClock
) -> None:
    session_id = _open_session(service, nurse)
    reading = service.record_reading(session_id, NORMAL, by=nurse).id
    clock.advance(timedelta(minutes=1))
    service.amend_reading(session_id, reading, {**NORMAL, "hr": 74}, reason="typo",
                          by=clinician)
    url = _url(service.store)
    path = sqlite_file(service.store.url)
    service.store.close()
    before = _digest(path) if path is not None else None

    result = check_database(url)

    assert result.ok, result.problems
    assert result.problems == []
    assert result.details["revision"] == head_revision()
    assert result.details["rows"]["readings"] == 2
    if path is not None:
        assert _digest(path) == before


def test_check_reports_a_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "chairside.sqlite3"
    _pages_overwritten_in_the_middle(path)
    result = check_database(f"sqlite:///{path}")
    assert not result.ok
    assert any(str(path) in p and "damaged" in p for p in result.problems), result.problems


@pytest.mark.parametrize("spoil", [_text_file, _random_bytes], ids=["text-file", "random"])
def test_check_reports_a_file_that_is_not_a_database(
    tmp_path: Path, spoil: Callable[[Path], None]
) -> None:
    path = tmp_path / "notes.txt"
    spoil(path)
    result = check_database(f"sqlite:///{path}")
    assert not result.ok
    assert result.problems == [f"{path} is not a SQLite database (it may be another kind of file)."]


def test_check_reports_a_missing_file_without_creating_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.sqlite3"
    result = check_database(f"sqlite:///{path}")
    assert not result.ok
    assert result.problems == [f"{path} does not exist."]
    assert not path.exists()


def test_check_reports_an_unreachable_server() -> None:
    result = check_database(UNREACHABLE_PG)
    assert not result.ok
    assert len(result.problems) == 1
    assert "cannot be reached" in result.problems[0]
    assert "127.0.0.1" in result.problems[0]


def test_check_reports_a_schema_from_a_newer_chairside(db_url: str) -> None:
    store = open_store(db_url)
    try:
        _stamp(store.engine, "9999_from_the_future")
    finally:
        store.close()
    result = check_database(db_url)
    assert not result.ok
    assert any("newer ChairSide" in p for p in result.problems), result.problems


def test_check_reports_rows_that_break_the_record_rules(
    service: ClinicService, nurse: uuid.UUID
) -> None:
    """Rows written around the service (raw SQL, another tool) are what the check is for."""
    session_id = _open_session(service, nurse)
    good = service.record_reading(session_id, NORMAL, by=nurse).id
    inverted, out_of_range, orphan, no_replacement = (uuid.uuid4() for _ in range(4))
    now = datetime.now(UTC)
    base = {"session_id": session_id, "time": now, "recorded_at": now, "entered_by": nurse,
            "on_oxygen": False, "note": ""}
    readings, corrections = ReadingRow.__table__, Correction.__table__
    correction = {"session_id": session_id, "time": now, "recorded_at": now,
                  "entered_by": nurse, "target_kind": "reading", "reason": "raw"}
    with service.store.engine.begin() as connection:
        # One statement per row: an executemany would take its columns from the first row.
        connection.execute(readings.insert(), {**base, "id": inverted, "sbp": 80, "dbp": 95})
        connection.execute(readings.insert(),
                           {**base, "id": out_of_range, "sbp": 120, "dbp": 80, "hr": 400})
        connection.execute(corrections.insert(), {
            **correction, "id": orphan, "target_id": uuid.uuid4(), "action": "void",
        })
        connection.execute(corrections.insert(), {
            **correction, "id": no_replacement, "target_id": good, "action": "amend",
            "replacement_id": uuid.uuid4(),
        })

    result = check_database(_url(service.store))

    assert not result.ok
    problems = "\n".join(result.problems)
    assert f"reading {_text_id(service.store, inverted)} has 80/95 mmHg" in problems
    assert "Heart rate 400" in problems
    assert f"correction {_text_id(service.store, orphan)} targets reading" in problems
    assert f"correction {_text_id(service.store, no_replacement)} names replacement" in problems
    assert len(result.problems) == 4, result.problems


def _text_id(store: Store, value: uuid.UUID) -> str:
    """An id as the database spells it in text (hex on SQLite, dashed on PostgreSQL)."""
    return value.hex if store.is_sqlite else str(value)


def test_check_reports_a_flag_whose_reading_is_missing(
    sqlite_url: str, clock: ManualClock
) -> None:
    store = open_store(sqlite_url)
    try:
        service = ClinicService(store, clock, secret=TEST_SECRET)
        session_id = _open_session(service, service.ensure_staff("Nora Nurse", "nurse"))
    finally:
        store.close()
    flag, missing = uuid.uuid4(), uuid.uuid4()
    # Another tool, on a connection without foreign_keys=ON, can leave a reference to nothing.
    with closing(sqlite3.connect(_path(sqlite_url))) as connection, connection:
        connection.execute(
            "INSERT INTO flags (id, session_id, key, measure, severity, time, message, "
            "reading_id, raised_at) VALUES (?, ?, 'sbp_high', 'sbp', 2, "
            "'2026-03-02 09:00:00.000000', 'SBP high', ?, '2026-03-02 09:00:00.000000')",
            (flag.hex, session_id.hex, missing.hex),
        )

    result = check_database(sqlite_url)

    assert not result.ok
    expected = (f"Flag of a missing reading: flag {flag.hex} names reading {missing.hex}, "
                "which does not exist")
    assert expected in result.problems
    assert any("foreign_key_check" in p and "of flags" in p for p in result.problems)


def test_a_statement_cut_short_by_its_timeout_is_busy_not_unreachable(pg_url):
    """A server that answers but cannot do the work in time is not an outage: the nurse is
    told the database is busy, and the tablet does not count the server as gone."""
    from sqlalchemy import text  # noqa: PLC0415

    from monitor.storage.store import NotSavedError, StorageError  # noqa: PLC0415

    def overlong_write() -> None:
        with store.write() as db:
            db.execute(text("SET LOCAL statement_timeout = 50"))
            db.execute(text("SELECT pg_sleep(2)"))

    store = open_store(pg_url)
    try:
        with pytest.raises(StorageError) as caught:
            overlong_write()
    finally:
        store.close()
    assert isinstance(caught.value, NotSavedError)
    assert caught.value.reason == "busy"
    assert "busy" in caught.value.message
