"""Exports from the app: one session to a file, many sessions to a folder, and printing.

:class:`SessionExporter` joins what the core and the report module produce to the files the
user chose: CSV and FHIR text come from :mod:`monitor.exports.batch`, the PDF from
:mod:`ui.review.report`; every export is entered in the audit trail first
(``ClinicService.record_export``), and the PDF and printout carry the audit chain head it
returns.

:class:`ExportDialog` asks where one session goes (format and file name, in the documents
folder by default). It is non-modal and never blocks: :meth:`ExportDialog.export_to` is what
the "Export" button calls, and what tests call.

:class:`BatchExportDialog` exports every session of a date range to a folder with
:func:`monitor.exports.batch.batch_export`, showing its progress and a Cancel button. The export
runs on a worker thread (the ``runner``) so that the window stays responsive; the progress
callback hands each step to the dialog by a queued signal and answers "go on" until Cancel
is tapped. A PDF is drawn on the GUI thread (Qt widgets live there), the worker waiting for
it. Tests pass a runner that runs the job at once on the calling thread.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, QObject, QStandardPaths, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
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
from monitor.exports.batch import (
    BatchResult,
    batch_export,
    export_text,
    file_name,
    write_atomically,
)
from monitor.storage.private_files import usable_folder
from ui.common.style import TouchButton
from ui.common.theme import TEXT_PX, TOUCH_MIN, Theme
from ui.review.search import touch_calendar

if TYPE_CHECKING:
    from PySide6.QtPrintSupport import QPrinter

    from monitor.service.clinic import ClinicService
    from monitor.service.views import SessionView
    from ui.review.report import ReportWriter

#: Formats a session exports to, with the file suffix each gets and the button text.
FORMATS: dict[str, tuple[str, str]] = {
    "pdf": (".pdf", "PDF report"),
    "csv": (".csv", "CSV"),
    "fhir": (".fhir.json", "FHIR R4 JSON"),
}
CHOICE_MIN_PX = 56


def documents_folder() -> Path:
    """The user's documents folder, where exports go unless another folder is chosen.

    Created (owner only) when missing, as on a fresh account; if it cannot be, the home
    folder (or, failing that, the temporary folder) is used. The dialogs show the path.
    """
    location = QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.DocumentsLocation)
    return usable_folder([Path(location) if location else None, Path.home()])


def export_stem(view: SessionView) -> str:
    """The file name a session exports to, without its suffix: the batch export's
    ``YYYY-MM-DD_MRN_sessionid8``, so that a file names its session the same either way."""
    return file_name(view, "csv").removesuffix(FORMATS["csv"][0])


def with_suffix(path: Path, fmt: str) -> Path:
    """``path`` ending in the format's suffix (added when missing)."""
    suffix = FORMATS[fmt][0]
    return path if path.name.lower().endswith(suffix) else path.with_name(path.name + suffix)


@dataclass(frozen=True)
class BatchRequest:
    date_from: date
    date_to: date
    formats: tuple[str, ...]
    out_dir: Path


