"""``python -m monitor export`` (docs/cli.md): files, the printed chain head, exit status."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from monitor.cli.identity import host_name, os_account
from monitor.cli.main import main
from monitor.exports.batch import session_csv
from monitor.exports.fhir_codes import MRN_SYSTEM_VARIABLE
from monitor.service.clinic import ClinicService
from tests.conftest import TEST_PIN, TEST_SECRET
from tests.monitor.exported import full_session

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def clinician(service) -> uuid.UUID:
    return service.ensure_staff("Cleo Clinician", "clinician", pin=TEST_PIN)


@pytest.fixture
def session_id(service, nurse, clinician, clock) -> uuid.UUID:
    return full_session(service, nurse, clinician, clock).session_id


def run(argv, clock, capsys):
    status = main(argv, clock=clock)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_csv_export_writes_the_import_format_and_prints_the_audit_chain_head(
    service, session_id, db_url, clock, tmp_path, capsys
):
    target = tmp_path / "session.csv"
    status, out, err = run(["export", str(session_id), "--format", "csv", "-o", str(target),
                            "--db", db_url], clock, capsys)
    assert status == 0, err
    assert target.read_text(encoding="utf-8") == session_csv(service.load(session_id))
    lines = out.splitlines()
    assert lines[0] == f"exported session {session_id} as csv to {target}"
    assert lines[-1] == f"audit chain head: {service.audit_head()}"
    exports = service.audit_entries(by=service.ensure_staff("Cleo Clinician", "clinician"),
                                    action="export", session_id=session_id)
    assert len(exports) == 1
    # Made by the account and host that ran the command.
    assert exports[0].staff_name == f"{os_account()}@{host_name()} (command line)"


def test_fhir_export_writes_a_bundle_that_validates(session_id, db_url, clock, tmp_path, capsys):
    target = tmp_path / "session.fhir.json"
    status, _, err = run(["export", str(session_id), "--format", "fhir", "-o", str(target),
                          "--db", db_url], clock, capsys)
    assert status == 0, err
    bundle = Bundle.model_validate_json(target.read_text(encoding="utf-8"))
    assert bundle.entry[0].resource.identifier[0].value == "MRN777001"


def test_fhir_export_takes_the_clinics_mrn_system(
    session_id, db_url, clock, tmp_path, capsys, monkeypatch
):
    target = tmp_path / "session.fhir.json"
    monkeypatch.setenv(MRN_SYSTEM_VARIABLE, "urn:oid:1.2.840.99999.7")
    argv = ["export", str(session_id), "--format", "fhir", "-o", str(target), "--db", db_url]
    assert run(argv, clock, capsys)[0] == 0
    bundle = Bundle.model_validate_json(target.read_text(encoding="utf-8"))
    assert bundle.entry[0].resource.identifier[0].system == "urn:oid:1.2.840.99999.7"
    status, _, err = run([*argv, "--mrn-system", "https://clinic.test/mrn"], clock, capsys)
    assert status == 0, err
    bundle = Bundle.model_validate_json(target.read_text(encoding="utf-8"))
    assert bundle.entry[0].resource.identifier[0].system == "https://clinic.test/mrn"


@pytest.mark.parametrize(("option", "setting"), [
    (["--mrn-system", "our mrns"], "--mrn-system"),
    ([], MRN_SYSTEM_VARIABLE),
])
def test_an_mrn_system_that_is_not_a_uri_exits_2_naming_the_setting(
    session_id, db_url, clock, tmp_path, capsys, monkeypatch, option, setting
):
    monkeypatch.setenv(MRN_SYSTEM_VARIABLE, "clinic|mrn")
    target = tmp_path / "session.fhir.json"
    status, _, err = run(["export", str(session_id), "--format", "fhir", "-o", str(target),
                          "--db", db_url, *option], clock, capsys)
    assert status == 2
    assert err.startswith(f"{setting}: ")
    assert "absolute URI" in err
    assert not target.exists()


def test_an_unknown_session_exits_1_and_writes_nothing(
    service, db_url, clock, tmp_path, capsys
):
    target = tmp_path / "x.csv"
    missing = uuid.uuid4()
    status, _, err = run(["export", str(missing), "--format", "csv", "-o", str(target),
                          "--db", db_url], clock, capsys)
    assert status == 1
    assert err.strip() == f"no session {missing}"
    assert not target.exists()


@pytest.mark.parametrize(("session", "output", "message"), [
    ("not-a-uuid", "x.csv", "SESSION_ID: 'not-a-uuid' is not a session id (a UUID)"),
    (None, "missing-folder/x.csv", "-o: the folder"),
    (None, ".", "is a folder; name the file to write"),
])
def test_refused_input_exits_2_naming_the_argument(
    session_id, db_url, clock, tmp_path, capsys, session, output, message
):
    target = tmp_path / output
    status, _, err = run(["export", session or str(session_id), "--format", "csv",
                          "-o", str(target), "--db", db_url], clock, capsys)
    assert status == 2
    assert message in err
    assert "Traceback" not in err


def test_a_file_that_is_not_a_database_exits_3(tmp_path, clock, capsys):
    path = tmp_path / "notes.sqlite3"
    path.write_text("shopping list\n" * 200)
    status, _, err = run(["export", str(uuid.uuid4()), "--format", "csv",
                          "-o", str(tmp_path / "x.csv"), "--db", f"sqlite:///{path}"],
                         clock, capsys)
    assert status == 3
    assert err.startswith("error: ")


def test_an_unknown_format_is_refused_by_the_parser(clock, tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["export", str(uuid.uuid4()), "--format", "xls", "-o", str(tmp_path / "x")],
             clock=clock)
    assert exited.value.code == 2
    assert "invalid choice: 'xls'" in capsys.readouterr().err


def test_python_dash_m_monitor_exports_a_pdf(sqlite_store, clock, tmp_path):
    service = ClinicService(sqlite_store, clock, secret=TEST_SECRET)
    nurse = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    clinician = service.ensure_staff("Cleo Clinician", "clinician", pin=TEST_PIN)
    session_id = full_session(service, nurse, clinician, clock).session_id
    target = tmp_path / "report.pdf"
    environment = {k: v for k, v in os.environ.items()
                   if k not in {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"}}
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "export", str(session_id), "--format", "pdf",
         "-o", str(target), "--db", sqlite_store.url.render_as_string(hide_password=False)],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert target.read_bytes().startswith(b"%PDF")
    head = done.stdout.splitlines()[-1].removeprefix("audit chain head: ")
    assert head == service.audit_head()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
