"""The session screen's header: the countdown to the next reading, and what it repeats."""

from __future__ import annotations

from datetime import timedelta

from monitor.clinical.domain import EventKind
from tests.ui.sessions import host, patient_session
from ui.common.labels import clock_time
from ui.common.theme import DIM
from ui.session.presenter import SessionPresenter
from ui.session.screen import SessionScreen

MIN = timedelta(minutes=1)


def test_the_header_counts_down_to_the_repeat_a_warning_asks_for(qtbot, service, clock, nurse):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 130, "dbp": 80, "hr": 70, "spo2": 98}, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(10 * MIN)
    service.record_reading(session_id, {"sbp": 120, "dbp": 75, "hr": 118, "spo2": 97},
                           by=nurse)
    presenter = SessionPresenter(service, clock, session_id, nurse)
    screen = SessionScreen(DIM, clock, presenter, ())
    window = host(qtbot, screen, 1280, 800)
    presenter.refresh()
    due = clock_time(clock.now() + 5 * MIN)
    assert screen.header.due.text() == f"Repeat HR in 5:00 min (due {due})"
    # The repeat is taken and HR is back below the warning: the usual interval again.
    clock.advance(4 * MIN)
    presenter.save_reading({"sbp": "122", "dbp": "76", "hr": "96", "spo2": "97"})
    due = clock_time(clock.now() + 10 * MIN)
    assert screen.header.due.text() == f"Next reading in 10:00 min (due {due})"
    window.close()


def test_the_vitals_form_starts_from_the_last_vitals_after_a_scores_only_entry(
        qtbot, service, clock, nurse):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 128, "dbp": 82, "hr": 70, "spo2": 98},
                           by=nurse)
    clock.advance(2 * MIN)
    service.record_reading(session_id, {"nausea": 2}, by=nurse)
    presenter = SessionPresenter(service, clock, session_id, nurse)
    screen = SessionScreen(DIM, clock, presenter, ())
    window = host(qtbot, screen, 1280, 800)
    presenter.refresh()
    assert window.isVisible()
    assert screen.vitals.last_reading_text().startswith(
        f"Last reading {clock_time(clock.now() - 2 * MIN)}")
