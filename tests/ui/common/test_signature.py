"""The e-signature dialog: name, role, time and meaning shown; the PIN required again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.ui.touch import small_touch_targets
from ui.common.signature import DISCHARGE_MEANING, SignatureDialog, SignatureRequest
from ui.common.style import apply_theme
from ui.common.theme import DIM

AT = datetime(2026, 3, 2, 10, 42, tzinfo=UTC)


def click(qtbot, widget):
    assert widget.isVisible(), widget
    assert widget.isEnabled(), widget
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


@pytest.fixture
def tried():
    return []


@pytest.fixture
def dialog(qtbot, tried):
    def submit(pin):
        tried.append(pin)
        return None if pin == "314159" else "Wrong PIN — 4 tries left before a 15-minute lock."

    shown = SignatureDialog(DIM, SignatureRequest("Sign discharge", DISCHARGE_MEANING, submit),
                            signer="Nora Nurse", role="nurse", at=AT)
    apply_theme(shown, DIM)
    qtbot.addWidget(shown)
    shown.open()
    qtbot.waitExposed(shown)
    return shown


def test_the_dialog_shows_the_printed_name_time_and_meaning(dialog):
    assert dialog.signer.text() == "Nora Nurse · Nurse"
    assert "10:42" in dialog.time.text()
    assert dialog.meaning.text() == DISCHARGE_MEANING


def test_signing_requires_the_pin(qtbot, dialog, tried):
    with qtbot.assertNotEmitted(dialog.signed):
        click(qtbot, dialog.sign_button)
    assert tried == []
    assert dialog.message.text().startswith("PIN:")
    assert dialog.isVisible()


def test_a_wrong_pin_refuses_and_the_dialog_stays_open(qtbot, dialog, tried):
    for digit in "000001":
        click(qtbot, dialog.entry.keypad.button(digit))
    with qtbot.assertNotEmitted(dialog.signed):
        click(qtbot, dialog.sign_button)
    assert tried == ["000001"]
    assert dialog.message.text().startswith("Wrong PIN — 4 tries left")
    assert dialog.pin.text() == ""
    assert dialog.isVisible()


def test_the_right_pin_signs_and_closes(qtbot, dialog, tried):
    for digit in "314159":
        click(qtbot, dialog.entry.keypad.button(digit))
    with qtbot.waitSignal(dialog.signed):
        click(qtbot, dialog.entry.keypad.button("enter"))
    assert tried == ["314159"]
    assert not dialog.isVisible()


def test_the_dialog_has_only_fingertip_targets(dialog):
    assert small_touch_targets(dialog) == []


# -- through the window: the discharge override and a critical acknowledgement -------------


def _window(qtbot, service, clock, staff):
    from ui.app.main_window import MainWindow  # noqa: PLC0415 - only these tests need it

    shown = MainWindow(service, clock, staff=staff, tick_ms=3_600_000)
    qtbot.addWidget(shown)
    shown.resize(1280, 800)
    shown.show()
    qtbot.waitExposed(shown)
    return shown


def _session(service, nurse):
    from datetime import date  # noqa: PLC0415

    from monitor.clinical.domain import EventKind  # noqa: PLC0415

    patient = service.add_patient("MRN-004211", by=nurse, name="Ada Byrne",
                                  date_of_birth=date(1980, 4, 2), weight_kg=70)
    session_id = service.start_session(patient.id, by=nurse, chair="1", escort_name="Sam")
    service.record_reading(session_id, {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98"},
                           by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    return session_id


def _type(qtbot, dialog, pin):
    for digit in pin:
        click(qtbot, dialog.entry.keypad.button(digit))
    click(qtbot, dialog.sign_button)


def test_an_override_asks_for_the_signature_and_a_wrong_pin_records_nothing(
        qtbot, service, clock, nurse):
    from monitor.clinical.domain import Phase  # noqa: PLC0415

    clinician = service.ensure_staff("Dr Lee", "clinician", pin="739104")
    session_id = _session(service, nurse)
    window = _window(qtbot, service, clock, (clinician, "Dr Lee"))
    session = window.show_session("1", session_id)
    session.tabs.setCurrentWidget(session.discharge)
    session.presenter.override_discharge("Clinician reviewed, escort waiting")
    dialog = window.signature_dialog
    assert dialog is not None
    assert dialog.isVisible()
    assert dialog.signer.text() == "Dr Lee · Clinician"
    assert "Clinician reviewed, escort waiting" in dialog.meaning.text()
    _type(qtbot, dialog, "000001")
    assert dialog.isVisible()
    assert dialog.message.text().startswith("Wrong PIN — 4 tries left")
    assert service.load(session_id).phase is not Phase.DISCHARGED
    with qtbot.waitSignal(dialog.signed):
        _type(qtbot, dialog, "739104")
    view = service.load(session_id)
    assert view.phase is Phase.DISCHARGED
    assert [(s.signer_name, s.valid) for s in view.signatures] == [("Dr Lee", True)]
    assert "Signed (discharge override): Dr Lee" in session.discharge.signatures.text()


def test_a_superseded_signature_says_so_on_the_discharge_panel(qtbot, service, clock, nurse):
    from dataclasses import replace  # noqa: PLC0415

    clinician = service.ensure_staff("Dr Lee", "clinician", pin="739104")
    session_id = _session(service, nurse)
    service.override_discharge(session_id, reason="Clinician reviewed, escort waiting",
                               by=clinician, pin="739104")
    window = _window(qtbot, service, clock, (clinician, "Dr Lee"))
    session = window.show_session("1", session_id)
    view = session.presenter.view
    stale = replace(view, signatures=tuple(replace(s, valid=False) for s in view.signatures))
    session.discharge.show_view(stale)
    assert "SUPERSEDED" in session.discharge.signatures.text()


def test_a_void_signature_is_listed_apart_from_the_discharge_sign_off(
        qtbot, service, clock, nurse):
    from dataclasses import replace  # noqa: PLC0415

    clinician = service.ensure_staff("Dr Lee", "clinician", pin="739104")
    session_id = _session(service, nurse)
    service.override_discharge(session_id, reason="Clinician reviewed, escort waiting",
                               by=clinician, pin="739104")
    window = _window(qtbot, service, clock, (clinician, "Dr Lee"))
    session = window.show_session("1", session_id)
    view = session.presenter.view
    (override,) = view.signatures
    void = replace(override, signer_name="Nora Quinn", signer_role="nurse", valid=False,
                   meaning="critical flag closed by voiding its reading")
    session.discharge.show_view(replace(view, signatures=(void, override)))
    lines = session.discharge.signatures.text().splitlines()
    assert lines[0].startswith("Signed (discharge override): Dr Lee")
    assert lines[1] == "Other e-signatures:"
    assert lines[2].startswith("Critical flag closed by voiding its reading: Nora Quinn, nurse")
    assert "SUPERSEDED" not in lines[2]
    assert not any(line.startswith("Signed (critical") for line in lines)


def test_acknowledging_a_critical_flag_needs_the_pin(qtbot, service, clock, nurse):
    from tests.conftest import TEST_PIN  # noqa: PLC0415

    session_id = _session(service, nurse)
    clock.advance(600)
    service.record_reading(session_id, {"sbp": "200", "dbp": "118", "hr": "98"}, by=nurse)
    window = _window(qtbot, service, clock, (nurse, "Nora Nurse"))
    session = window.show_session("1", session_id)
    critical = [f for f in session.presenter.view.open_flags if f.severity.name == "CRITICAL"]
    assert critical
    session.presenter.acknowledge(critical[0], "Informed clinician")
    dialog = window.signature_dialog
    assert dialog is not None
    assert dialog.isVisible()
    assert "Informed clinician" in dialog.meaning.text()
    with qtbot.waitSignal(dialog.signed):
        _type(qtbot, dialog, TEST_PIN)
    assert critical[0].id not in {f.id for f in service.load(session_id).open_flags}


def test_a_hardware_keyboard_types_the_pin(qtbot, dialog, tried):
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    assert QApplication.focusWidget() is dialog.pin
    qtbot.keyClicks(QApplication.focusWidget(), "314159")
    assert dialog.pin.text() == "314159"
    with qtbot.waitSignal(dialog.signed):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert tried == ["314159"]
