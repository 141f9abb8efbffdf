"""The app's responsiveness: start-up to the first shown window, and save-to-repaint.

    python bench/bench_ui.py [--runs 7] [--saves 200] [--startup-only]

Start-up: wall time from launching ``python main.py --db URL`` until its window is exposed,
on an existing database (as on every start but the first) and on a new one (a new file
each run: the schema is created and the first-administrator screen shown), against a bare
script, launched the same way in the same run, that imports PySide6, pyqtgraph and
SQLAlchemy and shows an empty PlotWidget. Target: both ≤ 1.3 × the bare script.

Save-to-repaint: in one process, the time from asking the session presenter to save one
reading (validate, commit with synchronous=FULL, raise flags, evaluate the session as it
then stands, update every widget) to the end of a synchronous repaint of the window.
Target: median ≤ 16 ms. Both run offscreen.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

BARE = """
import time
start = time.perf_counter()
import pyqtgraph as pg
import sqlalchemy
from PySide6.QtWidgets import QApplication
app = QApplication([])
plot = pg.PlotWidget()
plot.resize(1280, 800)
plot.show()
while not plot.windowHandle() or not plot.windowHandle().isExposed():
    app.processEvents()
app.processEvents()
"""

# main.py is imported first, as ``python main.py`` runs it: what it imports before Qt is
# imported before Qt here too (PySide6 inspects every module imported after it).
PROBE = """
import sys
sys.argv = ["main.py", "--db", sys.argv[1]]
import main
from PySide6.QtWidgets import QApplication

def exec_once(self=None):
    app = QApplication.instance()
    windows = [w for w in app.topLevelWidgets() if w.isVisible()]
    while not any(w.windowHandle() and w.windowHandle().isExposed() for w in windows):
        app.processEvents()
    app.processEvents()
    return 0

QApplication.exec = exec_once
sys.exit(main.main(sys.argv[1:]))
"""


def _timed_run(args: list[str]) -> tuple[float, float]:
    """The wall time of running ``args`` to its end, and the processor time it used."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, cwd=ROOT, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - used.ru_utime) + (after.ru_stime - used.ru_stime)


Timings = list[tuple[float, float]]


def bench_startup(runs: int) -> tuple[Timings, Timings, Timings]:
    """Start-up times, each (wall, processor): the bare script, main.py on an existing
    database, main.py on a new one.

    The runs are interleaved, so that machine noise hits all three alike. A new database
    is a new file each run: its schema is created and the first-administrator screen shown.
    """
    # An installed app starts from compiled bytecode, as the bare script's packages do
    # (even when this shell asks Python not to write any).
    compileall.compile_file(ROOT / "main.py", quiet=2)
    for package in ("monitor", "ui"):
        compileall.compile_dir(ROOT / package, quiet=2)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'startup.sqlite3'}"
        # The first start creates and migrates the database; it is not what a nurse waits for.
        subprocess.run([sys.executable, "-c", PROBE, url], cwd=ROOT, check=True,
                       capture_output=True)
        bare, existing, fresh = [], [], []
        for run in range(runs):
            bare.append(_timed_run([sys.executable, "-c", BARE]))
            existing.append(_timed_run([sys.executable, "-c", PROBE, url]))
            new_url = f"sqlite:///{Path(tmp) / f'fresh{run}.sqlite3'}"
            fresh.append(_timed_run([sys.executable, "-c", PROBE, new_url]))
    return bare, existing, fresh


def _signed_in_window(folder: Path) -> tuple[Any, Any, Any, Any, Any, Any]:
    """A fresh database in ``folder`` and a 1280 × 800 window signed in as a nurse:
    (app, store, clock, service, nurse id, window)."""
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    from monitor.clock import ManualClock  # noqa: PLC0415
    from monitor.service.clinic import ClinicService  # noqa: PLC0415
    from monitor.storage.store import open_store  # noqa: PLC0415
    from ui.app.main_window import MainWindow  # noqa: PLC0415

    app = QApplication.instance() or QApplication([])
    store = open_store(f"sqlite:///{folder / 'bench.sqlite3'}")
    clock = ManualClock()
    service = ClinicService(store, clock, secret=secrets.token_bytes(32))
    nurse = service.ensure_staff("Bench Nurse", "nurse")
    window = MainWindow(service, clock, staff=(nurse, "Bench Nurse"), tick_ms=3_600_000)
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    return app, store, clock, service, nurse, window

def bench_save_to_repaint(saves: int) -> tuple[list[float], list[float]]:
    """Each timed save's wall time and processor time."""
    sys.path.insert(0, str(ROOT))

    from monitor.clinical.domain import EventKind  # noqa: PLC0415

    timings: list[float] = []
    processor: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        app, store, clock, service, nurse, window = _signed_in_window(Path(tmp))
        # Typical sessions: a baseline, the infusion started, then a reading every 5 minutes
        # up to 30 readings; every save after the first few is timed.
        patient = service.add_patient("BENCH1", by=nurse, name="Bench Patient",
                                      date_of_birth=date(1980, 1, 1), weight_kg=70)
        while len(timings) < saves:
            clock.advance(timedelta(hours=3))
            session_id = service.start_session(patient.id, by=nurse, chair="1")
            service.record_reading(session_id, {"sbp": 128, "dbp": 78, "hr": 72, "spo2": 98},
                                   by=nurse)
            service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
            screen = window.show_session("1", session_id)
            app.processEvents()
            for i in range(29):
                clock.advance(timedelta(minutes=5))
                raw = {"sbp": str(125 + i % 20), "dbp": str(78 + i % 8),
                       "hr": str(70 + i % 15), "spo2": "97"}
                start, used = time.perf_counter(), time.process_time()
                screen.presenter.save_reading(raw)
                window.repaint()
                elapsed = time.perf_counter() - start
                if i >= 3:
                    timings.append(elapsed)
                    processor.append(time.process_time() - used)
        window.close()
        store.close()
    return timings, processor


