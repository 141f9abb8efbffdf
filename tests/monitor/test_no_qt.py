"""``monitor/`` is the Qt-free core: importing every module of it must load no Qt at all."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, pkgutil, sys
import monitor
names = [m.name for m in pkgutil.walk_packages(monitor.__path__, "monitor.")
         if not m.name.startswith("monitor.storage.migrations") and m.name != "monitor.__main__"]
for name in names:
    importlib.import_module(name)
QT = {"PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6"}
loaded = sorted(m for m in sys.modules if m.split(".")[0] in QT)
print(len(names))
print(",".join(loaded))
"""


def test_importing_every_monitor_module_loads_no_qt():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True
    )
    count, loaded = result.stdout.splitlines()
    assert int(count) >= 10, "the probe should have imported the whole core"
    assert loaded == "", f"Qt modules loaded by monitor/: {loaded}"
