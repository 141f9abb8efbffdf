"""Each tablet has a name: its audit entries record it, and the second tablet in a race is
told which tablet was first. Run on SQLite (two stores on one file) and on PostgreSQL."""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.cli.main import main as monitor_main
from monitor.clinical.domain import Flag, Measure, Severity
from monitor.service.auth import KEY_FILE_ENV
from monitor.service.clinic import ClinicService
from monitor.service.conflicts import already_done
from monitor.service.views import AlreadyDoneError
from monitor.storage.audit import TABLET_KEY
from monitor.storage.integrity import check_database
from monitor.storage.model import AuditLog
from monitor.storage.store import open_store
from tests.conftest import TEST_PIN, TEST_SECRET
from tests.monitor.cli.test_main import NORMAL_SESSION, write_csv
from tests.monitor.clinical.test_signing import ready

MIN = timedelta(minutes=1)
PLAN = {"weight_kg": 70, "planned_mg_per_kg": 0.5, "infusion_minutes": 40,
        "bag_volume_ml": 100}


@pytest.fixture
def room1(store, clock) -> ClinicService:
    return ClinicService(store, clock, secret=TEST_SECRET, tablet="Room-1")


@pytest.fixture
def room2(db_url, clock) -> Iterator[ClinicService]:
    """Another tablet: its own connection to the same database."""
    other = open_store(db_url, migrate_schema=False)
    try:
        yield ClinicService(other, clock, secret=TEST_SECRET, tablet="Room-2")
    finally:
        other.close()


@pytest.fixture
def quinn(room1) -> uuid.UUID:
    return room1.ensure_staff("N. Quinn", "clinician", pin=TEST_PIN)


@pytest.fixture
def reyes(room1) -> uuid.UUID:
    return room1.ensure_staff("T. Reyes", "clinician", pin=TEST_PIN)


@pytest.fixture
def session_id(room1, quinn) -> uuid.UUID:
    patient = room1.add_patient("MRN300400", by=quinn, name="Ada Byrne",
                                date_of_birth=date(1980, 4, 2), weight_kg=70.0)
    return room1.start_session(patient.id, by=quinn, chair="2")


def a_flag(session_id: uuid.UUID, clock) -> Flag:
    return Flag(id=uuid.uuid4(), key="overdue", measure=Measure.HR, severity=Severity.WARNING,
                time=clock.now(), message=f"overdue for {session_id}")


def vitals() -> dict[str, str]:
    return {"sbp": "120", "dbp": "80", "hr": "72", "spo2": "98"}


def raw_new(service: ClinicService) -> list[dict | None]:
    with service.store.read() as db:
        return [json.loads(text) if text is not None else None
                for text in db.scalars(select(AuditLog.new).order_by(AuditLog.seq))]


# -- the audit trail ----------------------------------------------------------------------


def test_every_entry_a_tablet_writes_names_it_and_the_chain_verifies(
    room1, room2, service, quinn, session_id, clock, db_url, capsys
):
    before = len(raw_new(room1))
    saved = room2.record_reading(session_id, vitals(), by=quinn)
    room1.acknowledge(session_id, a_flag(session_id, clock), action="Repeated reading", by=quinn)
    service.record_reading(session_id, vitals(), by=quinn)  # a service that names no tablet
    room2.void(session_id, "reading", saved.id, reason="wrong chair", by=quinn)
    room2.login(quinn, TEST_PIN)
    stored = raw_new(room1)[before:]
    assert [(new or {}).get(TABLET_KEY) for new in stored] == [
        "Room-2", "Room-1", None, "Room-2", "Room-2"]
    entries = room1.audit_entries(by=quinn, session_id=session_id)
    assert [e.tablet for e in entries[:4]] == ["Room-2", "", "Room-1", "Room-2"]
    assert all(TABLET_KEY not in (e.new or {}) for e in entries), "shown apart from the values"
    assert room1.verify_audit().ok
    assert room1.verify_audit(room2.audit_head()).ok
    Path(os.environ[KEY_FILE_ENV]).write_text(base64.b64encode(TEST_SECRET).decode())
    assert monitor_main(["audit", "verify", "--db", db_url], clock=clock) == 0
    assert capsys.readouterr().out.startswith("ok: ")
    assert check_database(db_url).ok


