"""Cost of updating the session chart, the work done "the moment a reading is saved".

    python bench/bench_chart.py [--sessions 40] [--repeat 200]

Fills a temporary SQLite store with :func:`monitor.demo.data.generate`, takes the session with the
most readings (a two-hour session at auto-cycling-cuff pace: about 30 time points and their
events), and times on the offscreen platform, at 780 × 460 px:

a. ``SessionChart.show_view`` of the whole session, repeated (the cost of one save);
b. the same followed by a synchronous repaint of the plot (what the nurse waits for);
c. a replay of the session minute by minute (each view as it stood then), which is what
   the chart goes through over a session, to check no update is slow as the data grows.

Loading the view (``ClinicService.load``) is not included; ``bench_core.py`` times that.
Target: show_view + repaint under 50 ms (median) so the chart follows entry at once.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtWidgets import QApplication
from sqlalchemy import func, select

from monitor.clock import ManualClock
from monitor.demo.data import generate
from monitor.service.clinic import ClinicService
from monitor.storage.model import ReadingRow
from monitor.storage.store import open_store
from ui.common.style import apply_theme
from ui.common.theme import DIM
from ui.session.chart import SessionChart

NOW = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return (f"median {statistics.median(ordered) * 1000:6.2f} ms   "
            f"p95 {p95 * 1000:6.2f} ms   max {ordered[-1] * 1000:6.2f} ms   (n={len(ordered)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{folder}/bench.sqlite3")
        generate(store, sessions=args.sessions, seed=11, clock_now=NOW)
        service = ClinicService(store, ManualClock(NOW), secret=secrets.token_bytes(32))
        with store.read() as db:
            session_id = db.scalars(
                select(ReadingRow.session_id).group_by(ReadingRow.session_id)
                .order_by(func.count().desc()).limit(1)).one()
        view = service.load(session_id)
        first = min(r.time for r in view.record.readings)
        last = max(r.time for r in view.record.readings)
        minutes = int((last - first).total_seconds() // 60) + 1
        replay = [service.load(session_id, at=first + timedelta(minutes=m))
                  for m in range(minutes)]
        store.close()

    chart = SessionChart(DIM)
    apply_theme(chart, DIM)
    chart.resize(780, 460)
    chart.show()
    chart.show_view(view)
    app.processEvents()
    print(f"session: {len(view.record.readings)} readings, {len(view.record.events)} events, "
          f"{len(view.flags)} flags, {minutes} minutes")

    update, repaint = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        chart.show_view(view)
        update.append(time.perf_counter() - start)
        chart.graphics.viewport().repaint()
        repaint.append(time.perf_counter() - start)
    replayed = []
    for step in replay:
        start = time.perf_counter()
        chart.show_view(step)
        chart.graphics.viewport().repaint()
        replayed.append(time.perf_counter() - start)
    print(f"a. show_view            {_ms(update)}")
    print(f"b. show_view + repaint  {_ms(repaint)}")
    print(f"c. replay, per minute   {_ms(replayed)}")
    chart.close()


if __name__ == "__main__":
    main()
