"""The live session chart: every vital sign and score of one session on a shared timeline.

Three panes share one x axis in minutes since the infusion started (baseline readings fall at
negative minutes; before the start, minutes since the first reading):

* blood pressure and heart rate: systolic ▼ and diastolic ▲ joined per reading by a vertical
  bar, heart rate as a line with dots, on one mmHg · /min scale as on an anaesthesia record;
* SpO2 in a narrow pane of its own, so a fall of a few percent is visible;
* CADSS-6 (0–24) with MOAA/S (0–5) drawn on the same height and read on the right axis.

Axis ranges are fixed and narrow so that the picture never rescales under the nurse's eyes.
A value beyond its pane is pinned at the edge as a hollow marker with its number beside it;
a voided or amended reading stays visible as a grey hollow marker. The infusion is shaded
(pauses hatched), protocol limits are dashed lines read from the session's protocol, events
are labelled vertical lines, and a tap shows the values of the nearest time point.

Every plot item is created in ``__init__`` (items whose number follows the record — event
labels, shaded spans — come from pools that grow to the most ever needed and are reused);
:meth:`SessionChart.show_view` only calls ``setData``/``setPos``, so it is cheap enough to
run the moment a reading is saved.
"""

from __future__ import annotations

import html
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Generic, TypeVar

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QGraphicsItem, QLabel, QVBoxLayout, QWidget

from monitor.clinical.domain import EventKind, Phase, Reading
from monitor.clinical.rules import infusion_started_at, phase_changes
from ui.common.labels import clock_time, reading_lines
from ui.common.theme import SMALL_PX, TEXT_PX, Theme

if TYPE_CHECKING:
    from monitor.service.views import SessionView

#: Fixed y ranges. Narrow enough to read a change of a few units; a value beyond is pinned.
BP_HR_RANGE = (30.0, 220.0)
SPO2_RANGE = (85.0, 100.0)
SCORE_RANGE = (0.0, 24.0)
#: Each pane shows this fraction of its range beyond both ends, so that a marker at the
#: edge (a pinned value, MOAA/S 5, CADSS-6 0) is drawn whole.
Y_MARGIN = 0.05
#: MOAA/S (0–5) is drawn on the CADSS-6 height (0–24) and read on the right axis.
MOAAS_MAX = 5
MOAAS_SCALE = SCORE_RANGE[1] / MOAAS_MAX

#: Minutes shown before the first entry and after max(now, last entry).
X_MARGIN_BEFORE = 3.0
X_MARGIN_AFTER = 6.0
#: A tap selects the nearest time point within this many pixels (a fingertip is ~ 40 px).
TAP_TOLERANCE_PX = 40

MARKER_PX = 15
DOT_PX = 10
AXIS_WIDTH_PX = 58
#: Event labels sit in a compact lane above the panes, in up to this many rows when close
#: in time (a label that finds no free row moves right of its line instead).
EVENT_LABEL_ROWS = 2
EVENT_ROW_PX = 21
EVENT_LABEL_GAP_PX = 6
#: Tick labels closer than this (px) would touch: a short pane labels fewer ticks.
TICK_GAP_PX = 20
#: How the panes share the height, as (weight, smallest readable px): each pane first gets
#: its smallest height, then the rest by weight, so BP/HR, the pane read most, gets the most.
PANE_HEIGHTS = {"top": (6, 104), "oxygen": (1, 36), "scores": (2, 56)}
#: The least a pane is ever given, however short the chart.
MIN_PANE_PX = 20
#: Height of the time axis under the scores pane (tick values and title).
TIME_AXIS_PX = 46
#: Space a pane takes beside its plot area: its margins and the stub of its hidden x axis.
PANE_FRAME_PX = 6
GRID_MARGIN_PX = 4
GRID_SPACING_PX = 2

#: Labelled y ticks per pane, as (labelled, unlabelled) levels: the first that fits its pane's
#: height is used. Grid lines are drawn at every value of the first.
_TICKS: dict[str, tuple[tuple[tuple[float, ...], tuple[float, ...]], ...]] = {
    "top": (((40, 80, 120, 160, 200), (60, 100, 140, 180, 220)),
            ((40, 120, 200), (80, 160))),
    "oxygen": (((85, 90, 95, 100), ()), ((85, 100), (90, 95))),
    "scores": (((0, 8, 16, 24), (4, 12, 20)), ((0, 12, 24), (4, 8, 16, 20))),
    "moaas": (((0, 1, 2, 3, 4, 5), ()), ((0, 3, 5), (1, 2, 4)), ((0, 5), (1, 2, 3, 4))),
}

#: Axis titles along each pane's left axis (MOAA/S along the scores pane's right axis).
PANE_LABELS = {"top": "mmHg · /min", "oxygen": "SpO2 %", "scores": "CADSS-6", "moaas": "MOAA/S"}

X_LABEL_STARTED = "minutes since infusion start"
X_LABEL_NOT_STARTED = "minutes since first reading"

_EVENT_WORDS: dict[EventKind, str] = {
    EventKind.INFUSION_START: "Start",
    EventKind.INFUSION_PAUSE: "Pause",
    EventKind.INFUSION_RESUME: "Resume",
    EventKind.INFUSION_STOP: "Stop",
    EventKind.RATE_CHANGE: "Rate",
    EventKind.MEDICATION: "Med",
    EventKind.ADVERSE_EVENT: "AE",
    EventKind.NOTE: "Note",
    EventKind.ESCORT_PRESENT: "Escort",
    EventKind.ORIENTED_STEADY_GAIT: "Oriented",
    EventKind.DISCHARGE_SIGNED: "Discharged",
    EventKind.DISCHARGE_OVERRIDE: "Override",
}
#: Events whose label names what was given or what happened, e.g. "Med: ondansetron".
_DETAILED_EVENTS = (EventKind.MEDICATION, EventKind.ADVERSE_EVENT)
_EVENT_DETAIL_CHARS = 14


