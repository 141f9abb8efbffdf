"""The audit trail: one entry per action in the action's transaction, append-only, and an
HMAC chain whose verification catches every edit, deletion, reordering and cut."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import threading
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from monitor.cli import main as cli
from monitor.clinical.domain import EventKind
from monitor.clock import ManualClock
from monitor.service.auth import KEY_FILE_ENV, load_secret
from monitor.service.clinic import ClinicService
from monitor.service.views import InvalidEntryError
from monitor.storage.audit import GENESIS
from monitor.storage.store import open_store
from tests.conftest import TEST_PIN, TEST_SECRET

MIN = timedelta(minutes=1)
VITALS = {"sbp": 128, "dbp": 78, "hr": 72, "spo2": 98}


def _activity(service: ClinicService, nurse, clinician, clock) -> None:
    patient = service.add_patient("MRN300", by=nurse, weight_kg=70.0)
    session_id = service.start_session(patient.id, by=nurse, chair="2")
    for _ in range(6):
        clock.advance(5 * MIN)
        saved = service.record_reading(session_id, VITALS, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    service.amend_reading(session_id, saved.id, {**VITALS, "hr": 74}, reason="typo",
                          by=clinician)
    service.record_export(session_id, "csv", by=nurse)


def test_each_action_is_one_entry_with_who_when_what_and_values(service, nurse, clinician, clock):
    patient = service.add_patient("MRN301", by=nurse, weight_kg=70.0)
    session_id = service.start_session(patient.id, by=nurse, chair="2")
    clock.advance(MIN)
    saved = service.record_reading(session_id, VITALS, by=nurse)
    clock.advance(MIN)
    service.amend_reading(session_id, saved.id, {**VITALS, "hr": 74}, reason="typo",
                          by=clinician)
    entries = service.audit_entries(by=clinician, session_id=session_id)
    assert [(e.action, e.record_kind) for e in entries] == [
        ("amend", "reading"), ("create", "reading"), ("create", "session")]
    amend, create, _ = entries
    assert (amend.staff_id, amend.staff_name, amend.at) == (clinician, "Cleo Clinician",
                                                            clock.now())
    assert (amend.old["hr"], amend.new["hr"], amend.new["reason"]) == (72, 74, "typo")
    assert create.new["sbp"] == 128
    assert create.staff_id == nurse
    assert create.patient_id == patient.id


def test_the_audit_view_filters_by_patient_session_staff_action_and_date(
    service, nurse, clinician, clock
):
    start = clock.now()
    _activity(service, nurse, clinician, clock)
    everything = service.audit_entries(by=clinician)
    session_id = next(e.session_id for e in everything if e.action == "export")
    assert {e.action for e in service.audit_entries(by=clinician, staff_id=clinician)} == {
        "amend", "staff_add"}
    assert len(service.audit_entries(by=clinician, action="create",
                                     session_id=session_id)) == 8
    patient_id = everything[0].patient_id
    assert all(e.patient_id == patient_id
               for e in service.audit_entries(by=clinician, patient_id=patient_id))
    late = service.audit_entries(by=clinician, since=start + 20 * MIN)
    assert late
    assert all(e.at >= start + 20 * MIN for e in late)
    early = service.audit_entries(by=clinician, until=start)
    assert {e.action for e in early} == {"staff_add", "create"}
    assert len(service.audit_entries(by=clinician, limit=3)) == 3


def test_a_refused_action_leaves_no_entry_of_its_own(service, nurse, clinician):
    patient = service.add_patient("MRN302", by=nurse)
    session_id = service.start_session(patient.id, by=nurse)
    before = service.audit_head()
    with pytest.raises(InvalidEntryError):
        service.record_reading(session_id, {"sbp": 400}, by=nurse)
    assert service.audit_head() == before


def test_an_export_is_audited_and_returns_the_new_head(service, nurse, clinician, clock):
    patient = service.add_patient("MRN303", by=nurse)
    session_id = service.start_session(patient.id, by=nurse)
    head = service.record_export(session_id, "pdf", by=nurse)
    assert head == service.audit_head() != GENESIS
    (entry,) = service.audit_entries(by=clinician, action="export")
    assert (entry.session_id, entry.new) == (session_id, {"format": "pdf"})


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET action = 'nothing' WHERE seq = 1",
    "DELETE FROM audit_log WHERE seq = 1",
])
def test_the_database_refuses_to_change_or_delete_an_entry(service, nurse, statement):
    service.record_lock(nurse)
    with pytest.raises(DBAPIError, match="append-only"), service.store.write() as db:
        db.execute(text(statement))
    assert service.verify_audit().ok


def test_the_chain_verifies_and_holds_an_earlier_head(service, nurse, clinician, clock):
    _activity(service, nurse, clinician, clock)
    head = service.audit_head()
    service.record_lock(nurse)
    result = service.verify_audit(head)
    assert result.ok
    assert result.head == service.audit_head()


def test_times_to_the_microsecond_verify_on_both_backends(service, nurse, clock):
    for _ in range(3):
        clock.advance(timedelta(seconds=0.123457))
        service.record_lock(nurse)
    assert service.verify_audit().ok


# -- tampering, directly in the database file, triggers dropped ---------------------------


@pytest.fixture
def trail(sqlite_store, clock, tmp_path):
    """A SQLite file holding an audit trail of 22 entries, and its head."""
    service = ClinicService(sqlite_store, clock, secret=TEST_SECRET)
    nurse = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    clinician = service.ensure_staff("Cleo Clinician", "clinician")
    _activity(service, nurse, clinician, clock)
    for _ in range(8):
        clock.advance(MIN)
        service.record_lock(nurse)
    head = service.audit_head()
    sqlite_store.close()
    path = tmp_path / "chairside.sqlite3"
    with sqlite3.connect(path) as db:
        count = db.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    return path, head, count


def _tampered(trail, tmp_path, name, *statements):
    path, _head, _ = trail
    copy = tmp_path / f"{name}.sqlite3"
    shutil.copy(path, copy)
    db = sqlite3.connect(copy)
    db.execute("DROP TRIGGER audit_log_no_update")
    db.execute("DROP TRIGGER audit_log_no_delete")
    for statement in statements:
        db.execute(*statement) if isinstance(statement, tuple) else db.execute(statement)
    db.commit()
    db.close()
    return copy


def _verify(path, head=None):
    store = open_store(f"sqlite:///{path}")
    try:
        return ClinicService(store, ManualClock(), secret=TEST_SECRET).verify_audit(head)
    finally:
        store.close()


def test_every_edited_entry_is_caught_at_its_sequence_number(trail, tmp_path):
    _, _, count = trail
    for seq in range(1, count + 1):
        copy = _tampered(trail, tmp_path, f"edit{seq}",
                         f"UPDATE audit_log SET new = '{{\"sbp\":90}}' WHERE seq = {seq}")
        assert _verify(copy).first_bad == seq


def test_every_deleted_middle_entry_is_caught(trail, tmp_path):
    _, _, count = trail
    for seq in range(1, count):
        copy = _tampered(trail, tmp_path, f"del{seq}", f"DELETE FROM audit_log WHERE seq = {seq}")
        result = _verify(copy)
        assert result.first_bad == seq
        assert "missing" in result.message


def test_every_swap_of_neighbours_is_caught(trail, tmp_path):
    _, _, count = trail
    for seq in range(1, count):
        copy = _tampered(
            trail, tmp_path, f"swap{seq}",
            f"UPDATE audit_log SET seq = -1 WHERE seq = {seq}",
            f"UPDATE audit_log SET seq = {seq} WHERE seq = {seq + 1}",
            f"UPDATE audit_log SET seq = {seq + 1} WHERE seq = -1",
        )
        assert _verify(copy).first_bad == seq


def test_a_chain_recomputed_without_the_key_is_caught(trail, tmp_path):
    _path, _, _count = trail
    copy = _tampered(trail, tmp_path, "unkeyed",
                     "UPDATE audit_log SET new = '{\"sbp\":90}' WHERE seq = 5")
    db = sqlite3.connect(copy)
    db.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    previous = db.execute("SELECT mac FROM audit_log WHERE seq = 4").fetchone()[0]
    for (seq, content) in db.execute(
            "SELECT seq, coalesce(new, '') || coalesce(old, '') || action FROM audit_log "
            "WHERE seq >= 5 ORDER BY seq").fetchall():
        previous = hashlib.sha256(f"{content}{seq}{previous}".encode()).hexdigest()
        db.execute("UPDATE audit_log SET mac = ? WHERE seq = ?", (previous, seq))
    db.commit()
    db.close()
    assert _verify(copy).first_bad == 5


def test_newest_entries_cut_off_are_caught_given_the_head(trail, tmp_path):
    _, head, count = trail
    for cut in range(1, 4):
        copy = _tampered(trail, tmp_path, f"cut{cut}",
                         f"DELETE FROM audit_log WHERE seq > {count - cut}")
        assert _verify(copy).ok  # without a head, a shorter chain is still a chain
        result = _verify(copy, head)
        assert result.first_bad == count - cut + 1


def test_the_verify_command_exits_non_zero_naming_the_first_bad_entry(
    trail, tmp_path, monkeypatch, capsys
):
    path, head, _ = trail
    key_file = tmp_path / "key"
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    key_file.write_text(__import__("base64").b64encode(TEST_SECRET).decode())
    assert load_secret() == TEST_SECRET
    assert cli.main(["audit", "verify", "--db", f"sqlite:///{path}", "--head", head]) == 0
    assert "ok:" in capsys.readouterr().out
    copy = _tampered(trail, tmp_path, "cli", "UPDATE audit_log SET action = 'x' WHERE seq = 7")
    assert cli.main(["audit", "verify", "--db", f"sqlite:///{copy}"]) == 1
    assert "first bad sequence number: 7" in capsys.readouterr().err


# -- concurrency on PostgreSQL ------------------------------------------------------------


@pytest.mark.postgres
def test_two_tablets_appending_at_once_never_fork_the_chain(pg_url, clock):
    first = ClinicService(open_store(pg_url), clock, secret=TEST_SECRET)
    nurse = first.ensure_staff("Nora Nurse", "nurse")
    second = ClinicService(open_store(pg_url), ManualClock(clock.now()), secret=TEST_SECRET)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def append(service: ClinicService) -> None:
        try:
            start.wait()
            for _ in range(40):
                service.record_lock(nurse)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(s,)) for s in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        result = first.verify_audit()
        assert result.ok, result.message
        assert result.entries == 81
    finally:
        first.store.close()
        second.store.close()
