"""A session is judged by the protocol version it ran under, whatever the file says later.

The clinic edits ``iv_ketamine.toml`` (the blood-pressure warning lowered by 10 mmHg) while
a session recorded before the edit is in the database: its ``show --json``, its review
replay, its course row, its exports and ``check`` stay as they were, and a session started
after the edit is judged by the new version. Stored versions never change.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError

from monitor.cli.main import main, view_to_json
from monitor.clinical.domain import EventKind, Measure, Severity
from monitor.clinical.protocol import (
    PROTOCOL_DIR,
    ProtocolError,
    load_protocol,
    load_protocol_text,
)
from monitor.exports.batch import export_text
from monitor.exports.report import build_report
from monitor.exports.report_blocks import report_text
from monitor.service.clinic import ClinicService
from monitor.storage import protocol_store
from monitor.storage.integrity import check_database
from monitor.storage.model import Patient
from monitor.storage.protocol_store import resolved_toml
from tests.conftest import TEST_PIN, TEST_SECRET

MIN = timedelta(minutes=1)


@pytest.fixture
def protocols(tmp_path, monkeypatch) -> Path:
    """A copy of the shipped protocols the test may edit; the command line reads it too."""
    directory = tmp_path / "protocols"
    shutil.copytree(PROTOCOL_DIR, directory)
    monkeypatch.setattr("monitor.clinical.protocol.PROTOCOL_DIR", directory)
    return directory

#: The version the factory protocol file declares.
CURRENT_VERSION = load_protocol("iv_ketamine").version


def sbp_warning(directory: Path) -> int:
    return int(load_protocol("iv_ketamine", directory).bp.high_warning_sbp_at_or_above)


def lower_sbp_warning(directory: Path, by: int = 10) -> int:
    """Edit the file in place as a clinic would; the new limit."""
    path = directory / "iv_ketamine.toml"
    new = sbp_warning(directory) - by
    edited, count = re.subn(r"^(high_warning_sbp_at_or_above = \{ value = )\d+",
                            rf"\g<1>{new}", path.read_text(encoding="utf-8"), flags=re.M)
    assert count == 1
    path.write_text(edited, encoding="utf-8")
    assert sbp_warning(directory) == new
    return new


def new_service(store, clock, directory: Path) -> ClinicService:
    """A service as a freshly started app (or command) would build it."""
    return ClinicService(store, clock, secret=TEST_SECRET, protocol_dir=directory)


def session_with_raised_bp(service: ClinicService, nurse: uuid.UUID, patient_id: uuid.UUID,
                           clock, sbp: int) -> uuid.UUID:
    """Baseline, infusion start and a reading of ``sbp``/92 ten minutes later."""
    session_id = service.start_session(patient_id, by=nurse, chair="1", escort_name="Sam")
    service.record_reading(session_id, {"sbp": "124", "dbp": "78", "hr": "72", "spo2": "98",
                                        "moaas": "5", "cadss6": "0"}, by=nurse)
    clock.advance(MIN)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(10 * MIN)
    service.record_reading(session_id, {"sbp": str(sbp), "dbp": "92", "hr": "80",
                                        "spo2": "97"}, by=nurse)
    clock.advance(MIN)
    return session_id


def bp_warnings(view) -> list:
    return [f for f in view.flags if f.measure is Measure.BP and f.severity is Severity.WARNING]


def test_resolved_text_loads_back_to_the_same_protocol():
    for name in ("iv_ketamine", "esketamine_rems"):
        protocol = load_protocol(name)
        content = resolved_toml(protocol)
        again = load_protocol_text(content, "stored")
        assert resolved_toml(again) == content
        assert [(p.field, p.value, p.unit, p.source) for p in again.parameters] == \
               [(p.field, p.value, p.unit, p.source) for p in protocol.parameters]
        assert again.medications == protocol.medications
        assert (again.id, again.name, again.version) == (protocol.id, protocol.name,
                                                         protocol.version)
    # The profile's inherited parameters are written out: the text needs no other file.
    rems = resolved_toml(load_protocol("esketamine_rems"))
    assert "extends" not in rems.split("[baseline_bp]")[0].split("#", 2)[-1]
    assert "high_warning_sbp_at_or_above" in rems


def test_a_stored_text_that_extends_another_is_refused():
    protocol = load_protocol("iv_ketamine")
    line = f'version = "{protocol.version}"'
    content = resolved_toml(protocol).replace(line, f'{line}\nextends = "other"')
    assert "extends" in content
    with pytest.raises(ProtocolError, match="extends nothing"):
        load_protocol_text(content, "stored")


def test_a_parameter_added_after_a_version_was_stored_comes_from_the_current_file():
    content = resolved_toml(load_protocol("iv_ketamine"))
    without = "\n".join(line for line in content.splitlines()
                        if not line.startswith("overdue_grace_min")) + "\n"
    with pytest.raises(ProtocolError, match="missing parameter"):
        load_protocol_text(without, "stored")
    version = protocol_store.StoredVersion(
        uuid.uuid4(), "iv_ketamine", "1.0", protocol_store.content_hash(without), without,
        datetime(2026, 3, 2, tzinfo=UTC))
    protocol = protocol_store.protocol_of(version)
    assert protocol.parameter("intervals", "overdue_grace_min").origin == "iv_ketamine.toml"
    assert protocol.parameter("bp", "repeat_window_min").origin.startswith("stored protocol")


def test_an_edit_leaves_an_earlier_session_as_it_was_and_judges_a_later_one_by_it(
    store, clock, protocols
):
    service = new_service(store, clock, protocols)
    nurse = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    clinician = service.ensure_staff("Cleo Clinician", "clinician", pin=TEST_PIN)
    old_limit = sbp_warning(protocols)
    between = old_limit - 5
    patient = service.add_patient("MRN300400", by=nurse, name="Ada Byrne",
                                  date_of_birth=date(1980, 4, 2), weight_kg=70.0)
    earlier = session_with_raised_bp(service, nurse, patient.id, clock, between)
    replay_at = clock.now() - MIN

    def seen(svc: ClinicService) -> dict:
        view = svc.load(earlier)
        course = svc.course(patient.id, by=clinician)
        return {
            "show": view_to_json(view),
            "replay": view_to_json(svc.load(earlier, replay_at, entered_only=True)),
            "course": [row for row in course.rows if row.session_id == earlier],
            "csv": export_text(view, "csv"),
            "fhir": export_text(view, "fhir"),
            "report": report_text(build_report(view, generated_at=clock.now(),
                                               chain_head="0" * 64)),
        }

    before = seen(service)
    assert bp_warnings(service.load(earlier)) == []

    new_limit = lower_sbp_warning(protocols)
    assert new_limit < between
    # The app as restarted after the edit, and the one that kept running.
    restarted = new_service(store, clock, protocols)
    assert seen(restarted) == before
    assert seen(service) == before
    assert check_database(store.url).ok

    later = session_with_raised_bp(restarted, nurse, patient.id, clock, between)
    assert [f.message for f in bp_warnings(restarted.load(later))]
    assert bp_warnings(restarted.load(earlier)) == []

    old_info, new_info = restarted.session_info(earlier), restarted.session_info(later)
    assert old_info.protocol_version == new_info.protocol_version == CURRENT_VERSION
    assert old_info.protocol_hash != new_info.protocol_hash
    header = report_text(build_report(restarted.load(earlier), generated_at=clock.now(),
                                      chain_head="0" * 64))
    assert f"protocol version {CURRENT_VERSION} (SHA-256 {old_info.protocol_hash[:12]}…)" in header
    assert restarted.session_protocol(earlier).bp.high_warning_sbp_at_or_above == old_limit
    assert restarted.session_protocol(later).bp.high_warning_sbp_at_or_above == new_limit
    assert check_database(store.url).ok


def test_per_patient_limits_apply_on_top_of_the_session_version(store, clock, protocols):
    service = new_service(store, clock, protocols)
    nurse = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    patient = service.add_patient("MRN300401", by=nurse, weight_kg=70.0)
    with store.write() as db:
        db.get(Patient, patient.id).limit_overrides = {"hr.high_warning_at_or_above": 120}
    session_id = service.start_session(patient.id, by=nurse)
    old_limit = sbp_warning(protocols)
    lower_sbp_warning(protocols)
    with store.write() as db:  # set later, the patient's limits do not re-judge the session
        db.get(Patient, patient.id).limit_overrides = {"hr.high_warning_at_or_above": 125}
    protocol = new_service(store, clock, protocols).session_protocol(session_id)
    assert protocol.hr.high_warning_at_or_above == 120
    assert protocol.bp.high_warning_sbp_at_or_above == old_limit


def test_show_json_names_the_version_and_keeps_an_old_session_as_it_was(
    store, clock, protocols, capsys
):
    service = new_service(store, clock, protocols)
    nurse = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    patient = service.add_patient("MRN300402", by=nurse, weight_kg=70.0)
    earlier = session_with_raised_bp(service, nurse, patient.id, clock,
                                     sbp_warning(protocols) - 5)
    url = store.url.render_as_string(hide_password=False)

    def show(session_id: uuid.UUID) -> dict:
        status = main(["show", str(session_id), "--json", "--db", url], clock=clock)
        out, err = capsys.readouterr()
        assert status == 0, err
        return json.loads(out)

    before = show(earlier)
    stored = protocol_store.version_of(load_protocol("iv_ketamine", protocols), "iv_ketamine",
                                       clock.now())
    assert before["session"]["protocol_version"] == CURRENT_VERSION
    assert before["session"]["protocol_hash"] == stored.hash
    assert not [f for f in before["flags"] if (f["measure"], f["severity"]) == ("bp", "warning")]

    lower_sbp_warning(protocols)
    assert show(earlier) == before
    later = session_with_raised_bp(new_service(store, clock, protocols), nurse, patient.id,
                                   clock, sbp_warning(protocols) + 5)
    after = show(later)
    assert after["session"]["protocol_hash"] not in (None, stored.hash)
    assert [f for f in after["flags"] if (f["measure"], f["severity"]) == ("bp", "warning")]
    status = main(["check", "--db", url], clock=clock)
    assert status == 0, capsys.readouterr()


def test_a_stored_version_cannot_be_changed_or_deleted(store, clock, protocols):
    service = new_service(store, clock, protocols)
    nurse = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    patient = service.add_patient("MRN300403", by=nurse, weight_kg=70.0)
    session_id = service.start_session(patient.id, by=nurse)
    digest = service.session_info(session_id).protocol_hash
    for statement in ("UPDATE protocol_versions SET content = 'x'",
                      "UPDATE protocol_versions SET version = '9.9'",
                      "DELETE FROM protocol_versions"):
        with pytest.raises(DatabaseError, match="a stored protocol version never changes"), \
                store.write() as db:
            db.execute(text(statement))
    with store.read() as db:
        kept = protocol_store.find(db.connection(), digest)
    assert kept is not None
    assert kept.sound


def test_storing_a_version_twice_keeps_one_row_and_its_first_time(store, clock):
    protocol = load_protocol("iv_ketamine")
    first_time = clock.now()
    with store.write() as db:
        first = protocol_store.store(db.connection(), protocol, profile="iv_ketamine",
                                     now=first_time)
    clock.advance(timedelta(days=1))
    with store.write() as db:
        again = protocol_store.store(db.connection(), protocol, profile="iv_ketamine",
                                     now=clock.now())
    assert again == first
    assert first.created_at == first_time
    assert first.id == protocol_store.version_id(first.hash)
    with store.read() as db:
        assert [v.id for v in protocol_store.all_versions(db.connection())] == [first.id]


def test_check_reports_a_version_whose_content_no_longer_matches(sqlite_url, clock, protocols):
    from monitor.storage.store import open_store  # noqa: PLC0415

    store = open_store(sqlite_url)
    try:
        service = new_service(store, clock, protocols)
        nurse = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
        patient = service.add_patient("MRN300404", by=nurse, weight_kg=70.0)
        service.start_session(patient.id, by=nurse)
    finally:
        store.close()
    # Someone with the file and a SQLite shell removes the guard and edits a limit.
    engine = create_engine(sqlite_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TRIGGER protocol_versions_no_update"))
        connection.execute(text(
            "UPDATE protocol_versions SET content = replace(content, 'value = 180', "
            "'value = 190')"))
    engine.dispose()
    result = check_database(sqlite_url)
    assert not result.ok
    assert any("does not match its SHA-256" in p for p in result.problems)


def test_the_audit_trail_names_the_version_a_session_started_under(store, clock, protocols):
    service = new_service(store, clock, protocols)
    nurse = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    clinician = service.ensure_staff("Cleo Clinician", "clinician", pin=TEST_PIN)
    patient = service.add_patient("MRN300405", by=nurse, weight_kg=70.0)
    session_id = service.start_session(patient.id, by=nurse)
    info = service.session_info(session_id)
    [created] = service.audit_entries(by=clinician, action="create", session_id=session_id)
    assert created.new is not None
    assert created.new["protocol_version"] == CURRENT_VERSION
    assert created.new["protocol_version_id"] == str(info.protocol_version_id)
    assert info.protocol_version_id == protocol_store.version_id(info.protocol_hash)
