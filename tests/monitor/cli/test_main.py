"""The ``python -m monitor`` contract (docs/cli.md): import, show, demo-data, check."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from monitor.cli.main import main, view_to_json, view_to_text
from monitor.clinical.domain import EventKind
from monitor.clock import ManualClock
from monitor.storage.model import EventRow, Patient, ReadingRow, TreatmentSession
from monitor.storage.store import open_store
from tests.conftest import TEST_PIN

ROOT = Path(__file__).resolve().parents[3]
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

NORMAL_SESSION = """time,sbp,dbp,hr,spo2,cadss6,moaas,nausea,event,note
2026-03-02T09:00:00+00:00,128,78,72,98,0,5,0,,
2026-03-02T09:02:00+00:00,,,,,,,,infusion_start,
2026-03-02T09:12:00+00:00,134,82,76,97,4,5,0,,
2026-03-02T09:22:00+00:00,140,86,78,97,8,4,1,,
2026-03-02T09:32:00+00:00,143,88,80,97,10,4,1,,
2026-03-02T09:42:00+00:00,144,89,82,97,9,4,1,infusion_stop,
2026-03-02T09:57:00+00:00,136,84,78,98,4,5,0,,
2026-03-02T10:12:00+00:00,130,80,74,98,1,5,0,escort_present,Partner in waiting room
2026-03-02T10:13:00+00:00,,,,,,,,oriented_steady_gait,
"""


@pytest.fixture
def cli_clock() -> ManualClock:
    return ManualClock(START + timedelta(hours=2))


def run(argv: list[str], clock: ManualClock, capsys) -> tuple[int, str, str]:
    status = main(argv, clock=clock)
    out, err = capsys.readouterr()
    return status, out, err


def write_csv(tmp_path: Path, text: str, name: str = "session.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def count(db_url: str, model) -> int:
    store = open_store(db_url)  # a refused import may not even have created the file
    try:
        with store.read() as db:
            return db.execute(select(func.count()).select_from(model)).scalar_one()
    finally:
        store.close()


def import_normal(tmp_path, db_url, cli_clock, capsys) -> str:
    path = write_csv(tmp_path, NORMAL_SESSION)
    status, out, err = run(
        ["import", str(path), "--mrn", "MRN000123", "--name", "Ada Byrne",
         "--dob", "1980-04-02", "--weight", "70", "--db", db_url],
        cli_clock, capsys,
    )
    assert status == 0, err
    return out.strip().splitlines()[-1]


def test_import_prints_the_new_session_id_last_and_stores_every_row(
    tmp_path, db_url, cli_clock, capsys
):
    session_id = import_normal(tmp_path, db_url, cli_clock, capsys)
    assert uuid.UUID(session_id)
    assert count(db_url, ReadingRow) == 7
    assert count(db_url, EventRow) == 4
    assert count(db_url, Patient) == 1


def test_import_computes_the_dose_from_weight(tmp_path, db_url, cli_clock, capsys):
    session_id = import_normal(tmp_path, db_url, cli_clock, capsys)
    engine = create_engine(db_url)
    with engine.connect() as connection:
        dose, rate, pump = connection.execute(
            select(TreatmentSession.dose_mg, TreatmentSession.rate_mg_per_min,
                   TreatmentSession.pump_ml_per_h)
            .where(TreatmentSession.id == uuid.UUID(session_id))
        ).one()
    engine.dispose()
    assert (dose, rate, pump) == (35.0, 0.875, 150.0)


def test_import_refuses_the_whole_file_and_names_every_bad_cell(
    tmp_path, sqlite_url, cli_clock, capsys
):
    text = """Time,HR,SBP,DBP,Event
