"""What-if before going live: a draft tried on the clinic's own sessions of a period.

:class:`WhatIfScreen` shows the period (the last 30 days unless changed), Run, a progress bar
and Cancel, then side by side how the sessions came out under the version each ran under
and under the draft: flags per tier and measure, sessions with a warning or critical flag,
discharge-ready times, and the sessions whose flags change, each openable in the review.

:class:`WhatIfController` runs ``service.protocols.what_if`` on a worker thread (the screen
never waits for it): progress and the answer come back to the GUI thread as signals, and
Cancel sets the event the replay checks between chunks of sessions.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, QThread, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QBoxLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from ui.common.labels import clock_time
from ui.common.style import KEY_MIN, PRIMARY_MIN, TouchButton
from ui.common.tables import ReadOnlyTableModel
from ui.common.theme import Theme
from ui.common.widgets import heading, label, restyle
from ui.protocol.whatif_rows import ComparisonRow, comparison_rows, flags_text
from ui.review.session_tables import ROW_PX, touch_table

if TYPE_CHECKING:
    from monitor.service.whatif import ChangedSession, WhatIfResult

Index = QModelIndex | QPersistentModelIndex

#: The period a what-if covers unless another is chosen.
DEFAULT_DAYS = 30

#: ``what_if(since, until, progress, cancel)``: the replay (``service.protocols.what_if``
#: for one draft), run on the worker thread.
Replay = Callable[[datetime | None, datetime | None, Callable[[int, int], None],
                   threading.Event], "WhatIfResult"]


class ComparisonModel(ReadOnlyTableModel[ComparisonRow]):
    """The side-by-side figures: what, ran under, draft, change."""

    HEADERS: ClassVar[tuple[str, ...]] = ("", "Ran under", "Draft", "Change")

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme

    def set_rows(self, rows: list[ComparisonRow]) -> None:
        self._reset_rows(rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self._row(index)
        if row is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return (row.what, row.before, row.after, row.change)[index.column()]
        if role == Qt.ItemDataRole.FontRole and (row.heading or (
                row.differs and index.column() == 3)):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and row.differs and index.column() == 3:
            return QColor(self.theme.warning)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class ChangedModel(ReadOnlyTableModel["ChangedSession"]):
    """The sessions whose flags change: when, the flags it had, the flags under the draft."""

    HEADERS: ClassVar[tuple[str, ...]] = ("Started", "Ran under", "Draft")

    def set_sessions(self, sessions: list[ChangedSession]) -> None:
        self._reset_rows(sessions)

    def session(self, row: int) -> ChangedSession | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self._row(index)
        if row is None or role != Qt.ItemDataRole.DisplayRole:
            return None
        when = row.time.astimezone()
        return (f"{when.day} {when:%b %Y} {clock_time(row.time)}", flags_text(row.before),
                flags_text(row.after))[index.column()]


class WhatIfScreen(QWidget):
    """The period, Run, progress and Cancel, and the comparison once it is there.

    Signals:
        back(): leave for the protocol screen.
        runRequested(str, str): run for the period typed (since, until: ``YYYY-MM-DD`` or
            empty for open).
        cancelRequested(): stop the run (the figures then cover the sessions done).
        openSession(object): open a changed session (its :class:`ChangedSession`) in the
            review with both versions' flags.
    """

    back = Signal()
    runRequested = Signal(str, str)
    cancelRequested = Signal()
    openSession = Signal(object)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.result: WhatIfResult | None = None
        self.can_open = True
        self.title = heading("What-if")
        self.title.setObjectName("whatif-title")
        self.subtitle = label("", "muted")
        self.back_button = TouchButton("Back to protocol")
        self.back_button.setObjectName("whatif-back")
        self.back_button.clicked.connect(self.back)
        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addWidget(self.title)
        titles.addWidget(self.subtitle)
        head.addLayout(titles, 1)
        head.addWidget(self.back_button, 0, Qt.AlignmentFlag.AlignTop)

        self.since = _date_field("whatif-since", "From YYYY-MM-DD")
        self.until = _date_field("whatif-until", "To YYYY-MM-DD")
        self.run_button = TouchButton("Run what-if", min_height=PRIMARY_MIN)
        self.run_button.setObjectName("whatif-run")
        self.run_button.setProperty("primary", True)
        self.run_button.clicked.connect(
            lambda: self.runRequested.emit(self.since.text().strip(), self.until.text().strip()))
        self.cancel_button = TouchButton("Cancel", min_height=PRIMARY_MIN)
        self.cancel_button.setObjectName("whatif-cancel")
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.cancel_button.setEnabled(False)
        period = QHBoxLayout()
        period.addWidget(label("Sessions started", "field", wrap=False))
        period.addWidget(self.since)
        period.addWidget(label("to", wrap=False))
        period.addWidget(self.until)
        period.addStretch(1)
        period.addWidget(self.run_button)
        period.addWidget(self.cancel_button)
        self.bar = QProgressBar()
        self.bar.setObjectName("whatif-progress")
        self.bar.setMinimumHeight(32)
        self.bar.setFormat("%v of %m sessions")
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setTextVisible(False)
        self.status = label("Choose the period and tap Run: nothing is changed by a what-if")
        self.status.setObjectName("whatif-status")

        self.comparison = ComparisonModel(theme, self)
        self.comparison_table = touch_table(self.comparison, "whatif-comparison", {
            0: "Median minutes, stop to ready", 1: "none ready", 2: "none ready",
            3: "Change"})
        self.comparison_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.Stretch)
        self.comparison_table.horizontalHeader().setStretchLastSection(False)
        self.changed = ChangedModel(self)
        self.changed_table = touch_table(self.changed, "whatif-changed", {
            0: "30 Dec 2026 00:00", 1: "BP warning 00:00"})
        self.changed_table.setWordWrap(True)
        self.changed_table.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.changed_table.verticalHeader().setMinimumSectionSize(ROW_PX)
        for column in (1, 2):
            self.changed_table.horizontalHeader().setSectionResizeMode(
                column, QHeaderView.ResizeMode.Stretch)
        self.changed_table.doubleClicked.connect(lambda index: self._open(index.row()))
        self.changed_table.selectionModel().selectionChanged.connect(self._selected)
        self.open_button = TouchButton("Open in review")
        self.open_button.setObjectName("whatif-open")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self._open_selected)
        self.changed_title = label("Sessions whose flags change", "field")
        changed_head = QHBoxLayout()
        changed_head.addWidget(self.changed_title, 1)
        changed_head.addWidget(self.open_button)
        changed = QVBoxLayout()
        changed.addLayout(changed_head)
        changed.addWidget(self.changed_table, 1)
        compared = QVBoxLayout()
        compared.addWidget(label("Ran under: the version each session started with  ·  "
                                 "Draft: this draft", "muted"))
        compared.addWidget(self.comparison_table, 1)

        self.body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.body.setSpacing(16)
        self.body.addLayout(compared, 1)
        self.body.addLayout(changed, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 12, 20, 16)
        layout.setSpacing(10)
        layout.addLayout(head)
        layout.addLayout(period)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addLayout(self.body, 1)

    # -- public API --------------------------------------------------------------------------

    def set_orientation(self, orientation: Qt.Orientation) -> None:
        vertical = orientation == Qt.Orientation.Vertical
        self.body.setDirection(QBoxLayout.Direction.TopToBottom if vertical
                               else QBoxLayout.Direction.LeftToRight)

    def show_draft(self, title: str, subtitle: str, since: date, until: date) -> None:
        """A draft to try, the period set to ``since``–``until``; earlier figures cleared."""
        self.title.setText(title)
        self.subtitle.setText(subtitle)
        self.since.setText(since.isoformat())
        self.until.setText(until.isoformat())
        self.result = None
        self.comparison.set_rows([])
        self.changed.set_sessions([])
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setTextVisible(False)
        self.changed_title.setText("Sessions whose flags change")
        self.set_running(running=False)
        self._say("Choose the period and tap Run: nothing is changed by a what-if")

    def set_can_open(self, can: bool, why: str = "") -> None:
        """Whether the signed-in person may open a session in the review (clinicians)."""
        self.can_open = can
        self.open_button.setToolTip(why)
        self.open_button.setText("Open in review" if can else "Open in review (clinicians)")
        self._selected()

    def set_running(self, *, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.since.setReadOnly(running)
        self.until.setReadOnly(running)

    def show_started(self) -> None:
        """A run has started: the last figures go, the bar is busy until the sessions of
        the period are counted."""
        self.set_running(running=True)
        self.result = None
        self.comparison.set_rows([])
        self.changed.set_sessions([])
        self.changed_title.setText("Sessions whose flags change")
        self.bar.setTextVisible(True)
        self.bar.setRange(0, 0)
        self._say("Reading the sessions of the period…")

    def show_progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done if total else 1)
        self._say(f"Replaying: {done} of {_sessions(total)}")

    def show_cancelling(self) -> None:
        self.cancel_button.setEnabled(False)
        self._say("Cancelling after the sessions under way…")

    def show_result(self, result: WhatIfResult) -> None:
        self.set_running(running=False)
        self.result = result
        data = result.to_json()
        self.comparison.set_rows(comparison_rows(data))
        self.changed.set_sessions(list(result.changed))
        self.changed_title.setText(f"Sessions whose flags change: {len(result.changed)}")
        if result.cancelled:
            self.bar.setRange(0, max(result.total, 1))
            self.bar.setValue(result.sessions)
            self._say(f"Cancelled after {result.sessions} of {_sessions(result.total)}: the "
                      "figures cover those only", error=True)
            return
        self.bar.setRange(0, max(result.total, 1))
        self.bar.setValue(max(result.total, 1))
        refused = (f"; {len(result.refused)} not compared (the patient's own limits do not "
                   "fit the draft)" if result.refused else "")
        self._say(f"{_sessions(result.sessions)} compared{refused}. Nothing was changed.")

    def show_error(self, text: str) -> None:
        self.set_running(running=False)
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setTextVisible(False)
        self._say(text, error=True)

    # -- internals ---------------------------------------------------------------------------

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setProperty("role", "error" if error else "")
        self.status.setText(text)
        restyle(self.status)

    def _selected(self) -> None:
        self.open_button.setEnabled(
            self.can_open and bool(self.changed_table.selectionModel().selectedRows()))

    def _open_selected(self) -> None:
        rows = self.changed_table.selectionModel().selectedRows()
        if rows:
            self._open(rows[0].row())

    def _open(self, row: int) -> None:
        if not self.can_open:
            return
        session = self.changed.session(row)
        if session is not None:
            self.openSession.emit(session)


def _sessions(n: int) -> str:
    return f"{n} session{'' if n == 1 else 's'}"


def _date_field(name: str, placeholder: str) -> QLineEdit:
    field = QLineEdit()
    field.setObjectName(name)
    field.setPlaceholderText(placeholder)
    field.setMinimumHeight(KEY_MIN)
    field.setFixedWidth(190)
    return field


class _Job(QThread):
    """One replay on its own thread; its signals reach the GUI thread queued.

    Signals:
        progressed(int, int): sessions done, and the total.
        done(object): the :class:`WhatIfResult`, or the exception that stopped it.
    """

    progressed = Signal(int, int)
    done = Signal(object)

    def __init__(self, replay: Replay, since: datetime | None, until: datetime | None,
                 cancel: threading.Event, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._replay = replay
        self._since, self._until = since, until
        self.cancel = cancel
        #: The draft it replays (a run for another draft is not shown).
        self.draft_id: uuid.UUID | None = None

    def run(self) -> None:
        try:
            result: object = self._replay(self._since, self._until, self.progressed.emit,
                                          self.cancel)
        except Exception as exc:  # noqa: BLE001 - handed to the screen, which says it
            result = exc
        self.done.emit(result)


class WhatIfController(QObject):
    """Runs the what-if of one draft for a :class:`WhatIfScreen`, off the GUI thread.

    ``replay(since, until, progress, cancel)`` is the replay; ``today()`` the local date the
    default period ends on.

    Signals:
        finished(object): the run ended: its :class:`WhatIfResult`, or the exception.
    """

    finished = Signal(object)

    def __init__(self, screen: WhatIfScreen, today: Callable[[], date],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.screen = screen
        self.today = today
        self.replay: Replay | None = None
        self.job: _Job | None = None
        self.draft_id: uuid.UUID | None = None
        self.edited: object = None
        screen.runRequested.connect(self.run)
        screen.cancelRequested.connect(self.cancel)

    @property
    def running(self) -> bool:
        return self.job is not None

    def open(self, draft_id: uuid.UUID, replay: Replay, title: str, subtitle: str, *,
             edited: object = None) -> None:
        """Show a draft's what-if (the last 30 days) without running it yet. The same
        draft, not edited since (``edited``: its last edit), keeps its run under way or its
        last figures."""
        if (self.draft_id == draft_id and self.edited == edited
                and (self.job is not None or self.screen.result is not None)):
            return
        self.edited = edited
        if self.job is not None:
            self.job.cancel.set()
        self.draft_id = draft_id
        self.replay = replay
        today = self.today()
        self.screen.show_draft(title, subtitle, today - timedelta(days=DEFAULT_DAYS), today)

    def run(self, since_text: str, until_text: str) -> None:
        if self.job is not None or self.replay is None:
            return
        errors: list[str] = []
        since = _day(since_text, "From", errors)
        until = _day(until_text, "To", errors)
        if since is not None and until is not None and until < since:
            errors.append(f"To ({until_text}) is before From ({since_text})")
        if errors:
            self.screen.show_error("; ".join(errors))
            return
        from monitor.service.whatif import period  # noqa: PLC0415 - with the screen

        since_at, until_at = period(since, until)
        job = _Job(self.replay, since_at, until_at, threading.Event(), self)
        job.draft_id = self.draft_id
        job.progressed.connect(self.screen.show_progress)
        job.done.connect(self._done)
        self.job = job
        self.screen.show_started()
        job.start()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel.set()
            self.screen.show_cancelling()

    def wait(self) -> None:
        """Stop a run and wait for its thread (the window closing)."""
        if self.job is not None:
            self.job.cancel.set()
            self.job.wait()

    def _done(self, result: object) -> None:
        job, self.job = self.job, None
        if job is not None:
            job.wait()
            job.deleteLater()
        if job is not None and job.draft_id != self.draft_id:
            self.screen.set_running(running=False)  # another draft was opened meanwhile
        elif isinstance(result, Exception):
            self.screen.show_error(f"The what-if did not finish: {result}")
        else:
            self.screen.show_result(result)  # type: ignore[arg-type]
        self.finished.emit(result)


def _day(text: str, name: str, errors: list[str]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(f"{name}: expected a date YYYY-MM-DD, got {text!r}")
        return None
