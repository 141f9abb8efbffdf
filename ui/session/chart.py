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
run the moment a reading is saved. What is plotted, as numbers, comes from
:mod:`ui.session.chart_data`; the panes, their axes and the placing of labels from
:mod:`ui.session.chart_panes`.
"""

from __future__ import annotations

import html
import operator
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from monitor.clinical.domain import Reading
from monitor.clinical.lineage import VOID, correction_word, lineage
from ui.common.labels import clock_time, reading_lines
from ui.common.theme import SMALL_PX, TEXT_PX, Theme
from ui.session.chart_data import (
    AFTER_SIGNOFF_MARK,
    BP_HR_RANGE,
    MOAAS_SCALE,
    SCORE_RANGE,
    SPO2_RANGE,
    X_MARGIN_AFTER,
    X_MARGIN_BEFORE,
    Columns,
    Split,
    chart_origin,
    event_label,
    infusion_spans,
    measure_values,
    minutes_since,
    monitor_marks,
    split_at,
    vertical_pairs,
)
from ui.session.chart_panes import (
    AXIS_WIDTH_PX,
    DOT_PX,
    EVENT_LABEL_GAP_PX,
    EVENT_LABEL_ROWS,
    EVENT_ROW_PX,
    GRID_MARGIN_PX,
    GRID_SPACING_PX,
    MARKER_PX,
    MONITOR_MARK_PX,
    PANE_FRAME_PX,
    PANE_HEIGHTS,
    PANE_LABELS,
    TICKS,
    TIME_AXIS_PX,
    X_LABEL_NOT_STARTED,
    X_LABEL_STARTED,
    Pane,
    Pool,
    event_label_item,
    fit_ticks,
    legend_html,
    limit_line,
    offscale_label_item,
    place_event_labels,
    place_limit_labels,
    set_line,
    set_points,
    share_height,
    style_pane,
)

if TYPE_CHECKING:
    from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent

    from monitor.service.views import SessionView

#: A tap selects the nearest time point within this many pixels (a fingertip is ~ 40 px).
TAP_TOLERANCE_PX = 40


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

        self.legend = QLabel(legend_html(theme))
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
        self.lane = Pane(theme, self.graphics.addPlot(row=0, col=0),
                          (0.0, float(EVENT_LABEL_ROWS)), margin=0.0)
        self.top = Pane(theme, self.graphics.addPlot(row=1, col=0), BP_HR_RANGE)
        self.oxygen = Pane(theme, self.graphics.addPlot(row=2, col=0), SPO2_RANGE)
        self.scores = Pane(theme, self.graphics.addPlot(row=3, col=0), SCORE_RANGE)
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

        self.event_labels = Pool(partial(event_label_item, self.lane.plot, theme))
        self._event_marks: list[tuple[float, str]] = []
        self._offscale_labels = {pane: Pool(partial(offscale_label_item, pane.plot, theme))
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
        self._columns = Columns()
        self.graphics.scene().sigMouseClicked.connect(self._on_click)
        self.top.plot.getViewBox().sigResized.connect(self._on_resized)
        for pane in (self.oxygen, self.scores):
            pane.plot.getViewBox().sigResized.connect(self._fit_ticks)

    # -- construction ------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.graphics and isinstance(watched, QWidget)
                and event.type() == QEvent.Type.Resize):
            self._share_height(watched.height())
        return super().eventFilter(watched, event)

    def pane_heights(self) -> dict[str, int]:
        """The plot-area height each pane was given (px), e.g. ``{"top": 130, ...}``."""
        return dict(zip(PANE_HEIGHTS, self._pane_heights, strict=False))

    def _share_height(self, height: int) -> None:
        """Give the panes their heights (:func:`share_height`), set as fixed heights: the
        graphics grid alone would share out the space by its own rules and leave BP/HR flat."""
        heights = share_height(height, self._lane_px)
        if heights == self._pane_heights:
            return
        self._pane_heights = heights
        for pane, plot_px in zip((self.top, self.oxygen, self.scores), heights, strict=True):
            total = plot_px + PANE_FRAME_PX + (TIME_AXIS_PX if pane is self.scores else 0)
            pane.plot.setMinimumHeight(total)
            pane.plot.setPreferredHeight(total)
            pane.plot.setMaximumHeight(total)

    def _fit_ticks(self) -> None:
        """Label as many ticks as each pane's height keeps apart (:func:`fit_ticks`); the
        scores pane's right axis reads MOAA/S."""
        for pane, key in self._tick_keys.items():
            right_key, right_scale = ("moaas", MOAAS_SCALE) if pane is self.scores else (key, 1.0)
            fit_ticks(pane, [(key, pane.plot.getAxis("left"), 1.0),
                             (right_key, pane.plot.getAxis("right"), right_scale)],
                      self._tick_level)

    def _style_panes(self) -> None:
        t = self.theme
        self._tick_keys = {self.top: "top", self.oxygen: "oxygen", self.scores: "scores"}
        self._tick_level: dict[str, int] = {}
        for pane in self.panes:
            key = self._tick_keys.get(pane)
            # Grid lines at every value of the fullest tick level.
            labelled, unlabelled = TICKS[key][0] if key is not None else ((), ())
            style_pane(pane, t, grid_values=labelled + unlabelled,
                       title=PANE_LABELS[key] if key is not None else "")
            plot = pane.plot
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
        self.monitor_marks = scatter(top, "s", t.text, size=MONITOR_MARK_PX)
        self.monitor_marks.setBrush(QBrush(Qt.BrushStyle.NoBrush))  # a frame around the BP
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

        def limit(pane: Pane, colour: str, above: bool) -> pg.InfiniteLine:
            line = limit_line(pane, colour, above=above, fill=t.surface)
            self._limit_panes[line] = pane
            return line

        #: Each limit line's pane, for placing the labels (:func:`place_limit_labels`).
        self._limit_panes: dict[pg.InfiniteLine, Pane] = {}
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
        sys_split = split_at(sbp_x, sbp, BP_HR_RANGE)
        dia_split = split_at(dbp_x, dbp, BP_HR_RANGE)
        set_points(self.systolic, sys_split.x, sys_split.y)
        set_points(self.diastolic, dia_split.x, dia_split.y)
        set_points(self.offscale["sbp"], sys_split.off_x, sys_split.off_y)
        set_points(self.offscale["dbp"], dia_split.off_x, dia_split.off_y)
        # Systolic and diastolic are entered together (validation), so their minutes match.
        if np.array_equal(sbp_x, dbp_x):
            bar_x, bar_sbp, bar_dbp = sbp_x, sbp, dbp
        else:
            both = [r for r in readings if r.sbp is not None and r.dbp is not None]
            bar_x, bar_sbp = measure_values(both, origin, "sbp")
            _, bar_dbp = measure_values(both, origin, "dbp")
        self.bp_bars.setData(*vertical_pairs(bar_x, np.clip(bar_dbp, *BP_HR_RANGE),
                                     np.clip(bar_sbp, *BP_HR_RANGE)))

        hr_x, hr_y = columns.values("hr")
        hr = split_at(hr_x, hr_y, BP_HR_RANGE)
        # The line runs through every reading, off-scale ones at their pinned position.
        self.heart_rate.setData(hr_x, hr.pinned)
        set_points(self.heart_rate_dots, hr.x, hr.y)
        set_points(self.offscale["hr"], hr.off_x, hr.off_y)

        spo2_x, spo2_y = columns.values("spo2")
        spo2 = split_at(spo2_x, spo2_y, SPO2_RANGE)
        self.spo2.setData(spo2_x, spo2.pinned)
        set_points(self.spo2_dots, spo2.x, spo2.y)
        set_points(self.offscale["spo2"], spo2.off_x, spo2.off_y)

        set_line(self.cadss6, *columns.values("cadss6"))
        set_line(self.moaas, *columns.values("moaas", MOAAS_SCALE))

        monitor = [r.id for r in readings if r.from_monitor]
        if self._changed("monitor", (origin, monitor)):
            self.monitor_marks.setData(*monitor_marks(readings, origin, BP_HR_RANGE))
            self.legend.setText(legend_html(self.theme, monitor=bool(monitor)))
        self._show_offscale_labels(self.top, [sys_split, dia_split, hr])
        self._show_offscale_labels(self.oxygen, [spo2])

    def _show_offscale_labels(self, pane: Pane, splits: Sequence[Split]) -> None:
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
            x, y = measure_values(voided, origin, name)
            self.voided[name].setData(x, np.clip(y, *limits))
        self.voided["cadss6"].setData(*measure_values(voided, origin, "cadss6"))
        self.voided["moaas"].setData(*measure_values(voided, origin, "moaas", MOAAS_SCALE))
        both = [r for r in voided if r.sbp is not None and r.dbp is not None]
        x, sbp = measure_values(both, origin, "sbp")
        _, dbp = measure_values(both, origin, "dbp")
        self.voided_bars.setData(*vertical_pairs(x, np.clip(dbp, *BP_HR_RANGE),
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
        """Keep limit labels whole and apart (:func:`place_limit_labels`), and the gutter the
        x range keeps for them."""
        self._gutter_px = place_limit_labels(self._limit_panes)

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
        place_event_labels(self.event_labels.take(len(self._event_marks)), self._event_marks,
                           self.top.plot.getViewBox(), self._x_range)

    def _on_resized(self) -> None:
        # Pixel-based placement (gutter, event rows, the tap label, ticks) follows the size.
        self._fit_ticks()
        self._place_limit_labels()
        self._apply_x_range()
        self._place_point_label()

    # -- tap to read ---------------------------------------------------------------------------

    def _on_click(self, event: MouseClickEvent) -> None:
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
            correction = lineage(self._view.corrections).correction(reading.id)
            why = f": {html.escape(correction.reason)}" if correction else ""
            word = correction_word(correction.action if correction else VOID)
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