2026-03-02T09:00:00+00:00,72,128,78,
2026-03-02T09:10:00+00:00,300,130,80,
2026-03-02T09:20:00+00:00,٧٢,130,80,
2026-03-02T09:30:00+00:00,80,120,120,
2026-03-02T09:40:00,80,120,80,
2026-03-02T09:50:00+00:00,80,120,80,dance
2026-03-02T12:00:00+00:00,80,120,80,
"""
    path = write_csv(tmp_path, text)
    status, out, err = run(["import", str(path), "--mrn", "MRN1", "--db", sqlite_url],
                           cli_clock, capsys)
    assert status == 2
    lines = err.strip().splitlines()
    assert lines[0].startswith("row 2, column hr: ")
    assert "20 to 250" in lines[0]
    assert any(line.startswith("row 3, column hr: ") for line in lines)
    assert any(line.startswith("row 4, column dbp: ") for line in lines)
    assert any(line.startswith("row 5, column time: ") for line in lines)
    assert any(line.startswith("row 6, column event: ") for line in lines)
    assert any(line.startswith("row 7, column time: ") and "future" in line for line in lines)
    assert "nothing imported" in lines[-1]
    assert out == ""
    assert count(sqlite_url, ReadingRow) == 0
    assert count(sqlite_url, Patient) == 0


@pytest.mark.parametrize("value", ["٧٢", "７２", "7_2", "+72", "nan", "72.0", "1e2"])
def test_import_accepts_only_ascii_digits(tmp_path, sqlite_url, cli_clock, capsys, value):
    path = write_csv(tmp_path, f"time,hr\n2026-03-02T09:00:00+00:00,{value}\n")
    status, _, err = run(["import", str(path), "--mrn", "MRN1", "--db", sqlite_url],
                         cli_clock, capsys)
    assert status == 2
    assert err.startswith("row 1, column hr: ")


def test_import_needs_confirmation_for_implausible_values(tmp_path, sqlite_url, cli_clock, capsys):
    path = write_csv(tmp_path, "time,sbp,dbp\n2026-03-02T09:00:00+00:00,230,100\n")
    status, _, err = run(["import", str(path), "--mrn", "MRN1", "--db", sqlite_url],
                         cli_clock, capsys)
    assert status == 2
    assert "row 1, column sbp:" in err
    assert "--confirm-implausible" in err
    status, out, _ = run(["import", str(path), "--mrn", "MRN1", "--confirm-implausible",
                          "--db", sqlite_url], cli_clock, capsys)
    assert status == 0
    assert uuid.UUID(out.strip().splitlines()[-1])


def test_import_reports_header_problems(tmp_path, sqlite_url, cli_clock, capsys):
    path = write_csv(tmp_path, "when,hr,colour\n2026-03-02T09:00:00+00:00,72,red\n")
    status, _, err = run(["import", str(path), "--mrn", "MRN1", "--db", sqlite_url],
                         cli_clock, capsys)
    assert status == 2
    assert "header, column when: unknown column" in err
    assert "header, column colour: unknown column" in err
    assert "header, column time: required column is missing" in err


def test_import_refuses_a_stop_before_the_start(tmp_path, sqlite_url, cli_clock, capsys):
    text = ("time,event\n2026-03-02T09:00:00+00:00,infusion_stop\n"
            "2026-03-02T09:10:00+00:00,infusion_start\n")
    status, _, err = run(["import", str(write_csv(tmp_path, text)), "--mrn", "MRN1",
                          "--db", sqlite_url], cli_clock, capsys)
    assert status == 2
    assert "infusion_stop before infusion_start" in err


def test_import_refuses_a_known_mrn_with_another_name(tmp_path, sqlite_url, cli_clock, capsys):
    import_normal(tmp_path, sqlite_url, cli_clock, capsys)
    path = write_csv(tmp_path, NORMAL_SESSION, "again.csv")
    status, _, err = run(["import", str(path), "--mrn", "MRN000123", "--name", "Bob Other",
                          "--db", sqlite_url], cli_clock, capsys)
    assert status == 2
    assert "--name" in err
    assert count(sqlite_url, TreatmentSession) == 1


def test_import_refuses_bad_patient_options(tmp_path, sqlite_url, cli_clock, capsys):
    path = write_csv(tmp_path, NORMAL_SESSION)
    status, _, err = run(["import", str(path), "--mrn", "", "--dob", "2090-01-01",
                          "--weight", "7_0", "--profile", "nope", "--db", sqlite_url],
                         cli_clock, capsys)
    assert status == 2
    for option in ("--mrn:", "--dob:", "--weight:", "--profile:"):
        assert option in err


def test_show_json_has_the_documented_shape(tmp_path, db_url, cli_clock, capsys):
    session_id = import_normal(tmp_path, db_url, cli_clock, capsys)
    status, out, _ = run(["show", session_id, "--json", "--db", db_url], cli_clock, capsys)
    assert status == 0
    doc = json.loads(out)
    assert set(doc) >= {"session", "readings", "flags", "discharge"}
    assert doc["session"]["id"] == session_id
    assert len(doc["readings"]) == 7
    first = doc["readings"][0]
    for key in ("time", "sbp", "dbp", "hr", "spo2", "rr", "cadss6", "moaas"):
        assert key in first
    assert (first["sbp"], first["dbp"], first["hr"]) == (128, 78, 72)
    assert datetime.fromisoformat(first["time"]) == START
    assert set(doc["discharge"]) >= {"ready", "criteria", "would_have_been_ready_at",
                                     "aldrete", "padss"}
    ids = [c["id"] for c in doc["discharge"]["criteria"]]
    assert ids == ["min_observation", "vitals_near_baseline", "spo2", "sedation",
                   "dissociation", "nausea", "orientation_gait", "escort", "flags_acknowledged"]
    for flag in doc["flags"]:
        assert set(flag) >= {"measure", "severity", "time", "message", "acknowledged"}


def test_a_normal_imported_session_raises_no_flag_and_is_ready(
    tmp_path, sqlite_url, cli_clock, capsys
):
    session_id = import_normal(tmp_path, sqlite_url, cli_clock, capsys)
    status, out, _ = run(["show", session_id, "--at", "2026-03-02T10:15:00+00:00", "--json",
                          "--db", sqlite_url], cli_clock, capsys)
    assert status == 0
    doc = json.loads(out)
    assert doc["flags"] == []
    assert doc["discharge"]["ready"] is True, doc["discharge"]["criteria"]


def test_show_at_counts_only_what_happened_up_to_then(tmp_path, sqlite_url, cli_clock, capsys):
    session_id = import_normal(tmp_path, sqlite_url, cli_clock, capsys)
    status, out, _ = run(["show", session_id, "--at", "2026-03-02T09:25:00Z", "--json",
                          "--db", sqlite_url], cli_clock, capsys)
    assert status == 0
    doc = json.loads(out)
    assert [r["sbp"] for r in doc["readings"]] == [128, 134, 140]
    assert doc["session"]["phase"] == "infusing"
    assert doc["discharge"]["ready"] is False
    criteria = {c["id"]: c for c in doc["discharge"]["criteria"]}
    assert criteria["min_observation"]["met"] is False


def test_show_reports_flags_with_their_measure_and_severity(
    tmp_path, sqlite_url, cli_clock, capsys
):
    text = NORMAL_SESSION.replace("143,88,80,97", "186,96,80,97")
    path = write_csv(tmp_path, text)
    status, out, err = run(["import", str(path), "--mrn", "MRN9", "--db", sqlite_url],
                           cli_clock, capsys)
    assert status == 0, err
    session_id = out.strip().splitlines()[-1]
    _, out, _ = run(["show", session_id, "--json", "--db", sqlite_url], cli_clock, capsys)
    flags = json.loads(out)["flags"]
    bp = [f for f in flags if f["measure"] == "bp"]
    assert bp, flags
    assert bp[0]["severity"] == "warning"
    assert datetime.fromisoformat(bp[0]["time"]) == START + timedelta(minutes=32)
    assert bp[0]["acknowledged"] is False


def test_show_lists_the_flag_of_a_voided_reading_with_its_resolution(service, clock, nurse):
    patient = service.add_patient("MRN-V1", by=nurse, name="Val Void", weight_kg=70)
    session_id = service.start_session(patient.id, by=nurse, chair="1", escort_name="Sam")
    service.record_reading(session_id, {"sbp": 128, "dbp": 78, "hr": 72, "spo2": 98}, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(timedelta(minutes=10))
    high = service.record_reading(session_id, {"sbp": 205, "dbp": 122}, by=nurse,
                                  confirmed=("sbp", "dbp")).id
    clock.advance(timedelta(minutes=1))
    service.void(session_id, "reading", high, reason="cuff on the wrong arm", by=nurse,
                 pin=TEST_PIN)
    view = service.load(session_id)
    (flag,) = [f for f in view_to_json(view)["flags"] if f["severity"] == "critical"]
    assert flag["reading_corrected"] is True
    assert flag["message"].startswith("BP 205/122")
    assert flag["resolution"].startswith("reading voided")
    assert flag["resolved_at"] is not None
    assert "BP 205/122" in view_to_text(view)


def test_show_refuses_a_bad_id_and_an_unknown_session(sqlite_url, cli_clock, capsys):
    status, _, err = run(["show", "not-a-uuid", "--json", "--db", sqlite_url], cli_clock, capsys)
    assert status == 2
    assert "SESSION_ID" in err
    status, _, err = run(["show", str(uuid.uuid4()), "--json", "--db", sqlite_url],
                         cli_clock, capsys)
    assert status == 1
    assert "no session" in err


def test_show_refuses_a_time_without_offset(tmp_path, sqlite_url, cli_clock, capsys):
    session_id = import_normal(tmp_path, sqlite_url, cli_clock, capsys)
    status, _, err = run(["show", session_id, "--at", "2026-03-02T09:25:00", "--json",
                          "--db", sqlite_url], cli_clock, capsys)
    assert status == 2
    assert err.startswith("--at: ")


def test_demo_data_then_check(sqlite_url, cli_clock, capsys):
    status, _, err = run(["demo-data", "--sessions", "20", "--seed", "3", "--db", sqlite_url],
                         cli_clock, capsys)
    assert status == 0, err
    assert count(sqlite_url, TreatmentSession) == 20
    status, out, _ = run(["check", "--db", sqlite_url], cli_clock, capsys)
    assert status == 0
    assert out.startswith("ok")


def test_check_fails_on_a_file_that_is_not_a_database(tmp_path, cli_clock, capsys):
    path = tmp_path / "notes.sqlite3"
    path.write_text("shopping list\n" * 200)
    status, _, err = run(["check", "--db", f"sqlite:///{path}"], cli_clock, capsys)
    assert status == 1
    assert "problem:" in err


def test_opening_a_foreign_file_is_a_sentence_not_a_traceback(tmp_path, cli_clock, capsys):
    path = tmp_path / "notes.sqlite3"
    path.write_text("shopping list\n" * 200)
    status, _, err = run(["show", str(uuid.uuid4()), "--json", "--db", f"sqlite:///{path}"],
                         cli_clock, capsys)
    assert status == 3
    assert err.startswith("error: ")
    assert "Traceback" not in err


def test_python_dash_m_monitor_runs_as_documented(tmp_path, sqlite_url):
    # The child uses the real clock, so the session is moved to yesterday.
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    path = write_csv(tmp_path, NORMAL_SESSION.replace("2026-03-02", yesterday))
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "import", str(path), "--mrn", "MRN77", "--db",
         sqlite_url],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    session_id = result.stdout.strip().splitlines()[-1]
    shown = subprocess.run(
        [sys.executable, "-m", "monitor", "show", session_id, "--json", "--db", sqlite_url],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    assert json.loads(shown.stdout)["session"]["id"] == session_id
