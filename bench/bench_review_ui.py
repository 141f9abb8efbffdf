"""Benchmark of the clinician's review screens on a clinic-sized database.

    python bench/bench_review_ui.py [--db bench/out/review.sqlite3 | --db-url URL]
                                    [--repeat 40] [--seed 2026]

Reuses a database filled by ``bench/bench_core.py`` (75,000 sessions; filling one takes
minutes, so this script never fills one itself) and times, offscreen at 1280 × 800:

a. opening a session chart: ``SessionReviewScreen.open_session`` (the session loaded at its
   end, the chart, the readings, flags and who-did-what tables filled, the discharge record)
   and the repaint that follows, on randomly picked sessions (fixed seed);
b. moving the scrubber by one step (the session loaded as of that minute, and repainted);
c. the review list's first page (``find_sessions`` and the table filled and painted);
d. a patient's course of treatment (``ClinicService.course`` and the screen drawn).

Target: opening a session chart within 150 ms (median).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Run from a checkout (python bench/bench_review_ui.py) without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication
from sqlalchemy import func, select

from monitor.clock import ManualClock
from monitor.service.clinic import ClinicService
from monitor.service.review import SessionQuery
from monitor.storage.model import Staff, TreatmentSession
from monitor.storage.store import open_store
from ui.common.style import apply_theme
from ui.common.theme import DIM
from ui.review.course import CourseScreen
from ui.review.search import ReviewScreen
from ui.review.session import SessionReviewScreen, replay_loader

OUT_DIR = Path(__file__).resolve().parent / "out"
#: The "now" the bench_core fill ends at (bench/bench_core.py FILL_NOW).
FILL_NOW_ISO = "2026-03-02T09:00:00+00:00"
TARGET_MS = 150.0
SIZE = (1280, 800)


#: CPU time of this process for each timed step, beside its wall time: on a machine busy
#: with other work the wall time includes waiting for a core.
CPU_MS: dict[str, list[float]] = {}


def timed(action: Callable[[], object], app: QApplication, name: str = "") -> float:
    """Milliseconds (wall) for ``action`` and the repaint it causes."""
    started, cpu = time.perf_counter(), time.process_time()
    action()
    app.processEvents()
    CPU_MS.setdefault(name, []).append((time.process_time() - cpu) * 1000)
    return (time.perf_counter() - started) * 1000


def summary(name: str, samples: list[float], key: str) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    cpu = statistics.median(CPU_MS[key][-len(samples):])
    return (f"{name:<30} median {statistics.median(samples):6.1f} ms   p95 {p95:6.1f} ms   "
            f"CPU median {cpu:6.1f} ms   (n={len(samples)})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(OUT_DIR / "review.sqlite3"))
    parser.add_argument("--db-url", help="a database URL instead of --db")
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    url = args.db_url or f"sqlite:///{args.db}"
    if not args.db_url and not Path(args.db).exists():
        print(f"No database at {args.db}: fill one first with "
              f"python bench/bench_core.py --db {args.db}", file=sys.stderr)
        return 2

    from datetime import datetime  # noqa: PLC0415

    app = QApplication.instance() or QApplication([])
    apply_theme(app, DIM)
    store = open_store(url)
    clock = ManualClock(datetime.fromisoformat(FILL_NOW_ISO))
    service = ClinicService(store, clock, secret=secrets.token_bytes(32))
    rng = random.Random(args.seed)
    with store.read() as db:
        count = db.scalar(select(func.count()).select_from(TreatmentSession)) or 0
        clinician = db.scalar(select(Staff.id).where(Staff.role == "clinician").limit(1))
        picks = [db.scalar(select(TreatmentSession.id).order_by(TreatmentSession.time,
                                                               TreatmentSession.id)
                           .offset(rng.randrange(count)).limit(1))
                 for _ in range(args.repeat + args.warmup)]
    if clinician is None:
        print("The database has no clinician to review as.", file=sys.stderr)
        return 2
    print(f"{count:,} sessions in {url}")

    screen = SessionReviewScreen(DIM, replay_loader(service))
    screen.resize(*SIZE)
    screen.show()
    opening, scrubbing = [], []
    for number, session_id in enumerate(picks):
        assert session_id is not None
        ms = timed(lambda s=session_id: screen.open_session(s), app, "open")
        step = timed(lambda: screen.set_minute(screen.minutes() // 2), app, "scrub")
        if number >= args.warmup:
            opening.append(ms)
            scrubbing.append(step)

    def fetch(query: SessionQuery, after: object, limit: int) -> object:
        return service.find_sessions(query, by=clinician, after=after, limit=limit)

    review = ReviewScreen(DIM, fetch)  # type: ignore[arg-type]
    review.resize(*SIZE)
    review.show()
    listing = [timed(review.search, app, "list") for _ in range(args.repeat)]

    course_screen = CourseScreen(DIM)
    course_screen.resize(*SIZE)
    course_screen.show()
    with store.read() as db:
        patients = [db.scalar(select(TreatmentSession.patient_id)
                              .where(TreatmentSession.id == s)) for s in picks[:args.repeat]]
    courses = [timed(lambda p=p: course_screen.show_course(service.course(p, by=clinician)),
                     app, "course") for p in patients]

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(summary("a. open a session chart", opening, "open"))
    print(summary("b. scrubber step", scrubbing, "scrub"))
    print(summary("c. review list, first page", listing, "list"))
    print(summary("d. course of treatment", courses, "course"))
    median = statistics.median(opening)
    verdict = "meets" if median <= TARGET_MS else "MISSES"
    print(f"Opening a session chart: median {median:.1f} ms {verdict} the {TARGET_MS:.0f} ms "
          "target")
    store.close()
    return 0 if median <= TARGET_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
