"""The session screen's code is loaded before the first chair is opened, not at the tap."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
import main  # the app's wiring, as started
from ui.app.chair_flows import warm_up_session_screen
before = "pyqtgraph" in sys.modules or "ui.session.screen" in sys.modules
warm_up_session_screen()
after = "pyqtgraph" in sys.modules and "ui.session.screen" in sys.modules
print(before, after)
"""


def test_the_window_loads_without_the_chart_library_and_the_warm_up_loads_it():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["False", "True"]


def test_main_schedules_the_warm_up_once_the_window_shows():
    source = (ROOT / "main.py").read_text()
    shown = source.index("window.showMaximized()")
    scheduled = source.index("QTimer.singleShot(WARM_UP_MS, warm_up_session_screen)")
    assert scheduled > shown
