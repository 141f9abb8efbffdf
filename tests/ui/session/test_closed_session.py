"""After sign-off the chair is closed and says why; a void that closes a critical flag is
signed; an early stop asks the reason and the dose given; the overview and the course tell
what the session tells."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog

from monitor.clinical.domain import EventKind, Severity
from monitor.clinical.infusion import DOSE_GIVEN_MG, STOP_REASON, EarlyStop, Plan
from monitor.service.board import tile_for
from tests.conftest import TEST_PIN
from tests.ui.session.test_discharge_panel import recovering_session
from tests.ui.sessions import host, patient_session
from tests.ui.touch import small_touch_targets
from ui.common.style import apply_theme
from ui.common.theme import DIM
from ui.overview.screen import ChairTileWidget
from ui.review.course import CourseModel
from ui.session.early_stop import EarlyStopDialog
from ui.session.flags import flag_status
from ui.session.presenter import SessionPresenter
from ui.session.screen import SessionScreen

MIN = timedelta(minutes=1)
SIZES = ((1280, 800), (800, 1280))
#: Set to a directory to keep the renders of these screens (for looking at them).
SHOTS = os.environ.get("CHAIRSIDE_TEST_SHOTS")


def _shot(widget, name: str) -> None:
    if SHOTS:
        QApplication.processEvents()  # the layout settles before the grab
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))


def _screen(qtbot, service, clock, session_id, staff, size):
    presenter = SessionPresenter(service, clock, session_id, staff)
    screen = SessionScreen(DIM, clock, presenter, ())
    screen.set_orientation(Qt.Orientation.Horizontal if size[0] > size[1]
                           else Qt.Orientation.Vertical)
    window = host(qtbot, screen, *size)
    presenter.refresh()
    return presenter, screen, window


def _tab_titles(screen) -> list[str]:
    return [screen.tabs.tabText(i) for i in range(screen.tabs.count())]


@pytest.mark.parametrize("size", SIZES, ids=["landscape", "portrait"])
def test_after_sign_off_the_entry_panel_says_the_session_is_closed_and_why(
    qtbot, qapp, service, clock, nurse, size
):
    apply_theme(qapp, DIM)
    session_id = recovering_session(service, clock, nurse)
    service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
    _presenter, screen, window = _screen(qtbot, service, clock, session_id, nurse, size)
    titles = _tab_titles(screen)
    assert "Closed" in titles
    assert not {"Vitals", "CADSS-6", "MOAA/S", "Comfort", "Event"} & set(titles)
    assert screen.tabs.currentWidget() is screen.closed_panel
    assert screen.closed_panel.title.text() == "Session closed"
    assert screen.closed_panel.why.text().startswith("Discharge signed ")
    assert "by Nora Nurse" in screen.closed_panel.why.text()
    assert small_touch_targets(screen.closed_panel) == []
    _shot(window, f"session-closed-{size[0]}x{size[1]}")
    window.close()


@pytest.mark.parametrize("size", SIZES, ids=["landscape", "portrait"])
def test_a_nurse_sees_entries_after_sign_off_disabled_with_the_reason_beside_the_button(
    qtbot, qapp, service, clock, nurse, size
):
    apply_theme(qapp, DIM)
    session_id = recovering_session(service, clock, nurse)
    service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
    _presenter, screen, window = _screen(qtbot, service, clock, session_id, nurse, size)
    panel = screen.closed_panel
    assert not panel.open_button.isEnabled()
    assert not panel.reason.isEnabled()
    assert panel.clinician_only.isVisible()
    assert panel.clinician_only.text().startswith("Only a clinician can add entries")
    button = panel.open_button.geometry()
    note = panel.clinician_only.geometry()
    assert 0 <= note.top() - button.bottom() <= 24  # right under the button, not far off
    qtbot.mouseClick(panel.open_button, Qt.MouseButton.LeftButton)
    assert "Vitals" not in _tab_titles(screen)
    _shot(window, f"session-closed-nurse-{size[0]}x{size[1]}")
    window.close()


def test_a_clinician_sees_entries_after_sign_off_enabled(qtbot, qapp, service, clock, nurse,
                                                         clinician):
    session_id = recovering_session(service, clock, nurse)
    service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
    _presenter, screen, window = _screen(qtbot, service, clock, session_id, clinician,
                                         SIZES[0])
    assert screen.closed_panel.open_button.isEnabled()
    assert not screen.closed_panel.clinician_only.isVisible()
    window.close()


def test_a_clinician_enters_after_sign_off_with_a_reason_and_the_entry_is_marked(
    qtbot, qapp, service, clock, nurse, clinician
):
    session_id = recovering_session(service, clock, nurse)
    service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
    clock.advance(5 * MIN)
    presenter, screen, window = _screen(qtbot, service, clock, session_id, clinician, SIZES[0])
    screen.closed_panel.reason.setText("Value from the monitor's memory")
    qtbot.mouseClick(screen.closed_panel.open_button, Qt.MouseButton.LeftButton)
    assert "Vitals" in _tab_titles(screen)
    assert presenter.save_reading({"sbp": "150", "dbp": "90"})
    view = service.load(session_id)
    late = view.record.readings[-1]
    assert view.after_signoff(late)
    assert late.note == "Entered after sign-off: Value from the monitor's memory"
    qtbot.mouseClick(screen.closed_panel.end_button, Qt.MouseButton.LeftButton)
    assert "Vitals" not in _tab_titles(screen)
    window.close()


def _critical_spo2(service, clock, nurse):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 130, "dbp": 80, "hr": 70, "spo2": 98}, by=nurse)
    clock.advance(MIN)
    wrong = service.record_reading(session_id, {"spo2": 85}, by=nurse)
    return session_id, wrong.id


def test_voiding_the_reading_behind_a_critical_flag_asks_for_the_signature(
    qtbot, qapp, service, clock, nurse
):
    session_id, reading_id = _critical_spo2(service, clock, nurse)
    presenter = SessionPresenter(service, clock, session_id, nurse)
    presenter.refresh()
    with qtbot.waitSignal(presenter.signatureNeeded) as asked:
        assert not presenter.void("reading", reading_id, "probe slipped off")
    assert service.load(session_id).open_flags  # nothing closed without the PIN
    request = asked.args[0]
    assert "probe slipped off" in request.meaning
    assert request.submit(TEST_PIN) is None
    view = service.load(session_id)
    assert view.open_flags == ()
    (closed,) = view.superseded_flags
    assert flag_status(closed).startswith("reading voided ")
    assert flag_status(closed).endswith("(signed by Nora Nurse): probe slipped off")


@pytest.mark.parametrize("size", SIZES, ids=["landscape", "portrait"])
def test_the_flags_panel_shows_the_voids_reason(qtbot, qapp, service, clock, nurse, size):
    apply_theme(qapp, DIM)
    session_id, reading_id = _critical_spo2(service, clock, nurse)
    clock.advance(MIN)
    service.void(session_id, "reading", reading_id, reason="probe slipped off", by=nurse,
                 pin=TEST_PIN)
    _presenter, screen, window = _screen(qtbot, service, clock, session_id, nurse, size)
    if screen.tabs.indexOf(screen.flags) >= 0:
        screen.tabs.setCurrentWidget(screen.flags)
    texts = [screen.flags.model.index(row, screen.flags.model.STATUS).data()
             for row in range(screen.flags.model.rowCount())]
    assert any("probe slipped off" in text for text in texts)
    assert screen.flags.summary.text() == "Flags: none open"  # the closed one is listed
    _shot(window, f"flags-void-{size[0]}x{size[1]}")
    window.close()


STOP = EarlyStop(13.2, Plan(minutes=40, dose_mg=35.0, bag_volume_ml=100.0))


@pytest.mark.parametrize("size", SIZES, ids=["landscape", "portrait"])
def test_the_early_stop_dialog_refuses_a_dose_above_the_plan_naming_the_range(
    qtbot, qapp, size
):
    apply_theme(qapp, DIM)
    dialog = EarlyStopDialog(DIM, STOP)
    qtbot.addWidget(dialog)
    dialog.resize(*((760, 760) if size[0] > size[1] else (760, 1100)))
    dialog.show()
    qtbot.waitExposed(dialog)
    assert "13 of 40 min" in dialog.findChildren(type(dialog.message))[0].text()
    dialog.choose_reason(0, "nausea")
    dialog.set_given("40")
    dialog.accept()
    assert dialog.isVisible()
    assert "Dose given: a number from 0 to 35 mg" in dialog.message.text()
    assert small_touch_targets(dialog) == []
    _shot(dialog, f"early-stop-{size[0]}x{size[1]}")
    dialog.set_given("12")
    dialog.accept()
    assert not dialog.isVisible()
    assert dialog.data() == {STOP_REASON: "Adverse effect — nausea", DOSE_GIVEN_MG: "12"}


def test_stopping_early_at_the_chair_records_the_dose_given(
    qtbot, qapp, service, clock, nurse, monkeypatch
):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 130, "dbp": 80, "hr": 70, "spo2": 98}, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(13 * MIN)
    _presenter, screen, window = _screen(qtbot, service, clock, session_id, nurse, SIZES[0])

    def answered(dialog: EarlyStopDialog) -> int:
        dialog.choose_reason(1)
        dialog.set_given("30", unit="mL")
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(EarlyStopDialog, "exec", answered)
    qtbot.mouseClick(screen.header.controls[EventKind.INFUSION_STOP], Qt.MouseButton.LeftButton)
    delivered = service.load(session_id).dose_delivered
    assert (delivered.dose_mg, delivered.early, delivered.reason) == (
        10.5, True, "Patient asked to stop")
    window.close()


@pytest.mark.parametrize("size", SIZES, ids=["landscape", "portrait"])
def test_the_overview_tile_shows_an_acknowledged_critical_bp_as_critical(
    qtbot, qapp, service, clock, nurse, size
):
    apply_theme(qapp, DIM)
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 128, "dbp": 78, "hr": 72, "spo2": 98},
                           by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(10 * MIN)
    service.record_reading(session_id, {"sbp": 170, "dbp": 96}, by=nurse)
    for _ in range(2):
        clock.advance(5 * MIN)
        service.record_reading(session_id, {"sbp": 188, "dbp": 114}, by=nurse,
                               confirmed=("sbp",))
    critical = next(f for f in service.load(session_id).open_flags
                    if f.severity is Severity.CRITICAL)
    service.acknowledge(session_id, critical, action="Clinician informed", by=nurse,
                        pin=TEST_PIN)
    widget = ChairTileWidget(DIM, tile_for("2", service.load(session_id)))
    window = host(qtbot, widget, *((600, 380) if size[0] > size[1] else (390, 560)))
    texts = widget.texts()
    assert "188/114" in texts
    assert "CRITICAL · acknowledged" in texts
    assert not any(text.startswith("ADVISORY · ") for text in texts)
    assert DIM.critical in widget.values["bp"].styleSheet()
    assert f"5px solid {DIM.critical}" in widget.styleSheet()  # the frame, as the rail's
    _shot(widget, f"overview-tile-{size[0]}x{size[1]}")
    window.close()


def test_the_course_shows_the_dose_given_and_an_early_stop(qtbot, qapp, service, clock, nurse,
                                                           clinician):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 130, "dbp": 80, "hr": 70, "spo2": 98}, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(13 * MIN)
    service.record_event(session_id, EventKind.INFUSION_STOP, by=nurse,
                         data={STOP_REASON: "agitation", DOSE_GIVEN_MG: "11.4"})
    course = service.course(service.session_info(session_id).patient.id, by=clinician)
    model = CourseModel(DIM)
    model.set_course(course)
    assert model.HEADERS[model.GIVEN] == "Given\nmg"
    assert model.index(0, model.GIVEN).data() == "11.4 early"


def test_an_entry_after_sign_off_is_marked_in_the_history_and_on_the_chart(
    qtbot, qapp, service, clock, nurse, clinician
):
    from ui.session.chart import SessionChart  # noqa: PLC0415
    from ui.session.chart_data import AFTER_SIGNOFF_MARK  # noqa: PLC0415
    from ui.session.history.entries import history_entries  # noqa: PLC0415

    session_id = recovering_session(service, clock, nurse)
    service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
    clock.advance(5 * MIN)
    saved = service.record_reading(session_id, {"sbp": "150", "dbp": "90"}, by=clinician,
                                   after_signoff_reason="BP taken at the door")
    view = service.load(session_id)
    (entry,) = [e for e in history_entries(view) if e.id == saved.id]
    assert entry.status.startswith("AFTER SIGN-OFF, entered ")
    assert "after sign-off: BP taken at the door" in entry.values
    chart = SessionChart(DIM)
    qtbot.addWidget(chart)
    chart.show_view(view)
    assert AFTER_SIGNOFF_MARK in [text for _, text in chart._event_marks]


def test_the_discharge_panel_shows_the_criteria_as_signed(qtbot, qapp, service, clock, nurse,
                                                          clinician):
    from ui.session.discharge import DischargePanel  # noqa: PLC0415

    session_id = recovering_session(service, clock, nurse)
    signed_at = clock.now()
    service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
    clock.advance(10 * MIN)
    service.record_reading(session_id, {"spo2": "88", "moaas": "3"}, by=clinician,
                           after_signoff_reason="reading taken in the car park")
    panel = DischargePanel(DIM)
    qtbot.addWidget(panel)
    panel.show_view(service.load(session_id))
    stamp = f"{signed_at.astimezone():%H:%M}"
    assert f"Criteria as they stood at the signature, {stamp}." in panel.discharged.text()
