"""Exports from the app: a session to a chosen file, a date range with progress and cancel,
and printing to a PDF-file printer."""

from __future__ import annotations

import json
import os
import stat
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QFileDialog

from monitor.exports.batch import BatchResult, session_csv
from tests.ui.conftest import settle
from tests.ui.review.test_session import replayed_session
from tests.ui.touch import small_touch_targets
from ui.common.theme import DIM
from ui.review.batch_export import BatchExportDialog, BatchPdfWriter
from ui.review.export import (
    BatchRequest,
    ExportDialog,
    SessionExporter,
    documents_folder,
)
from ui.review.session import SessionReviewScreen, replay_loader

TODAY = date(2026, 3, 2)


# -- one session ----------------------------------------------------------------------------


@pytest.fixture
def dialog(qtbot, tmp_path) -> ExportDialog:
    dialog = ExportDialog(DIM, folder=tmp_path, stem="MRN-555-20260302-0900", fmt="csv")
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_file_name_defaults_to_the_folder_mrn_and_date(dialog, tmp_path):
    assert dialog.path() == tmp_path / "MRN-555-20260302-0900.csv"
    assert dialog.fmt() == "csv"
    assert not dialog.isModal()


def test_choosing_a_format_changes_the_suffix(qtbot, dialog, tmp_path):
    qtbot.mouseClick(dialog.format_buttons["fhir"], Qt.MouseButton.LeftButton)
    assert dialog.path() == tmp_path / "MRN-555-20260302-0900.fhir.json"
    qtbot.mouseClick(dialog.format_buttons["pdf"], Qt.MouseButton.LeftButton)
    assert dialog.path() == tmp_path / "MRN-555-20260302-0900.pdf"


def test_export_asks_for_the_chosen_format_and_file(qtbot, dialog, tmp_path):
    with qtbot.waitSignal(dialog.exportRequested) as asked:
        assert dialog.export_to(tmp_path / "visit", "fhir")
    assert asked.args == ["fhir", tmp_path / "visit.fhir.json"]


def test_a_missing_folder_is_refused_with_the_field_named(qtbot, dialog, tmp_path):
    with qtbot.assertNotEmitted(dialog.exportRequested):
        assert not dialog.export_to(tmp_path / "nowhere" / "x.csv")
    assert dialog.message.text().startswith("NOT exported. File: the folder")


def test_choose_folder_does_not_block_and_replaces_the_folder(qtbot, dialog, tmp_path):
    picker = dialog.choose_folder()
    assert picker.isVisible()
    other = tmp_path / "other"
    other.mkdir()
    picker.fileSelected.emit(str(other))
    assert dialog.path() == other / "MRN-555-20260302-0900.csv"
    picker.reject()


@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
def test_the_folder_picker_is_the_apps_own_large_and_fingertip_sized(qtbot, dialog):
    picker = dialog.choose_folder()
    qtbot.waitExposed(picker)
    assert picker.testOption(QFileDialog.Option.DontUseNativeDialog)
    assert picker.width() >= 600
    assert picker.height() >= 480
    assert small_touch_targets(picker) == []
    picker.reject()


def test_a_new_folder_takes_the_old_folders_refusal_away(qtbot, dialog, tmp_path):
    assert not dialog.export_to(tmp_path / "nowhere" / "x.csv")
    picker = dialog.choose_folder()
    picker.fileSelected.emit(str(tmp_path))
    picker.reject()
    assert dialog.message.text() == ""


@pytest.fixture
def review(qtbot, service, clock, nurse, tmp_path, db_worker):
    """A session in the review, its reads and exports' audit entries on either worker."""
    built = replayed_session(service, clock, nurse)
    exporter = SessionExporter(service, clock, lambda: nurse)
    screen = SessionReviewScreen(DIM, replay_loader(service.loading), exporter=exporter,
                                 worker=db_worker)
    screen.export_folder = tmp_path
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    screen.open_session(built.session_id)
    settle(qtbot)
    return screen


