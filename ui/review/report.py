"""The session report on paper: a PDF file or a printer, with the chart drawn as vectors.

:func:`write_session_pdf` and :func:`print_session` lay out what
:func:`monitor.exports.report.build_report` says — header, chart, readings, flags, scores, events,
corrections, discharge, instructions — with a :class:`QTextDocument` cut into pages, each
page footed with the patient, "Page i of n", the time the report was made and the audit
chain head. Pages never split a table row or a short paragraph, nor leave a heading at the
foot of a page; a table carried over repeats its head.

The chart (:class:`ui.review.print_chart.PrintChart`) is the session screen's own, drawn as
vectors; an empty frame of its size keeps its place in the text, and it is drawn over that
frame.

No display is needed: without an application one is made on the offscreen platform.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QMarginsF, QRectF, QSizeF, Qt, QThread
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QFont,
    QFontMetricsF,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPalette,
    QPdfWriter,
    QTextCursor,
    QTextDocument,
    QTextFormat,
    QTextFrame,
    QTextFrameFormat,
    QTextTable,
)
from PySide6.QtWidgets import QApplication

from monitor.exports.report import build_report
from monitor.exports.report_blocks import (
    Block,
    ChartPlace,
    Fields,
    Paragraph,
    Row,
    SessionReport,
    Table,
)
from ui.review.print_chart import PrintChart

if TYPE_CHECKING:
    from PySide6.QtPrintSupport import QPrinter

    from monitor.service.views import SessionView

PAGE_SIZES: dict[str, QPageSize.PageSizeId] = {
    "A4": QPageSize.PageSizeId.A4,
    "Letter": QPageSize.PageSizeId.Letter,
}
#: Dots per inch of the page's coordinates, on a PDF and (as near as it can) on a printer.
#: The drawing stays vector at any value, but pyqtgraph sizes lines and markers in device
#: pixels: at this resolution a 2.5 px line prints 0.2 mm wide. The same value for both
#: outputs gives the same fonts and line breaks.
PDF_RESOLUTION = 300
MARGIN_MM = 14.0

BODY_PT = 9.0
TABLE_PT = 7.8
FOOTER_PT = 7.0
#: Struck (voided or amended) values are grey as well as struck through.
STRUCK_COLOUR = "#555555"
RULE_COLOUR = "#8a8a8a"
HEAD_FILL = "#e4e4e4"
STRONG_FILL = "#f0f0f0"


def write_session_pdf(view: SessionView, path: Path, *, generated_at: datetime,
                      chain_head: str, page_size: str = "A4") -> None:
    """Write the session report of ``view`` to ``path`` as a PDF (A4 or Letter).

    The file appears whole or not at all: it is written beside ``path`` and moved into place.
    Exporting many sessions, hold one :class:`ReportWriter` instead.
    """
    writer = ReportWriter()
    try:
        writer.write_pdf(view, path, generated_at=generated_at, chain_head=chain_head,
                         page_size=page_size)
    finally:
        writer.close()


def print_session(view: SessionView, printer: QPrinter, *, generated_at: datetime,
                  chain_head: str) -> None:
    """Print the session report of ``view`` on ``printer`` (a PDF printer writes the same
    pages as :func:`write_session_pdf`). The printer is asked for :data:`PDF_RESOLUTION`, at
    which the chart's lines and markers have their intended size."""
    writer = ReportWriter()
    try:
        writer.print(view, printer, generated_at=generated_at, chain_head=chain_head)
    finally:
        writer.close()


