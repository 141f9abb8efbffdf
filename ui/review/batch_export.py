"""Every session of a date range exported to a folder, with progress and Cancel.

:class:`BatchExportDialog` runs :func:`monitor.exports.batch.batch_export` (through
:meth:`ui.review.export.SessionExporter.batch`) and shows its progress. The export runs on a
worker thread (the ``runner``) so that the window stays responsive; the progress callback
hands each step to the dialog by a queued signal and answers "go on" until Cancel is tapped.
A PDF is drawn on the GUI thread (Qt widgets live there), the worker waiting for it
(:class:`BatchPdfWriter` draws them all on one report writer). Tests pass a runner that runs
the job at once on the calling thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QDate, QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QDateEdit,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from monitor.clock import Clock
from ui.common.style import TouchButton
from ui.common.theme import TEXT_PX, TOUCH_MIN, Theme
from ui.review.export import (
    FORMATS,
    BatchRequest,
    choice_button,
    folder_picker,
    message_label,
)
from ui.review.search import touch_calendar

if TYPE_CHECKING:

    from monitor.service.views import SessionView
    from ui.review.report import ReportWriter


class BatchPdfWriter:
    """A batch's PDF reports, all drawn on one report writer (building its chart costs more
    than a report). Called on the GUI thread; :meth:`close` when the batch has ended."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._writer: ReportWriter | None = None

    def __call__(self, view: SessionView, path: Path, chain_head: str) -> None:
        if self._writer is None:
            from ui.review.report import ReportWriter  # noqa: PLC0415 - loads the report's Qt

            self._writer = ReportWriter()
        self._writer.write_pdf(view, path, generated_at=self.clock.now(), chain_head=chain_head)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


#: Runs a job (a function of no arguments) away from the GUI thread, or at once in tests.
Runner = Callable[[Callable[[], None]], None]


