"""The review list: search fields build the query, pages load on scroll, a tap opens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

import pytest
from PySide6.QtCore import QDate, QRect, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QApplication

from monitor.clinical.domain import Severity
from monitor.service.review import Cursor, Page, SessionQuery, SessionRow
from monitor.storage.store import StoreUnavailableError
from tests.conftest import TEST_PIN
from tests.ui.background import settle as settle_window
from tests.ui.conftest import settle
from tests.ui.touch import small_touch_targets
from ui.app.main_window import MainWindow
from ui.common.theme import DIM
from ui.review.search import ANY_DATE, ICON_PX, ReviewScreen, SessionListModel, flags_text

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def row(number: int) -> SessionRow:
    return SessionRow(
        session_id=uuid.UUID(int=number + 1), patient_id=uuid.UUID(int=10_000 + number % 7),
        mrn=f"MRN{number:05d}", patient_name=f"Patient {number}",
        time=T0 - timedelta(hours=number), chair=str(1 + number % 4), profile="iv_ketamine",
        flags_by_tier={int(Severity.WARNING): 1} if number % 3 == 0 else {},
        worst=Severity.WARNING if number % 3 == 0 else None, signed=number % 2 == 0,
    )


@dataclass
class FakeFetch:
    """``find_sessions`` over ``count`` rows, newest first, recording each call.

    With ``overlap``, every page after the first repeats the last row of the page before (a
    row shown twice must not be listed twice)."""

    count: int
    overlap: bool = False
    calls: list[tuple[SessionQuery, Cursor | None, int]] = field(default_factory=list)

    def __call__(self, query: SessionQuery, after: Cursor | None, limit: int) -> Page:
        self.calls.append((query, after, limit))
        rows = [row(n) for n in range(self.count)]
        start = 0
        if after is not None:
            start = next(i for i, r in enumerate(rows) if r.session_id == after.session_id) + 1
            if self.overlap:
                start -= 1
        page = rows[start:start + limit]
        more = start + limit < len(rows)
        last = page[-1]
        return Page(page, Cursor(last.time, last.session_id) if more else None)


def screen_with(qtbot, fetch, *, page_size=50) -> ReviewScreen:
    screen = ReviewScreen(DIM, fetch, page_size=page_size)
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    return screen


def test_search_fields_are_forwarded_as_the_query(qtbot):
    fetch = FakeFetch(5)
    screen = screen_with(qtbot, fetch)
    screen.text.setText("  byrne ")
    screen.date_from.setDate(QDate(2026, 2, 1))
    screen.date_to.setDate(QDate(2026, 2, 28))
    screen.flagged.setChecked(True)
    qtbot.mouseClick(screen.search_button, Qt.MouseButton.LeftButton)
    query, after, limit = fetch.calls[-1]
    assert query == SessionQuery(text="byrne", date_from=date(2026, 2, 1),
                                 date_to=date(2026, 2, 28), flagged_only=True)
    assert after is None
    assert limit == 50


def test_any_date_clears_both_bounds(qtbot):
    fetch = FakeFetch(5)
    screen = screen_with(qtbot, fetch)
    screen.date_from.setDate(QDate(2026, 2, 1))
    screen.date_to.setDate(QDate(2026, 2, 3))
    qtbot.mouseClick(screen.clear_dates, Qt.MouseButton.LeftButton)
    assert screen.date_from.date() == ANY_DATE
    assert screen.date_from.text() == "any date"
    assert fetch.calls[-1][0] == SessionQuery()


def test_scrolling_to_the_end_loads_the_next_page_once(qtbot):
    fetch = FakeFetch(120)
    screen = screen_with(qtbot, fetch)
    screen.search()
    assert screen.model.rowCount() == 50
    assert screen.model.canFetchMore()
    screen.table.scrollToBottom()
    qtbot.waitUntil(lambda: screen.model.rowCount() > 50)
    assert fetch.calls[1][1] == Cursor(row(49).time, row(49).session_id)
    shown = [r.session_id for r in screen.model.rows()]
    assert shown == [row(n).session_id for n in range(len(shown))]
    assert "scroll for more" in screen.summary.text() or len(shown) == 120


def test_fetch_more_appends_pages_without_duplicates_until_the_last(qtbot):
    fetch = FakeFetch(120, overlap=True)
    model = SessionListModel(DIM, fetch)
    model.set_query(SessionQuery())
    while model.canFetchMore():
        model.fetchMore()
    ids = [r.session_id for r in model.rows()]
    assert len(ids) == len(set(ids)) == 120
    assert not model.canFetchMore()


def test_a_new_search_starts_again_from_the_first_page(qtbot):
    fetch = FakeFetch(120)
    model = SessionListModel(DIM, fetch)
    model.set_query(SessionQuery())
    model.fetchMore()
    model.set_query(SessionQuery(text="x"))
    assert model.rowCount() == 50
    assert fetch.calls[-1][1] is None


def test_list_model_passes_the_model_tester(qtbot, qtmodeltester):
    model = SessionListModel(DIM, FakeFetch(120))
    model.set_query(SessionQuery())
    qtmodeltester.check(model)


def test_rows_say_flags_in_words_and_whether_signed(qtbot):
    model = SessionListModel(DIM, FakeFetch(3))
    model.set_query(SessionQuery())
    assert model.index(0, SessionListModel.FLAGS).data() == "1 warning"
    assert model.index(1, SessionListModel.FLAGS).data() == "none"
    assert model.index(0, SessionListModel.SIGNED).data() == "signed"
    assert model.index(1, SessionListModel.SIGNED).data() == "not signed"
    assert flags_text({3: 1, 1: 2}) == "1 critical · 2 advisory"


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
def test_every_tier_of_a_flags_cell_is_shown_whole(qtbot, size):
    three = {int(Severity.CRITICAL): 1, int(Severity.WARNING): 2, int(Severity.ADVISORY): 3}

    def fetch(query, after, limit):
        return Page([replace(row(0), flags_by_tier=three, worst=Severity.CRITICAL)], None)

    screen = screen_with(qtbot, fetch)
    screen.resize(*size)
    screen.set_orientation(Qt.Orientation.Horizontal if size[0] > size[1]
                           else Qt.Orientation.Vertical)
    screen.search()
    table = screen.table
    index = screen.model.index(0, SessionListModel.FLAGS)
    text = index.data()
    assert text == "1 critical · 2 warning · 3 advisory"
    assert table.wordWrap()
    cell = table.visualRect(index)
    metrics = table.fontMetrics()
    room = QRect(0, 0, cell.width() - 24 - ICON_PX, 10_000)
    needed = metrics.boundingRect(room, Qt.TextFlag.TextWordWrap, text)
    assert needed.height() <= cell.height()


def test_tapping_a_row_opens_its_session(qtbot):
    screen = screen_with(qtbot, FakeFetch(5))
    screen.search()
    rect = screen.table.visualRect(screen.model.index(2, SessionListModel.PATIENT))
    with qtbot.waitSignal(screen.openSession) as opened:
        qtbot.mouseClick(screen.table.viewport(), Qt.MouseButton.LeftButton,
                         pos=rect.center())
    assert opened.args == [row(2).session_id]


def test_real_search_lists_the_clinics_sessions(qtbot, service, nurse, clock):
    clinician = service.ensure_staff("Cleo Clinician", "clinician")
    ada = service.add_patient("MRN100200", by=nurse, name="Ada Byrne", weight_kg=70.0)
    ben = service.add_patient("MRN300400", by=nurse, name="Ben Carter", weight_kg=82.0)
    first = service.start_session(ada.id, by=nurse, time=clock.now() - timedelta(days=1))
    service.start_session(ben.id, by=nurse, time=clock.now() - timedelta(hours=1))

    def fetch(query, after, limit):
        return service.find_sessions(query, by=clinician, after=after, limit=limit)

    screen = screen_with(qtbot, fetch)
    screen.text.setText("byrne")
    screen.search()
    assert [r.session_id for r in screen.model.rows()] == [first]
    assert screen.summary.text() == "1 session shown"


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)])
def test_touch_targets_are_large_enough(qtbot, size):
    screen = screen_with(qtbot, FakeFetch(60))
    screen.set_orientation(Qt.Orientation.Vertical if size[1] > size[0]
                           else Qt.Orientation.Horizontal)
    screen.resize(*size)
    screen.search()
    qtbot.waitExposed(screen)
    assert small_touch_targets(screen) == []
    assert screen.table.verticalHeader().defaultSectionSize() >= 48


# -- from the overview ----------------------------------------------------------------------


def window_for(qtbot, service, clock, staff_id, name, worker=None):
    window = MainWindow(service, clock, staff=(staff_id, name), tick_ms=3_600_000,
                        worker=worker)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    return window


def test_review_is_offered_to_clinicians_only(qtbot, service, clock, nurse):
    window = window_for(qtbot, service, clock, nurse, "Nora Nurse")
    assert window.overview.review_button.isHidden()
    clinician = service.ensure_staff("Cleo Clinician", "clinician")
    other = window_for(qtbot, service, clock, clinician, "Cleo Clinician")
    assert not other.overview.review_button.isHidden()
    assert other.review_screen is None  # built on first use


def test_review_opens_a_session_chart_and_the_patients_course(qtbot, service, clock, nurse,
                                                              db_worker):
    clinician = service.ensure_staff("Cleo Clinician", "clinician")
    patient = service.add_patient("MRN-9", by=nurse, name="Ada Byrne", weight_kg=70)
    session = service.start_session(patient.id, by=nurse, time=clock.now() - timedelta(hours=2))
    service.record_reading(session, {"sbp": "130", "dbp": "80", "hr": "70"}, by=nurse,
                           time=clock.now() - timedelta(hours=2) + timedelta(minutes=5))
    window = window_for(qtbot, service, clock, clinician, "Cleo Clinician", db_worker)
    qtbot.mouseClick(window.overview.review_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    review = window.review_screen
    assert window.stack.currentWidget() is review
    assert [r.session_id for r in review.model.rows()] == [session]

    review.openSession.emit(session)
    settle(qtbot)
    chart = window.session_review
    assert window.stack.currentWidget() is chart
    assert chart.readings.rowCount() == 1

    qtbot.mouseClick(chart.course_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert window.stack.currentWidget() is window.course_screen
    assert window.course_screen.model.rowCount() == 1

    qtbot.mouseClick(window.course_screen.back_button, Qt.MouseButton.LeftButton)
    assert window.stack.currentWidget() is chart
    qtbot.mouseClick(chart.back_button, Qt.MouseButton.LeftButton)
    settle(qtbot)
    assert window.stack.currentWidget() is review
    qtbot.mouseClick(review.back_button, Qt.MouseButton.LeftButton)
    assert window.stack.currentWidget() is window.overview


def test_batch_export_opens_from_the_review(qtbot, service, clock):
    clinician = service.ensure_staff("Cleo Clinician", "clinician")
    window = window_for(qtbot, service, clock, clinician, "Cleo Clinician")
    review = window.show_review()
    qtbot.mouseClick(review.batch_button, Qt.MouseButton.LeftButton)
    assert window.batch_dialog is not None
    assert window.batch_dialog.isVisible()
    assert not window.batch_dialog.isModal()


def test_batch_export_opened_again_shows_no_old_refusal(qtbot, service, clock, tmp_path):
    clinician = service.ensure_staff("Cleo Clinician", "clinician")
    window = window_for(qtbot, service, clock, clinician, "Cleo Clinician")
    first = window.open_batch_export()
    first.folder.setText(str(tmp_path / "nowhere"))
    assert not first.start()
    assert first.status.text().startswith("NOT started. Folder:")
    first.reject()
    again = window.open_batch_export()
    assert again.status.text() == ""
    assert not first.isVisible()


def test_date_calendar_opens_on_the_clinic_month_while_any_date(qtbot):
    screen = ReviewScreen(DIM, FakeFetch(1), today=lambda: date(2026, 3, 2))
    qtbot.addWidget(screen)
    calendar = screen.date_from.calendarWidget()
    QApplication.sendEvent(calendar, QShowEvent())
    assert (calendar.yearShown(), calendar.monthShown()) == (2026, 3)
    assert calendar.minimumWidth() >= 7 * 48


def test_a_nurse_unlocking_after_a_clinician_lands_on_the_overview(qtbot, service, clock,
                                                                   nurse, clinician,
                                                                   db_worker):
    window = window_for(qtbot, service, clock, clinician, "Cleo Clinician", db_worker)
    window.show_review()
    window.lock("manual")
    settle_window(qtbot)
    window._login(nurse, TEST_PIN)
    settle_window(qtbot)  # the PIN is checked on the database worker
    assert window.stack.currentWidget() is window.overview
    assert window.overview.review_button.isHidden()
    window.lock("manual")
    settle_window(qtbot)
    window._login(clinician, TEST_PIN)
    settle_window(qtbot)
    window.show_review()
    settle_window(qtbot)
    window.lock("manual")
    settle_window(qtbot)
    window._login(clinician, TEST_PIN)
    settle_window(qtbot)
    assert window.stack.currentWidget() is window.review_screen


def test_a_refused_search_keeps_the_list_and_says_why_until_one_succeeds(qtbot):
    fetch = FakeFetch(3)
    refused = StoreUnavailableError("busy", "Could not read: the database server is busy.")

    def flaky(query, after, limit):
        if query.text == "busy":
            raise refused
        return fetch(query, after, limit)

    screen = screen_with(qtbot, flaky)
    screen.search()
    screen.text.setText("busy")
    with qtbot.waitSignal(screen.model.failed) as failed:
        screen.search()
    assert failed.args == [refused]
    assert screen.model.rowCount() == 3  # the list as it was
    assert screen.summary.text() == ("Could not read: the database server is busy. "
                                     "The list is as it was; search again.")
    screen.text.setText("")
    screen.search()
    assert screen.summary.text() == "3 sessions shown"
