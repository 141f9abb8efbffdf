"""The furniture of the session chart: its panes, pooled items, axes and label placement.

A :class:`Pane` is one plot of the chart with its fixed y range and its own copy of what spans
the whole chart (infusion shading, event lines, the "now" line, the tap cursor). The functions
here share the height between the panes, label as many ticks as a pane's height keeps apart,
and keep limit and event labels whole and apart; :class:`~ui.session.chart.SessionChart` calls
them as the chart is built, updated and resized.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Generic, TypeVar

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QGraphicsItem

from ui.common.theme import SMALL_PX, Theme
from ui.session.chart_data import (
    Y_MARGIN,
    vertical_pairs,
)

MARKER_PX = 15
DOT_PX = 10
#: The square framing a BP marker of a reading filed from the bedside monitor.
MONITOR_MARK_PX = MARKER_PX + 11
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
TICKS: dict[str, tuple[tuple[tuple[float, ...], tuple[float, ...]], ...]] = {
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


def qcolor(hex_colour: str, alpha: int = 255) -> QColor:
    """A theme colour with ``alpha`` (0–255) opacity."""
    colour = QColor(hex_colour)
    colour.setAlpha(alpha)
    return colour


def pixel_font(px: int, *, bold: bool = False) -> QFont:
    """The application font at ``px`` pixels."""
    font = QFont()
    font.setPixelSize(px)
    font.setBold(bold)
    return font


Item = TypeVar("Item", bound=QGraphicsItem)


class Pool(Generic[Item]):
    """Graphics items of one kind whose number follows the record (events, shaded spans).

    Items are created on first need and then reused; the ones not needed are hidden, so the
    scene never holds more items than the busiest view it has shown.
    """

    def __init__(self, factory: Callable[[], Item]) -> None:
        self._factory = factory
        self.items: list[Item] = []

    def take(self, count: int) -> list[Item]:
        while len(self.items) < count:
            self.items.append(self._factory())
        for index, item in enumerate(self.items):
            item.setVisible(index < count)
        return self.items[:count]


def set_points(item: pg.ScatterPlotItem, x: np.ndarray, y: np.ndarray) -> None:
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


def set_line(item: pg.PlotDataItem, x: np.ndarray, y: np.ndarray) -> None:
    """``item.setData(x, y)`` unless it shows those already (a vitals save leaves the score
    lines as they were)."""
    old = getattr(item, "_chairside_points", None)
    if old is None or not (np.array_equal(x, old[0]) and np.array_equal(y, old[1])):
        item.setData(x, y)
        item._chairside_points = (x, y)  # what it shows, for the next call


class Pane:
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
        shade = QBrush(qcolor(theme.infusion_shade, 46))
        hatch = QBrush(qcolor(theme.infusion_shade, 120), Qt.BrushStyle.BDiagPattern)
        self.infusing = Pool(lambda: self._region(shade))
        self.paused = Pool(lambda: self._region(hatch))
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

    def show_spans(self, pool: Pool[pg.LinearRegionItem],
                   spans: Sequence[tuple[float, float]]) -> None:
        for region, span in zip(pool.take(len(spans)), spans, strict=True):
            region.setRegion(span)

    def show_events(self, x: np.ndarray) -> None:
        low, high = self.view_range
        self.events.setData(*vertical_pairs(x, np.full(len(x), low), np.full(len(x), high)))


def share_height(height: int, lane_px: int) -> tuple[int, ...]:
    """The plot-area height (px) of each pane of :data:`PANE_HEIGHTS` in a chart ``height``
    px tall whose event lane takes ``lane_px``: each pane its smallest readable height, then
    the rest by weight (BP/HR the most)."""
    frames = 2 * GRID_MARGIN_PX + 3 * GRID_SPACING_PX + lane_px
    frames += 3 * PANE_FRAME_PX + TIME_AXIS_PX
    lows = sum(low for _, low in PANE_HEIGHTS.values())
    spare = height - frames - lows
    weights = sum(weight for weight, _ in PANE_HEIGHTS.values())
    if spare >= 0:
        return tuple(low + spare * weight // weights for weight, low in PANE_HEIGHTS.values())
    # Shorter than readable: every pane gives up the same share, none is clipped.
    room = max(height - frames, 3 * MIN_PANE_PX)
    return tuple(max(low * room // lows, MIN_PANE_PX) for _, low in PANE_HEIGHTS.values())


def fit_ticks(pane: Pane, axes: Sequence[tuple[str, pg.AxisItem, float]],
              shown: dict[str, int]) -> None:
    """Label as many ticks of ``axes`` (tick key, axis, scale) as ``pane``'s height keeps
    apart (:data:`TICK_GAP_PX`), and show an axis title only where it fits along the axis.
    ``shown`` keeps the tick level each axis shows, so that an unchanged one is left alone."""
    box = pane.plot.getViewBox()
    # Before the first layout the view box has no height yet; assume a typical one.
    height = box.height() if box.height() > 1 else float(pane.plot.preferredHeight())
    px_per_unit = height / (pane.view_range[1] - pane.view_range[0])
    for tick_key, axis, scale in axes:
        levels = TICKS[tick_key]
        level = next((n for n, (labelled, _) in enumerate(levels)
                      if min(np.diff(labelled)) * scale * px_per_unit >= TICK_GAP_PX),
                     len(levels) - 1)
        name = f"{tick_key}:{id(axis)}"
        if shown.get(name) != level:
            shown[name] = level
            labelled, unlabelled = levels[level]
            axis.setTicks([[(v * scale, f"{v:g}") for v in labelled],
                           [(v * scale, "") for v in unlabelled]])
        title = axis.label.toPlainText().strip() if axis.label is not None else ""
        if title:
            fits = axis.label.boundingRect().width() <= height
            if axis.showLabel is not None and fits != axis.label.isVisible():
                axis.showLabel(fits)


def legend_html(theme: Theme, *, monitor: bool = False) -> str:
    """The key above the chart: each series' marker in its colour, and its name; with
    ``monitor``, the frame of the readings filed from the bedside monitor too."""
    t = theme
    # Units and sides are named here: a short pane has no room for its axis title.
    entries = [("▼", t.systolic, "Sys"), ("▲", t.diastolic, "Dia mmHg"),
               ("●", t.heart_rate, "HR /min"), ("●", t.spo2, "SpO2 %"),
               ("◆", t.cadss6, "CADSS-6 left"), ("■", t.moaas, "MOAA/S right"),
               ("△", t.text_muted, "off scale"), ("▽", t.text_muted, "voided")]
    if monitor:
        entries.append(("□", t.text, "from monitor"))
    return "&nbsp; ".join(
        f'<span style="color:{colour}">{symbol}</span>&nbsp;{name}'
        for symbol, colour, name in entries)


def style_pane(pane: Pane, theme: Theme, *, grid_values: Sequence[float], title: str) -> None:
    """Fix ``pane``'s ranges and axes (no menu, no mouse zoom, chosen ticks only), draw its
    horizontal grid lines at ``grid_values`` and its axis ``title``."""
    t = theme
    plot = pane.plot
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setMouseEnabled(x=False, y=False)
    plot.enableAutoRange(x=False, y=False)
    plot.setYRange(*pane.view_range, padding=0)
    plot.showAxis("right")
    tick_font = pixel_font(SMALL_PX)
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
    # Horizontal grid lines as items, not the axis grid: with an axis grid pyqtgraph drops
    # the tick labels at the ends of a pane (SpO2 100, CADSS-6 24).
    for value in grid_values:
        grid_line = pg.InfiniteLine(value, angle=0, movable=False, pen=pg.mkPen(t.grid, width=1))
        grid_line.setZValue(-30)
        plot.addItem(grid_line)
    if title:
        plot.getAxis("left").setLabel(title, color=t.text, **{"font-size": f"{SMALL_PX}px"})


def limit_line(pane: Pane, colour: str, *, above: bool, fill: str) -> pg.InfiniteLine:
    """A dashed protocol limit across ``pane``, its label on a ``fill`` backing.

    Labels sit at the left end, over the baseline rather than over the latest readings, and
    above or below their line so that two limits close together (SpO2 94 and 93, HR 110 and
    SBP 90) keep their labels apart. Data is drawn over them.
    """
    anchor = (0.0, 1.0 if above else 0.0)
    line = pg.InfiniteLine(
        angle=0, movable=False,
        pen=pg.mkPen(colour, width=1.5, style=Qt.PenStyle.DashLine),
        label="", labelOpts={"position": 0.0, "color": colour, "movable": False,
                             "anchors": [anchor, anchor], "fill": qcolor(fill, 215)})
    line.label.setFont(pixel_font(SMALL_PX))
    line.label.textItem.document().setDocumentMargin(1)
    line.setZValue(-4)
    pane.plot.addItem(line)
    return line


def place_limit_labels(limit_panes: Mapping[pg.InfiniteLine, Pane]) -> float:
    """Keep limit labels whole and apart in a short pane: each is centred on its line
    (moved wholly inside at the pane's edge), and the labels share two columns at the left,
    each going where it covers the least of another label. Returns the gutter (px) the x
    range keeps for them."""
    gutter = 0.0
    by_pane: dict[Pane, list[pg.InfiniteLine]] = {}
    for line, pane in limit_panes.items():
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
    return gutter


def place_event_labels(items: Sequence[pg.TextItem], marks: Sequence[tuple[float, str]],
                       box: pg.ViewBox, x_range: tuple[float, float]) -> None:
    """Put each event label (``items``, one per ``(minute, text)`` mark) in the lane at its
    line, in the first row where it does not overlap an earlier label. Events closer than
    the rows can hold (pause, medication and adverse event within a minute) push a label a
    little right of its line rather than over another label."""
    x_low, x_high = x_range
    # Before the first layout the view box has no width yet; assume a typical one.
    width_px = box.width() if box.width() > 1 else 600.0
    px_per_minute = width_px / max(x_high - x_low, 1e-6)
    row_ends = [-np.inf] * EVENT_LABEL_ROWS
    for item, (x, text) in zip(items, marks, strict=True):
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


def event_label_item(plot: pg.PlotItem, theme: Theme) -> pg.TextItem:
    """An event's label in the lane above the panes, on a raised backing."""
    item = pg.TextItem(color=theme.text, fill=qcolor(theme.surface_raised), anchor=(0.0, 0.0))
    item.setFont(pixel_font(SMALL_PX))
    # A thin margin keeps a label within its row of the lane.
    item.textItem.document().setDocumentMargin(1)
    item.setZValue(20)
    plot.addItem(item)
    return item


def offscale_label_item(plot: pg.PlotItem, theme: Theme) -> pg.TextItem:
    """The real number beside a value pinned at its pane's edge."""
    item = pg.TextItem(color=theme.text)
    item.setFont(pixel_font(SMALL_PX, bold=True))
    item.setZValue(20)
    plot.addItem(item)
    return item
