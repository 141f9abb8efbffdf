"""Cost of the PDF session report of a two-hour session.

    python bench/bench_report.py [--repeat 7] [--every 5]

Records a two-hour session through ClinicService in a temporary SQLite store at the pace of
an auto-cycling cuff (``--every`` minutes, default 5: baseline from -15 min, a 40-minute
infusion with a pause, a surge acknowledged, a reading voided, 80 minutes of recovery,
discharge signed at +120), then on the offscreen platform times, after one warm-up run:

a. ``write_session_pdf`` of the session, A4 (what the export button and the CLI do: each
   call builds the offscreen chart);
a2. ``ReportWriter.write_pdf`` on a writer kept from one report to the next (a batch
   export: the chart is built once);
b. the baseline: a bare QTextDocument holding the same report as plain text
   (:func:`monitor.exports.report_blocks.report_text`), printed to a QPdfWriter.

Prints the median and spread of the wall-clock time of each, the median CPU time (the
process's own, which other load on the machine inflates less), and the ratios to b.
Loading the view is not included.
Target: a. at most 1 s (median).
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

from PySide6.QtGui import QPageSize, QPdfWriter, QTextDocument
from PySide6.QtWidgets import QApplication

from monitor.clinical.domain import EventKind, Severity
from monitor.clock import ManualClock
from monitor.exports.report import build_report
from monitor.exports.report_blocks import report_text
from monitor.service.clinic import ClinicService
from monitor.service.views import SessionView
from monitor.storage.store import open_store
from ui.review.report import PDF_RESOLUTION, ReportWriter, write_session_pdf

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PIN = "482913"


def two_hour_session(folder: str, every: int) -> SessionView:
    store = open_store(f"sqlite:///{folder}/bench.sqlite3")
    clock = ManualClock(NOW)
    service = ClinicService(store, clock, secret=secrets.token_bytes(32))
    nurse = service.ensure_staff("Nora Nurse", "nurse", pin=PIN)
    patient = service.add_patient("MRN-900", by=nurse, name="Alex Example", weight_kg=70)
    session_id = service.start_session(
        patient.id, by=nurse, chair="Chair 1", planned_mg_per_kg=0.5, infusion_minutes=40,
        bag_volume_ml=100, lot_number="LOT-1", escort_name="Sam Driver")
    start = NOW + timedelta(minutes=20)

    def at(minute: float) -> datetime:
        clock.set_wall(start + timedelta(minutes=minute))
        return clock.now()

    events = {0: EventKind.INFUSION_START, 22: EventKind.INFUSION_PAUSE,
              27: EventKind.INFUSION_RESUME, 45: EventKind.INFUSION_STOP,
              100: EventKind.ORIENTED_STEADY_GAIT, 101: EventKind.ESCORT_PRESENT}
    for minute in range(-15, 121):
        if minute in events:
            service.record_event(session_id, events[minute], by=nurse, time=at(minute))
        if minute % every:
            continue
        rise = max(0, 60 - 2 * abs(minute - 35)) if minute >= 0 else 0
        values = {"sbp": 128 + rise, "dbp": 80 + rise // 2, "hr": 72 + rise // 3,
                  "spo2": 97 if minute % 30 else 96, "cadss6": max(0, 14 - abs(minute - 40) // 3),
                  "moaas": 5 if rise < 10 else 4, "nausea": 1 if minute > 45 else None}
        saved = service.record_reading(session_id, {k: v for k, v in values.items()
                                                    if v is not None},
                                       by=nurse, time=at(minute), confirmed=("sbp",))
        if minute == 30:
            service.void(session_id, "reading", saved.id, reason="cuff too small", by=nurse)
        for flag in saved.new_flags:
            if flag.severity >= Severity.WARNING:
                service.acknowledge(session_id, flag, action="Repeated reading", by=nurse,
                                    pin=PIN, time=at(minute))
    at(120)
    view = service.load(session_id)
    for flag in view.open_flags:
        if flag.severity >= Severity.WARNING:
            service.acknowledge(session_id, flag, action="Clinician informed", by=nurse,
                                pin=PIN)
    if service.load(session_id).discharge.ready:
        service.sign_discharge(session_id, by=nurse, pin=PIN)
    view = service.load(session_id)
    store.close()
    return view


def _timed(action, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each of ``repeat`` runs, after a warm-up run."""
    action()  # warm-up: fonts, the chart's first construction
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def _ms(timed: tuple[list[float], list[float]]) -> str:
    wall, cpu = sorted(timed[0]), timed[1]
    return (f"median {statistics.median(wall) * 1000:7.1f} ms   "
            f"min {wall[0] * 1000:7.1f} ms   max {wall[-1] * 1000:7.1f} ms   "
            f"CPU median {statistics.median(cpu) * 1000:7.1f} ms   (n={len(wall)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--every", type=int, default=5,
                        help="minutes between readings (1 = a monitor feed)")
    args = parser.parse_args()

    _app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        view = two_hour_session(folder, args.every)
        out = Path(folder) / "report.pdf"
        plain = Path(folder) / "plain.pdf"
        text = report_text(build_report(view, generated_at=view.at, chain_head="0" * 64))

        def full() -> None:
            write_session_pdf(view, out, generated_at=view.at, chain_head="0" * 64)

        kept = ReportWriter()

        def reused() -> None:
            kept.write_pdf(view, out, generated_at=view.at, chain_head="0" * 64)

        def baseline() -> None:
            writer = QPdfWriter(str(plain))
            writer.setResolution(PDF_RESOLUTION)
            writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
            document = QTextDocument()
            document.setPlainText(text)
            document.print_(writer)

        report = _timed(full, args.repeat)
        batch = _timed(reused, args.repeat)
        bare = _timed(baseline, args.repeat)
        kept.close()
        print(f"session: {len(view.record.readings)} readings (every {args.every} min), "
              f"{len(view.record.events)} events, {len(view.flags)} flags, "
              f"{len(view.superseded_readings)} voided; report {out.stat().st_size // 1024} kB")
        print(f"a. write_session_pdf      {_ms(report)}")
        print(f"a2. ReportWriter reused   {_ms(batch)}")
        print(f"b. plain QTextDocument    {_ms(bare)}")
        for name, samples in (("a/b ", report), ("a2/b", batch)):
            ratio = statistics.median(samples[0]) / statistics.median(bare[0])
            print(f"ratio {name} (medians)     {ratio:.1f}")


if __name__ == "__main__":
    main()
