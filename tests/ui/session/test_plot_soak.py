"""Repaint a live pyqtgraph plot thousands of times.

PySide6 6.12.0 on Python 3.11 corrupts reference counts: a pyqtgraph plot repainted a few
hundred times aborts the interpreter with "Fatal Python error: bool_dealloc". The package
pins a clean version per Python; this test would crash the run if a bad pair came back.
"""

import numpy as np
import pyqtgraph as pg
import pytest

REPAINTS = 3000


@pytest.mark.slow
def test_live_plot_survives_3000_repaints(qtbot):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(640, 400)
    widget.show()
    plot = widget.getPlotItem()
    systolic = plot.plot(pen=None, symbol="t1", symbolBrush=None)
    heart_rate = plot.plot(pen=pg.mkPen(width=2))
    plot.addItem(pg.InfiniteLine(pos=180, angle=0))
    minutes = np.arange(0, 120, dtype=float)
    rng = np.random.default_rng(7)
    for i in range(REPAINTS):
        n = 10 + i % 100
        systolic.setData(minutes[:n], 120 + rng.normal(0, 8, n))
        heart_rate.setData(minutes[:n], 75 + rng.normal(0, 5, n))
        widget.viewport().repaint()
    assert systolic.getData()[0] is not None
    assert len(heart_rate.getData()[0]) == 10 + (REPAINTS - 1) % 100
