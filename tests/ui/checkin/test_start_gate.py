"""The start button: it says what the start waits for, asks before starting without a complete
baseline, and PHQ-9 item 9 is acknowledged with clinical findings."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from monitor.clinical.domain import EventKind, Phase
from monitor.storage.model import EventRow
from tests.ui.sessions import host
from ui.common.ask import ConfirmDialog, ReasonDialog
from ui.common.theme import DIM, TOUCH_MIN
from ui.session.flags import AcknowledgeDialog
from ui.session.presenter import SessionPresenter
from ui.session.screen import SessionScreen

dialog_window = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
VITALS = {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98"}
SCORES = {"cadss6": "0", "moaas": "5"}


def checked_in(service, nurse, phq9_items=None):
    return service.check_in(
        by=nurse, chair="2",
        new_patient={"mrn": "MRN-55", "name": "Ida Moss", "date_of_birth": date(1984, 2, 9)},
        weight_kg=70, planned_mg_per_kg=0.5, infusion_minutes=40, bag_volume_ml=100,
        lot_number="L7", concomitant_medications={}, escort_name="Al Moss",
        phq9_items=phq9_items)


def screen_for(qtbot, service, clock, staff, session_id):
    presenter = SessionPresenter(service, clock, session_id, staff)
    screen = SessionScreen(DIM, clock, presenter, ())
    window = host(qtbot, screen, 1280, 800)
    presenter.refresh()
    return screen, window


def test_the_start_button_says_it_waits_for_the_clinician_and_a_tap_does_not_start(
        qtbot, service, clock, nurse):
    session_id = checked_in(service, nurse, (1,) * 9)
    service.record_reading(session_id, {**VITALS, **SCORES}, by=nurse)
    screen, _window = screen_for(qtbot, service, clock, nurse, session_id)
    start = screen.header.controls[EventKind.INFUSION_START]
    assert "waits for clinician: PHQ-9 item 9" in start.text()
    qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    assert service.load(session_id).phase is Phase.BASELINE
    assert "PHQ-9 item 9" in screen.header.notice.text()


@dialog_window
def test_phq9_item9_is_acknowledged_with_clinical_findings(qtbot, service, clock, nurse,
                                                           clinician):
    session_id = checked_in(service, nurse, (1,) * 9)
    screen, _window = screen_for(qtbot, service, clock, clinician, session_id)
    (flag,) = screen.view.open_flags
    dialog = screen.flags.acknowledge(flag)
    assert isinstance(dialog, AcknowledgeDialog)
    choices = [b.text() for b in dialog.choices.buttons()]
    assert choices == ["Assessed by clinician", "Safety plan in place", "Infusion deferred"]
    qtbot.mouseClick(dialog.choices.buttons()[0], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert screen.view.open_flags == ()
    start = screen.header.controls[EventKind.INFUSION_START]
    assert "waits" not in start.text()


def test_starting_without_a_complete_baseline_asks_naming_what_is_missing(
        qtbot, service, clock, nurse, monkeypatch):
    session_id = checked_in(service, nurse)
    service.record_reading(session_id, VITALS, by=nurse)
    screen, _window = screen_for(qtbot, service, clock, nurse, session_id)
    start = screen.header.controls[EventKind.INFUSION_START]
    assert "no baseline CADSS-6, MOAA/S" in start.text()
    asked: list[tuple[str, ...]] = []
    monkeypatch.setattr(screen, "confirm_start", lambda missing: asked.append(missing) or False)
    qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    assert asked == [("CADSS-6", "MOAA/S")]
    assert service.load(session_id).phase is Phase.BASELINE  # "Go back": not started

    monkeypatch.setattr(screen, "confirm_start", lambda missing: True)
    qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    view = service.load(session_id)
    assert view.phase is Phase.INFUSING
    with service.store.read() as db:
        data = db.get(EventRow, view.record.events[0].id).data
    assert data == {"baseline_missing": "CADSS-6, MOAA/S", "baseline_missing_confirmed": True}


def test_a_complete_baseline_starts_without_asking(qtbot, service, clock, nurse, monkeypatch):
    session_id = checked_in(service, nurse)
    service.record_reading(session_id, {**VITALS, **SCORES}, by=nurse)
    screen, _window = screen_for(qtbot, service, clock, nurse, session_id)
    monkeypatch.setattr(screen, "confirm_start", lambda missing: pytest.fail("asked"))
    start = screen.header.controls[EventKind.INFUSION_START]
    assert start.text() == "▶ Start infusion"
    qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    assert service.load(session_id).phase is Phase.INFUSING


@dialog_window
def test_the_confirmation_is_touch_sized(qtbot):
    dialog = ConfirmDialog(DIM, "Start without a complete baseline?",
                           "No baseline CADSS-6 or MOAA/S recorded. Start the infusion "
                           "without it?", action="Start without it")
    qtbot.addWidget(dialog)
    dialog.show()
    for button in (dialog.keep, dialog.act):
        assert button.height() >= TOUCH_MIN
        assert button.width() >= 3 * TOUCH_MIN
    qtbot.mouseClick(dialog.keep, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Rejected


def test_a_clinician_may_start_with_a_written_reason_a_nurse_is_not_asked(
        qtbot, service, clock, nurse, clinician, monkeypatch):
    session_id = checked_in(service, nurse, (1,) * 9)
    service.record_reading(session_id, {**VITALS, **SCORES}, by=nurse)
    screen, _window = screen_for(qtbot, service, clock, nurse, session_id)
    monkeypatch.setattr(screen, "ask_start_reason", lambda hold: pytest.fail("asked"))
    start = screen.header.controls[EventKind.INFUSION_START]
    qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    assert service.load(session_id).phase is Phase.BASELINE

    screen.presenter.set_staff(clinician)
    monkeypatch.setattr(screen, "ask_start_reason", lambda hold: "")  # cancelled
    qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    assert service.load(session_id).phase is Phase.BASELINE
    monkeypatch.setattr(screen, "ask_start_reason",
                        lambda hold: "Assessed in clinic this morning")
    qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    view = service.load(session_id)
    assert view.phase is Phase.INFUSING
    with service.store.read() as db:
        data = db.get(EventRow, view.record.events[0].id).data
    assert data == {"phq9_item9_override": "Assessed in clinic this morning"}


@dialog_window
def test_the_reason_dialog_needs_a_reason_long_enough(qtbot):
    dialog = ReasonDialog(DIM, "Start although PHQ-9 item 9 waits?", "Why?",
                          action="Start with this reason", min_length=10)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.act.isEnabled()
    dialog.text.setPlainText("Seen today, safety plan on file")
    assert dialog.act.isEnabled()
    assert dialog.act.height() >= TOUCH_MIN


@dialog_window
def test_a_high_baseline_bp_holds_the_start_until_a_clinician_reviews_it(
        qtbot, service, clock, nurse, clinician):
    session_id = checked_in(service, nurse, (0,) * 9)
    service.record_reading(session_id, {"sbp": "165", "dbp": "102", "hr": "80", "spo2": "98",
                                        **SCORES}, by=nurse)
    screen, _window = screen_for(qtbot, service, clock, nurse, session_id)
    start = screen.header.controls[EventKind.INFUSION_START]
    assert "waits for clinician: baseline BP" in start.text()
    qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    assert service.load(session_id).phase is Phase.BASELINE
    assert "baseline BP" in screen.header.notice.text()

    screen.presenter.set_staff(clinician)
    (flag,) = screen.view.open_flags
    dialog = screen.flags.acknowledge(flag)
    choices = [b.text() for b in dialog.choices.buttons()]
    assert choices == ["Reviewed — proceed", "Infusion deferred"]
    qtbot.mouseClick(dialog.choices.buttons()[0], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert screen.view.open_flags == ()
    assert "waits" not in start.text()
    screen.presenter.set_staff(nurse)
    qtbot.mouseClick(start, Qt.MouseButton.LeftButton)
    assert service.load(session_id).phase is Phase.INFUSING
