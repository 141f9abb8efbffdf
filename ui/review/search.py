"""The clinician's review: find sessions by patient name, MRN, date range and flags.

:class:`SessionListModel` is a table over pages of :class:`monitor.service.review.SessionRow`: it
holds the rows fetched so far and the keyset cursor of the next page, and answers
``canFetchMore``/``fetchMore`` so that the table view asks for the next page when it is
scrolled to the bottom. A clinic holds tens of thousands of sessions; only the pages seen
are ever fetched, so the list opens and scrolls at once whatever the size of the record.

:class:`ReviewScreen` holds the search fields and the list. It decides nothing: it builds a
:class:`monitor.service.review.SessionQuery` from the fields and hands it to the model, whose
``fetch`` (``ClinicService.find_sessions`` in the app) runs it.

The pages are read on the database worker it is given (:mod:`ui.common.background`): while
one is read the list stays as it was, the line above it says "Searching…", and the screen
answers taps. One read is in flight at a time: a search asked meanwhile (a filter tapped
again, the live refresh after a change elsewhere) replaces any search still waiting, so
only the newest is read and shown. A read the database refused leaves the list as it was.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar, cast

from PySide6.QtCore import (
    QDate,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from monitor.clinical.domain import Severity
from monitor.clinical.permissions import PermissionDenied
from monitor.service.review import SessionQuery
from monitor.storage.store import StorageError
from ui.common.background import Background, Latest
from ui.common.labels import clock_time
from ui.common.style import TouchButton, tier_icon
from ui.common.tables import ReadOnlyTableModel
from ui.common.theme import TEXT_PX, TOUCH_MIN, Theme
from ui.common.widgets import kinetic

if TYPE_CHECKING:
    from concurrent.futures import Future

    from monitor.service.review import Page, SessionRow
    from monitor.service.worker import Worker

#: Rows asked for at a time: a screenful or two.
PAGE_SIZE = 50
#: Height of a list row: an easy target for a fingertip.
ROW_PX = 56
ICON_PX = 28
#: The date fields' pop-up calendar: 7 × 7 cells of at least the touch minimum.
CALENDAR_MIN = QSize(7 * (TOUCH_MIN + 8), 8 * (TOUCH_MIN + 8))
#: The date fields show this instead of a date when no bound is set.
ANY_DATE = QDate(2000, 1, 1)

Index = QModelIndex | QPersistentModelIndex
#: ``fetch(query, after, limit)``: one page of sessions matching ``query`` after the cursor.
Fetch = Callable[[SessionQuery, Any, int], "Page"]


def flags_text(flags_by_tier: dict[int, int]) -> str:
    """"1 critical · 2 warning", worst tier first; "none" when no flag was raised."""
    parts = [f"{flags_by_tier[int(s)]} {s.label}"
             for s in sorted(Severity, reverse=True) if flags_by_tier.get(int(s))]
    return " · ".join(parts) or "none"


def session_date(row: SessionRow) -> str:
    """The date a session took place, in the device's time zone."""
    return f"{row.time.astimezone():%Y-%m-%d}"