def test_a_changed_tablet_name_breaks_the_chain_at_that_entry(room1, quinn, session_id,
                                                              store, clock):
    room1.record_reading(session_id, vitals(), by=quinn)
    with store.read() as db:
        seq, new = db.execute(select(AuditLog.seq, AuditLog.new)
                              .order_by(AuditLog.seq.desc()).limit(1)).one()
    assert '"tablet":"Room-1"' in new
    rows = []
    with store.read() as db:
        for row in db.connection().exec_driver_sql(
                "SELECT seq, at, staff_id, action, record_kind, record_id, session_id, "
                "patient_id, old, new, mac FROM audit_log ORDER BY seq"):
            rows.append(list(row))
    from monitor.storage.audit import _text, _time_text, verify_rows  # noqa: PLC0415

    tampered = [[r[0], _time_text(r[1]), *(_text(v) for v in r[2:3]), r[3], r[4],
                 *(_text(v) for v in r[5:8]), r[8],
                 r[9].replace("Room-1", "Room-9") if r[0] == seq else r[9], r[10]]
                for r in rows]
    result = verify_rows(tampered, room1.guard.audit_key)
    assert result.first_bad == seq


def test_command_line_writes_keep_their_own_naming_and_no_tablet(
    room1, quinn, db_url, clock, tmp_path, capsys
):
    Path(os.environ[KEY_FILE_ENV]).write_text(base64.b64encode(TEST_SECRET).decode())
    clock.advance(timedelta(hours=2))  # the CSV describes the two hours before
    before = len(raw_new(room1))
    status = monitor_main(["import", str(write_csv(tmp_path, NORMAL_SESSION)), "--mrn",
                           "MRN000123", "--name", "Ada Byrne", "--dob", "1980-04-02",
                           "--weight", "70", "--db", db_url], clock=clock)
    assert status == 0, capsys.readouterr().err
    written = raw_new(room1)[before:]
    assert written
    assert all(TABLET_KEY not in (new or {}) for new in written)


# -- the second tablet is told which tablet was first ---------------------------------------


def test_a_second_acknowledgement_names_the_tablet_of_the_first(room1, room2, quinn, reyes,
                                                                 session_id, clock):
    flag = a_flag(session_id, clock)
    room1.acknowledge(session_id, flag, action="Repeated reading", by=quinn)
    at = clock.now()
    clock.advance(MIN)
    with pytest.raises(AlreadyDoneError) as refused:
        room2.acknowledge(session_id, flag, action="Repeated reading", by=reyes)
    assert str(refused.value) == f"Already acknowledged by N. Quinn at {at:%H:%M} on tablet Room-1"


def test_a_second_void_or_amendment_names_the_tablet_of_the_first(room1, room2, quinn, reyes,
                                                                   session_id, clock):
    voided = room1.record_reading(session_id, vitals(), by=quinn)
    room2.void(session_id, "reading", voided.id, reason="wrong chair", by=reyes)
    at = clock.now()
    clock.advance(MIN)
    with pytest.raises(AlreadyDoneError) as refused:
        room1.void(session_id, "reading", voided.id, reason="wrong chair", by=quinn)
    assert str(refused.value) == f"Already corrected by T. Reyes at {at:%H:%M} on tablet Room-2"
    amended = room1.record_reading(session_id, vitals(), by=quinn)
    room1.amend_reading(session_id, amended.id, {**vitals(), "spo2": "97"}, reason="mistyped",
                        by=quinn)
    with pytest.raises(AlreadyDoneError, match="^Already corrected by N. Quinn at "
                                               r"\d\d:\d\d on tablet Room-1$"):
        room2.void(session_id, "reading", amended.id, reason="wrong chair", by=reyes)