class SessionExporter:
    """Writes one session, or a date range of sessions, to files; prints a session.

    Every export is audited first: the file carries the chain head the audit returned.
    ``staff`` gives the id of whoever is using the app at the moment of the export.
    """

    def __init__(self, service: ClinicService, clock: Clock,
                 staff: Callable[[], uuid.UUID | None]) -> None:
        self.service = service
        self.clock = clock
        self.staff = staff

    def _by(self) -> uuid.UUID:
        by = self.staff()
        if by is None:
            raise PermissionError("Sign in before exporting")
        return by

    def _audit(self, session_id: uuid.UUID, fmt: str) -> str:
        return self.service.record_export(session_id, fmt, by=self._by())

    def write(self, view: SessionView, fmt: str, path: Path) -> Path:
        """Write ``view`` (the whole session) as ``fmt`` to ``path``; returns the path.

        The file appears only when complete (written under a temporary name first)."""
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        path = with_suffix(path, fmt)
        head = self._audit(view.info.id, fmt)
        if fmt == "pdf":
            write_atomically(path, lambda tmp: self.write_pdf(view, tmp, head))
        else:
            text = export_text(view, fmt)
            write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        return path

    def write_pdf(self, view: SessionView, path: Path, chain_head: str) -> None:
        """The PDF report of ``view`` (already audited) with the audit chain head on it
        (on the GUI thread: the report draws the chart, a widget)."""
        from ui.review.report import write_session_pdf  # noqa: PLC0415 - loads the report's Qt

        write_session_pdf(view, path, generated_at=self.clock.now(), chain_head=chain_head)

    def print(self, view: SessionView, printer: QPrinter) -> None:
        """Print ``view`` on ``printer`` (a real printer, or a PDF file in tests)."""
        from ui.review.report import print_session  # noqa: PLC0415 - loads the report's Qt

        head = self._audit(view.info.id, "print")
        print_session(view, printer, generated_at=self.clock.now(), chain_head=head)

    def batch(self, request: BatchRequest, progress: Callable[[int, int], bool],
              pdf_writer: Callable[[SessionView, Path, str], None] | None = None,
              ) -> BatchResult:
        """:func:`monitor.exports.batch.batch_export` of ``request``, as the user in the app."""
        return batch_export(self.service, request.date_from, request.date_to,
                            list(request.formats), request.out_dir, by=self._by(),
                            pdf_writer=pdf_writer, progress=progress)


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


#: The folder picker on a touch screen: Qt's own dialog (the platform's is sized for a
#: mouse), large, with fingertip rows, fields and buttons.
PICKER_SIZE = (960, 680)
PICKER_STYLE = (
    f"QPushButton, QToolButton {{ min-height: {TOUCH_MIN}px; min-width: {TOUCH_MIN}px; }}"
    f" QLineEdit, QComboBox {{ min-height: {TOUCH_MIN}px; }}"
    " QListView::item, QTreeView::item { min-height: 44px; }"
    f" QFileDialog {{ font-size: {TEXT_PX}px; }}"
)


def folder_picker(parent: QWidget, start: str) -> QFileDialog:
    """A folder picker a fingertip can use, opening at ``start`` (not yet shown)."""
    picker = QFileDialog(parent, "Export to folder", start)
    picker.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    picker.setFileMode(QFileDialog.FileMode.Directory)
    picker.setOption(QFileDialog.Option.ShowDirsOnly, True)
    picker.setStyleSheet(PICKER_STYLE)
    # As large as the app's main window allows (the export dialog itself is small).
    outer = parent
    while outer.parentWidget() is not None:
        outer = outer.parentWidget()
    window = outer.window().size()
    picker.resize(max(min(PICKER_SIZE[0], window.width() - 40), 600),
                  max(min(PICKER_SIZE[1], window.height() - 40), 480))
    return picker


def _choice(text: str, name: str) -> QPushButton:
    button = TouchButton(text, min_height=CHOICE_MIN_PX)
    button.setObjectName(name)
    button.setCheckable(True)
    button.setProperty("segment", True)
    return button