class _Worker(QThread):
    """Runs one job on its own thread."""

    def __init__(self, job: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job = job

    def run(self) -> None:
        self._job()


class _GuiCall(QObject):
    """Runs a function on the GUI thread for a worker, which waits until it is done."""

    call = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.call.connect(self._run, Qt.ConnectionType.BlockingQueuedConnection)
        self._error: BaseException | None = None

    @Slot(object)
    def _run(self, function: Callable[[], None]) -> None:
        try:
            function()
        except Exception as exc:  # noqa: BLE001 - handed back to the waiting worker
            self._error = exc

    def run(self, function: Callable[[], None]) -> None:
        if QThread.currentThread() is self.thread():
            function()
            return
        self._error = None
        self.call.emit(function)
        if self._error is not None:
            raise self._error


class BatchExportDialog(QDialog):
    """Export every session of a date range, with progress and Cancel.

    ``batch(request, progress, pdf_writer)`` runs the export (``SessionExporter.batch`` in
    the app) and calls ``progress(done, total)`` after each session; returning False stops
    it. ``runner`` starts the job (a worker thread unless given).

    Signals:
        progressed(int, int): sessions done and the total, after each session.
        finished(object): the export ended: the batch result, or the exception.
    """

    progressed = Signal(int, int)
    exportFinished = Signal(object)

    def __init__(self, theme: Theme, batch: Callable[..., Any], *, folder: Path, today: date,
                 pdf_writer: Callable[..., None] | None = None, runner: Runner | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.setWindowTitle("Batch export")
        self.setModal(False)
        self._batch = batch
        self._runner = runner or self._thread_runner
        self._pdf_writer = pdf_writer
        self._gui = _GuiCall(self)
        self._cancel = threading.Event()
        self._worker: _Worker | None = None
        self.running = False
        self.result: Any = None
        self.picker: QFileDialog | None = None

        title = QLabel("Export sessions of a date range")
        title.setStyleSheet(f"font-size: {TEXT_PX + 4}px; font-weight: bold;")
        self.date_from = self._date(today, "batch-from")
        self.date_to = self._date(today, "batch-to")
        dates = QHBoxLayout()
        dates.addWidget(QLabel("From"))
        dates.addWidget(self.date_from)
        dates.addWidget(QLabel("To"))
        dates.addWidget(self.date_to)
        dates.addStretch(1)
        self.format_buttons: dict[str, QPushButton] = {}
        formats = QHBoxLayout()
        for key, (_, text) in FORMATS.items():
            button = choice_button(text, f"batch-format-{key}")
            button.setChecked(key != "pdf")
            self.format_buttons[key] = button
            formats.addWidget(button)
        self.folder = QLineEdit(str(folder))
        self.folder.setObjectName("batch-folder")
        self.folder.setMinimumHeight(TOUCH_MIN + 8)
        self.folder.setMinimumWidth(440)
        self.folder.textChanged.connect(self._folder_changed)
        self._status_is_error = False
        self.folder_button = TouchButton("Choose folder…")
        self.folder_button.setObjectName("batch-choose-folder")
        self.folder_button.clicked.connect(self.choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.folder_button)

        self.bar = QProgressBar()
        self.bar.setObjectName("batch-progress")
        self.bar.setMinimumHeight(TOUCH_MIN - 8)
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.status = message_label()
        self.status.setObjectName("batch-status")
        self.start_button = TouchButton("Export", min_size=140)
        self.start_button.setObjectName("batch-start")
        self.start_button.setProperty("primary", True)
        self.start_button.clicked.connect(lambda _checked=False: self.start())
        self.cancel_button = TouchButton("Cancel", min_size=120)
        self.cancel_button.setObjectName("batch-cancel")
        self.cancel_button.clicked.connect(self.cancel)
        footer = QHBoxLayout()
        footer.addStretch(1)
        footer.addWidget(self.cancel_button)
        footer.addWidget(self.start_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addLayout(dates)
        layout.addWidget(QLabel("Formats"))
        layout.addLayout(formats)
        layout.addWidget(QLabel("Folder"))
        layout.addLayout(folder_row)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addLayout(footer)
        self.progressed.connect(self._show_progress)
        self.exportFinished.connect(self._show_finished)

    @staticmethod
    def _date(today: date, name: str) -> QDateEdit:
        field = QDateEdit(QDate(today.year, today.month, today.day))
        field.setObjectName(name)
        field.setCalendarPopup(True)
        field.setDisplayFormat("yyyy-MM-dd")
        field.setMinimumHeight(TOUCH_MIN + 8)
        field.setMinimumWidth(180)
        touch_calendar(field)
        return field

    def request(self) -> BatchRequest | str:
        """The export the fields describe, or what is wrong with them."""
        date_from = cast(date, self.date_from.date().toPython())
        date_to = cast(date, self.date_to.date().toPython())
        if date_to < date_from:
            return f"To: must be on or after From ({date_from:%Y-%m-%d})."
        formats = tuple(k for k, b in self.format_buttons.items() if b.isChecked())
        if not formats:
            return "Formats: choose at least one of PDF, CSV, FHIR."
        folder = Path(self.folder.text().strip()).expanduser()
        if not self.folder.text().strip() or not folder.is_dir():
            return f"Folder: {folder} does not exist; choose an existing folder."
        return BatchRequest(date_from, date_to, formats, folder)

    def choose_folder(self) -> QFileDialog:
        if self.picker is not None:
            self.picker.deleteLater()
        picker = folder_picker(self, self.folder.text())
        picker.fileSelected.connect(
            lambda folder: self.folder.setText(folder) if folder else None)
        self.picker = picker
        picker.open()
        return picker

    def start(self) -> bool:
        """Start the export the fields describe; refused (with the reason) if they are
        incomplete or an export is running."""
        if self.running:
            return False
        request = self.request()
        if isinstance(request, str):
            self._say(f"NOT started. {request}", error=True)
            return False
        self._cancel.clear()
        self.running = True
        self.result = None
        self.start_button.setEnabled(False)
        self.cancel_button.setText("Cancel export")
        self.bar.setRange(0, 0)
        self._say("Starting…")
        pdf_writer = self._on_gui_thread(self._pdf_writer) if self._pdf_writer else None

        def job() -> None:
            try:
                result: Any = self._batch(request, self._progress, pdf_writer)
            except Exception as exc:  # noqa: BLE001 - reported to the user, not lost
                result = exc
            self.exportFinished.emit(result)

        self._runner(job)
        return True

    def cancel(self) -> None:
        """Stop a running export after the session in hand; close when none runs."""
        if self.running:
            self._cancel.set()
            self.cancel_button.setEnabled(False)
            self._say("Cancelling after the current session…")
        else:
            self.reject()

    def _progress(self, done: int, total: int) -> bool:
        self.progressed.emit(done, total)
        return not self._cancel.is_set()

    def _on_gui_thread(self, writer: Callable[..., None]) -> Callable[..., None]:
        def run(*args: Any, **kwargs: Any) -> None:
            self._gui.run(lambda: writer(*args, **kwargs))

        return run

    def _thread_runner(self, job: Callable[[], None]) -> None:
        worker = _Worker(job, self)
        self._worker = worker
        worker.start()

    def _show_progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        if not self._cancel.is_set():
            self._say(f"{done} of {total} sessions exported")

    def _show_finished(self, result: object) -> None:
        close = getattr(self._pdf_writer, "close", None)
        if close is not None:
            close()
        if self._worker is not None:
            self._worker.wait()
            self._worker.deleteLater()
            self._worker = None
        self.running = False
        self.result = result
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Close")
        if isinstance(result, BaseException):
            self.bar.setRange(0, 1)
            self._say(f"Export stopped: {result}", error=True)
            return
        done = getattr(result, "done", self.bar.value())
        total = getattr(result, "total", self.bar.maximum())
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done if total else 1)
        noun = "session" if total == 1 else "sessions"
        if self._cancel.is_set() or getattr(result, "cancelled", False):
            self._say(f"Cancelled: {done} of {total} {noun} exported to {self.folder.text()}.")
        elif not total:
            self._say("No sessions in these dates; nothing was exported.")
        else:
            self._say(f"Done: {done} {noun} exported to {self.folder.text()}.")

    def _folder_changed(self) -> None:
        """A refusal of the old folder does not stay beside a new one."""
        if self._status_is_error and not self.running:
            self._say("")

    def _say(self, text: str, *, error: bool = False) -> None:
        self._status_is_error = error
        self.status.setText(text)
        colour = self.theme.critical if error else self.theme.text
        self.status.setStyleSheet(f"color: {colour};" + (" font-weight: bold;" if error else ""))

    def done(self, code: int) -> None:
        # Closing while an export runs cancels it; the window stays until it has stopped,
        # so the worker never outlives it.
        if self.running:
            self.cancel()
            return
        super().done(code)