class ReportWriter:
    """Writes session reports, drawing every one on the same offscreen chart: building the
    chart costs more than drawing a report on it, so a batch export keeps one writer.

    Signals: none.
    """

    def __init__(self) -> None:
        app = ensure_application()
        # The chart is a widget: made anywhere else, Qt would crash rather than refuse.
        if QThread.currentThread() is not app.thread():
            raise RuntimeError("The PDF report draws the session chart, a widget: write it "
                               "on the application's main (GUI) thread")
        self._chart: PrintChart | None = None

    def write_pdf(self, view: SessionView, path: Path, *, generated_at: datetime,
                  chain_head: str, page_size: str = "A4") -> None:
        """As :func:`write_session_pdf`."""
        if page_size not in PAGE_SIZES:
            raise ValueError(f"Page size: {page_size!r} is not one of {', '.join(PAGE_SIZES)}")
        path = Path(path)
        partial = path.with_name(path.name + ".part")
        # Fails here, with the path in the message, if the folder is missing or read-only.
        partial.touch()
        writer = QPdfWriter(str(partial))
        writer.setResolution(PDF_RESOLUTION)
        writer.setPageLayout(QPageLayout(
            QPageSize(PAGE_SIZES[page_size]), QPageLayout.Orientation.Portrait,
            QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM), QPageLayout.Unit.Millimeter))
        writer.setCreator("ChairSide")
        report = build_report(view, generated_at=generated_at, chain_head=chain_head)
        writer.setTitle(f"{report.title}: {report.running_title}")
        try:
            self.render(report, view, writer)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(path)

    def print(self, view: SessionView, printer: QPrinter, *, generated_at: datetime,
              chain_head: str) -> None:
        """As :func:`print_session`."""
        report = build_report(view, generated_at=generated_at, chain_head=chain_head)
        printer.setResolution(PDF_RESOLUTION)
        if not printer.docName():
            printer.setDocName(f"{report.title}: {report.running_title}")
        self.render(report, view, printer)

    def render(self, report: SessionReport, view: SessionView,
               device: QPagedPaintDevice) -> int:
        """Draw ``report`` (of ``view``) on ``device``, page by page; the number of pages."""
        if self._chart is None:
            self._chart = PrintChart()
        self._chart.show(view)
        painter = QPainter()
        if not painter.begin(device):
            raise OSError("The report could not be started on the output (is the file or "
                          "printer writable?)")
        try:
            return _paint_pages(painter, report, self._chart, device)
        finally:
            painter.end()

    def close(self) -> None:
        """Let the chart go (the writer can still be used: it builds another)."""
        if self._chart is not None:
            self._chart.close()
            self._chart = None


def ensure_application() -> QCoreApplication:
    """The running application, or a new offscreen one when there is none (a command-line
    export), kept for the life of the process."""
    app = QCoreApplication.instance()
    if app is None:
        # Only the report is drawn by an application made here; it needs no display.
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication([])
        _keep.append(app)
    elif not isinstance(app, QApplication):
        raise RuntimeError("The report draws the session chart, a widget: it needs a "
                           "QApplication, not a " + type(app).__name__)
    return app


_keep: list[QCoreApplication] = []


# -- pages -------------------------------------------------------------------------------------


def _paint_pages(painter: QPainter, report: SessionReport, chart: PrintChart,
                 device: QPagedPaintDevice) -> int:
    area = device.pageLayout().paintRectPixels(device.logicalDpiX())
    width, height = float(area.width()), float(area.height())
    footer_font = _font(FOOTER_PT)
    metrics = QFontMetricsF(footer_font, device)
    footer_height = 2 * metrics.lineSpacing() + metrics.height() * 0.6
    body_height = height - footer_height

    laid, chart_rect = _lay_out(report, device, QSizeF(width, body_height))
    document = laid.document
    pages = document.pageCount()
    context = QAbstractTextDocumentLayout.PaintContext()
    context.palette.setColor(QPalette.ColorRole.Text, QColor("black"))
    for page in range(pages):
        if page:
            device.newPage()
        painter.save()
        painter.setClipRect(QRectF(0, 0, width, body_height))
        painter.translate(0, -page * body_height)
        context.clip = QRectF(0, page * body_height, width, body_height)
        document.documentLayout().draw(painter, context)
        if chart_rect.intersects(context.clip):
            chart.draw(painter, chart_rect)
        painter.restore()
        _paint_footer(painter, report, QRectF(0, body_height, width, footer_height), metrics,
                      page=page + 1, pages=pages)
    return pages


