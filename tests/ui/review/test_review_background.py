"""The clinician's review with its database work on a background thread (as on the clinic's
server): while the server holds a read or an export's audit entry, the event loop runs on and
other widgets answer; the screen says what it waits for; a second tap sends nothing; the
live refresh runs one search at a time, only the newest waiting; and when the server
answers, the right result is shown (or its refusal, with the screen as it was)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import shiboken6
from PySide6.QtCore import QTimer

from monitor.service.worker import ThreadWorker
from monitor.storage.store import StoreUnavailableError
from tests.support.stall import WAIT_S, StalledService
from ui.app.main_window import MainWindow
from ui.common.background import Background

WAIT_MS = int(WAIT_S * 1000)
UNREACHABLE = StoreUnavailableError("unreachable",
                                    "Could not read: the database server cannot be reached.")


def event_loop_runs(qtbot) -> None:
    """A timer fires: the GUI thread is free."""
    timer = QTimer()
    timer.setSingleShot(True)
    with qtbot.waitSignal(timer.timeout, timeout=WAIT_MS):
        timer.start(0)


def settled(window) -> bool:
    """Nothing of the window is waiting on the database worker."""
    return not shiboken6.isValid(window) or all(
        b.in_flight == 0 for b in window.findChildren(Background))


@pytest.fixture
def record(service, clock, nurse):
    clinician = service.ensure_staff("Cleo Clinician", "clinician")
    patient = service.add_patient("MRN-9", by=nurse, name="Ada Byrne", weight_kg=70)
    at = clock.now() - timedelta(hours=2)
    session = service.start_session(patient.id, by=nurse, time=at)
    service.record_reading(session, {"sbp": "130", "dbp": "80", "hr": "70"}, by=nurse,
                           time=at + timedelta(minutes=5))
    return clinician, patient.id, session


@pytest.fixture
def window(qtbot, service, clock, record):
    clinician = record[0]
    gated = StalledService(service)
    gated.loading = StalledService(service.loading)
    worker = ThreadWorker()
    shown = MainWindow(gated, clock, staff=(clinician, "Cleo Clinician"),
                       tick_ms=3_600_000, idle_lock_s=24 * 3600, worker=worker)
    qtbot.addWidget(shown)
    shown.resize(1280, 800)
    shown.show()
    yield shown, gated
    gated.release()
    gated.loading.release()
    qtbot.waitUntil(lambda: settled(shown), timeout=WAIT_MS)
    if shiboken6.isValid(shown):
        shown.close()
    worker.close(WAIT_S)


def open_review(qtbot, window):
    review = window.show_review()
    qtbot.waitUntil(lambda: not review.model.loading, timeout=WAIT_MS)
    return review


def test_the_list_searches_in_the_background_and_typing_goes_on_meanwhile(
        qtbot, window, record):
    window, gated = window
    review = open_review(qtbot, window)
    assert [r.session_id for r in review.model.rows()] == [record[2]]
    gated.stall("find_sessions")
    review.text.setText("Nobody")
    review.search()
    assert gated.entered.wait(WAIT_S)
    assert review.summary.text() == "Searching…"
    event_loop_runs(qtbot)
    review.text.setText("Ada")  # the field answers while the server holds the search
    assert review.text.text() == "Ada"
    assert review.model.rowCount() == 1  # the last list stays until the new one is read
    review.search()  # the newest search waits; "Nobody" is not shown when it comes
    review.search()  # tapped again: the same search waits already, nothing more is sent
    gated.release()
    qtbot.waitUntil(lambda: not review.model.loading, timeout=WAIT_MS)
    assert review.model.query.text == "Ada"
    assert [r.session_id for r in review.model.rows()] == [record[2]]
    assert gated.calls["find_sessions"] == 2


def test_the_live_refresh_runs_one_search_at_a_time_the_newest_waiting(qtbot, window):
    window, gated = window
    review = open_review(qtbot, window)
    gated.stall("find_sessions")
    for _ in range(5):  # changes elsewhere settle, one after another, while one is held
        window._reload_lists()
    assert gated.entered.wait(WAIT_S)
    assert review.summary.text() == "1 session shown · updating…"
    gated.release()
    qtbot.waitUntil(lambda: not review.model.loading, timeout=WAIT_MS)
    assert gated.calls["find_sessions"] == 2  # the one held, then the newest only
    assert review.summary.text() == "1 session shown"


def test_a_search_the_server_refuses_keeps_the_list_and_the_words_typed(qtbot, window):
    window, gated = window
    review = open_review(qtbot, window)
    gated.stall("find_sessions")
    review.text.setText("Ada")
    review.search()
    assert gated.entered.wait(WAIT_S)
    gated.release(fail=UNREACHABLE)
    qtbot.waitUntil(lambda: not review.model.loading, timeout=WAIT_MS)
    assert review.model.rowCount() == 1
    assert review.text.text() == "Ada"
    assert review.summary.text().startswith(
        "Could not read: the database server cannot be reached.")
    assert window.reachability.unreachable
    assert not window.banner.isHidden()


def test_a_session_opens_once_read_and_a_second_tap_reads_nothing_twice(
        qtbot, window, record):
    window, gated = window
    review = open_review(qtbot, window)
    gated.loading.stall("load")
    review.openSession.emit(record[2])
    assert gated.loading.entered.wait(WAIT_S)
    assert window.statusBar().currentMessage() == "Opening the session…"
    review.openSession.emit(record[2])  # tapped again while it is read
    event_loop_runs(qtbot)
    assert window.stack.currentWidget() is review  # nothing half-read is shown
    review.text.setText("typed meanwhile")
    gated.loading.release()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.session_review,
                    timeout=WAIT_MS)
    chart = window.session_review
    assert chart.readings.rowCount() == 1
    assert gated.loading.calls["load"] == 2  # once as it stands, once at its end
    assert window.statusBar().currentMessage() == ""


def test_a_session_the_server_cannot_read_stays_unopened_with_the_banner(
        qtbot, window, record):
    window, gated = window
    review = open_review(qtbot, window)
    gated.loading.stall("load")
    review.openSession.emit(record[2])
    assert gated.loading.entered.wait(WAIT_S)
    gated.loading.release(fail=UNREACHABLE)
    qtbot.waitUntil(lambda: window.reachability.unreachable, timeout=WAIT_MS)
    assert window.stack.currentWidget() is review
    assert not window.banner.isHidden()


def test_scrubbing_reads_in_the_background_and_only_the_newest_minute(
        qtbot, window, record):
    window, gated = window
    open_review(qtbot, window)
    window.show_session_review(record[2])
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.session_review,
                    timeout=WAIT_MS)
    chart = window.session_review
    gated.loading.stall("load")
    chart.set_minute(1)
    assert gated.loading.entered.wait(WAIT_S)
    assert chart.scrub_label.text() == "1 min after check-in · loading…"
    for minute in (2, 3, 4):  # the finger drags on while the server holds the read
        chart.set_minute(minute)
    event_loop_runs(qtbot)
    gated.loading.release()
    qtbot.waitUntil(lambda: chart.scrub_label.text().endswith("· 4 min after check-in"),
                    timeout=WAIT_MS)
    assert gated.loading.calls["load"] == 2  # minute 1, then only the newest (4)
    assert chart.view.at == chart.moment(4)


def test_the_course_opens_once_read_and_a_refusal_says_why(qtbot, window, record):
    window, gated = window
    open_review(qtbot, window)
    window.show_session_review(record[2])
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.session_review,
                    timeout=WAIT_MS)
    chart = window.session_review
    gated.stall("course")
    chart.course_button.click()
    assert gated.entered.wait(WAIT_S)
    assert window.statusBar().currentMessage() == "Opening the course…"
    chart.course_button.click()  # a second tap reads nothing more
    event_loop_runs(qtbot)
    gated.release()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.course_screen,
                    timeout=WAIT_MS)
    assert window.course_screen.model.rowCount() == 1
    assert gated.calls["course"] == 1

    window.course_screen.back_button.click()
    gated.stall("course")
    chart.course_button.click()
    assert gated.entered.wait(WAIT_S)
    gated.release(fail=UNREACHABLE)
    qtbot.waitUntil(lambda: window.reachability.unreachable, timeout=WAIT_MS)
    assert window.stack.currentWidget() is chart


def test_an_export_says_exporting_while_its_audit_entry_is_held_then_writes_the_file(
        qtbot, window, record, tmp_path):
    window, gated = window
    open_review(qtbot, window)
    window.show_session_review(record[2])
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.session_review,
                    timeout=WAIT_MS)
    chart = window.session_review
    chart.export_folder = tmp_path = tmp_path / "exports"
    tmp_path.mkdir()
    dialog = chart.open_export("csv")
    gated.stall("record_export")
    assert dialog.export_to()
    assert gated.entered.wait(WAIT_S)
    assert dialog.message.text() == "Exporting…"
    assert not dialog.export_button.isEnabled()
    dialog.export_to()  # a second ask while one is in flight sends nothing
    event_loop_runs(qtbot)
    assert not list(tmp_path.iterdir())  # no file before its audit entry is stored
    gated.release()
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Exported to"),
                    timeout=WAIT_MS)
    (written,) = tmp_path.iterdir()
    assert written.suffix == ".csv"
    assert gated.calls["record_export"] == 1
    assert dialog.export_button.isEnabled()


def test_an_export_the_server_refuses_writes_no_file_and_says_not_exported(
        qtbot, window, record, tmp_path):
    window, gated = window
    open_review(qtbot, window)
    window.show_session_review(record[2])
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.session_review,
                    timeout=WAIT_MS)
    chart = window.session_review
    chart.export_folder = tmp_path = tmp_path / "exports"
    tmp_path.mkdir()
    dialog = chart.open_export("csv")
    gated.stall("record_export")
    assert dialog.export_to()
    assert gated.entered.wait(WAIT_S)
    gated.release(fail=StoreUnavailableError(
        "unreachable", "NOT saved: the database server cannot be reached."))
    qtbot.waitUntil(lambda: dialog.message.text().startswith("NOT exported"),
                    timeout=WAIT_MS)
    assert "the database server cannot be reached" in dialog.message.text()
    assert not list(tmp_path.iterdir())


def test_a_refusal_is_no_longer_said_once_a_search_succeeds(qtbot, window):
    window, gated = window
    review = open_review(qtbot, window)
    gated.stall("find_sessions")
    review.search()
    assert gated.entered.wait(WAIT_S)
    gated.release(fail=UNREACHABLE)
    qtbot.waitUntil(lambda: not review.model.loading, timeout=WAIT_MS)
    assert review.problem
    gated.stall()  # the server answers again
    gated.release()
    review.search()
    qtbot.waitUntil(lambda: not review.model.loading, timeout=WAIT_MS)
    assert review.summary.text() == "1 session shown"


def test_a_minute_read_after_the_scrubber_went_back_to_the_end_is_not_shown(
        qtbot, window, record):
    window, gated = window
    open_review(qtbot, window)
    window.show_session_review(record[2])
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.session_review,
                    timeout=WAIT_MS)
    chart = window.session_review
    gated.loading.stall("load")
    chart.set_minute(1)
    assert gated.loading.entered.wait(WAIT_S)
    chart.set_minute(chart.minutes())  # back to the end: shown at once, nothing read
    assert chart.view is chart.full_view
    gated.loading.release()
    qtbot.waitUntil(lambda: settled(window), timeout=WAIT_MS)
    assert chart.view is chart.full_view
    assert chart.scrub_label.text().endswith("(end)")
