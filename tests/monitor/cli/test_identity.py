"""Command-line writes name who made them, and the trail holds what they wrote (docs/cli.md)."""

from __future__ import annotations

import base64
import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.cli.identity import REQUIRE_STAFF_ENV, host_name, os_account
from monitor.cli.main import main
from monitor.service.auth import KEY_FILE_ENV
from monitor.storage.model import EventRow, ReadingRow
from tests.conftest import TEST_PIN, TEST_SECRET
from tests.monitor.cli.test_main import NORMAL_SESSION, count, write_csv

OS_IDENTITY = f"{os_account()}@{host_name()} (command line)"
READING_COLUMNS = ("sbp", "dbp", "hr", "spo2", "cadss6", "moaas", "nausea")


@pytest.fixture(autouse=True)
def _same_secret() -> None:
    """The command line keys PINs with the secret the test's service uses."""
    Path(os.environ[KEY_FILE_ENV]).write_text(base64.b64encode(TEST_SECRET).decode())


@pytest.fixture
def cli_clock(clock):
    clock.advance(timedelta(hours=2))  # the CSV describes the two hours before
    return clock


def run(argv, clock, capsys, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    status = main(argv, clock=clock)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def import_args(tmp_path, db_url) -> list[str]:
    return ["import", str(write_csv(tmp_path, NORMAL_SESSION)), "--mrn", "MRN000123",
            "--name", "Ada Byrne", "--dob", "1980-04-02", "--weight", "70", "--db", db_url]


def csv_rows() -> list[dict[str, str]]:
    header, *lines = NORMAL_SESSION.strip().splitlines()
    return [dict(zip(header.split(","), line.split(","), strict=True)) for line in lines]


def test_import_without_as_is_attributed_to_the_os_account_and_host(
    service, clinician, db_url, cli_clock, tmp_path, capsys
):
    status, out, err = run(import_args(tmp_path, db_url), cli_clock, capsys)
    assert status == 0, err
    assert f"entered by {OS_IDENTITY}" in out.splitlines()
    (entry,) = service.audit_entries(by=clinician, action="import")
    assert entry.staff_name == OS_IDENTITY
    assert entry.new is not None
    assert (entry.new["os_account"], entry.new["host"]) == (os_account(), host_name())
    assert entry.new["via"] == "command line: import"
    assert (entry.new["readings"], entry.new["events"]) == (7, 4)


def test_the_trail_alone_reconstructs_every_imported_reading_and_event(
    service, clinician, db_url, cli_clock, tmp_path, capsys
):
    status, out, err = run(import_args(tmp_path, db_url), cli_clock, capsys)
    assert status == 0, err
    session_id = out.strip().splitlines()[-1]
    created = [e for e in service.audit_entries(by=clinician, action="create")
               if e.session_id is not None and str(e.session_id) == session_id]
    assert {e.staff_name for e in created} == {OS_IDENTITY}
    readings = sorted((e.new for e in created if e.record_kind == "reading"),
                      key=lambda v: v["time"])
    events = sorted((e.new for e in created if e.record_kind == "event"),
                    key=lambda v: v["time"])
    expected_readings = [
        {c: int(row[c]) for c in READING_COLUMNS}
        for row in csv_rows() if row["sbp"]
    ]
    assert [{c: r[c] for c in READING_COLUMNS} for r in readings] == expected_readings
    assert [(e["kind"], e["detail"]) for e in events] == [
        ("infusion_start", ""), ("infusion_stop", ""),
        ("escort_present", "Partner in waiting room"), ("oriented_steady_gait", ""),
    ]
    # Each entry names the stored row it describes.
    with service.store.read() as db:
        stored = set(db.scalars(select(ReadingRow.id))) | set(db.scalars(select(EventRow.id)))
    assert {e.record_id for e in created if e.record_kind in ("reading", "event")} == stored
    (patient,) = [e for e in service.audit_entries(by=clinician, action="create")
                  if e.record_kind == "patient"]
    assert patient.new is not None
    assert (patient.new["mrn"], patient.new["name"]) == ("MRN000123", "Ada Byrne")


def test_import_as_a_nurse_reads_her_pin_and_enters_every_row_as_her(
    service, nurse, clinician, db_url, cli_clock, tmp_path, capsys, monkeypatch
):
    status, out, err = run([*import_args(tmp_path, db_url), "--as", "Nora Nurse"],
                           cli_clock, capsys, stdin=f"{TEST_PIN}\n", monkeypatch=monkeypatch)
    assert status == 0, err
    assert "entered by Nora Nurse" in out.splitlines()
    with service.store.read() as db:
        assert set(db.scalars(select(ReadingRow.entered_by))) == {nurse}
        assert set(db.scalars(select(EventRow.entered_by))) == {nurse}
    (login,) = service.audit_entries(by=clinician, action="login")
    assert login.staff_id == nurse
    (entry,) = service.audit_entries(by=clinician, action="import")
    assert entry.staff_id == nurse
    assert entry.new is not None
    assert entry.new["os_account"] == os_account()


def test_import_as_with_a_wrong_pin_imports_nothing(
    service, nurse, db_url, cli_clock, tmp_path, capsys, monkeypatch
):
    status, _out, err = run([*import_args(tmp_path, db_url), "--as", "Nora Nurse"],
                           cli_clock, capsys, stdin="999999\n", monkeypatch=monkeypatch)
    assert status == 2
    assert "--as: Wrong PIN" in err
    assert "nothing was stored" in err
    assert count(db_url, ReadingRow) == 0


def test_import_as_someone_unknown_is_refused(db_url, cli_clock, tmp_path, capsys, monkeypatch):
    status, _, err = run([*import_args(tmp_path, db_url), "--as", "Nobody"],
                         cli_clock, capsys, stdin=f"{TEST_PIN}\n", monkeypatch=monkeypatch)
    assert status == 2
    assert err.startswith("--as: no single staff member named 'Nobody'")
    assert count(db_url, ReadingRow) == 0


def test_the_clinic_setting_requires_as_for_every_write(
    sqlite_url, cli_clock, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv(REQUIRE_STAFF_ENV, "1")
    status, _, err = run(import_args(tmp_path, sqlite_url), cli_clock, capsys)
    assert status == 2
    assert err.startswith("--as NAME: this clinic requires")
    assert REQUIRE_STAFF_ENV in err
    assert count(sqlite_url, ReadingRow) == 0
    status, _, err = run(["demo-data", "--sessions", "1", "--db", sqlite_url], cli_clock, capsys)
    assert status == 2
    assert err.startswith("--as NAME")


def test_demo_data_is_audited_with_what_regenerates_it(
    service, clinician, db_url, cli_clock, capsys
):
    status, out, err = run(["demo-data", "--sessions", "2", "--seed", "7", "--db", db_url],
                           cli_clock, capsys)
    assert status == 0, err
    assert f"entered by {OS_IDENTITY}" in out.splitlines()
    (entry,) = service.audit_entries(by=clinician, action="demo_data")
    assert entry.staff_name == OS_IDENTITY
    assert entry.new is not None
    assert (entry.new["seed"], entry.new["sessions"]) == (7, 2)
    assert entry.new["clock_now"] == cli_clock.now().isoformat()
    pin_resets = service.audit_entries(by=clinician, action="pin_reset")
    assert pin_resets
    assert {e.staff_name for e in pin_resets} == {OS_IDENTITY}


def test_import_as_an_admin_is_refused_naming_who_can(
    service, db_url, cli_clock, tmp_path, capsys, monkeypatch
):
    service.ensure_staff("Adam Admin", "admin", pin=TEST_PIN)
    status, _, err = run([*import_args(tmp_path, db_url), "--as", "Adam Admin"],
                         cli_clock, capsys, stdin=f"{TEST_PIN}\n", monkeypatch=monkeypatch)
    assert status == 2
    assert err.startswith("--as: An admin cannot import sessions; a nurse or a clinician can.")
    assert count(db_url, ReadingRow) == 0


def test_export_as_a_nurse_is_audited_as_her(
    service, nurse, clinician, db_url, cli_clock, tmp_path, capsys, monkeypatch
):
    status, out, err = run(import_args(tmp_path, db_url), cli_clock, capsys)
    assert status == 0, err
    session_id = out.strip().splitlines()[-1]
    target = tmp_path / "out.csv"
    status, out, err = run(["export", session_id, "--format", "csv", "-o", str(target),
                            "--as", "Nora Nurse", "--db", db_url],
                           cli_clock, capsys, stdin=f"{TEST_PIN}\n", monkeypatch=monkeypatch)
    assert status == 0, err
    assert out.splitlines()[0].endswith(f"to {target}")
    (entry,) = service.audit_entries(by=clinician, action="export")
    assert entry.staff_id == nurse


@pytest.mark.parametrize("stdin", ["", "\n"], ids=["end-of-input", "empty-line"])
def test_export_as_with_no_pin_given_is_refused_without_counting_a_wrong_pin(
    service, nurse, db_url, cli_clock, tmp_path, capsys, monkeypatch, stdin
):
    status, out, err = run(import_args(tmp_path, db_url), cli_clock, capsys)
    assert status == 0, err
    session_id = out.strip().splitlines()[-1]
    for _ in range(6):  # more than the wrong PINs that lock an account
        status, _out, err = run(["export", session_id, "--format", "csv",
                                 "-o", str(tmp_path / "out.csv"), "--as", "Nora Nurse",
                                 "--db", db_url],
                                cli_clock, capsys, stdin=stdin, monkeypatch=monkeypatch)
        assert status == 2
        assert "no PIN given" in err
        assert "tries left" not in err
    assert not (tmp_path / "out.csv").exists()
    (person,) = [p for p in service.staff_list() if p.id == nurse]
    assert person.locked_until is None
    assert service.login(nurse, TEST_PIN).name == "Nora Nurse"