def test_a_second_sign_off_names_the_tablet_of_the_first(room1, room2, quinn, reyes, clock):
    patient = room1.add_patient("MRN300500", by=quinn, weight_kg=70.0)
    session = room1.start_session(patient.id, by=quinn, chair="3", escort_name="Sam",
                                  planned_mg_per_kg=0.5, infusion_minutes=40,
                                  bag_volume_ml=100.0)
    ready(room1, session, quinn, clock)
    room2.sign_discharge(session, by=reyes, pin=TEST_PIN)
    at = clock.now()
    with pytest.raises(AlreadyDoneError) as refused:
        room1.sign_discharge(session, by=quinn, pin=TEST_PIN)
    assert str(refused.value) == f"Already discharged by T. Reyes at {at:%H:%M} on tablet Room-2"


def test_a_check_in_on_an_occupied_chair_or_patient_names_the_tablet(room1, room2, quinn,
                                                                     reyes, clock):
    first = room1.add_patient("MRN600001", by=quinn, weight_kg=70.0)
    second = room1.add_patient("MRN600002", by=quinn, weight_kg=70.0)
    room1.check_in(by=quinn, chair="4", patient_id=first.id, **PLAN)
    at = clock.now()
    clock.advance(MIN)
    with pytest.raises(AlreadyDoneError) as chair:
        room2.check_in(by=reyes, chair="4", patient_id=second.id, **PLAN)
    assert str(chair.value) == ("Chair 4 is in a session not yet discharged: Already checked "
                                f"in by N. Quinn at {at:%H:%M} on tablet Room-1")
    with pytest.raises(AlreadyDoneError) as patient:
        room2.check_in(by=reyes, chair="5", patient_id=first.id, **PLAN)
    assert str(patient.value).endswith(f"at {at:%H:%M} on tablet Room-1")


def test_without_a_tablet_on_record_the_message_names_who_and_when_only(
    service, room2, quinn, reyes, session_id, clock
):
    flag = a_flag(session_id, clock)
    service.acknowledge(session_id, flag, action="Repeated reading", by=quinn)
    with pytest.raises(AlreadyDoneError) as refused:
        room2.acknowledge(session_id, flag, action="Repeated reading", by=reyes)
    assert str(refused.value) == f"Already acknowledged by N. Quinn at {clock.now():%H:%M}"


def test_the_time_is_the_tablets_local_time(monkeypatch):
    import time  # noqa: PLC0415
    from datetime import UTC, datetime  # noqa: PLC0415

    monkeypatch.setenv("TZ", "Australia/Adelaide")  # UTC+10:30 in March
    time.tzset()
    try:
        at = datetime(2026, 3, 2, 9, 12, tzinfo=UTC)
        assert already_done("acknowledged", "N. Quinn", at, "Room-2") == \
            "Already acknowledged by N. Quinn at 19:42 on tablet Room-2"
    finally:
        monkeypatch.setenv("TZ", "UTC")
        time.tzset()


# -- the server lists the tablet's connections by its name --------------------------------


@pytest.mark.postgres
def test_the_server_lists_the_tablets_store_and_feed_connections_by_its_name(pg_url):
    from sqlalchemy import create_engine, text  # noqa: PLC0415

    from monitor.storage.changes.feed import open_feed  # noqa: PLC0415

    name = f"Room {uuid.uuid4().hex[:8]}"
    store = open_store(pg_url, application_name=name)
    feed = open_feed(store, application_name=name)
    admin = create_engine(pg_url)
    try:
        feed.start()
        assert feed.connected.wait(10)
        with store.read() as db:
            own = db.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as connection:
            names = dict(connection.execute(text(
                "SELECT pid, application_name FROM pg_stat_activity WHERE pid IN (:a, :b)"),
                {"a": own, "b": feed.backend_pid}).all())
        assert names == {own: name, feed.backend_pid: name}
    finally:
        feed.stop()
        store.close()
        admin.dispose()
