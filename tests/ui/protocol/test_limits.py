"""A patient's own limits on screen: opened at check-in (a patient on file) or from the review,
checked as typed, saved with a reason by a clinician (audited); read only for nurses."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.conftest import settle
from tests.ui.touch import small_touch_targets

HR = "hr.high_warning_at_or_above"
HR_CRITICAL = "hr.high_critical_at_or_above"


def click(qtbot, widget):
    assert widget.isVisible(), widget
    assert widget.isEnabled(), widget
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
    settle(qtbot)


def _window(qtbot, service, clock, staff, size=(1280, 800), *, worker=None):
    from ui.app.main_window import MainWindow  # noqa: PLC0415 - only these tests need it

    shown = MainWindow(service, clock, staff=staff, tick_ms=3_600_000, worker=worker)
    qtbot.addWidget(shown)
    shown.resize(*size)
    shown.show()
    qtbot.waitExposed(shown)
    return shown


def _type(qtbot, field, text):
    field.clear()
    qtbot.keyClicks(field, text)
    settle(qtbot)


def _chair_patient(service, nurse):
    patient = service.add_patient("MRN5150", by=nurse, weight_kg=70.0, name="Pat Example")
    service.start_session(patient.id, by=nurse, chair="1")
    return patient.id


def test_a_clinician_sets_a_limit_at_check_in_checked_as_typed_and_audited(
        qtbot, service, clock, nurse, clinician, db_worker):
    patient = service.add_patient("MRN5150", by=nurse, weight_kg=70.0, name="Pat Example").id
    window = _window(qtbot, service, clock, (clinician, "Cleo Clinician"),
                     worker=db_worker)
    window.check_in_chair("1")
    checkin = window.checkin
    assert not checkin.patient_card.limits_button.isVisible()
    checkin.patient_card.select_patient(service.find_patient("MRN5150"))
    click(qtbot, checkin.patient_card.limits_button)
    screen = window.limits_screen
    assert window.stack.currentWidget() is screen
    assert "Pat Example" in screen.title.text()
    assert screen.fields[HR].placeholderText() == "111"
    assert "protocol 111 /min" in screen.findChild(
        type(screen.subtitle), f"limits-protocol-{HR}").text()

    _type(qtbot, screen.fields[HR], "300")
    assert screen.errors[HR].isVisible()
    assert "outside the accepted range 20–250 /min" in screen.errors[HR].text()
    _type(qtbot, screen.fields[HR], "140")  # beyond the critical limit, 131
    assert f"must be below {HR_CRITICAL} (131)" in screen.errors[HR].text()
    _type(qtbot, screen.fields[HR_CRITICAL], "150")  # raised together: in order again
    assert not screen.errors[HR].isVisible()

    click(qtbot, screen.save_button)  # no reason yet: refused, nothing stored
    assert screen.message.text().startswith("NOT saved")
    assert all(r.patient_value is None for r in service.limits.view(patient).rows)
    _type(qtbot, screen.reason, "Athlete, resting HR 95")
    click(qtbot, screen.save_button)
    assert screen.message.text().startswith("Saved")
    values = {r.field: r.patient_value for r in service.limits.view(patient).rows}
    assert (values[HR], values[HR_CRITICAL]) == (140, 150)
    (entry,) = service.audit_entries(by=clinician, action="patient_limits_set")
    assert entry.old == {HR: None, HR_CRITICAL: None}
    assert entry.new[HR] == 140
    assert entry.new["reason"] == "Athlete, resting HR 95"
    assert small_touch_targets(screen) == []

    click(qtbot, screen.back_button)  # back to the check-in, the patient still chosen
    assert window.stack.currentWidget() is checkin
    assert checkin.patient_card.selected_patient().id == patient


def test_a_nurse_reads_a_patients_limits_only(qtbot, service, clock, nurse, clinician,
                                              db_worker):
    patient = _chair_patient(service, nurse)
    service.limits.set_limits(patient, {HR: "125"}, reason="Athlete", by=clinician)
    window = _window(qtbot, service, clock, (nurse, "Nora Nurse"),
                     size=(800, 1280), worker=db_worker)
    window.show_patient_limits(patient)
    settle(qtbot)
    screen = window.limits_screen
    assert window.stack.currentWidget() is screen
    assert screen.fields[HR].text() == "125"
    assert screen.fields[HR].isReadOnly()
    assert not screen.save_button.isVisible()
    assert not screen.reason.isVisible()
    assert "Only a clinician" in screen.message.text()
    assert "Reason: “Athlete”" in screen.subtitle.text()


def test_a_clinician_opens_the_limits_from_the_review(qtbot, service, clock, nurse, db_worker,
                                                      clinician):
    patient = _chair_patient(service, nurse)
    window = _window(qtbot, service, clock, (clinician, "Cleo Clinician"),
                     worker=db_worker)
    (session,) = service.patient_sessions(patient)
    window.show_session_review(session.id)
    settle(qtbot)
    review = window.session_review
    assert window.stack.currentWidget() is review
    click(qtbot, review.limits_button)
    assert window.stack.currentWidget() is window.limits_screen
    click(qtbot, window.limits_screen.back_button)
    assert window.stack.currentWidget() is review


def test_the_clinician_role_is_asked_of_the_service_not_only_the_screen(
        qtbot, service, clock, nurse, db_worker):
    patient = _chair_patient(service, nurse)
    window = _window(qtbot, service, clock, (nurse, "Nora Nurse"), worker=db_worker)
    window.show_patient_limits(patient)
    settle(qtbot)
    screen = window.limits_screen
    assert window.stack.currentWidget() is screen
    screen.fields[HR].setText("125")
    screen.saveRequested.emit(screen.values(), "Athlete")  # as if the button were there
    settle(qtbot)
    assert "A nurse cannot set a patient's own limits" in screen.message.text()
    assert all(r.patient_value is None for r in service.limits.view(patient).rows)

