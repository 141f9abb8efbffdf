"""A patient's course of treatment: one row per session, and charts across sessions.

:class:`CourseModel` is the table of :class:`monitor.service.review.Course` rows (date, dose, the
dose given — "11.4 early" when the infusion stopped before its planned time — blood-pressure
peak and rise over baseline, the deepest dissociation and sedation, flags by tier, minutes
from the infusion stop to ready, PHQ-9 and GAD-7 with their severity band).
:class:`CourseScreen` shows it with four charts across the sessions (x = session number,
the date under it): peak blood pressure, peak CADSS-6 with the lowest MOAA/S, and PHQ-9 and
GAD-7 before each session drawn over their severity bands (``monitor.clinical.scores``), the
response the treatment is given for. Everything shown comes from the core's ``Course``.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from monitor.clinical.scores import GAD7, PHQ9, Scale
from ui.common.labels import clock_time
from ui.common.style import TouchButton
from ui.common.tables import ReadOnlyTableModel
from ui.common.theme import SMALL_PX, TEXT_PX, Theme
from ui.common.widgets import kinetic
from ui.review.search import flags_text

if TYPE_CHECKING:
    from monitor.service.review import Course, CourseRow

ROW_PX = 48
MARKER_PX = 13
#: Session numbers shown on the x axis: every one up to this many sessions, then a spread.
MAX_TICKS = 10

Index = QModelIndex | QPersistentModelIndex


def band_text(scale: Scale, total: int | None) -> str:
    """"14 moderate", or "" when the score was not taken; a two-word band on two lines
    ("16 moderately\nsevere") so the column stays narrow."""
    if total is None:
        return ""
    return f"{total} {scale.band(total)}".replace("ly ", "ly\n")


def _number(value: float | None, fmt: str = "{:g}") -> str:
    return "" if value is None else fmt.format(value)


def given_text(row: CourseRow) -> str:
    """The dose given: "35", "11.4 early" for an early stop, "35 planned, no stop recorded"
    for an infusion started whose stop was never recorded, "" when it never started."""
    given = _number(row.dose_given_mg)
    if given:
        return f"{given} early" if row.stopped_early else given
    if row.infusion_started:
        planned = _number(row.dose_planned_mg)
        return f"{planned} planned,\nno stop\nrecorded" if planned else "no stop\nrecorded"
    return ""


#: Shown on a mood chart when none of the sessions has the score.
NOT_RECORDED = "Not recorded in these sessions"


def _signed(value: int | None) -> str:
    return "" if value is None else f"{value:+d}"


class CourseModel(ReadOnlyTableModel["CourseRow"]):
    """A patient's sessions, oldest first, one row each.

    Signals: only those of :class:`QAbstractTableModel`; :meth:`set_course` resets the model.
    """

    NUMBER, DATE, DOSE, GIVEN, PEAK_BP, RISE, CADSS6, MOAAS, FLAGS, READY, LEFT, PHQ9, GAD7 = (
        range(13))
    #: "Ready (min) 12" for a patient who left 31 min after the stop read as a mistake: the
    #: column says what the figure is, and the time the patient left stands beside it.
    HEADERS: ClassVar[tuple[str, ...]] = (
        "#", "Date", "mg/kg", "Given\nmg", "Peak\nBP", "Rise", "CADSS-6\nmax", "MOAA/S\nmin",
        "Flags", "Would be\nready (min\nafter stop)", "Left (min\nafter stop)", "PHQ-9",
        "GAD-7")

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme

    def set_course(self, course: Course) -> None:
        self._reset_rows(course.rows)

    def course_row(self, number: int) -> CourseRow:
        return self._rows[number]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self._row(index)
        if row is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._text(index.row(), row, index.column())
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() not in (
                self.DATE, self.FLAGS):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor(self.theme.text)
        return None

    def _text(self, number: int, row: CourseRow, column: int) -> str:
        if column == self.NUMBER:
            return str(number + 1)
        if column == self.DATE:
            return f"{row.time.astimezone():%Y-%m-%d}\n{clock_time(row.time)}"
        if column == self.DOSE:
            return _number(row.dose_mg_per_kg, "{:.2f}")
        if column == self.GIVEN:
            return given_text(row)
        if column == self.PEAK_BP:
            if row.peak_sbp is None and row.peak_dbp is None:
                return ""
            return f"{_number(row.peak_sbp) or '–'}/{_number(row.peak_dbp) or '–'}"
        if column == self.RISE:
            if row.sbp_rise is None and row.dbp_rise is None:
                return ""
            return f"{_signed(row.sbp_rise) or '–'}/{_signed(row.dbp_rise) or '–'}"
        if column == self.CADSS6:
            return _number(row.peak_cadss6)
        if column == self.MOAAS:
            return _number(row.lowest_moaas)
        if column == self.FLAGS:
            # One tier a line, so the column stays narrow enough for the table to fit.
            return flags_text(row.flags_by_tier).replace(" · ", "\n")
        if column == self.READY:
            return _number(row.minutes_to_ready, "{:.0f}")
        if column == self.LEFT:
            return _number(row.minutes_to_discharge, "{:.0f}")
        if column == self.PHQ9:
            return band_text(PHQ9, row.phq9)
        return band_text(GAD7, row.gad7)


def _font(px: int, *, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(px)
    font.setBold(bold)
    return font


class CourseScreen(QWidget):
    """A patient's course of treatment: the table and four charts across sessions.

    Signals:
        back(): "Back" was tapped.
        openSession(object): a session's row was tapped (its id).
    """

    back = Signal()
    openSession = Signal(object)

    #: Chart series: name → (CourseRow field, chart, symbol, theme colour attribute).
    SERIES: ClassVar[dict[str, tuple[str, str, str, str]]] = {
        "peak_sbp": ("peak_sbp", "bp", "t", "systolic"),
        "peak_dbp": ("peak_dbp", "bp", "t1", "diastolic"),
        "peak_cadss6": ("peak_cadss6", "dissociation", "d", "cadss6"),
        "lowest_moaas": ("lowest_moaas", "sedation", "s", "moaas"),
        "phq9": ("phq9", "phq9", "o", "accent"),
        "gad7": ("gad7", "gad7", "o", "accent"),
    }

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.course: Course | None = None
        self.model = CourseModel(theme, self)

        self.back_button = TouchButton("Back")
        self.back_button.setObjectName("course-back")
        self.back_button.clicked.connect(self.back)
        self.title = QLabel("Course of treatment")
        self.title.setObjectName("course-title")
        self.title.setStyleSheet(f"font-size: {TEXT_PX + 4}px; font-weight: bold;")
        self.title.setWordWrap(True)
        head = QHBoxLayout()
        head.addWidget(self.back_button)
        head.addWidget(self.title, 1)

        self.table = QTableView()
        self.table.setObjectName("course-table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setMinimumSectionSize(ROW_PX)
        # Rows grow to their text (a date and time, the tiers of flags on lines of their own).
        self.table.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        # Not stretched: a stretched last section keeps its default width, not its text's,
        # once the columns are wider than a portrait tablet.
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.setWordWrap(False)
        kinetic(self.table.viewport())
        self.table.clicked.connect(self._tapped)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setObjectName("course-charts")
        self.graphics.setBackground(theme.surface)
        self.plots: dict[str, pg.PlotItem] = {}
        titles = {"bp": "Peak BP (mmHg): systolic ▼ diastolic ▲",
                  "dissociation": "Peak CADSS-6 (0–24) ◆",
                  "sedation": "Lowest MOAA/S (0–5) ■",
                  "phq9": "PHQ-9 before the session (depression)",
                  "gad7": "GAD-7 before the session (anxiety)"}
        ranges = {"bp": (60.0, 220.0), "dissociation": (0.0, 24.0), "sedation": (0.0, 5.0),
                  "phq9": (0.0, 27.0), "gad7": (0.0, 21.0)}
        for key, title in titles.items():
            plot = pg.PlotItem()
            self._style(plot, title, ranges[key])
            self.plots[key] = plot
        self._orientation: Qt.Orientation | None = None
        self.set_orientation(Qt.Orientation.Horizontal)
        #: Band names, placed at the right end of their band once the x range is known.
        self._band_labels: list[tuple[pg.TextItem, int]] = []
        self._bands(self.plots["phq9"], PHQ9)
        self._bands(self.plots["gad7"], GAD7)
        #: "Not recorded in these sessions" on a mood chart with no score to draw, so an
        #: empty chart is not read as a chart that failed to load.
        self.not_recorded: dict[str, pg.TextItem] = {}
        for key, scale in (("phq9", PHQ9), ("gad7", GAD7)):
            note = pg.TextItem(NOT_RECORDED, color=theme.text, anchor=(0.5, 0.5),
                               fill=pg.mkBrush(theme.surface))
            note.setFont(_font(SMALL_PX, bold=True))
            note.setZValue(10)
            note.setPos(1.0, scale.max_total / 2)
            note.setVisible(False)
            self.plots[key].addItem(note)
            self.not_recorded[key] = note
        self.curves: dict[str, pg.PlotDataItem] = {}
        for name, (_, chart, symbol, colour_name) in self.SERIES.items():
            colour = getattr(theme, colour_name)
            self.curves[name] = self.plots[chart].plot(
                [], [], pen=pg.mkPen(colour, width=2), symbol=symbol, symbolSize=MARKER_PX,
                symbolBrush=colour, symbolPen=pg.mkPen(colour))

        self.empty = QLabel("No sessions on record for this patient.")
        self.empty.setProperty("role", "muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 10)
        layout.setSpacing(8)
        layout.addLayout(head)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 2)
        layout.addWidget(self.graphics, 3)

    #: Where each chart sits: (row, column, column span), three columns in landscape, two
    #: in portrait; PHQ-9, the response the treatment is for, gets the widest place.
    PLACES: ClassVar[dict[bool, dict[str, tuple[int, int, int]]]] = {
        False: {"bp": (0, 0, 1), "dissociation": (0, 1, 1), "sedation": (0, 2, 1),
                "phq9": (1, 0, 2), "gad7": (1, 2, 1)},
        True: {"bp": (0, 0, 1), "dissociation": (0, 1, 1), "sedation": (1, 0, 1),
               "gad7": (1, 1, 1), "phq9": (2, 0, 2)},
    }

    def set_orientation(self, orientation: Qt.Orientation) -> None:
        """Landscape: the charts in three columns; portrait: in two."""
        if orientation == self._orientation:
            return
        self._orientation = orientation
        layout = self.graphics.ci
        for plot in self.plots.values():
            if plot.scene() is not None:
                layout.removeItem(plot)
        places = self.PLACES[orientation == Qt.Orientation.Vertical]
        for key, (row, column, span) in places.items():
            layout.addItem(self.plots[key], row=row, col=column, colspan=span)
        columns = 1 + max(column + span - 1 for _, column, span in places.values())
        for column in range(3):
            layout.layout.setColumnStretchFactor(column, 1 if column < columns else 0)

    def _style(self, plot: pg.PlotItem, title: str, y_range: tuple[float, float]) -> None:
        t = self.theme
        plot.setTitle(title, color=t.text, size=f"{SMALL_PX}px")
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.showGrid(x=False, y=True, alpha=0.25)
        low, high = y_range
        plot.setYRange(low, high, padding=0.05)
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(t.text_muted))
            axis.setTextPen(pg.mkPen(t.text))
            axis.setTickFont(_font(SMALL_PX))
        plot.getAxis("left").setWidth(44)
        # Two lines under each session: its number and its date.
        plot.getAxis("bottom").setHeight(2 * SMALL_PX + 16)

    def _bands(self, plot: pg.PlotItem, scale: Scale) -> None:
        """Shade each severity band of ``scale``, darker for a worse band, with its name."""
        t = self.theme
        for number, band in enumerate(scale.bands):
            colour = QColor(t.warning)
            colour.setAlpha(12 + 22 * number)
            region = pg.LinearRegionItem(
                values=(band.low, band.high + 1 if band.high < scale.max_total else band.high),
                orientation="horizontal", movable=False, brush=colour, pen=pg.mkPen(None))
            region.setZValue(-20)
            plot.addItem(region)
            label = pg.TextItem(band.label, color=t.text_muted, anchor=(1.0, 1.0))
            label.setFont(_font(SMALL_PX))
            label.setZValue(-10)
            plot.addItem(label)
            self._band_labels.append((label, band.low))

    def show_course(self, course: Course) -> None:
        """Show ``course``: the table and the charts across its sessions."""
        self.course = course
        patient = course.patient
        count = len(course.rows)
        noun = "session" if count == 1 else "sessions"
        self.title.setText(f"Course of treatment · {patient.name or '(no name)'} · "
                           f"MRN {patient.mrn} · {count} {noun}")
        self.empty.setVisible(count == 0)
        self.model.set_course(course)
        for name, (field, *_rest) in self.SERIES.items():
            x, y = self._points(course, field)
            self.curves[name].setData(x, y)
        step = max(1, -(-count // MAX_TICKS))
        shown = list(enumerate(course.rows))[::step]
        dated = [(n + 1, f"{n + 1}\n{row.time.astimezone():%m-%d}") for n, row in shown]
        numbered = [(n + 1, str(n + 1)) for n, _ in shown]
        x_range = (0.5, max(count, 1) + 0.5)
        for key, plot in self.plots.items():
            # The date under each session on the widest chart; the narrow ones have room for
            # the session number only (the table gives every date).
            plot.getAxis("bottom").setTicks([dated if key == "phq9" else numbered, []])
            plot.setXRange(*x_range, padding=0)
        for label, low in self._band_labels:
            label.setPos(x_range[1], low)
        for key, note in self.not_recorded.items():
            note.setVisible(bool(course.rows) and not course.series(key))
            note.setPos((x_range[0] + x_range[1]) / 2, note.pos().y())

    @staticmethod
    def _points(course: Course, field: str) -> tuple[np.ndarray, np.ndarray]:
        """Session numbers (1 = first) and values of ``field``, sessions without one left
        out."""
        pairs = [(n + 1, float(getattr(row, field))) for n, row in enumerate(course.rows)
                 if getattr(row, field) is not None]
        if not pairs:
            return np.empty(0), np.empty(0)
        x, y = np.array(pairs, dtype=float).T
        return x, y

    def series(self, name: str) -> tuple[list[float], list[float]]:
        """The points drawn for series ``name`` (a key of :data:`SERIES`), for checks."""
        x, y = self.curves[name].getData()
        if x is None or y is None:
            return [], []
        return [float(v) for v in x], [float(v) for v in y]

    def _tapped(self, index: QModelIndex) -> None:
        if index.isValid():
            self.openSession.emit(self.model.course_row(index.row()).session_id)

    def session_ids(self) -> list[uuid.UUID]:
        return [row.session_id for row in (self.course.rows if self.course else [])]
