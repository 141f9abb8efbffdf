"""Exports from the app: one session to a file, many sessions to a folder, and printing.

:class:`SessionExporter` joins what the core and the report module produce to the files the
user chose: CSV and FHIR text come from :mod:`monitor.exports.batch`, the PDF from
:mod:`ui.review.report`; every export is entered in the audit trail first
(``ClinicService.record_export``), and the PDF and printout carry the audit chain head it
returns.

:class:`ExportDialog` asks where one session goes (format and file name, in the documents
folder by default). It is non-modal and never blocks: :meth:`ExportDialog.export_to` is what
the "Export" button calls, and what tests call.

Many sessions to a folder: :mod:`ui.review.batch_export`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QStandardPaths, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
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

if TYPE_CHECKING:
    from PySide6.QtPrintSupport import QPrinter

    from monitor.service.clinic import ClinicService
    from monitor.service.views import SessionView

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

    def audit(self, view: SessionView, fmt: str) -> str:
        """Enter the export of ``view`` as ``fmt`` (or its printing, "print") in the audit
        trail; returns the chain head
        the file carries (a database write: on the worker, before :meth:`write_audited`)."""
        if fmt not in (*FORMATS, "print"):
            raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        return self._audit(view.info.id, fmt)

    def write_audited(self, view: SessionView, fmt: str, path: Path, head: str) -> Path:
        """Write ``view`` as ``fmt`` to ``path`` with the audit chain head ``head`` (from
        :meth:`audit`); returns the path. The file appears only when complete."""
        path = with_suffix(path, fmt)
        if fmt == "pdf":
            write_atomically(path, lambda tmp: self.write_pdf(view, tmp, head))
        else:
            text = export_text(view, fmt)
            write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        return path

    def write(self, view: SessionView, fmt: str, path: Path) -> Path:
        """Write ``view`` (the whole session) as ``fmt`` to ``path``; returns the path.

        The file appears only when complete (written under a temporary name first)."""
        return self.write_audited(view, fmt, path, self.audit(view, fmt))

    def write_pdf(self, view: SessionView, path: Path, chain_head: str) -> None:
        """The PDF report of ``view`` (already audited) with the audit chain head on it
        (on the GUI thread: the report draws the chart, a widget)."""
        from ui.review.report import write_session_pdf  # noqa: PLC0415 - loads the report's Qt

        write_session_pdf(view, path, generated_at=self.clock.now(), chain_head=chain_head)

    def print(self, view: SessionView, printer: QPrinter) -> None:
        """Print ``view`` on ``printer`` (a real printer, or a PDF file in tests)."""
        self.print_audited(view, printer, self._audit(view.info.id, "print"))

    def print_audited(self, view: SessionView, printer: QPrinter, head: str) -> None:
        """Print ``view`` with the audit chain head ``head`` (from :meth:`audit`)."""
        from ui.review.report import print_session  # noqa: PLC0415 - loads the report's Qt

        print_session(view, printer, generated_at=self.clock.now(), chain_head=head)

    def batch(self, request: BatchRequest, progress: Callable[[int, int], bool],
              pdf_writer: Callable[[SessionView, Path, str], None] | None = None,
              ) -> BatchResult:
        """:func:`monitor.exports.batch.batch_export` of ``request``, as the user in the app."""
        return batch_export(self.service, request.date_from, request.date_to,
                            list(request.formats), request.out_dir, by=self._by(),
                            pdf_writer=pdf_writer, progress=progress)


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
    while (above := outer.parentWidget()) is not None:
        outer = above
    window = outer.window().size()
    picker.resize(max(min(PICKER_SIZE[0], window.width() - 40), 600),
                  max(min(PICKER_SIZE[1], window.height() - 40), 480))
    return picker


def choice_button(text: str, name: str) -> QPushButton:
    button = TouchButton(text, min_height=CHOICE_MIN_PX)
    button.setObjectName(name)
    button.setCheckable(True)
    button.setProperty("segment", True)
    return button


def message_label() -> QLabel:
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
            button = choice_button(FORMATS[key][1], f"format-{key}")
            self.choices.addButton(button)
            self.format_buttons[key] = button
            choice_row.addWidget(button)
            button.toggled.connect(lambda on, k=key: self._format_chosen(k) if on else None)
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
        self.message = message_label()
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

    def show_progress(self, text: str) -> None:
        self.message.setProperty("role", None)
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {self.theme.text};")

    def show_error(self, text: str) -> None:
        self.message.setProperty("role", "error")
        self.message.setText(f"NOT exported. {text}")
        self.message.setStyleSheet(f"color: {self.theme.critical}; font-weight: bold;")

    def show_done(self, path: Path) -> None:
        self.message.setText(f"Exported to {path.absolute()}")
        self.message.setStyleSheet(f"color: {self.theme.text};")
