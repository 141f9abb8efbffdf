"""The chair screen judges a session by the protocol version it started under.

The clinic edits ``iv_ketamine.toml`` (a lower blood-pressure warning, one more medication)
and the app restarts: the session already running shows the flags and the medication list
it had, and a session checked in after the edit gets the new ones.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QPushButton

from monitor.clinical.domain import EventKind, Measure, Severity
from monitor.clinical.protocol import PROTOCOL_DIR, load_protocol
from monitor.service.clinic import ClinicService
from tests.conftest import TEST_PIN, TEST_SECRET
from ui.app.main_window import MainWindow

NEW_MEDICATION = "Metoprolol 5 mg IV"


@pytest.fixture
def protocols(tmp_path) -> Path:
    directory = tmp_path / "protocols"
    shutil.copytree(PROTOCOL_DIR, directory)
    return directory


def sbp_warning(directory: Path) -> int:
    return int(load_protocol("iv_ketamine", directory).bp.high_warning_sbp_at_or_above)


def edit_protocol(directory: Path) -> None:
    """Lower the SBP warning by 10 mmHg and add a medication, as a clinic would."""
    path = directory / "iv_ketamine.toml"
    old = sbp_warning(directory)
    edited = path.read_text(encoding="utf-8").replace(
        f"high_warning_sbp_at_or_above = {{ value = {old},",
        f"high_warning_sbp_at_or_above = {{ value = {old - 10},", 1)
    edited += '\n[[medications]]\nname = "Metoprolol"\ndose = "5 mg"\nroute = "IV"\n'
    path.write_text(edited, encoding="utf-8")
    assert sbp_warning(directory) == old - 10


def start(service: ClinicService, nurse, mrn: str, chair: str, clock, sbp: int):
    patient = service.add_patient(mrn, by=nurse, name="Ada Byrne",
                                  date_of_birth=date(1980, 4, 2), weight_kg=70)
    session_id = service.start_session(patient.id, by=nurse, chair=chair, escort_name="Sam")
    service.record_reading(session_id, {"sbp": "124", "dbp": "78", "hr": "72", "spo2": "98"},
                           by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(timedelta(minutes=10))
    service.record_reading(session_id, {"sbp": str(sbp), "dbp": "90", "hr": "80",
                                        "spo2": "97"}, by=nurse)
    return session_id


def bp_warnings(screen) -> list:
    return [f for f in screen.presenter.view.flags
            if f.measure is Measure.BP and f.severity is Severity.WARNING]


def medication_buttons(screen) -> list[str]:
    return [b.text() for b in screen.event_form.findChildren(QPushButton)]


def test_a_running_session_keeps_its_protocol_after_an_edit(
        qtbot, sqlite_store, clock, protocols):
    before = ClinicService(sqlite_store, clock, secret=TEST_SECRET, protocol_dir=protocols)
    nurse = before.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    between = sbp_warning(protocols) - 5
    earlier = start(before, nurse, "MRN-0001", "1", clock, between)

    edit_protocol(protocols)
    service = ClinicService(sqlite_store, clock, secret=TEST_SECRET, protocol_dir=protocols)
    later = start(service, nurse, "MRN-0002", "2", clock, between)
    window = MainWindow(service, clock, staff=(nurse, "Nora Nurse"), tick_ms=3_600_000)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)

    old_screen = window.show_session("1", earlier)
    assert bp_warnings(old_screen) == []
    assert NEW_MEDICATION not in medication_buttons(old_screen)
    new_screen = window.show_session("2", later)
    assert bp_warnings(new_screen)
    assert NEW_MEDICATION in medication_buttons(new_screen)
