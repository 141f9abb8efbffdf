"""Turning the tablet: the window takes the new shape at once, whatever screen is open."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from monitor.clinical.domain import EventKind
from ui.app.main_window import MainWindow


@pytest.fixture
def window(qtbot, service, clock, nurse):
    patient = service.add_patient("MRN5100", name="Rhea Turner", by=nurse, weight_kg=70)
    session_id = service.start_session(patient.id, by=nurse, chair="1", escort_name="Sam")
    service.record_reading(session_id, {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98"},
                           by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    shown = MainWindow(service, clock, staff=(nurse, "Nora Nurse"), tick_ms=3_600_000)
    qtbot.addWidget(shown)
    shown.resize(1280, 800)
    shown.show()
    qtbot.waitExposed(shown)
    shown.open_chair("1")
    return shown


def test_turning_a_session_to_portrait_fits_the_portrait_width_at_once(qtbot, window):
    window.resize(800, 1280)
    qtbot.waitUntil(lambda: window.orientation() is Qt.Orientation.Vertical)

    assert window.width() == 800
    assert window.height() == 1280


def test_turning_back_to_landscape_fits_the_landscape_height_at_once(qtbot, window):
    window.resize(800, 1280)
    qtbot.waitUntil(lambda: window.orientation() is Qt.Orientation.Vertical)
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: window.orientation() is Qt.Orientation.Horizontal)

    assert (window.width(), window.height()) == (1280, 800)