def _keep_on_one_page(document: QTextDocument, frame: QTextFrame, page_height: float) -> QRectF:
    """Where ``frame`` lies, moved to the top of the next page if it would straddle two."""
    layout = document.documentLayout()
    rect = layout.frameBoundingRect(frame)
    if int(rect.top() // page_height) != int((rect.bottom() - 1) // page_height):
        place = frame.frameFormat()
        place.setPageBreakPolicy(QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)
        frame.setFrameFormat(place)
        rect = layout.frameBoundingRect(frame)
    return rect


def _paint_footer(painter: QPainter, report: SessionReport, rect: QRectF,
                  metrics: QFontMetricsF, *, page: int, pages: int) -> None:
    painter.save()
    painter.setFont(_font(FOOTER_PT))
    painter.setPen(QColor("black"))
    top = rect.top() + metrics.height() * 0.6
    painter.setPen(QColor(RULE_COLOUR))
    # Whole device pixels, as the line was always drawn: Qt's integer overload.
    rule = int(top - metrics.height() * 0.3)
    painter.drawLine(int(rect.left()), rule, int(rect.right()), rule)
    painter.setPen(QColor("black"))
    first = QRectF(rect.left(), top, rect.width(), metrics.lineSpacing())
    number = f"Page {page} of {pages}"
    painter.drawText(first, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, number)
    room = rect.width() - metrics.horizontalAdvance(number) - metrics.averageCharWidth() * 3
    painter.drawText(first, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                     metrics.elidedText(report.running_title, Qt.TextElideMode.ElideRight,
                                        room))
    second = first.translated(0, metrics.lineSpacing())
    painter.drawText(second, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                     report.footer)
    painter.restore()


def _font(points: float, *, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSizeF(points)
    font.setBold(bold)
    # Without ligatures the PDF's text reads back as typed ("off", not "oﬀ"): searchable,
    # and what a screen reader or a records system extracts.
    for feature in ("liga", "clig"):
        font.setFeature(QFont.Tag(feature), 0)
    return font


# -- the document ------------------------------------------------------------------------------


@dataclass
class _Laid:
    """The report laid out on pages: the document, where the chart goes, and which of its
    tables shows which rows of which report table."""

    document: QTextDocument
    chart_frame: QTextFrame | None
    #: Per bordered table of the document, in order: (report table number, first row).
    chunks: list[tuple[int, int]]


#: A last page filled less than this (a fraction of the page) is avoided if tighter spacing
#: between sections and paragraphs brings its few lines back onto the page before.
NEARLY_EMPTY = 0.2
#: Tighter spacings tried in turn, the first that saves the page kept: headings closer to
#: what they follow, then paragraphs, then both. Only spacing changes, never the text size;
#: and since a page break moves whole rows and paragraphs, a tighter spacing does not
#: always give fewer pages, so each is tried.
TIGHTER_CSS = (
    "h2 { margin-top: 8pt; margin-bottom: 2pt; }",
    "p { margin-top: 2pt; margin-bottom: 2pt; }",
    "h2 { margin-top: 6pt; margin-bottom: 2pt; } p { margin-top: 2pt; margin-bottom: 2pt; }",
)


def _lay_out(report: SessionReport, device: QPagedPaintDevice,
             page: QSizeF) -> tuple[_Laid, QRectF]:
    """The report cut into pages, and where the chart goes: no table row or short paragraph
    split across two pages, no heading left at the foot of a page, the chart on one page,
    and no last page holding only a line or two when tighter spacing saves it."""
    laid, chart = _lay_out_spaced(report, device, page, css="")
    pages = laid.document.pageCount()
    last = laid.document.size().height() - (pages - 1) * page.height()
    if pages > 1 and last < NEARLY_EMPTY * page.height():
        for css in TIGHTER_CSS:
            tight, tight_chart = _lay_out_spaced(report, device, page, css=css)
            if tight.document.pageCount() < pages:
                return tight, tight_chart
    return laid, chart


def _lay_out_spaced(report: SessionReport, device: QPagedPaintDevice, page: QSizeF, *,
                    css: str) -> tuple[_Laid, QRectF]:
    """Qt breaks a tall row between its lines. Each time a row would straddle a page, the
    table is split before it and the rest starts on the next page under a repeated head;
    then the report is laid out again, since everything after moved."""
    laid = _paged(report, device, page, css=css)
    chart = QRectF()
    if laid.chart_frame is not None:
        chart = _keep_on_one_page(laid.document, laid.chart_frame, page.height())
    return laid, chart


def _paged(report: SessionReport, device: QPagedPaintDevice, page: QSizeF, *,
           css: str) -> _Laid:
    breaks: dict[int, set[int]] = {}
    while True:
        laid = _document(report, device, page, breaks, css=css)
        _keep_blocks_together(laid.document, page.height())
        straddling = _first_straddling_row(laid, page.height(), breaks)
        if straddling is None:
            return laid
        table, row = straddling
        breaks.setdefault(table, set()).add(row)


#: A paragraph of at most this many lines moves whole to the next page rather than split.
KEEP_LINES = 8


def _keep_blocks_together(document: QTextDocument, page_height: float) -> None:
    """Move to the next page each short paragraph that would straddle two, and each heading
    whose section would start on the next page. Each move lays out the rest anew."""
    layout = document.documentLayout()
    block = document.begin()
    while block.isValid():
        following = block.next()
        if QTextCursor(block).currentTable() is None and block.layout().lineCount():
            rect = layout.blockBoundingRect(block)
            page = rect.top() // page_height
            straddles = (page != (rect.bottom() - 1) // page_height
                         and block.layout().lineCount() <= KEEP_LINES)
            orphaned = (block.blockFormat().headingLevel() > 0 and following.isValid()
                        and layout.blockBoundingRect(following).top() // page_height > page)
            if straddles or orphaned:
                block_format = block.blockFormat()
                block_format.setPageBreakPolicy(QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)
                QTextCursor(block).setBlockFormat(block_format)
        block = following


def _first_straddling_row(laid: _Laid, page_height: float,
                          breaks: Mapping[int, set[int]]) -> tuple[int, int] | None:
    layout = laid.document.documentLayout()
    tables = [frame for frame in laid.document.rootFrame().childFrames()
              if isinstance(frame, QTextTable) and frame.format().border() > 0]
    for table, (number, first_row) in zip(tables, laid.chunks, strict=True):
        for row in range(1, table.rows()):
            top, bottom = math.inf, -math.inf
            for column in range(table.columns()):
                cell = table.cellAt(row, column)
                first = layout.blockBoundingRect(cell.firstCursorPosition().block())
                last = layout.blockBoundingRect(cell.lastCursorPosition().block())
                top, bottom = min(top, first.top()), max(bottom, last.bottom())
            index = first_row + row - 1
            # A row taller than a page stays split: it would straddle on any page.
            if (top // page_height != (bottom - 1) // page_height
                    and index not in breaks.get(number, ())):
                return number, index
    return None


def _document(report: SessionReport, device: QPagedPaintDevice, page: QSizeF,
              breaks: Mapping[int, set[int]], *, css: str = "") -> _Laid:
    """The report as a document cut into pages of ``page``, each report table split into a
    new table, on a new page, before the rows in ``breaks``; an empty frame keeps the chart's
    place (the chart is drawn over it)."""
    document = QTextDocument()
    document.documentLayout().setPaintDevice(device)
    document.setDefaultFont(_font(BODY_PT))
    document.setDocumentMargin(0)
    # Unhinted metrics: the same line breaks on a 300 dpi PDF and a 1200 dpi printer.
    document.setUseDesignMetrics(True)
    document.setPageSize(page)
    if css:
        document.setDefaultStyleSheet(css)
    laid = _Laid(document, None, [])

    cursor = QTextCursor(document)
    parts = [_title_html(report)]
    tables = 0
    for section in report.sections:
        parts.append(f"<h2>{_esc(section.title)}</h2>")
        for block in section.blocks:
            if isinstance(block, ChartPlace):
                cursor.insertHtml("".join(parts))
                parts = []
                place = QTextFrameFormat()
                place.setWidth(page.width())
                place.setHeight(PrintChart.height_for(page.width()))
                place.setBorder(0)
                place.setMargin(0)
                place.setPadding(0)
                laid.chart_frame = cursor.insertFrame(place)
                cursor.movePosition(QTextCursor.MoveOperation.End)
                parts.append(f'<p style="font-size:{TABLE_PT}pt">{_esc(block.legend)}</p>')
            elif isinstance(block, Table):
                starts = sorted({0, *breaks.get(tables, ())}) if block.rows else []
                laid.chunks += [(tables, start) for start in starts]
                parts.append(_table_html(block, starts))
                tables += 1
            else:
                parts.append(_block_html(block))
    cursor.insertHtml("".join(parts))
    return laid


def _title_html(report: SessionReport) -> str:
    return (f'<p style="font-size:15pt; font-weight:bold; margin-bottom:2pt">'
            f"{_esc(report.title)}</p>"
            + _fields_html(report.header, columns=2))


def _block_html(block: Block) -> str:
    if isinstance(block, Fields):
        return _fields_html(block, columns=1)
    if isinstance(block, Paragraph):
        text = _esc(block.text)
        return f"<p><b>{text}</b></p>" if block.strong else f"<p>{text}</p>"
    return ""


def _fields_html(fields: Fields, *, columns: int) -> str:
    """Label–value pairs in ``columns`` pairs per row, labels in bold."""
    label_width, value_width = (14, 36) if columns > 1 else (24, 76)
    cells = [f'<td width="{label_width}%"><b>{_esc(label)}</b></td>'
             f'<td width="{value_width}%">{_esc(value)}</td>' for label, value in fields.items]
    rows = ["".join(cells[i:i + columns]) for i in range(0, len(cells), columns)]
    return ('<table width="100%" cellspacing="0" cellpadding="1">'
            + "".join(f"<tr>{row}</tr>" for row in rows) + "</table>")


def _table_html(table: Table, starts: Sequence[int] = (0,)) -> str:
    """``table`` as HTML, as one table per run of rows from each of ``starts``, every one
    after the first on a new page."""
    caption = (f'<p style="font-size:{TABLE_PT}pt">{_esc(table.caption)}</p>'
               if table.caption else "")
    if not table.rows:
        return f"<p>{_esc(table.empty)}</p>{caption}"
    widths = list(table.widths) or [round(100 / len(table.columns))] * len(table.columns)
    head = "".join(f'<th width="{w}%" align="left" bgcolor="{HEAD_FILL}">{_esc(c)}</th>'
                   for c, w in zip(table.columns, widths, strict=True))
    rows = [_row_html(row) for row in table.rows]
    ends = [*starts[1:], len(rows)]
    chunks = []
    for number, (start, end) in enumerate(zip(starts, ends, strict=True)):
        if number:
            # The page break sits on the one-point paragraph that must separate two tables:
            # on the table instead, it would follow that paragraph, which may itself have
            # moved to the next page, and leave a blank page.
            chunks.append('<p style="page-break-before:always; margin:0; font-size:1pt">'
                          "&nbsp;</p>")
        chunks.append(
            f'<table width="100%" border="1" cellspacing="0" cellpadding="2" '
            f'style="border-collapse:collapse; border-color:{RULE_COLOUR}; '
            f'font-size:{TABLE_PT}pt">'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows[start:end])}</tbody></table>")
    return "".join(chunks) + caption


def _row_html(row: Row) -> str:
    cells = []
    for text in row.cells:
        content = _esc(text)
        if row.struck:
            content = f'<s><span style="color:{STRUCK_COLOUR}">{content}</span></s>'
        if row.strong:
            content = f"<b>{content}</b>"
        cells.append(f"<td>{content}</td>")
    fill = f' bgcolor="{STRONG_FILL}"' if row.strong else ""
    return f"<tr{fill}>{''.join(cells)}</tr>"


def _esc(text: str) -> str:
    return html.escape(text, quote=False)