def bench_long_sessions(lengths: list[int], saves: int) -> list[tuple[int, str, list[float]]]:
    """Per-save cost in sessions of ``lengths`` readings (one a second, as in the soak).

    For each length: the core alone (``record_reading``: validate, commit, flags), the
    session loaded afresh (``load``), each also with nothing kept from the call before (the
    whole record evaluated, as after a late entry or a correction), and the whole
    save-to-repaint of the session screen.
    """
    sys.path.insert(0, str(ROOT))

    from monitor.clinical.domain import EventKind  # noqa: PLC0415
    from monitor.service.views import ImportedRow  # noqa: PLC0415

    results: list[tuple[int, str, list[float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        app, store, clock, service, nurse, window = _signed_in_window(Path(tmp))
        importer = service.ensure_staff("Bench Import", "system")
        for n in lengths:
            start = clock.now()
            rows = [ImportedRow(start, {"sbp": 128, "dbp": 78, "hr": 72, "spo2": 98}),
                    ImportedRow(start + timedelta(seconds=1), event=EventKind.INFUSION_START)]
            rows += [ImportedRow(start + timedelta(seconds=1 + i),
                                 {"sbp": 120 + i % 40, "dbp": 70 + i % 30, "hr": 60 + i % 40,
                                  "spo2": 94 + i % 6}) for i in range(1, n)]
            session_id = service.import_session(rows, mrn=f"LONG{n}", by=importer)
            clock.advance(timedelta(seconds=n + 2))
            screen = window.show_session("1", session_id)
            app.processEvents()
            core, load, ui = [], [], []
            for i in range(saves):
                clock.advance(timedelta(seconds=1))
                raw = {"sbp": 125 + i % 20, "dbp": 78 + i % 8, "hr": 70 + i % 15, "spo2": 97}
                began = time.perf_counter()
                service.record_reading(session_id, raw, by=nurse)
                core.append(time.perf_counter() - began)
                began = time.perf_counter()
                service.load(session_id)
                load.append(time.perf_counter() - began)
                clock.advance(timedelta(seconds=1))
                began = time.perf_counter()
                screen.presenter.save_reading({k: str(v) for k, v in raw.items()})
                window.repaint()
                ui.append(time.perf_counter() - began)
            # The same with nothing kept between calls: what a late entry, a correction or
            # another tablet's entry costs (the whole record evaluated again).
            full_save, full_load = [], []
            for _ in range(12):
                clock.advance(timedelta(seconds=1))
                service.evaluations._tails.clear()  # nothing kept: the baseline
                began = time.perf_counter()
                service.record_reading(session_id, {"sbp": 125, "dbp": 80, "hr": 70}, by=nurse)
                full_save.append(time.perf_counter() - began)
                service.evaluations._loaded.clear()
                service.evaluations._tails.clear()
                began = time.perf_counter()
                service.load(session_id)
                full_load.append(time.perf_counter() - began)
            results += [(n, "core save", core[2:]), (n, "  full eval.", full_save[2:]),
                        (n, "load", load[2:]), (n, "  full eval.", full_load[2:]),
                        (n, "save-to-repaint", ui[2:])]
        window.close()
        store.close()
    return results


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--startup-only", action="store_true",
                        help="only time the start-up")
    parser.add_argument("--long", type=int, nargs="*", metavar="READINGS",
                        help="only time saves into sessions this long (default 1000 3600 "
                             "7200 readings), core and screen apart")
    args = parser.parse_args()

    if args.long is not None:
        for n, what, values in bench_long_sessions(args.long or [1000, 3600, 7200], 30):
            print(f"{n:5d} readings  {what:16s} median {_ms(values, 0.5):7.1f} ms  "
                  f"p95 {_ms(values, 0.95):7.1f} ms")
        return 0

    bare, existing, fresh = bench_startup(args.runs)
    print("start-up to first shown window (process launch to exposed window), median of "
          f"{args.runs}; processor time beside it (steadier on a loaded machine)")
    bare_wall, bare_cpu = ([run[i] for run in bare] for i in (0, 1))
    print(f"  bare PySide6+pyqtgraph+SQLAlchemy PlotWidget:       {_ms(bare_wall, 0.5):7.1f} ms"
          f"   processor {_ms(bare_cpu, 0.5):7.1f} ms")
    for label, runs in (("existing database", existing),
                        ("new database, first administrator", fresh)):
        wall, cpu = ([run[i] for run in runs] for i in (0, 1))
        ratio = statistics.median(wall) / statistics.median(bare_wall)
        cpu_ratio = statistics.median(cpu) / statistics.median(bare_cpu)
        print(f"  ChairSide main.py, {label + ':':34s} {_ms(wall, 0.5):7.1f} ms"
              f"   processor {_ms(cpu, 0.5):7.1f} ms")
        print(f"    ratio {ratio:.2f} (target ≤ 1.30): {'PASS' if ratio <= 1.3 else 'MISS'};"
              f" processor ratio {cpu_ratio:.2f}")
    if args.startup_only:
        return 0

    timings, processor = bench_save_to_repaint(args.saves)
    median = _ms(timings, 0.5)
    print(f"save-to-repaint, one reading into a session of 5-30 readings, {len(timings)} saves")
    print(f"  median {median:.1f} ms, p95 {_ms(timings, 0.95):.1f} ms, "
          f"max {_ms(timings, 1.0):.1f} ms (target median ≤ 16 ms): "
          f"{'PASS' if median <= 16 else 'MISS'}; processor median "
          f"{_ms(processor, 0.5):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