def test_export_csv_writes_the_import_format(qtbot, review, tmp_path):
    dialog = review.open_export("csv")
    assert dialog.export_to()
    settle(qtbot)
    written = next(tmp_path.glob("*.csv"))
    assert written.name.endswith(f"_MRN-555_{review.session_id.hex[:8]}.csv")
    assert written.read_text(encoding="utf-8") == session_csv(review.full_view)
    assert dialog.message.text() == f"Exported to {written}"


def test_export_fhir_writes_a_bundle(qtbot, review, tmp_path):
    dialog = review.open_export("fhir")
    assert dialog.export_to(tmp_path / "bundle")
    settle(qtbot)
    bundle = json.loads((tmp_path / "bundle.fhir.json").read_text(encoding="utf-8"))
    assert bundle["resourceType"] == "Bundle"


def test_export_is_entered_in_the_audit_trail(qtbot, review, service, nurse):
    before = service.audit_head()
    review.open_export("csv").export_to()
    settle(qtbot)
    assert service.audit_head() != before


def test_export_pdf_writes_a_pdf(qtbot, review, tmp_path):
    dialog = review.open_export("pdf")
    assert dialog.export_to()
    settle(qtbot)
    written = next(tmp_path.glob("*.pdf"))
    assert written.read_bytes().startswith(b"%PDF")


def test_print_goes_to_a_pdf_file_printer(qtbot, review, tmp_path):
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    review.print_to(printer)
    settle(qtbot)
    assert (tmp_path / "printed.pdf").read_bytes().startswith(b"%PDF")


# -- batch ------------------------------------------------------------------------------------


class FakeBatch:
    """A batch of ``total`` sessions that reports progress after each and stops when told."""

    def __init__(self, total: int, on_step=None) -> None:
        self.total = total
        self.on_step = on_step
        self.requests: list[BatchRequest] = []
        self.exported = 0

    def __call__(self, request, progress, pdf_writer):
        self.requests.append(request)
        result = BatchResult(total=self.total)
        for done in range(1, self.total + 1):
            self.exported = result.done = done
            if self.on_step is not None:
                self.on_step(done)
            if not progress(done, self.total):
                result.cancelled = True
                break
        return result


def run_now(job):
    job()