#: The mark at a reading entered after the discharge was signed.
AFTER_SIGNOFF_MARK = "Entry after sign-off"


def event_label(kind: EventKind, detail: str) -> str:
    """The short label of an event line: "Start", "Med: ondansetron", "AE: nausea"."""
    word = _EVENT_WORDS[kind]
    first = detail.split(maxsplit=1)[0].lower() if detail.strip() else ""
    if kind not in _DETAILED_EVENTS or not first:
        return word
    if len(first) > _EVENT_DETAIL_CHARS:
        first = first[: _EVENT_DETAIL_CHARS - 1] + "…"
    return f"{word}: {first}"


def chart_origin(view: SessionView) -> tuple[datetime, bool]:
    """Time zero of the x axis and whether it is the infusion start.

    Before the infusion starts, zero is the first effective reading, or the moment of the
    view when there is none. A voided reading does not set it: one entered at a wrong time
    and voided would otherwise shift the whole axis.
    """
    start = infusion_started_at(view.record)
    if start is not None:
        return start, True
    times = [r.time for r in view.record.readings]
    return (min(times) if times else view.at), False


def minutes_since(origin: datetime, when: datetime) -> float:
    return (when - origin).total_seconds() / 60.0


def infusion_spans(
    view: SessionView,
) -> tuple[list[tuple[datetime, datetime]], list[tuple[datetime, datetime]]]:
    """``(infusing, paused)`` stretches of the session; an open one runs to ``view.at``."""
    changes = phase_changes(view.record)
    infusing: list[tuple[datetime, datetime]] = []
    paused: list[tuple[datetime, datetime]] = []
    for index, (time, phase) in enumerate(changes):
        end = changes[index + 1][0] if index + 1 < len(changes) else view.at
        if phase is Phase.INFUSING:
            infusing.append((time, end))
        elif phase is Phase.PAUSED:
            paused.append((time, end))
    return infusing, paused


def _colour(hex_colour: str, alpha: int = 255) -> QColor:
    colour = QColor(hex_colour)
    colour.setAlpha(alpha)
    return colour