class SessionListModel(ReadOnlyTableModel["SessionRow"]):
    """Sessions matching a query, one page at a time, newest first.

    :meth:`set_query` fetches the first page; ``fetchMore`` (called by the view when it is
    scrolled to the end) appends the next one. A row already shown is never shown twice,
    whatever the pages return. The pages are read on ``worker`` (at once without one);
    while a page is read :attr:`loading` is True, and a page asked meanwhile is not asked
    twice (see :class:`ui.common.background.Latest`).

    Signals:
        searched(object): a new query's first page was shown (the query).
        loadingChanged(bool): a read started (True) or was answered (False).
        failed(object): the database refused a read (the exception); the rows stay.
    """

    searched = Signal(object)
    loadingChanged = Signal(bool)
    failed = Signal(object)

    DATE, TIME, PATIENT, MRN, CHAIR, FLAGS, SIGNED = range(7)
    HEADERS: ClassVar[tuple[str, ...]] = (
        "Date", "Time", "Patient", "MRN", "Chair", "Flags", "Signed")

    def __init__(self, theme: Theme, fetch: Fetch, *, page_size: int = PAGE_SIZE,
                 worker: Worker | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self._fetch = fetch
        self.page_size = page_size
        #: The query whose rows are shown, and the newest asked for (shown once read).
        self.query: SessionQuery | None = None
        self.wanted: SessionQuery | None = None
        #: Whether a first page is being read (else, while loading: a next page).
        self.searching = False
        self._next: Any = None
        self._ids: set[uuid.UUID] = set()
        self._icons = {s: tier_icon(theme, s, ICON_PX) for s in Severity}
        self.background = Background(worker, parent=self)
        self._reads = Latest(self.background)

    @property
    def loading(self) -> bool:
        """Whether a page is being read."""
        return self._reads.busy

    def set_query(self, query: SessionQuery) -> None:
        """Show the first page of sessions matching ``query`` (once read)."""
        self.wanted = query
        self.searching = True
        fetch, size = self._fetch, self.page_size
        self._read(lambda: fetch(query, None, size), lambda page: self._first(query, page))

    def _first(self, query: SessionQuery, page: Page) -> None:
        self.searching = False
        self.query = query
        self._ids = set()
        self._reset_rows(self._new(page.rows))
        self._next = page.next
        self.searched.emit(query)

    def _read(self, read: Callable[[], Page], show: Callable[[Page], None]) -> None:
        """Run ``read`` on the worker; ``show`` its page when it is answered."""
        def answered(future: Future[Page]) -> None:
            try:
                page = future.result()
            except (StorageError, PermissionDenied) as exc:
                self.searching = False
                self.loadingChanged.emit(False)
                self.failed.emit(exc)
                return
            show(page)
            self.loadingChanged.emit(False)

        self._reads.run(read, answered)
        if self._reads.busy:
            self.loadingChanged.emit(True)

    def rows(self) -> list[SessionRow]:
        return list(self._rows)

    def row(self, number: int) -> SessionRow:
        return self._rows[number]

    def _new(self, rows: list[SessionRow]) -> list[SessionRow]:
        fresh = []
        for row in rows:
            if row.session_id not in self._ids:
                self._ids.add(row.session_id)
                fresh.append(row)
        return fresh

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008 - Qt API
        return not parent.isValid() and self.query is not None and self._next is not None

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008 - Qt API
        """The next page, read unless a read is in flight (the view asks again)."""
        if not self.canFetchMore(parent) or self._reads.busy:
            return
        assert self.query is not None
        fetch, query, after, size = self._fetch, self.query, self._next, self.page_size
        self._read(lambda: fetch(query, after, size), self._append)

    def _append(self, page: Page) -> None:
        self._next = page.next
        rows = self._new(page.rows)
        if not rows:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self._rows.extend(rows)
        self.endInsertRows()

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self._row(index)
        if row is None:
            return None
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._text(row, column)
        if role == Qt.ItemDataRole.DecorationRole and column == self.FLAGS and row.worst:
            return self._icons[Severity(row.worst)]
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == self.FLAGS and row.worst:
                return QColor(self.theme.tier_colour(Severity(row.worst)))
            return QColor(self.theme.text)
        return None

    def _text(self, row: SessionRow, column: int) -> str:
        if column == self.DATE:
            return session_date(row)
        if column == self.TIME:
            return clock_time(row.time)
        if column == self.PATIENT:
            return row.patient_name or "(no name)"
        if column == self.MRN:
            return row.mrn
        if column == self.CHAIR:
            return row.chair or "—"
        if column == self.FLAGS:
            return flags_text(row.flags_by_tier)
        return "signed" if row.signed else "not signed"


def touch_calendar(field: QDateEdit) -> None:
    """Give ``field``'s pop-up calendar day cells and month arrows a fingertip can hit."""
    calendar = field.calendarWidget()
    calendar.setMinimumSize(CALENDAR_MIN)
    calendar.setStyleSheet(f"QToolButton {{ min-height: {TOUCH_MIN}px; "
                           f"min-width: {TOUCH_MIN}px; }}")


class _OpenOnToday(QObject):
    """Opens a date field's calendar on the current month while the field says "any date"
    (the calendar would otherwise open on the field's placeholder date, in 2000)."""

    def __init__(self, field: QDateEdit, today: Callable[[], date]) -> None:
        super().__init__(field)
        self._field = field
        self._today = today
        field.calendarWidget().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show and self._field.date() == ANY_DATE:
            today = self._today()
            self._field.calendarWidget().setCurrentPage(today.year, today.month)
        return False


def _date_field(name: str, today: Callable[[], date]) -> QDateEdit:
    field = QDateEdit()
    field.setObjectName(name)
    field.setCalendarPopup(True)
    field.setDisplayFormat("yyyy-MM-dd")
    field.setMinimumDate(ANY_DATE)
    field.setSpecialValueText("any date")
    field.setDate(ANY_DATE)
    field.setMinimumHeight(TOUCH_MIN + 8)
    field.setMinimumWidth(180)
    touch_calendar(field)
    _OpenOnToday(field, today)
    return field


def field_date(field: QDateEdit) -> date | None:
    """The date in ``field``; None when it shows "any date"."""
    value = field.date()
    return None if value == field.minimumDate() else cast(date, value.toPython())


class ReviewScreen(QWidget):
    """Search the record for sessions and open one.

    Signals:
        openSession(object): a session was tapped (its id).
        back(): "Back to chairs" was tapped.
        batchExport(): "Batch export…" was tapped.
    """

    openSession = Signal(object)
    back = Signal()
    batchExport = Signal()

    def __init__(self, theme: Theme, fetch: Fetch, *, page_size: int = PAGE_SIZE,
                 today: Callable[[], date] = date.today, worker: Worker | None = None,
                 parent: QWidget | None = None) -> None:
        """``today``: the clinic's date (the injected clock's), where the date fields'
        calendars open. ``worker``: where the pages are read (default: at once)."""
        super().__init__(parent)
        self.theme = theme
        self.model = SessionListModel(theme, fetch, page_size=page_size,
                                      worker=worker, parent=self)
        #: Why the last read was refused (shown until a read succeeds).
        self.problem = ""

        self.back_button = TouchButton("Back to chairs")
        self.back_button.setObjectName("back-to-chairs")
        self.back_button.clicked.connect(self.back)
        heading = QLabel("Review sessions")
        heading.setStyleSheet(f"font-size: {TEXT_PX + 10}px; font-weight: bold;")
        self.batch_button = TouchButton("Batch export…")
        self.batch_button.setObjectName("batch-export")
        self.batch_button.clicked.connect(self.batchExport)
        head = QHBoxLayout()
        head.addWidget(self.back_button)
        head.addWidget(heading)
        head.addStretch(1)
        head.addWidget(self.batch_button)

        self.text = QLineEdit()
        self.text.setObjectName("search-text")
        self.text.setPlaceholderText("Patient name or MRN")
        self.text.setClearButtonEnabled(True)
        self.text.setMinimumHeight(TOUCH_MIN + 8)
        self.text.returnPressed.connect(self.search)
        self.date_from = _date_field("date-from", today)
        self.date_to = _date_field("date-to", today)
        self.flagged = TouchButton("Flagged only")
        self.flagged.setObjectName("flagged-only")
        self.flagged.setCheckable(True)
        self.flagged.setProperty("choice", True)
        self.flagged.toggled.connect(lambda _on: self.search())
        self.clear_dates = TouchButton("Any date")
        self.clear_dates.setObjectName("clear-dates")
        self.clear_dates.clicked.connect(self._clear_dates)
        self.search_button = TouchButton("Search")
        self.search_button.setObjectName("search")
        self.search_button.setProperty("primary", True)
        self.search_button.clicked.connect(self.search)
        self.date_from.dateChanged.connect(lambda _d: self.search())
        self.date_to.dateChanged.connect(lambda _d: self.search())
        self.from_label, self.to_label = QLabel("From"), QLabel("To")
        self.filters = QGridLayout()
        self.filters.setHorizontalSpacing(10)
        self.filters.setVerticalSpacing(8)

        self.summary = QLabel()
        self.summary.setObjectName("review-summary")
        self.summary.setProperty("role", "muted")
        self.table = QTableView()
        self.table.setObjectName("session-list")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(ROW_PX)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        # Widths from the widest expected text, set once: measuring every row on each page
        # would cost more than fetching the page.
        header.setMinimumSectionSize(60)
        font = QFont()
        font.setPixelSize(TEXT_PX)  # the style sheet's size, not yet applied to the table
        metrics = QFontMetrics(font)
        widest = {SessionListModel.DATE: "0000-00-00", SessionListModel.TIME: "00:00",
                  SessionListModel.MRN: "MRN0000000", SessionListModel.CHAIR: "Chair",
                  SessionListModel.FLAGS: "1 critical · 2 warning",
                  SessionListModel.SIGNED: "not signed"}
        for column, sample in widest.items():
            header.resizeSection(column, metrics.horizontalAdvance(sample) + 24
                                 + (ICON_PX if column == SessionListModel.FLAGS else 0))
        header.setSectionResizeMode(SessionListModel.PATIENT, QHeaderView.ResizeMode.Stretch)
        # A row has room for two lines: "1 critical · 1 warning · 1 advisory" and a long
        # name wrap onto the second instead of being cut ("1 critical · 1 warning…").
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        kinetic(self.table.viewport())
        self.table.clicked.connect(self._tapped)
        self.model.searched.connect(lambda _q: self._answered())
        self.model.rowsInserted.connect(lambda *_: self._answered())
        self.model.loadingChanged.connect(lambda _on: self._update_summary())
        self.model.failed.connect(self._failed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 14)
        layout.setSpacing(10)
        layout.addLayout(head)
        layout.addLayout(self.filters)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self._orientation: Qt.Orientation | None = None
        self.set_orientation(Qt.Orientation.Horizontal)

    def set_orientation(self, orientation: Qt.Orientation) -> None:
        """Landscape: the filters on one line; portrait: on three, and the list without its
        time and chair columns (the session chart shows both), so that names have room."""
        if orientation == self._orientation:
            return
        self._orientation = orientation
        for column in (SessionListModel.TIME, SessionListModel.CHAIR):
            self.table.setColumnHidden(column, orientation == Qt.Orientation.Vertical)
        while self.filters.count():
            self.filters.takeAt(0)
        from_label, to_label = self.from_label, self.to_label
        if orientation == Qt.Orientation.Horizontal:
            row = (self.text, from_label, self.date_from, to_label, self.date_to,
                   self.clear_dates, self.flagged, self.search_button)
            for column, widget in enumerate(row):
                self.filters.addWidget(widget, 0, column)
            self.filters.setColumnStretch(0, 1)
        else:
            self.filters.addWidget(self.text, 0, 0, 1, 4)
            self.filters.addWidget(self.search_button, 0, 4)
            for column, widget in enumerate((from_label, self.date_from, to_label,
                                             self.date_to, self.clear_dates)):
                self.filters.addWidget(widget, 1, column)
            self.filters.addWidget(self.flagged, 2, 0, 1, 2)
            self.filters.setColumnStretch(0, 0)
            self.filters.setColumnStretch(1, 1)
            self.filters.setColumnStretch(3, 1)

    def query(self) -> SessionQuery:
        """The query the fields describe."""
        return SessionQuery(
            text=self.text.text().strip(), date_from=field_date(self.date_from),
            date_to=field_date(self.date_to), flagged_only=self.flagged.isChecked(),
        )

    def search(self) -> None:
        """Show the first page of sessions matching the fields (a second tap while the
        same search is read sends nothing)."""
        query = self.query()
        if self.model.loading and self.model.searching and query == self.model.wanted:
            return
        self.model.set_query(query)
        self.table.scrollToTop()

    def refresh(self) -> None:
        """Search again with the last query asked for (or the fields, the first time)."""
        self.model.set_query(self.model.wanted or self.query())

    def _clear_dates(self) -> None:
        for field in (self.date_from, self.date_to):
            field.blockSignals(True)
            field.setDate(ANY_DATE)
            field.blockSignals(False)
        self.search()

    def _tapped(self, index: QModelIndex) -> None:
        if index.isValid():
            self.openSession.emit(self.model.row(index.row()).session_id)

    def _answered(self) -> None:
        self.problem = ""
        self._update_summary()

    def _failed(self, exc: BaseException) -> None:
        self.problem = exc.message if isinstance(exc, StorageError) else str(exc)
        self._update_summary()

    def _update_summary(self) -> None:
        count = self.model.rowCount()
        noun = "session" if count == 1 else "sessions"
        if self.model.loading:
            if not self.model.searching:
                self.summary.setText(f"{count} {noun} shown · loading more…")
            elif count and self.model.wanted == self.model.query:
                self.summary.setText(f"{count} {noun} shown · updating…")
            else:
                self.summary.setText("Searching…")
            return
        if self.problem:
            self.summary.setText(f"{self.problem} The list is as it was; search again.")
            return
        more = " (scroll for more)" if self.model.canFetchMore() else ""
        self.summary.setText(f"{count} {noun} shown{more}" if count
                             else "No sessions match the search.")
