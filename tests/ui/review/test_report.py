"""The session report as a PDF and on a printer: the text a clinician reads (as poppler's
pdftotext extracts it), page numbers and the audit chain head in every footer, a chart drawn
as vector paths with no raster image, a two-hour session, A4 and Letter, and a clear refusal
of what cannot be written."""

from __future__ import annotations

import os
import pickle
import re
import shutil
import subprocess
import sys
import threading
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QMarginsF, QSizeF
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter
from PySide6.QtPrintSupport import QPrinter

from monitor.exports.report import build_report
from tests.conftest import TEST_PIN
from tests.monitor.exports.test_report import VOID_REASON, signed_session
from tests.ui.sessions import long_session
from ui.review.report import (
    MARGIN_MM,
    NEARLY_EMPTY,
    PDF_RESOLUTION,
    ReportWriter,
    _lay_out,
    _lay_out_spaced,
    print_session,
    write_session_pdf,
)

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="poppler-utils (pdftotext, pdfimages) not installed")

CHAIN_HEAD = "c0ffee" + "0123456789abcdef" * 3 + "01234567ab"
REPO = Path(__file__).resolve().parents[3]


def pdftotext(path: Path, *, first: int | None = None) -> str:
    """The PDF's text, or one page's."""
    pages = ["-f", str(first), "-l", str(first)] if first is not None else []
    command = ["pdftotext", *pages, str(path), "-"]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def page_count(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True,
                          text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def content_streams(path: Path) -> list[bytes]:
    """The PDF's streams that are page content (drawing operators), inflated."""
    found = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", path.read_bytes(), re.S):
        try:
            data = zlib.decompress(raw)
        except zlib.error:
            continue
        if b" cm\n" in data[:200]:
            found.append(data)
    return found


@pytest.fixture
def clinician(service):
    return service.ensure_staff("Cara Clinician", "clinician", pin=TEST_PIN)


@pytest.fixture
def view(service, clock, nurse, clinician):
    return service.load(signed_session(service, clock, nurse, clinician).session_id)


@pytest.fixture
def pdf(view, clock, tmp_path) -> Path:
    path = tmp_path / "report.pdf"
    write_session_pdf(view, path, generated_at=clock.now(), chain_head=CHAIN_HEAD)
    return path


def test_pdf_text_has_patient_values_flags_acknowledgements_and_sign_off(pdf):
    text = " ".join(pdftotext(pdf).split())
    for expected in ("Alex Example", "MRN-300", "1980-05-17", "LOT-7731", "Sam Driver",
                     "0.5 mg/kg × 70 kg = 35 mg", "186/112", "130/82", "WARNING",
                     "BP 186/112: systolic ≥ 180 and diastolic ≥",
                     "Cara Clinician: Assessed by clinician",
                     "modified Aldrete",
                     "adapted PADSS", "PHQ-9", "GAD-7", "Ondansetron 4 mg IV",
                     "Discharge signed at", "No driving"):
        assert expected in text, expected


def test_every_page_is_numbered_and_footed_with_the_chain_head(pdf):
    pages = page_count(pdf)
    assert pages >= 2
    text = pdftotext(pdf)
    for page in range(1, pages + 1):
        assert f"Page {page} of {pages}" in text
    assert text.count(f"audit chain head {CHAIN_HEAD}") == pages
    assert text.count("Generated 2026-") >= pages


def test_voided_value_is_in_the_pdf_marked_with_its_reason(pdf):
    text = " ".join(pdftotext(pdf).split())
    assert "96/58" in text
    assert "VOIDED" in text
    assert VOID_REASON in text
    assert "AMENDED" in text


def test_pdf_embeds_no_raster_image(pdf):
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], check=True,
                             capture_output=True, text=True).stdout.splitlines()
    assert len(listing) == 2  # the column titles and their rule only
    assert b"/Subtype /Image" not in pdf.read_bytes()


def test_chart_is_drawn_as_vector_paths_with_its_axis_labels_as_text(pdf):
    text = pdftotext(pdf)
    for label in ("mmHg · /min", "SpO2 %", "CADSS-6", "MOAA/S", "minutes since infusion start",
                  "SBP 180", "Escort"):
        assert label in text, label
    first_page, *later = content_streams(pdf)
    line_segments = first_page.count(b" l\n")
    # Markers, bars, the HR and SpO2 lines, limits and grid: thousands of segments on the
    # chart's page; a page of tables has a few.
    assert line_segments > 1000
    assert all(page.count(b" l\n") < line_segments / 10 for page in later)


def test_two_hour_session_renders(service, clock, nurse, tmp_path):
    view = service.load(long_session(service, clock, nurse))
    path = tmp_path / "long.pdf"
    write_session_pdf(view, path, generated_at=clock.now(), chain_head=CHAIN_HEAD)
    text = pdftotext(path)
    times = {f"{r.time:%H:%M}" for r in view.record.readings}
    assert len(times) == len(view.record.readings) > 25
    assert all(time in text for time in times)
    assert f"Page {page_count(path)} of {page_count(path)}" in text


def test_one_writer_reports_several_sessions_each_with_its_own_content(
        view, service, clock, nurse, tmp_path):
    other = service.load(long_session(service, clock, nurse))
    writer = ReportWriter()
    first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
    writer.write_pdf(view, first, generated_at=clock.now(), chain_head=CHAIN_HEAD)
    writer.write_pdf(other, second, generated_at=clock.now(), chain_head=CHAIN_HEAD)
    writer.close()
    assert "MRN-300" in pdftotext(first)
    assert "MRN-200" not in pdftotext(first)
    assert "MRN-200" in pdftotext(second)
    assert "MRN-300" not in pdftotext(second)
    assert content_streams(second)[0].count(b" l\n") > 1000