def _font(px: int, *, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(px)
    font.setBold(bold)
    return font


_Item = TypeVar("_Item", bound=QGraphicsItem)


class _Pool(Generic[_Item]):
    """Graphics items of one kind whose number follows the record (events, shaded spans).

    Items are created on first need and then reused; the ones not needed are hidden, so the
    scene never holds more items than the busiest view it has shown.
    """

    def __init__(self, factory: Callable[[], _Item]) -> None:
        self._factory = factory
        self.items: list[_Item] = []

    def take(self, count: int) -> list[_Item]:
        while len(self.items) < count:
            self.items.append(self._factory())
        for index, item in enumerate(self.items):
            item.setVisible(index < count)
        return self.items[:count]


@dataclass
class _Split:
    """One series split into the points inside its pane and those pinned at an edge."""

    x: np.ndarray
    y: np.ndarray
    off_x: np.ndarray
    off_y: np.ndarray
    off_values: np.ndarray
    #: Every point with off-scale values pinned, for lines drawn through all of them.
    pinned: np.ndarray


def _split(x: np.ndarray, y: np.ndarray, limits: tuple[float, float]) -> _Split:
    low, high = limits
    inside = (y >= low) & (y <= high)
    pinned = np.clip(y, low, high)
    return _Split(x[inside], y[inside], x[~inside], pinned[~inside], y[~inside], pinned)


def _values(readings: Sequence[Reading], origin: datetime, name: str,
            scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Minutes and values of the readings that recorded ``name``."""
    present = [(minutes_since(origin, r.time), getattr(r, name)) for r in readings
               if getattr(r, name) is not None]
    if not present:
        return np.empty(0), np.empty(0)
    x, y = np.array(present, dtype=float).T
    return x, y * scale


class _Columns:
    """:func:`_values` of a session's readings, extended by the new readings only.

    A save adds one reading to a record of thousands; the readings are the same objects
    from view to view, so the columns of those already seen are kept.
    """

    def __init__(self) -> None:
        self._origin: datetime | None = None
        self._readings: Sequence[Reading] = ()
        self._columns: dict[tuple[str, float], tuple[np.ndarray, np.ndarray]] = {}

    def update(self, readings: Sequence[Reading], origin: datetime) -> int:
        """Take ``readings`` (in time order); returns how many of them were seen before."""
        seen = len(self._readings)
        if (origin != self._origin or len(readings) < seen
                or not all(map(operator.is_, readings[:seen], self._readings))):
            self._columns, seen = {}, 0
        elif seen < len(readings):
            new = readings[seen:]
            for key, (x, y) in self._columns.items():
                more_x, more_y = _values(new, origin, *key)
                self._columns[key] = (np.concatenate([x, more_x]), np.concatenate([y, more_y]))
        self._origin, self._readings = origin, readings
        return seen

    def values(self, name: str, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        key = (name, scale)
        if key not in self._columns:
            assert self._origin is not None
            self._columns[key] = _values(self._readings, self._origin, name, scale)
        return self._columns[key]


def _set_points(item: pg.ScatterPlotItem, x: np.ndarray, y: np.ndarray) -> None:
    """``item.setData(x, y)``, but only the points beyond those it shows already are added
    when the old ones are a prefix of the new: pyqtgraph builds every spot anew otherwise."""
    old = getattr(item, "_chairside_points", None)
    if old is not None and len(x) >= len(old[0]) and (
            np.array_equal(x[:len(old[0])], old[0]) and np.array_equal(y[:len(old[1])], old[1])):
        if len(x) > len(old[0]):
            item.addPoints(x=x[len(old[0]):], y=y[len(old[1]):])
    else:
        item.setData(x, y)
    item._chairside_points = (x, y)  # what it shows, for the next call


def _set_line(item: pg.PlotDataItem, x: np.ndarray, y: np.ndarray) -> None:
    """``item.setData(x, y)`` unless it shows those already (a vitals save leaves the score
    lines as they were)."""
    old = getattr(item, "_chairside_points", None)
    if old is None or not (np.array_equal(x, old[0]) and np.array_equal(y, old[1])):
        item.setData(x, y)
        item._chairside_points = (x, y)  # what it shows, for the next call


def _pairs(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices for a ``connect='pairs'`` item: one segment (x, low)–(x, high) per point."""
    return np.repeat(x, 2), np.column_stack([low, high]).ravel()


class _Pane:
    """One plot of the chart with its fixed y range and its per-pane furniture.

    Each pane has its own copy of what spans the whole chart (infusion shading, event lines,
    the "now" line and the tap cursor), since a pyqtgraph item lives in one plot only.
    """

    def __init__(self, theme: Theme, plot: pg.PlotItem,
                 y_range: tuple[float, float], margin: float = Y_MARGIN) -> None:
        self.plot = plot
        #: Values are pinned to ``y_range``; the view shows ``margin`` of it more each side.
        self.y_range = y_range
        extra = (y_range[1] - y_range[0]) * margin
        self.view_range = (y_range[0] - extra, y_range[1] + extra)
        shade = QBrush(_colour(theme.infusion_shade, 46))
        hatch = QBrush(_colour(theme.infusion_shade, 120), Qt.BrushStyle.BDiagPattern)
        self.infusing = _Pool(lambda: self._region(shade))
        self.paused = _Pool(lambda: self._region(hatch))
        self.events = pg.PlotDataItem(connect="pairs", pen=pg.mkPen(
            theme.text_muted, width=1.5, style=Qt.PenStyle.DashLine))
        self.events.setZValue(-5)
        plot.addItem(self.events)
        self.now = pg.InfiniteLine(angle=90, movable=False,
                                   pen=pg.mkPen(theme.text, width=2,
                                                style=Qt.PenStyle.DotLine))
        plot.addItem(self.now)
        self.cursor = pg.InfiniteLine(angle=90, movable=False,
                                      pen=pg.mkPen(theme.text, width=2))
        self.cursor.setVisible(False)
        plot.addItem(self.cursor)

    def _region(self, brush: QBrush) -> pg.LinearRegionItem:
        region = pg.LinearRegionItem(orientation="vertical", movable=False, brush=brush,
                                     pen=pg.mkPen(None))
        region.setZValue(-20)
        self.plot.addItem(region)
        return region

    def show_spans(self, pool: _Pool[pg.LinearRegionItem],
                   spans: Sequence[tuple[float, float]]) -> None:
        for region, span in zip(pool.take(len(spans)), spans, strict=True):
            region.setRegion(span)

    def show_events(self, x: np.ndarray) -> None:
        low, high = self.view_range
        self.events.setData(*_pairs(x, np.full(len(x), low), np.full(len(x), high)))


class SessionChart(QWidget):
    """The session's vitals and scores on one timeline; tap a point to read its values.

    Signals: none. The chart shows the :class:`~monitor.service.views.SessionView` it is given in
    :meth:`show_view` and changes nothing.
    """

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self._view: SessionView | None = None
        self._selected: Reading | None = None
        # Every time point drawn, for the tap lookup: (minutes, reading, voided?).
        self._points: list[tuple[float, Reading, bool]] = []

        self.legend = QLabel(self._legend_html())
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        # Wraps rather than forcing its one-line width on the chart in a narrow layout.
        self.legend.setWordWrap(True)
        self.legend.setStyleSheet(f"font-size: {SMALL_PX}px; color: {theme.text};"
                                  f"background: {theme.surface}; padding: 1px 8px;")
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(theme.surface)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.legend)
        layout.addWidget(self.graphics, 1)

        # The lane holds the event labels, so that they never cover the top of the BP pane,
        # where a hypertensive surge is drawn.
        self.lane = _Pane(theme, self.graphics.addPlot(row=0, col=0),
                          (0.0, float(EVENT_LABEL_ROWS)), margin=0.0)
        self.top = _Pane(theme, self.graphics.addPlot(row=1, col=0), BP_HR_RANGE)
        self.oxygen = _Pane(theme, self.graphics.addPlot(row=2, col=0), SPO2_RANGE)
        self.scores = _Pane(theme, self.graphics.addPlot(row=3, col=0), SCORE_RANGE)
        self.panes = (self.lane, self.top, self.oxygen, self.scores)
        lane_px = EVENT_LABEL_ROWS * EVENT_ROW_PX + 4
        self.lane.plot.setMinimumHeight(lane_px)
        self.lane.plot.setMaximumHeight(lane_px)
        grid = self.graphics.ci.layout
        grid.setContentsMargins(*[GRID_MARGIN_PX] * 4)
        grid.setVerticalSpacing(GRID_SPACING_PX)
        self._lane_px = lane_px
        self._pane_heights: tuple[int, ...] = ()
        self.graphics.installEventFilter(self)
        self._share_height(480)
        self._style_panes()
        self._create_series()
        self._create_limits()

        self.event_labels = _Pool(self._event_label_item)
        self._event_marks: list[tuple[float, str]] = []
        self._offscale_labels = {pane: _Pool(lambda pane=pane: self._offscale_label(pane))
                                 for pane in (self.top, self.oxygen)}

        self.point_label = QLabel(self)
        self.point_label.setTextFormat(Qt.TextFormat.RichText)
        self.point_label.setStyleSheet(
            f"background: {theme.surface_raised}; color: {theme.text};"
            f"border: 2px solid {theme.accent}; border-radius: 8px; padding: 8px 12px;"
            f"font-size: {TEXT_PX}px;")
        self.point_label.hide()
        #: Minutes shown after max(now, last entry); a printed chart, read after the
        #: session, gives the labels of the last events (attested, discharged) more room.
        self.margin_after = X_MARGIN_AFTER
        self._x_extent = (-X_MARGIN_BEFORE, X_MARGIN_AFTER)
        self._x_range = self._x_extent
        self._shown: dict[str, object] = {}
        self._columns = _Columns()
        self.graphics.scene().sigMouseClicked.connect(self._on_click)
        self.top.plot.getViewBox().sigResized.connect(self._on_resized)
        for pane in (self.oxygen, self.scores):
            pane.plot.getViewBox().sigResized.connect(self._fit_ticks)

    # -- construction ------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.graphics and event.type() == QEvent.Type.Resize:
            self._share_height(self.graphics.height())
        return super().eventFilter(watched, event)

    def pane_heights(self) -> dict[str, int]:
        """The plot-area height each pane was given (px), e.g. ``{"top": 130, ...}``."""
        return dict(zip(PANE_HEIGHTS, self._pane_heights, strict=False))

    def _share_height(self, height: int) -> None:
        """Give each pane its smallest readable height, then the rest by weight (BP/HR the
        most). Set as fixed heights: the graphics grid alone would share out the space by
        its own rules and leave BP/HR flat."""
        frames = 2 * GRID_MARGIN_PX + 3 * GRID_SPACING_PX + self._lane_px
        frames += 3 * PANE_FRAME_PX + TIME_AXIS_PX
        lows = sum(low for _, low in PANE_HEIGHTS.values())
        spare = height - frames - lows
        weights = sum(weight for weight, _ in PANE_HEIGHTS.values())
        if spare >= 0:
            heights = tuple(low + spare * weight // weights
                            for weight, low in PANE_HEIGHTS.values())
        else:
            # Shorter than readable: every pane gives up the same share, none is clipped.
            room = max(height - frames, 3 * MIN_PANE_PX)
            heights = tuple(max(low * room // lows, MIN_PANE_PX)
                            for _, low in PANE_HEIGHTS.values())
        if heights == self._pane_heights:
            return
        self._pane_heights = heights
        for pane, plot_px in zip((self.top, self.oxygen, self.scores), heights, strict=True):
            total = plot_px + PANE_FRAME_PX + (TIME_AXIS_PX if pane is self.scores else 0)
            pane.plot.setMinimumHeight(total)
            pane.plot.setPreferredHeight(total)
            pane.plot.setMaximumHeight(total)

    def _fit_ticks(self) -> None:
        """Label as many ticks as the pane's height keeps apart (:data:`TICK_GAP_PX`), and
        show a pane's axis title only where it fits along the axis."""
        for pane, key in self._tick_keys.items():
            box = pane.plot.getViewBox()
            # Before the first layout the view box has no height yet; assume a typical one.
            height = box.height() if box.height() > 1 else float(pane.plot.preferredHeight())
            px_per_unit = height / (pane.view_range[1] - pane.view_range[0])
            axes = [(key, pane.plot.getAxis("left"), 1.0), (key, pane.plot.getAxis("right"), 1.0)]
            if pane is self.scores:
                axes[1] = ("moaas", axes[1][1], MOAAS_SCALE)
            for tick_key, axis, scale in axes:
                levels = _TICKS[tick_key]
                level = next((n for n, (labelled, _) in enumerate(levels)
                              if min(np.diff(labelled)) * scale * px_per_unit >= TICK_GAP_PX),
                             len(levels) - 1)
                name = f"{tick_key}:{id(axis)}"
                if self._tick_level.get(name) != level:
                    self._tick_level[name] = level
                    labelled, unlabelled = levels[level]
                    axis.setTicks([[(v * scale, f"{v:g}") for v in labelled],
                                   [(v * scale, "") for v in unlabelled]])
                title = axis.label.toPlainText().strip() if axis.label is not None else ""
                if title:
                    fits = axis.label.boundingRect().width() <= height
                    if axis.showLabel is not None and fits != axis.label.isVisible():
                        axis.showLabel(fits)

    def _legend_html(self) -> str:
        t = self.theme
        # Units and sides are named here: a short pane has no room for its axis title.
        entries = [("▼", t.systolic, "Sys"), ("▲", t.diastolic, "Dia mmHg"),
                   ("●", t.heart_rate, "HR /min"), ("●", t.spo2, "SpO2 %"),
                   ("◆", t.cadss6, "CADSS-6 left"), ("■", t.moaas, "MOAA/S right"),
                   ("△", t.text_muted, "off scale"), ("▽", t.text_muted, "voided")]
        return "&nbsp; ".join(
            f'<span style="color:{colour}">{symbol}</span>&nbsp;{name}'
            for symbol, colour, name in entries)

    def _style_panes(self) -> None:
        t = self.theme
        tick_font = _font(SMALL_PX)
        self._tick_keys = {self.top: "top", self.oxygen: "oxygen", self.scores: "scores"}
        self._tick_level: dict[str, int] = {}
        # Grid lines at every value of the fullest tick level.
        grid_values: dict[_Pane, tuple[float, ...]] = {self.lane: ()}
        for pane, key in self._tick_keys.items():
            labelled, unlabelled = _TICKS[key][0]
            grid_values[pane] = labelled + unlabelled
        labels = {self.lane: "", self.top: PANE_LABELS["top"],
                  self.oxygen: PANE_LABELS["oxygen"], self.scores: PANE_LABELS["scores"]}
        for pane in self.panes:
            plot = pane.plot
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setMouseEnabled(x=False, y=False)
            plot.enableAutoRange(x=False, y=False)
            plot.setYRange(*pane.view_range, padding=0)
            plot.showAxis("right")
            for side in ("left", "right", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen(pg.mkPen(t.border))
                axis.setTextPen(pg.mkPen(t.text))
                axis.setStyle(tickFont=tick_font, tickTextOffset=6)
            for side in ("left", "right"):
                axis = plot.getAxis(side)
                # The ticks are few and chosen; pyqtgraph would drop some in a short pane.
                axis.setStyle(textFillLimits=[(0, 1.0)])
                axis.setWidth(AXIS_WIDTH_PX)
                axis.setTicks([[], []])
            # Horizontal grid lines as items, not the axis grid: with an axis grid pyqtgraph
            # drops the tick labels at the ends of a pane (SpO2 100, CADSS-6 24).
            for value in grid_values[pane]:
                grid_line = pg.InfiniteLine(value, angle=0, movable=False,
                                            pen=pg.mkPen(t.grid, width=1))
                grid_line.setZValue(-30)
                plot.addItem(grid_line)
            if labels[pane]:
                plot.getAxis("left").setLabel(labels[pane], color=t.text,
                                              **{"font-size": f"{SMALL_PX}px"})
            if pane is not self.top:
                plot.setXLink(self.top.plot)
            if pane is not self.scores:
                plot.getAxis("bottom").setStyle(showValues=False)
                plot.getAxis("bottom").setHeight(4)
            if pane is not self.lane:
                plot.getAxis("bottom").setGrid(60)
        right = self.scores.plot.getAxis("right")
        right.setLabel(PANE_LABELS["moaas"], color=t.moaas, **{"font-size": f"{SMALL_PX}px"})
        self._fit_ticks()
        right.setWidth(AXIS_WIDTH_PX)
        self.scores.plot.getAxis("bottom").setLabel(X_LABEL_STARTED, color=t.text,
                                                    **{"font-size": f"{SMALL_PX}px"})

    def _create_series(self) -> None:
        t = self.theme
        hollow = QBrush(QColor(t.surface))

        def scatter(plot: pg.PlotItem, symbol: str | None, colour: str, *, filled: bool = True,
                    size: int = MARKER_PX) -> pg.ScatterPlotItem:
            item = pg.ScatterPlotItem(
                symbol=symbol, size=size, pen=pg.mkPen(colour, width=2),
                brush=QBrush(QColor(colour)) if filled else hollow, antialias=True)
            item.setZValue(10)
            plot.addItem(item)
            return item

        def line(plot: pg.PlotItem, colour: str, **options: object) -> pg.PlotDataItem:
            item = pg.PlotDataItem(pen=pg.mkPen(colour, width=2.5), antialias=True, **options)
            item.setZValue(5)
            plot.addItem(item)
            return item

        top, oxygen, scores = self.top.plot, self.oxygen.plot, self.scores.plot
        self.bp_bars = line(top, t.systolic, connect="pairs")
        self.systolic = scatter(top, "t", t.systolic)
        self.diastolic = scatter(top, "t1", t.diastolic)
        self.heart_rate = line(top, t.heart_rate)
        self.heart_rate_dots = scatter(top, "o", t.heart_rate, size=DOT_PX)
        self.spo2 = line(oxygen, t.spo2)
        self.spo2_dots = scatter(oxygen, "o", t.spo2, size=DOT_PX)
        self.cadss6 = line(scores, t.cadss6, symbol="d", symbolSize=13,
                           symbolBrush=t.cadss6, symbolPen=pg.mkPen(t.cadss6))
        self.moaas = line(scores, t.moaas, symbol="s", symbolSize=10,
                          symbolBrush=t.moaas, symbolPen=pg.mkPen(t.moaas))
        #: Values beyond their pane, pinned at the edge: same shape and colour, hollow.
        self.offscale = {
            "sbp": scatter(top, "t", t.systolic, filled=False),
            "dbp": scatter(top, "t1", t.diastolic, filled=False),
            "hr": scatter(top, "o", t.heart_rate, filled=False, size=DOT_PX + 2),
            "spo2": scatter(oxygen, "o", t.spo2, filled=False, size=DOT_PX + 2),
        }
        #: Voided or amended readings: grey, hollow, with a dotted bar for blood pressure.
        self.voided_bars = pg.PlotDataItem(connect="pairs", pen=pg.mkPen(
            t.text_muted, width=1.5, style=Qt.PenStyle.DotLine))
        top.addItem(self.voided_bars)
        self.voided = {
            "sbp": scatter(top, "t", t.text_muted, filled=False),
            "dbp": scatter(top, "t1", t.text_muted, filled=False),
            "hr": scatter(top, "o", t.text_muted, filled=False, size=DOT_PX),
            "spo2": scatter(oxygen, "o", t.text_muted, filled=False, size=DOT_PX),
            "cadss6": scatter(scores, "d", t.text_muted, filled=False, size=13),
            "moaas": scatter(scores, "s", t.text_muted, filled=False, size=DOT_PX),
        }
        for item in self.voided.values():
            item.setZValue(8)

    def _create_limits(self) -> None:
        t = self.theme

        def limit(pane: _Pane, colour: str, above: bool) -> pg.InfiniteLine:
            # Labels sit at the left end, over the baseline rather than over the latest
            # readings, and above or below their line so that two limits close together
            # (SpO2 94 and 93, HR 110 and SBP 90) keep their labels apart. Data is drawn
            # over them.
            anchor = (0.0, 1.0 if above else 0.0)
            line = pg.InfiniteLine(
                angle=0, movable=False,
                pen=pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DashLine),
                label="", labelOpts={"position": 0.0, "color": colour, "movable": False,
                                     "anchors": [anchor, anchor],
                                     "fill": _colour(t.surface, 215)})
            line.label.setFont(_font(SMALL_PX))
            line.label.textItem.document().setDocumentMargin(1)
            line.setZValue(-4)
            pane.plot.addItem(line)
            self._limit_panes[line] = pane
            return line

        #: Each limit line's pane, for placing the labels (:meth:`_place_limit_labels`).
        self._limit_panes: dict[pg.InfiniteLine, _Pane] = {}
        #: Width (px) the limit labels need at the left of the panes.
        self._gutter_px = 0.0

        #: Protocol limits drawn on the chart, set from ``view.protocol`` by show_view.
        self.limit_lines = {
            "sbp_high": limit(self.top, t.systolic, above=True),
            "sbp_low": limit(self.top, t.systolic, above=False),
            "hr_high": limit(self.top, t.heart_rate, above=True),
            "hr_low": limit(self.top, t.heart_rate, above=False),
            "spo2_discharge": limit(self.oxygen, t.ok, above=True),
            "spo2_warning": limit(self.oxygen, t.warning, above=False),
            "cadss6": limit(self.scores, t.cadss6, above=True),
            "moaas": limit(self.scores, t.moaas, above=False),
        }

    def _event_label_item(self) -> pg.TextItem:
        item = pg.TextItem(color=self.theme.text, fill=_colour(self.theme.surface_raised),
                           anchor=(0.0, 0.0))
        item.setFont(_font(SMALL_PX))
        # A thin margin keeps a label within its row of the lane.
        item.textItem.document().setDocumentMargin(1)
        item.setZValue(20)
        self.lane.plot.addItem(item)
        return item

    def _offscale_label(self, pane: _Pane) -> pg.TextItem:
        item = pg.TextItem(color=self.theme.text)
        item.setFont(_font(SMALL_PX, bold=True))
        item.setZValue(20)
        pane.plot.addItem(item)
        return item

    # -- updating ------------------------------------------------------------------------------

    def show_view(self, view: SessionView) -> None:
        """Show ``view``: new data into the existing items, nothing created or removed."""
        self._view = view
        origin, started = chart_origin(view)
        readings = sorted(view.record.readings, key=lambda r: r.time)
        voided = sorted(view.superseded_readings, key=lambda r: r.time)
        self._show_readings(readings, origin)
        self._show_voided(voided, origin)
        self._show_limits(view)
        self._show_infusion(view, origin)
        self._show_events(view, origin)
        if self._changed("x_label", started):
            self.scores.plot.getAxis("bottom").setLabel(
                X_LABEL_STARTED if started else X_LABEL_NOT_STARTED)

        now = minutes_since(origin, view.at)
        self._points = self._points_of(readings, voided, origin)
        # The axis spans the effective record; voided points are drawn where they fall in it
        # but do not stretch it (one entered at a wrong time would squeeze every other).
        xs = [now] + [p[0] for p in self._points if not p[2]]
        xs += [minutes_since(origin, e.time) for e in view.record.events]
        first = min(0.0, *xs) if started else min(xs)
        self._x_extent = (first - X_MARGIN_BEFORE, max(xs) + self.margin_after)
        for pane in self.panes:
            pane.now.setPos(now)
        self._apply_x_range()
        self._refresh_selection()

    def _points_of(self, readings: Sequence[Reading], voided: Sequence[Reading],
                   origin: datetime) -> list[tuple[float, Reading, bool]]:
        """Every reading shown, voided or not, with its minute, in time order (for taps).

        Kept from view to view while only readings after the others were added."""
        kept = getattr(self, "_points_kept", None)
        if (kept is not None and not voided and not kept[2] and kept[0] == origin
                and len(kept[1]) <= len(readings)
                and all(map(operator.is_, readings[:len(kept[1])], kept[1]))):
            points = kept[3] + [(minutes_since(origin, r.time), r, False)
                                for r in readings[len(kept[1]):]]
        else:
            points = sorted([(minutes_since(origin, r.time), r, False) for r in readings]
                            + [(minutes_since(origin, r.time), r, True) for r in voided],
                            key=lambda p: p[0])
        self._points_kept = (origin, readings, voided, points)
        return points

    def _changed(self, key: str, value: object) -> bool:
        """Whether ``value`` differs from the one last shown under ``key`` (then remembered).

        Saving a reading changes the series but rarely the limits, events or shading;
        skipping those keeps :meth:`show_view` to the work the new reading needs.
        """
        if key in self._shown and self._shown[key] == value:
            return False
        self._shown[key] = value
        return True

    def _apply_x_range(self) -> None:
        """Set the x range to the data plus, on the left, a gutter as wide as the longest
        limit label, so that limit labels never cover a reading."""
        first, last = self._x_extent
        box = self.top.plot.getViewBox()
        # Before the first layout the view box has no width yet; assume a typical one.
        width = box.width() if box.width() > 1 else 600.0
        gutter = self._gutter_px + 2 * EVENT_LABEL_GAP_PX
        gutter_minutes = gutter * (last - first) / max(width - gutter, 1.0)
        x_range = (first - gutter_minutes, last)
        # Setting the range re-lays every linked pane; skip it when nothing moved.
        if x_range != getattr(self, "_x_range", None):
            self._x_range = x_range
            self.top.plot.setXRange(*x_range, padding=0)
        self._place_event_labels()

    def _show_readings(self, readings: Sequence[Reading], origin: datetime) -> None:
        columns = self._columns
        columns.update(readings, origin)
        sbp_x, sbp = columns.values("sbp")
        dbp_x, dbp = columns.values("dbp")
        sys_split = _split(sbp_x, sbp, BP_HR_RANGE)
        dia_split = _split(dbp_x, dbp, BP_HR_RANGE)
        _set_points(self.systolic, sys_split.x, sys_split.y)
        _set_points(self.diastolic, dia_split.x, dia_split.y)
        _set_points(self.offscale["sbp"], sys_split.off_x, sys_split.off_y)
        _set_points(self.offscale["dbp"], dia_split.off_x, dia_split.off_y)
        # Systolic and diastolic are entered together (validation), so their minutes match.
        if np.array_equal(sbp_x, dbp_x):
            bar_x, bar_sbp, bar_dbp = sbp_x, sbp, dbp
        else:
            both = [r for r in readings if r.sbp is not None and r.dbp is not None]
            bar_x, bar_sbp = _values(both, origin, "sbp")
            _, bar_dbp = _values(both, origin, "dbp")
        self.bp_bars.setData(*_pairs(bar_x, np.clip(bar_dbp, *BP_HR_RANGE),
                                     np.clip(bar_sbp, *BP_HR_RANGE)))

        hr_x, hr_y = columns.values("hr")
        hr = _split(hr_x, hr_y, BP_HR_RANGE)
        # The line runs through every reading, off-scale ones at their pinned position.
        self.heart_rate.setData(hr_x, hr.pinned)
        _set_points(self.heart_rate_dots, hr.x, hr.y)
        _set_points(self.offscale["hr"], hr.off_x, hr.off_y)

        spo2_x, spo2_y = columns.values("spo2")
        spo2 = _split(spo2_x, spo2_y, SPO2_RANGE)
        self.spo2.setData(spo2_x, spo2.pinned)
        _set_points(self.spo2_dots, spo2.x, spo2.y)
        _set_points(self.offscale["spo2"], spo2.off_x, spo2.off_y)

        _set_line(self.cadss6, *columns.values("cadss6"))
        _set_line(self.moaas, *columns.values("moaas", MOAAS_SCALE))

        self._show_offscale_labels(self.top, [sys_split, dia_split, hr])
        self._show_offscale_labels(self.oxygen, [spo2])

    def _show_offscale_labels(self, pane: _Pane, splits: Sequence[_Split]) -> None:
        """The real number beside each pinned marker, so 238 never reads as 220."""
        marks = [(x, y, value) for split in splits
                 for x, y, value in zip(split.off_x, split.off_y, split.off_values, strict=True)]
        for item, (x, y, value) in zip(self._offscale_labels[pane].take(len(marks)), marks,
                                       strict=True):
            item.setText(f"{value:.0f}")
            # Inside the pane: below a marker pinned at the top, above one pinned at the bottom.
            item.setAnchor((-0.25, 0.0) if y >= pane.y_range[1] else (-0.25, 1.0))
            item.setPos(x, y)

    def _show_voided(self, voided: Sequence[Reading], origin: datetime) -> None:
        if not self._changed("voided", (origin, [r.id for r in voided])):
            return  # most saves: still none, or the same ones
        for name, limits in (("sbp", BP_HR_RANGE), ("dbp", BP_HR_RANGE), ("hr", BP_HR_RANGE),
                             ("spo2", SPO2_RANGE)):
            x, y = _values(voided, origin, name)
            self.voided[name].setData(x, np.clip(y, *limits))
        self.voided["cadss6"].setData(*_values(voided, origin, "cadss6"))
        self.voided["moaas"].setData(*_values(voided, origin, "moaas", MOAAS_SCALE))
        both = [r for r in voided if r.sbp is not None and r.dbp is not None]
        x, sbp = _values(both, origin, "sbp")
        _, dbp = _values(both, origin, "dbp")
        self.voided_bars.setData(*_pairs(x, np.clip(dbp, *BP_HR_RANGE),
                                         np.clip(sbp, *BP_HR_RANGE)))

    def _show_limits(self, view: SessionView) -> None:
        p = view.protocol
        limits = {
            "sbp_high": (p.bp.high_warning_sbp_at_or_above,
                         f"SBP {p.bp.high_warning_sbp_at_or_above}"),
            "sbp_low": (p.bp.low_warning_sbp_below, f"SBP {p.bp.low_warning_sbp_below}"),
            "hr_high": (p.hr.high_warning_at_or_above, f"HR {p.hr.high_warning_at_or_above}"),
            "hr_low": (p.hr.low_advisory_at_or_below, f"HR {p.hr.low_advisory_at_or_below}"),
            # Named like the other limits, and the discharge line says what it is for:
            # "94 home" beside "93 warn" read as a value, not as a criterion.
            "spo2_discharge": (p.discharge.spo2_at_or_above,
                               f"Discharge ≥ {p.discharge.spo2_at_or_above}"),
            "spo2_warning": (p.spo2.low_warning_at_or_below,
                             f"SpO2 {p.spo2.low_warning_at_or_below}"),
            "cadss6": (p.cadss6.advisory_at_or_above, f"CADSS {p.cadss6.advisory_at_or_above}"),
            "moaas": (p.moaas.warning_at_or_below * MOAAS_SCALE,
                      f"MOAA/S {p.moaas.warning_at_or_below}"),
        }
        if not self._changed("limits", limits):
            return
        for key, (value, text) in limits.items():
            line = self.limit_lines[key]
            line.setPos(value)
            line.label.setFormat(text)
        self._place_limit_labels()

    def _place_limit_labels(self) -> None:
        """Keep limit labels whole and apart in a short pane: each is centred on its line
        (moved wholly inside at the pane's edge), and the labels share two columns at the
        left, each going where it covers the least of another label. Sets the gutter the x
        range keeps for them."""
        gutter = 0.0
        by_pane: dict[_Pane, list[pg.InfiniteLine]] = {}
        for line, pane in self._limit_panes.items():
            by_pane.setdefault(pane, []).append(line)
        for pane, lines in by_pane.items():
            box = pane.plot.getViewBox()
            height = box.height() if box.height() > 1 else float(pane.plot.preferredHeight())
            width = box.width() if box.width() > 1 else 600.0
            per_px = (pane.view_range[1] - pane.view_range[0]) / max(height, 1.0)
            bottom, top = pane.view_range
            column_px = max(line.label.boundingRect().width() for line in lines)
            columns: list[list[tuple[float, float]]] = [[], []]
            for line in sorted(lines, key=lambda item: -item.value()):
                label = line.label
                value = float(line.value())
                tall = label.boundingRect().height() * per_px
                # Centred on its line, on a backing that hides the dash behind it: half a
                # label each side, the least height two limits close together can share.
                # At a pane's edge it moves wholly inside.
                if value + tall / 2 > top:
                    anchor_y, low, high = 0.0, value - tall, value
                elif value - tall / 2 < bottom:
                    anchor_y, low, high = 1.0, value, value + tall
                else:
                    anchor_y, low, high = 0.5, value - tall / 2, value + tall / 2

                def covered(spans: list[tuple[float, float]], low: float = low,
                            high: float = high) -> float:
                    return sum(max(0.0, min(high, b) - max(low, a)) for a, b in spans)

                column = min(range(len(columns)), key=lambda c: (covered(columns[c]), c))
                columns[column].append((low, high))
                start = column * (column_px + EVENT_LABEL_GAP_PX)
                gutter = max(gutter, start + label.boundingRect().width())
                anchor = (0.0, anchor_y)
                if label.anchors != [anchor, anchor] or label.orthoPos != start / width:
                    label.anchors = [anchor, anchor]
                    label.setPosition(start / width)
        self._gutter_px = gutter

    def _show_infusion(self, view: SessionView, origin: datetime) -> None:
        infusing, paused = infusion_spans(view)
        as_minutes = [[(minutes_since(origin, a), minutes_since(origin, b)) for a, b in spans]
                      for spans in (infusing, paused)]
        if not self._changed("infusion", as_minutes):
            return
        for pane in self.panes:
            pane.show_spans(pane.infusing, as_minutes[0])
            pane.show_spans(pane.paused, as_minutes[1])

    def _show_events(self, view: SessionView, origin: datetime) -> None:
        events = sorted(view.record.events, key=lambda e: e.time)
        marks = [(minutes_since(origin, e.time), event_label(e.kind, e.detail)
                  + (" · after sign-off" if view.after_signoff(e) else "")) for e in events]
        # A reading a clinician added after the discharge was signed is marked where it sits.
        marks += [(minutes_since(origin, r.time), AFTER_SIGNOFF_MARK)
                  for r in view.record.readings if view.after_signoff(r)]
        marks.sort(key=lambda mark: mark[0])
        if not self._changed("events", marks):
            return
        x = np.array([minute for minute, _ in marks], dtype=float)
        for pane in self.panes:
            pane.show_events(x)
        self._event_marks = marks

    def _place_event_labels(self) -> None:
        """Put each event label in the lane at its line, in the first row where it does not
        overlap an earlier label. Events closer than the rows can hold (pause, medication and
        adverse event within a minute) push a label a little right of its line rather than
        over another label."""
        items = self.event_labels.take(len(self._event_marks))
        box = self.top.plot.getViewBox()
        x_low, x_high = self._x_range
        # Before the first layout the view box has no width yet; assume a typical one.
        width_px = box.width() if box.width() > 1 else 600.0
        px_per_minute = width_px / max(x_high - x_low, 1e-6)
        row_ends = [-np.inf] * EVENT_LABEL_ROWS
        for item, (x, text) in zip(items, self._event_marks, strict=True):
            if item.textItem.toPlainText() != text:
                item.setText(text)
            label_px = item.boundingRect().width()
            # A label near the right end ends at the lane's edge rather than past it, where
            # the lane would cut it ("Discha…").
            start = min((x - x_low) * px_per_minute, max(0.0, width_px - label_px))
            row = next((r for r, end in enumerate(row_ends) if end <= start),
                       int(np.argmin(row_ends)))
            start = max(start, row_ends[row])
            row_ends[row] = start + label_px + EVENT_LABEL_GAP_PX
            item.setPos(x_low + start / px_per_minute, EVENT_LABEL_ROWS - row)

    def _on_resized(self) -> None:
        # Pixel-based placement (gutter, event rows, the tap label, ticks) follows the size.
        self._fit_ticks()
        self._place_limit_labels()
        self._apply_x_range()
        self._place_point_label()

    # -- tap to read ---------------------------------------------------------------------------

    def _on_click(self, event: object) -> None:
        scene_pos = event.scenePos()
        for pane in self.panes:
            box = pane.plot.getViewBox()
            if box.sceneBoundingRect().contains(scene_pos):
                minutes = box.mapSceneToView(scene_pos).x()
                tolerance = TAP_TOLERANCE_PX * box.viewPixelSize()[0]
                self.select_at(minutes, tolerance)
                return

    def select_at(self, minutes: float, tolerance: float = 2.0) -> Reading | None:
        """Show the values of the time point nearest ``minutes`` (within ``tolerance``
        minutes) and return it; with none near, hide the label and return ``None``."""
        nearest = min(self._points, key=lambda p: abs(p[0] - minutes), default=None)
        if nearest is None or abs(nearest[0] - minutes) > tolerance:
            self._selected = None
        else:
            self._selected = nearest[1]
        self._refresh_selection()
        return self._selected

    def _refresh_selection(self) -> None:
        point = next((p for p in self._points if self._selected is not None
                      and p[1].id == self._selected.id), None)
        for pane in self.panes:
            pane.cursor.setVisible(point is not None)
            if point is not None:
                pane.cursor.setPos(point[0])
        if point is None:
            self._selected = None
            self.point_label.hide()
            return
        self.point_label.setText(self._point_html(*point))
        self.point_label.adjustSize()
        self.point_label.show()
        self.point_label.raise_()
        self._place_point_label()

    def _point_html(self, minutes: float, reading: Reading, voided: bool) -> str:
        t = self.theme
        head = f"<b>{clock_time(reading.time)}</b>&nbsp;&nbsp;({minutes:+.0f} min)"
        rows = [head]
        if voided and self._view is not None:
            correction = next((c for c in self._view.corrections
                               if c.target_id == reading.id), None)
            why = f": {html.escape(correction.reason)}" if correction else ""
            word = "AMENDED" if correction and correction.action == "amend" else "VOIDED"
            rows.append(f'<span style="color:{t.text_muted}"><b>{word}</b>{why}</span>')
        rows += [f'<span style="color:{t.text_muted}">{name}</span>&nbsp;&nbsp;<b>{value}</b>'
                 for name, value in reading_lines(reading)]
        if reading.note:
            rows.append(f'<span style="color:{t.text_muted}">Note</span>&nbsp;&nbsp;'
                        f"{html.escape(reading.note)}")
        return "<br>".join(rows)

    def _place_point_label(self) -> None:
        if self._selected is None or not self.point_label.isVisible():
            return
        point = next((p for p in self._points if p[1].id == self._selected.id), None)
        if point is None:
            return
        box = self.top.plot.getViewBox()
        scene = box.mapViewToScene(QPointF(point[0], self.top.view_range[1]))
        at = self.graphics.mapTo(self, self.graphics.mapFromScene(scene))
        label = self.point_label
        gap = 12
        x = at.x() + gap
        if x + label.width() > self.width():
            x = at.x() - gap - label.width()
        label.move(max(0, x), max(0, at.y() + 4))
