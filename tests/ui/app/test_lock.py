"""Auto-lock: after the idle time (injected clock, no sleeping), a lock screen that hides every
patient detail but still says which chair has a reading due; the screens beneath survive,
and whoever signs in at the lock continues under their own name."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel

from monitor.clinical.domain import EventKind
from monitor.clinical.validation import FieldError
from tests.conftest import TEST_PIN
from tests.ui.background import settle
from tests.ui.touch import small_touch_targets
from ui.app.main_window import MainWindow

IDLE_S = 600
PATIENT_NAME, MRN = "Ada Byrne", "MRN-004211"


def click(qtbot, widget):
    """Tap ``widget`` once what the window reads is shown, and wait for what the tap asks."""
    settle(qtbot)
    assert widget.isVisible(), widget
    assert widget.isEnabled(), widget
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
    settle(qtbot)


def start_session(service, nurse, chair="2", mrn=MRN, name=PATIENT_NAME):
    patient = service.add_patient(mrn, by=nurse, name=name, date_of_birth=date(1980, 4, 2),
                                  weight_kg=70)
    session_id = service.start_session(patient.id, by=nurse, chair=chair, escort_name="Sam")
    service.record_reading(session_id, {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98"},
                           by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    return session_id


@pytest.fixture
def clinician(service):
    return service.ensure_staff("Dr Lee", "clinician", pin="739104")


@pytest.fixture
def window(qtbot, service, clock, nurse, clinician, window_worker):
    shown = MainWindow(service, clock, staff=(nurse, "Nora Nurse"), tick_ms=3_600_000,
                       idle_lock_s=IDLE_S, worker=window_worker)
    qtbot.addWidget(shown)
    shown.resize(1280, 800)
    shown.show()
    qtbot.waitExposed(shown)
    settle(qtbot)
    return shown


def unlock(qtbot, window, staff_id, pin):
    screen = window.lock_screen.login
    click(qtbot, screen.name_buttons[staff_id])
    for digit in pin:
        click(qtbot, screen.entry.keypad.button(digit))
    click(qtbot, screen.sign_in)


def visible_texts(window):
    texts = [w.text() for w in window.findChildren(QLabel) if w.isVisible()]
    texts += [w.text() for w in window.findChildren(QAbstractButton) if w.isVisible()]
    return texts


def test_the_window_locks_after_the_idle_time_and_not_before(qtbot, window, clock):
    clock.advance(IDLE_S - 1)
    window.tick()
    settle(qtbot)
    assert not window.locked
    assert window.stack.currentWidget() is window.overview
    clock.advance(1)
    window.tick()
    settle(qtbot)
    assert window.locked
    assert window.stack.currentWidget() is window.lock_screen


def test_input_restarts_the_idle_time(qtbot, window, clock):
    clock.advance(IDLE_S - 100)
    qtbot.mouseClick(window.overview.heading, Qt.MouseButton.LeftButton)
    clock.advance(IDLE_S - 1)
    window.tick()
    settle(qtbot)
    assert not window.locked
    qtbot.keyClick(window.overview, Qt.Key.Key_Shift)
    clock.advance(IDLE_S - 1)
    window.tick()
    settle(qtbot)
    assert not window.locked
    clock.advance(1)
    window.tick()
    settle(qtbot)
    assert window.locked


def test_the_lock_is_recorded_in_the_audit_trail(qtbot, window, service, clock, clinician):
    clock.advance(IDLE_S)
    window.tick()
    settle(qtbot)
    entries = service.audit_entries(by=clinician, action="screen_lock")
    assert [e.staff_name for e in entries] == ["Nora Nurse"]


def test_the_lock_screen_shows_due_chairs_without_any_patient_text(
        qtbot, window, service, clock, nurse):
    start_session(service, nurse, chair="2")
    start_session(service, nurse, chair="3", mrn="MRN-007730", name="Ben Okafor")
    window.open_chair("2")
    settle(qtbot)
    window.lock("manual")
    settle(qtbot)
    texts = visible_texts(window)
    for secret in (PATIENT_NAME, MRN, "Ben Okafor", "MRN-007730", "128/78", "AB", "BO"):
        assert not any(secret in text for text in texts), (secret, texts)
    chairs = window.lock_screen.chair_texts()
    assert chairs[0].startswith("Chair 2 — reading due in ")
    assert chairs[1].startswith("Chair 3 — reading due in ")
    clock.advance(timedelta(minutes=30))
    window.tick()
    settle(qtbot)
    assert window.lock_screen.chair_texts()[0].startswith("Chair 2 — reading OVERDUE ")
    texts = visible_texts(window)
    assert not any(PATIENT_NAME in text or MRN in text for text in texts)


def test_an_unsaved_entry_survives_lock_and_unlock(qtbot, window, service, clock, nurse):
    start_session(service, nurse, chair="2")
    window.open_chair("2")
    settle(qtbot)
    session = window.current_session()
    click(qtbot, session.vitals.field("hr"))
    for digit in "77":
        click(qtbot, session.vitals.keypad.button(digit))
    clock.advance(IDLE_S)
    window.tick()
    settle(qtbot)
    assert window.locked
    assert not session.isVisible()
    unlock(qtbot, window, nurse, TEST_PIN)
    assert not window.locked
    assert window.current_session() is session
    assert session.vitals.raw()["hr"] == "77"


def test_a_colleague_signing_in_at_the_lock_records_the_next_reading(
        qtbot, window, service, clock, nurse, clinician):
    session_id = start_session(service, nurse, chair="2")
    window.open_chair("2")
    settle(qtbot)
    session = window.current_session()
    session.presenter.save_reading({"hr": "74"})
    settle(qtbot)
    assert session.presenter.can_undo()
    window.lock("manual")
    settle(qtbot)
    unlock(qtbot, window, clinician, "739104")
    assert not session.presenter.can_undo(), "the nurse's entry is not the colleague's to undo"
    assert window.staff_name == "Dr Lee"
    assert window.staff_role == "clinician"
    assert window.current_session() is session
    clock.advance(timedelta(minutes=5))
    with qtbot.waitSignal(session.presenter.saved):
        session.presenter.save_reading({"sbp": "130", "dbp": "80", "hr": "70", "spo2": "98"})
    assert service.load(session_id).record.readings[-1].by == "Dr Lee"


def test_a_refusal_in_the_header_goes_after_two_minutes(qtbot, window, service, clock, nurse):
    start_session(service, nurse, chair="2")
    window.open_chair("2")
    settle(qtbot)
    session = window.current_session()
    session.presenter.refused.emit([FieldError("role", "Only a clinician may override")], [])
    assert "Only a clinician may override" in session.header.notice_text()
    clock.advance(timedelta(seconds=119))
    window.tick()
    settle(qtbot)
    assert "Only a clinician may override" in session.header.notice_text()
    clock.advance(timedelta(seconds=1))
    window.tick()
    settle(qtbot)
    assert session.header.notice_text() == ""


def test_a_refusal_in_the_header_is_not_shown_after_lock_and_unlock(
        qtbot, window, service, clock, nurse):
    start_session(service, nurse, chair="2")
    window.open_chair("2")
    settle(qtbot)
    session = window.current_session()
    session.presenter.refused.emit([FieldError("role", "Only a clinician may override")], [])
    window.lock("manual")
    settle(qtbot)
    unlock(qtbot, window, nurse, TEST_PIN)
    assert window.current_session() is session
    assert session.header.notice_text() == ""


def test_the_override_is_offered_only_to_whoever_may_override(
        qtbot, window, service, clock, nurse, clinician):
    start_session(service, nurse, chair="2")
    window.open_chair("2")
    settle(qtbot)
    session = window.current_session()
    assert session.discharge.override_button.isHidden(), "a nurse may not override"
    window.lock("manual")
    settle(qtbot)
    unlock(qtbot, window, clinician, "739104")
    assert not session.discharge.override_button.isHidden()
    window.lock("manual")
    settle(qtbot)
    unlock(qtbot, window, nurse, TEST_PIN)
    assert session.discharge.override_button.isHidden()


def test_a_wrong_pin_at_the_lock_says_how_many_tries_are_left(qtbot, window, nurse):
    window.lock("manual")
    settle(qtbot)
    unlock(qtbot, window, nurse, "000001")
    assert window.locked
    assert window.lock_screen.login.message.text().startswith("Wrong PIN — 4 tries left")


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
def test_the_lock_screen_has_only_fingertip_targets(qtbot, window, nurse, size):
    window.resize(*size)
    window.lock("manual")
    settle(qtbot)
    click(qtbot, window.lock_screen.login.name_buttons[nurse])
    qtbot.waitUntil(lambda: window.width() == size[0])
    assert small_touch_targets(window.lock_screen) == []