def batch_dialog(qtbot, batch, tmp_path, runner=run_now) -> BatchExportDialog:
    dialog = BatchExportDialog(DIM, batch, folder=tmp_path, today=TODAY, runner=runner)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_batch_export_forwards_the_range_formats_and_folder(qtbot, tmp_path):
    batch = FakeBatch(3)
    dialog = batch_dialog(qtbot, batch, tmp_path)
    dialog.date_from.setDate(QDate(2026, 2, 1))
    qtbot.mouseClick(dialog.format_buttons["pdf"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert batch.requests == [BatchRequest(date(2026, 2, 1), TODAY, ("pdf", "csv", "fhir"),
                                           tmp_path)]


def test_batch_export_shows_progress_to_the_end(qtbot, tmp_path):
    batch = FakeBatch(4)
    dialog = batch_dialog(qtbot, batch, tmp_path)
    steps = []
    dialog.progressed.connect(lambda done, total: steps.append((done, total)))
    assert dialog.start()
    assert steps == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert (dialog.bar.value(), dialog.bar.maximum()) == (4, 4)
    assert dialog.status.text() == f"Done: 4 sessions exported to {tmp_path}."
    assert dialog.result.done == 4
    assert not dialog.running


def test_cancel_stops_the_batch_after_the_session_in_hand(qtbot, tmp_path):
    dialog: BatchExportDialog | None = None

    def cancel_at_two(done):
        if done == 2:
            assert dialog is not None
            qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)

    batch = FakeBatch(10, on_step=cancel_at_two)
    dialog = batch_dialog(qtbot, batch, tmp_path)
    dialog.start()
    assert batch.exported == 2
    assert dialog.status.text() == f"Cancelled: 2 of 10 sessions exported to {tmp_path}."
    assert dialog.cancel_button.text() == "Close"


def test_batch_runs_on_a_worker_thread_and_reports_back(qtbot, tmp_path):
    batch = FakeBatch(5)
    dialog = batch_dialog(qtbot, batch, tmp_path, runner=None)
    with qtbot.waitSignal(dialog.exportFinished, timeout=10_000) as finished:
        dialog.start()
    assert finished.args[0].done == 5
    qtbot.waitUntil(lambda: not dialog.running)
    assert dialog.bar.value() == 5


def test_an_end_date_before_the_start_is_refused(qtbot, tmp_path):
    batch = FakeBatch(1)
    dialog = batch_dialog(qtbot, batch, tmp_path)
    dialog.date_to.setDate(QDate(2026, 3, 1))
    assert not dialog.start()
    assert dialog.status.text() == "NOT started. To: must be on or after From (2026-03-02)."
    assert batch.requests == []


def test_a_new_batch_folder_takes_the_old_folders_refusal_away(qtbot, tmp_path):
    dialog = batch_dialog(qtbot, FakeBatch(1), tmp_path)
    dialog.folder.setText(str(tmp_path / "nowhere"))
    assert not dialog.start()
    assert dialog.status.text().startswith("NOT started. Folder:")
    dialog.folder.setText(str(tmp_path))
    assert dialog.status.text() == ""


def test_a_failed_batch_says_why(qtbot, tmp_path):
    def failing(request, progress, pdf_writer):
        raise OSError("disk full")

    dialog = batch_dialog(qtbot, failing, tmp_path)
    dialog.start()
    assert dialog.status.text() == "Export stopped: disk full"


def test_real_batch_export_writes_the_days_sessions(qtbot, service, clock, nurse, tmp_path):
    built = replayed_session(service, clock, nurse)
    exporter = SessionExporter(service, clock, lambda: nurse)
    day = built.checked_in.astimezone().date()
    out = tmp_path / "out"
    out.mkdir()
    dialog = BatchExportDialog(DIM, exporter.batch, folder=out, today=day, runner=run_now)
    qtbot.addWidget(dialog)
    assert dialog.start()
    assert dialog.status.text() == f"Done: 1 session exported to {out}."
    assert sorted(p.name.split(".", 1)[1] for p in out.iterdir()) == ["csv", "fhir.json"]


def test_real_batch_with_pdfs_on_a_worker_thread(qtbot, service, clock, nurse, tmp_path):
    built = replayed_session(service, clock, nurse)
    exporter = SessionExporter(service, clock, lambda: nurse)
    day = built.checked_in.astimezone().date()
    dialog = BatchExportDialog(DIM, exporter.batch, folder=tmp_path, today=day,
                               pdf_writer=BatchPdfWriter(clock))
    qtbot.addWidget(dialog)
    dialog.format_buttons["pdf"].setChecked(True)
    with qtbot.waitSignal(dialog.exportFinished, timeout=30_000):
        assert dialog.start()
    qtbot.waitUntil(lambda: not dialog.running)
    assert dialog.result.done == 1
    pdf = next(tmp_path.glob("*.pdf"))
    assert pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)])
def test_dialog_touch_targets_are_large_enough(qtbot, tmp_path, size):
    export = ExportDialog(DIM, folder=tmp_path, stem="x")
    batch = BatchExportDialog(DIM, FakeBatch(1), folder=tmp_path, today=TODAY)
    for dialog in (export, batch):
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        assert dialog.width() <= size[0]
        assert small_touch_targets(dialog) == []


def test_a_fresh_account_gets_its_documents_folder_made_for_the_first_export(
    tmp_path, monkeypatch
):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    folder = documents_folder()
    assert folder == home / "Documents"
    assert folder.is_dir()
    if os.name == "posix":
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_the_done_message_names_the_file_in_full(qtbot, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    dialog = ExportDialog(DIM, folder=Path(), stem="x")
    qtbot.addWidget(dialog)
    dialog.show_done(Path("x.pdf"))
    assert dialog.message.text() == f"Exported to {tmp_path / 'x.pdf'}"


def test_documents_folder_is_the_default_export_place(qtbot, service):
    screen = SessionReviewScreen(DIM, replay_loader(service.loading))
    qtbot.addWidget(screen)
    assert isinstance(screen.export_folder, Path)