def test_no_table_row_is_split_across_pages(service, clock, nurse, tmp_path):
    patient = service.add_patient("MRN-400", by=nurse, name="Noa Notes")
    session_id = service.start_session(patient.id, by=nurse, chair="Chair 5")
    start = clock.now()
    notes = []
    for number in range(40):
        clock.set_wall(start + timedelta(minutes=3 * number))
        note = (f"Note {number:02d}: patient resting with eyes closed, says the music helps, "
                f"asked for a blanket, partner waiting outside, reading repeated once")
        notes.append(note)
        service.record_reading(session_id, {"sbp": 130, "dbp": 80, "hr": 70, "spo2": 98},
                               by=nurse, note=note)
    path = tmp_path / "notes.pdf"
    write_session_pdf(service.load(session_id), path, generated_at=clock.now(),
                      chain_head=CHAIN_HEAD)
    pages = [" ".join(pdftotext(path, first=page).split())
             for page in range(1, page_count(path) + 1)]
    assert len(pages) >= 3
    for note in notes:
        assert sum(note in page for page in pages) == 1, note


def test_a_nearly_empty_last_page_is_saved_by_tighter_spacing(view, clock, tmp_path):
    report = build_report(view, generated_at=clock.now(), chain_head=CHAIN_HEAD)
    writer = QPdfWriter(str(tmp_path / "layout.pdf"))
    writer.setResolution(PDF_RESOLUTION)
    width = 2000.0
    # A page height at which the usual spacing leaves a line or two alone on the last page.
    for height in range(1500, 3500, 25):
        page = QSizeF(width, height)
        usual, _chart = _lay_out_spaced(report, writer, page, css="")
        pages = usual.document.pageCount()
        last = usual.document.size().height() - (pages - 1) * height
        if pages > 1 and last < NEARLY_EMPTY * height / 2:
            break
    else:
        pytest.fail("no page height left a nearly empty last page")
    laid, _chart = _lay_out(report, writer, page)
    assert laid.document.pageCount() == pages - 1


def test_print_session_to_a_pdf_printer_writes_the_same_content(view, clock, pdf, tmp_path):
    printed = tmp_path / "printed.pdf"
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(printed))
    printer.setPageLayout(QPageLayout(
        QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
        QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM), QPageLayout.Unit.Millimeter))
    print_session(view, printer, generated_at=clock.now(), chain_head=CHAIN_HEAD)
    assert page_count(printed) == page_count(pdf)
    assert pdftotext(printed).split() == pdftotext(pdf).split()


def test_letter_pages_on_request(view, clock, tmp_path):
    path = tmp_path / "letter.pdf"
    write_session_pdf(view, path, generated_at=clock.now(), chain_head=CHAIN_HEAD,
                      page_size="Letter")
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True,
                          text=True).stdout
    assert "612 x 792 pts (letter)" in info
    assert "Alex Example" in pdftotext(path)


def test_unknown_page_size_is_refused_naming_the_accepted_ones(view, clock, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ValueError, match="Page size: 'A5' is not one of A4, Letter"):
        write_session_pdf(view, out / "x.pdf", generated_at=clock.now(),
                          chain_head=CHAIN_HEAD, page_size="A5")
    assert list(out.iterdir()) == []


def test_unwritable_path_raises_naming_it_and_leaves_no_file(view, clock, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    target = out / "missing" / "report.pdf"
    with pytest.raises(OSError, match="missing"):
        write_session_pdf(view, target, generated_at=clock.now(), chain_head=CHAIN_HEAD)
    assert list(out.iterdir()) == []


def test_writing_off_the_gui_thread_is_refused_not_crashed(view, clock, tmp_path):
    outcome = []

    def export() -> None:
        try:
            write_session_pdf(view, tmp_path / "thread.pdf", generated_at=clock.now(),
                              chain_head=CHAIN_HEAD)
        except RuntimeError as exc:
            outcome.append(str(exc))

    worker = threading.Thread(target=export)
    worker.start()
    worker.join(timeout=60)
    assert outcome == ["The PDF report draws the session chart, a widget: write it on the "
                       "application's main (GUI) thread"]
    assert not (tmp_path / "thread.pdf").exists()


def test_a_process_without_application_or_display_writes_the_pdf(view, clock, tmp_path):
    pickled = tmp_path / "view.pickle"
    pickled.write_bytes(pickle.dumps(view))
    out = tmp_path / "cli.pdf"
    script = (
        "import pickle, sys\n"
        "from pathlib import Path\n"
        "from PySide6.QtCore import QCoreApplication\n"
        "from ui.review.report import write_session_pdf\n"
        "assert QCoreApplication.instance() is None\n"
        f"view = pickle.loads(Path({str(pickled)!r}).read_bytes())\n"
        f"write_session_pdf(view, Path({str(out)!r}), generated_at=view.at, "
        f"chain_head={CHAIN_HEAD!r})\n"
    )
    env = {k: v for k, v in os.environ.items()
           if k not in {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"}}
    subprocess.run([sys.executable, "-c", script], check=True, cwd=REPO, env=env,
                   capture_output=True, timeout=120)
    assert "Alex Example" in pdftotext(out)
