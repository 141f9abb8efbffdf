"""The session chart on paper: the session screen's own chart, drawn as vectors on a page.

The chart is :class:`~ui.session.chart.SessionChart`, built offscreen in the light theme at a
fixed size, and drawn over its frame in the report by rendering its graphics scene through
the page's :class:`QPainter`. On a PDF page that gives paths and text, not a picture:
pyqtgraph's export mode makes markers draw one by one instead of from its pixmap atlas, and
the axes draw straight onto the page instead of replaying a :class:`QPicture` (whose text
comes out at the wrong size on a device of another resolution). Nothing goes through SVG.
For grey-scale print, series differ by marker shape and line style as well as colour
(MOAA/S dashed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsScene, QStyleOptionGraphicsItem, QWidget

from ui.common.theme import LIGHT
from ui.session.chart import SessionChart

if TYPE_CHECKING:
    from monitor.service.views import SessionView

#: The chart is laid out at this size in screen pixels (its fonts and markers are sized in
#: pixels), then scaled to the page width: 1000 px across 180 mm sets its 15 px text at 7.7 pt.
CHART_SIZE = (1000, 780)

#: Markers on a page of :data:`ui.review.report.PDF_RESOLUTION`, relative to their size on
#: screen in pixels: chosen so that they stand to the chart's lines and text as they do on
#: the tablet.
MARKER_SCALE = 1.8

#: Minutes of chart after the last entry: room for the labels of the events that end a session
#: (oriented, escort, discharged), which come within minutes of each other.
PRINT_MARGIN_AFTER = 20.0


class PrintChart:
    """The session chart, built offscreen for the page, and drawn as vectors by :meth:`draw`."""

    def __init__(self) -> None:
        self.chart = SessionChart(LIGHT)
        _style_for_print(self.chart)
        # Laid out as the screen lays it out, at a fixed size, but never on a screen: the
        # chart shares its height among the panes when it is resized while shown.
        self.chart.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
        self.chart.resize(*CHART_SIZE)
        self.chart.show()
        layout = self.chart.layout()
        assert layout is not None
        layout.activate()
        self.chart.graphics.ci.layout.activate()
        # The "now" line marks the nurse's present; on a report it would only mark the
        # moment the report was made.
        for pane in self.chart.panes:
            pane.now.setVisible(False)

    def show(self, view: SessionView) -> None:
        self.chart.show_view(view)

    @staticmethod
    def height_for(width: float) -> float:
        return width * CHART_SIZE[1] / CHART_SIZE[0]

    def draw(self, painter: QPainter, rect: QRectF) -> None:
        scene = self.chart.graphics.scene()
        # Markers are drawn in pixels of the device, not of the chart: size them to match.
        _prepare_export(scene, MARKER_SCALE)
        graphics = self.chart.graphics
        source = QRectF(0, 0, graphics.width(), graphics.height())
        # A pyqtgraph text item sets the painter's transform to its own the first time it is
        # painted, which on the page would draw its backing (the box that keeps a limit
        # line from running through its label) far from its text. Paint once off the page.
        scratch = QImage(8, 8, QImage.Format.Format_ARGB32)
        scratch_painter = QPainter(scratch)
        scene.render(scratch_painter, QRectF(scratch.rect()), source)
        scratch_painter.end()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        scene.render(painter, rect, source, Qt.AspectRatioMode.KeepAspectRatio)
        painter.restore()

    def close(self) -> None:
        self.chart.close()
        self.chart.deleteLater()


def _style_for_print(chart: SessionChart) -> None:
    """Make the chart read in grey-scale: MOAA/S dashed, apart from the solid CADSS-6. The
    chart's own colour key is left out: the report prints its key in words."""
    chart.legend.hide()
    chart.margin_after = PRINT_MARGIN_AFTER
    theme = chart.theme
    chart.moaas.setPen(pg.mkPen(theme.moaas, width=2.5, style=Qt.PenStyle.DashLine))


def _prepare_export(scene: QGraphicsScene, scale: float) -> None:
    """Put every item of ``scene`` in pyqtgraph's export mode (markers as paths, not from a
    pixmap atlas, ``scale`` times their screen size) and have the axes draw straight onto
    the page."""
    options = {"antialias": True, "background": None, "painter": None,
               "resolutionScale": scale}
    for item in scene.items():
        if hasattr(item, "setExportMode"):
            item.setExportMode(True, options)
        if isinstance(item, pg.AxisItem):
            item.paint = _direct_axis_paint(item)


def _direct_axis_paint(axis: pg.AxisItem) -> Callable[..., None]:
    """An axis ``paint`` that draws its ticks and labels on the painter it is given.

    pyqtgraph records an axis into a QPicture and replays it; replayed on a 300 dpi page the
    tick labels come out three times too large.
    """

    def paint(painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        painter.save()
        if axis.style["tickFont"]:
            painter.setFont(axis.style["tickFont"])
        specs = axis.generateDrawSpecs(painter)
        if specs is not None:
            axis.drawPicture(painter, *specs)
        painter.restore()

    return paint