def _message_label() -> QLabel:
    label = QLabel()
    label.setObjectName("export-message")
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class ExportDialog(QDialog):
    """Where one session is exported: the format and the file.

    The file name starts as the session's MRN and date in ``folder`` (the documents folder
    in the app); "Choose folder…" opens a folder picker without blocking.

    Signals:
        exportRequested(str, object): the format ("pdf" | "csv" | "fhir") and the file
            (``Path``), once "Export" is tapped with a usable file name.
    """

    exportRequested = Signal(str, object)

    def __init__(self, theme: Theme, *, folder: Path, stem: str, fmt: str = "pdf",
                 formats: Sequence[str] = tuple(FORMATS), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.setWindowTitle("Export session")
        self.setModal(False)
        self._stem = stem
        self.picker: QFileDialog | None = None

        title = QLabel("Export this session")
        title.setStyleSheet(f"font-size: {TEXT_PX + 4}px; font-weight: bold;")
        self.choices = QButtonGroup(self)
        self.choices.setExclusive(True)
        self.format_buttons: dict[str, QPushButton] = {}
        choice_row = QHBoxLayout()
        for key in formats:
            button = _choice(FORMATS[key][1], f"format-{key}")
            self.choices.addButton(button)
            self.format_buttons[key] = button
            choice_row.addWidget(button)
            button.toggled.connect(lambda on, k=key: on and self._format_chosen(k))
        self.file = QLineEdit(str(folder / (stem + FORMATS[fmt][0])))
        self.file.setObjectName("export-file")
        self.file.setMinimumHeight(TOUCH_MIN + 8)
        self.file.setMinimumWidth(520)
        # A refusal speaks of the file as it was: a new file or folder makes it stale.
        self.file.textChanged.connect(self._file_changed)
        self.folder_button = TouchButton("Choose folder…")
        self.folder_button.setObjectName("choose-folder")
        self.folder_button.clicked.connect(self.choose_folder)
        file_row = QHBoxLayout()
        file_row.addWidget(self.file, 1)
        file_row.addWidget(self.folder_button)
        self.message = _message_label()
        self.export_button = TouchButton("Export", min_size=140)
        self.export_button.setObjectName("export")
        self.export_button.setProperty("primary", True)
        self.export_button.clicked.connect(lambda _checked=False: self.export_to())
        self.close_button = TouchButton("Close", min_size=120)
        self.close_button.setObjectName("close")
        self.close_button.clicked.connect(self.reject)
        footer = QHBoxLayout()
        footer.addStretch(1)
        footer.addWidget(self.close_button)
        footer.addWidget(self.export_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(QLabel("Format"))
        layout.addLayout(choice_row)
        layout.addWidget(QLabel("File"))
        layout.addLayout(file_row)
        layout.addWidget(self.message)
        layout.addLayout(footer)
        self.format_buttons[fmt].setChecked(True)

    def fmt(self) -> str:
        return next(k for k, b in self.format_buttons.items() if b.isChecked())

    def path(self) -> Path:
        return Path(self.file.text().strip()).expanduser()

    def _format_chosen(self, fmt: str) -> None:
        """A new format renames the file to its suffix (the folder and name stay)."""
        current = self.path()
        name = current.name
        for suffix, _ in FORMATS.values():
            if name.lower().endswith(suffix):
                name = name[: -len(suffix)]
                break
        self.file.setText(str(current.with_name((name or self._stem) + FORMATS[fmt][0])))
        self.message.clear()

    def _file_changed(self) -> None:
        if self.message.property("role") == "error":
            self.message.setProperty("role", None)
            self.message.clear()

    def choose_folder(self) -> QFileDialog:
        """Open a folder picker (not blocking); the chosen folder replaces the file's."""
        if self.picker is not None:
            self.picker.deleteLater()
        picker = folder_picker(self, str(self.path().parent))
        picker.fileSelected.connect(self.set_folder)
        self.picker = picker
        picker.open()
        return picker

    def set_folder(self, folder: str) -> None:
        if folder:
            self.file.setText(str(Path(folder) / self.path().name))

    def export_to(self, path: Path | None = None, fmt: str | None = None) -> bool:
        """Ask for the export to ``path`` (default: the file field) as ``fmt`` (default:
        the chosen format). A missing folder or name is refused with a message."""
        if fmt is not None:
            self.format_buttons[fmt].setChecked(True)
        if path is not None:
            self.file.setText(str(path))
        target = self.path()
        if not self.file.text().strip() or not target.name:
            self.show_error("File: enter a file name.")
            return False
        if not target.parent.is_dir():
            self.show_error(f"File: the folder {target.parent} does not exist; "
                            "choose an existing folder.")
            return False
        self.exportRequested.emit(self.fmt(), with_suffix(target, self.fmt()))
        return True

    def show_error(self, text: str) -> None:
        self.message.setProperty("role", "error")
        self.message.setText(f"NOT exported. {text}")
        self.message.setStyleSheet(f"color: {self.theme.critical}; font-weight: bold;")

    def show_done(self, path: Path) -> None:
        self.message.setText(f"Exported to {path.absolute()}")
        self.message.setStyleSheet(f"color: {self.theme.text};")


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
            button = _choice(text, f"batch-format-{key}")
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
        self.status = _message_label()
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
        date_from, date_to = self.date_from.date().toPython(), self.date_to.date().toPython()
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
        picker.fileSelected.connect(lambda folder: folder and self.folder.setText(folder))
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
