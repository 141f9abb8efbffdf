"""Benchmark of a reading reaching another tablet's screen: commit on A → repaint on B.

    python bench/bench_propagation.py [--db URL] [--seconds 60] [--chairs 4] [--idle 30]
                                      [--screens both|overview|session]

Two tablets on one PostgreSQL server, in a database of the bench's own (created on the
server of ``--db``, else ``$CHAIRSIDE_TEST_PG_URL``, and dropped afterwards):

* tablet A is a separate process (this script with ``--writer``): ``--chairs`` nurses, a
  thread each, save readings through :class:`monitor.service.clinic.ClinicService` at
  1 reading/s per chair for ``--seconds``. Each reading's commit moment is taken on A by a
  SQLAlchemy ``after_commit`` hook (wall clock: both processes run on this machine).
* tablet B is this process: the app's own window objects (:class:`ui.app.main_window.MainWindow`,
  shown offscreen at 1280 x 800) over :class:`ui.app.change_signals.ChangeSignals` on the
  LISTEN/NOTIFY change feed, no user action. One window shows the overview (every chair's
  tile), one chair 1's session screen (``--screens``: both, or one of them).

For each reading three moments on B are measured from A's commit:

1. feed: B's change feed handed the reading's change to its subscribers (the baseline:
   what ``bench/bench_changes.py`` measures);
2. tile: the first paint of that chair's overview tile showing the reading's values;
3. session screen: the first paint of chair 1's value rail whose view holds the reading.

and, to tell where the time goes: the change reaching B's GUI thread, the tile given the
new values and the session screen given the new view (before their paints).

Each reading's values are unique to it within the run (BP and HR encode its number), so a
paint is matched to the reading it shows. Then B sits idle for ``--idle`` seconds with its
windows ticking once a second, and the statements it sent (its store's engine and its feed)
are counted, per minute.

Prints p50 / p95 / max of each (from the moment A's COMMIT answered, as bench_changes; a
delivery that beat it counts 0), and the ratio of tile and screen to the feed baseline
measured in the same run (a baseline under 1 ms taken as 1 ms). The figures depend on the
machine's load: say what else ran.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

# Run from a checkout (python bench/bench_propagation.py) without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from monitor.clinical.domain import EventKind
from monitor.clock import SystemClock
from monitor.service.clinic import ClinicService
from monitor.storage.changes import Change, ChangeKind
from monitor.storage.store import open_store

SECRET = b"bench-propagation-secret-0123456"
PIN = "482913"
#: Readings are numbered per chair; BP and HR encode the number, within normal values:
#: systolic 100-159 and HR 55-99 give 60 x 45 distinct readings (45 minutes a chair).
SBP_LOW, SBP_SPAN = 100, 60
HR_LOW, HR_SPAN = 55, 45
MAX_READINGS = SBP_SPAN * HR_SPAN


def values_of(number: int) -> dict[str, str]:
    """The typed values of reading ``number`` of a chair."""
    sbp = SBP_LOW + number % SBP_SPAN
    hr = HR_LOW + number // SBP_SPAN
    return {"sbp": str(sbp), "dbp": "76", "hr": str(hr), "spo2": "98"}


def number_of(sbp: int, hr: int) -> int:
    """The reading number whose values are ``sbp`` and ``hr`` (inverse of :func:`values_of`)."""
    return (hr - HR_LOW) * SBP_SPAN + (sbp - SBP_LOW)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# -- the bench's own database ------------------------------------------------------------------


def create_database(server_url: str) -> str:
    name = f"chairside_bench_propagation_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, url: str) -> None:
    name = make_url(url).database
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# -- tablet A: the writer process --------------------------------------------------------------


def writer(url: str, plan_path: Path, out_path: Path, seconds: float) -> None:
    """Save 1 reading/s on each planned chair for ``seconds``; write each reading's id,
    chair, number and commit moment (wall clock) to ``out_path`` as JSON lines."""
    plan = json.loads(plan_path.read_text())
    store = open_store(url, application_name="bench tablet A")
    service = ClinicService(store, SystemClock(), secret=SECRET)
    committed = threading.local()
    # The COMMIT sent (the engine's commit event) and its answer back (the session's).
    event.listen(store.engine, "commit", lambda _c: setattr(committed, "sent", time.time()))
    event.listen(store.sessions, "after_commit",
                 lambda _s: setattr(committed, "t", time.time()))
    saved: list[dict[str, Any]] = []
    lock = threading.Lock()
    readings = int(seconds)
    start = time.time() + 0.5
    chairs = plan["chairs"]

    def chair(index: int, spec: dict[str, str]) -> None:
        session_id, nurse = uuid.UUID(spec["session"]), uuid.UUID(spec["nurse"])
        pause = threading.Event()
        # The chairs' saves spread over each second, as four nurses' would.
        offset = index / len(chairs)
        for number in range(readings):
            delay = start + number + offset - time.time()
            if delay > 0:
                pause.wait(delay)
            result = service.record_reading(session_id, values_of(number), by=nurse)
            with lock:
                saved.append({"id": str(result.id), "chair": spec["chair"],
                              "number": number, "committed": committed.t,
                              "sent": committed.sent})

    threads = [threading.Thread(target=chair, args=(i, spec)) for i, spec in enumerate(chairs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.close()
    out_path.write_text("".join(json.dumps(row) + "\n" for row in saved))


# -- tablet B: the windows ---------------------------------------------------------------------


def setup(url: str, chairs: int) -> dict[str, Any]:
    """Staff, patients and an infusing session on each chair, a baseline reading each."""
    store = open_store(url)
    service = ClinicService(store, SystemClock(), secret=SECRET)
    plan: dict[str, Any] = {"chairs": []}
    for n in range(chairs):
        nurse = service.ensure_staff(f"Nurse {n + 1}", "nurse", pin=PIN)
        patient = service.add_patient(f"MRN{n + 1:06d}", by=nurse, name=f"Patient {n + 1}")
        session = service.start_session(patient.id, by=nurse, chair=str(n + 1))
        service.record_reading(session, {"sbp": "118", "dbp": "74", "hr": "70", "spo2": "98"},
                               by=nurse)
        service.record_event(session, EventKind.INFUSION_START, by=nurse)
        plan["chairs"].append({"chair": str(n + 1), "session": str(session),
                               "nurse": str(nurse)})
    store.close()
    return plan


def run(url: str, chairs: int, seconds: float, idle_s: float, screens: str) -> dict[str, Any]:
    from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer  # noqa: PLC0415
    from PySide6.QtWidgets import QApplication, QWidget  # noqa: PLC0415

    from monitor.storage.changes.feed import open_feed  # noqa: PLC0415
    from ui.app.change_signals import ChangeSignals  # noqa: PLC0415
    from ui.app.main_window import MainWindow  # noqa: PLC0415

    plan = setup(url, chairs)
    app = QApplication.instance() or QApplication(sys.argv)
    store = open_store(url, application_name="bench tablet B")
    clock = SystemClock()
    service = ClinicService(store, clock, secret=SECRET)
    nurse = uuid.UUID(plan["chairs"][0]["nurse"])

    fed: dict[str, float] = {}

    def heard(change: Change) -> None:
        if change.kind is ChangeKind.READING and change.record_id is not None:
            fed.setdefault(str(change.record_id), time.time())

    feed = open_feed(store)
    feed.subscribe(heard)
    signals = ChangeSignals(feed)
    #: reading id → the change reached the GUI thread (ChangeSignals.changed emitted).
    on_gui: dict[str, float] = {}

    def arrived(change: Change) -> None:
        if change.kind is ChangeKind.READING and change.record_id is not None:
            on_gui.setdefault(str(change.record_id), time.time())

    signals.changed.connect(arrived)
    feed.start()
    assert feed.connected.wait(10), "tablet B's change feed did not connect"
    names = tuple(spec["chair"] for spec in plan["chairs"])

    def window() -> MainWindow:
        shown = MainWindow(service, clock, chairs=names, staff=(nurse, "Nurse 1"),
                           changes=signals, idle_lock_s=10 ** 9)
        shown.resize(1280, 800)
        shown.show()
        return shown

    class Painted(QObject):
        """Notes the first paint of each new content of one tile or of the value rail."""

        def __init__(self, read: Any) -> None:
            super().__init__()
            self.read = read

        def eventFilter(self, watched: QObject, ev: QEvent) -> bool:  # noqa: N802 - Qt's name
            if ev.type() == QEvent.Type.Paint:
                self.read(time.time())
            return False

    def watch(widget: QWidget, filt: Painted) -> None:
        for each in (widget, *widget.findChildren(QWidget)):
            each.installEventFilter(filt)

    windows: list[MainWindow] = []
    filters: list[Painted] = []
    #: chair → [(paint time, reading number shown)] on the overview's tile.
    tile_paints: dict[str, list[tuple[float, int]]] = {c: [] for c in names}
    #: chair → [(moment, reading number)] the tile was given new values (before its paint).
    tile_updates: dict[str, list[tuple[float, int]]] = {c: [] for c in names}
    #: reading id → first paint of chair 1's value rail with a view holding it.
    screen_paints: dict[str, float] = {}
    #: reading id → the presenter first announced a view holding it (before the paint).
    screen_views: dict[str, float] = {}
    if screens in {"both", "overview"}:
        overview = window()
        windows.append(overview)
        for chair in names:
            widget = overview.overview.tiles[chair]

            def on_tile(at: float, chair: str = chair, widget: Any = widget) -> None:
                tile = widget.tile()
                if tile.bp is None or tile.hr is None:
                    return
                shown = number_of(tile.bp[0], tile.hr)
                paints = tile_paints[chair]
                if not paints or paints[-1][1] != shown:
                    paints.append((at, shown))

            filters.append(Painted(on_tile))
            watch(widget, filters[-1])
            show_tile = widget.show_tile

            def shown_tile(tile: Any, chair: str = chair, show: Any = show_tile) -> None:
                show(tile)
                if tile.bp is not None and tile.hr is not None:
                    shown = number_of(tile.bp[0], tile.hr)
                    updates = tile_updates[chair]
                    if not updates or updates[-1][1] != shown:
                        updates.append((time.time(), shown))

            widget.show_tile = shown_tile  # type: ignore[method-assign]
    if screens in {"both", "session"}:
        on_chair = window()
        windows.append(on_chair)
        on_chair.open_chair(names[0])
        presenter = on_chair.presenters[names[0]]
        rail = on_chair.sessions[names[0]].rail
        last_view: list[Any] = [None]

        def given(view: Any) -> None:
            at = time.time()
            for reading in view.record.readings:
                screen_views.setdefault(str(reading.id), at)

        presenter.viewChanged.connect(given)

        def on_rail(at: float) -> None:
            view = presenter.view
            if view is None or view is last_view[0]:
                return
            last_view[0] = view
            for reading in view.record.readings:
                screen_paints.setdefault(str(reading.id), at)

        filters.append(Painted(on_rail))
        watch(rail, filters[-1])

    def spin(seconds_: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds_ * 1000), loop.quit)
        loop.exec()

    spin(1.0)  # first paints
    work = Path(tempfile.mkdtemp(prefix="bench_propagation_"))
    plan_path, out_path = work / "plan.json", work / "saved.jsonl"
    plan_path.write_text(json.dumps(plan))
    load_before = os.getloadavg()
    writer_process = subprocess.Popen(
        [sys.executable, __file__, "--writer", "--db", url, "--plan", str(plan_path),
         "--out", str(out_path), "--seconds", str(seconds)])
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(100)
    poll.timeout.connect(lambda: loop.quit() if writer_process.poll() is not None else None)
    poll.start()
    loop.exec()
    poll.stop()
    if writer_process.returncode != 0:
        raise SystemExit(f"tablet A's process failed ({writer_process.returncode})")
    spin(3.0)  # the last readings' way to the screens
    load_during = os.getloadavg()

    # Idle: the windows tick once a second; nothing is saved anywhere.
    sent: list[str] = []
    event.listen(store.engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_a: sent.append(statement))
    feed_before = feed.statements
    spin(idle_s)
    idle_statements = len(sent) + feed.statements - feed_before

    for shown in windows:
        shown.close()
    signals.close()
    feed.stop()
    store.close()
    del app

    saved = [json.loads(line) for line in out_path.read_text().splitlines()]
    feed_ms: list[float] = []
    commit_ms = [(row["committed"] - row["sent"]) * 1000 for row in saved]
    stages: dict[str, list[float]] = {
        name: [] for name in ("gui thread", "tile given", "tile paint", "screen given",
                              "screen paint")}
    early = 0
    missing = dict.fromkeys(("feed", *stages), 0)

    def first(moments: list[tuple[float, int]], row: dict[str, Any]) -> float | None:
        # The first moment this reading or a later one was shown (a later reading may
        # arrive before a paint: this one was shown with it).
        return next((t for t, shown in moments
                     if t >= row["committed"] and shown >= row["number"]), None)

    for row in saved:
        committed = row["committed"]
        moments: dict[str, float | None] = {"gui thread": on_gui.get(row["id"])}
        if screens in {"both", "overview"}:
            moments["tile given"] = first(tile_updates[row["chair"]], row)
            moments["tile paint"] = first(tile_paints[row["chair"]], row)
        if screens in {"both", "session"} and row["chair"] == names[0]:
            moments["screen given"] = screen_views.get(row["id"])
            moments["screen paint"] = screen_paints.get(row["id"])
        at = fed.get(row["id"])
        if at is None:
            missing["feed"] += 1
        else:
            early += at < committed
            feed_ms.append(max(0.0, at - committed) * 1000)
        for stage, moment in moments.items():
            if moment is None:
                missing[stage] += 1
            else:
                stages[stage].append(max(0.0, moment - committed) * 1000)

    def figures(values: list[float]) -> dict[str, float] | None:
        if not values:
            return None
        return {"n": len(values), "p50_ms": round(statistics.median(values), 1),
                "p95_ms": round(percentile(values, 95), 1), "max_ms": round(max(values), 1)}

    result: dict[str, Any] = {
        "chairs": chairs, "seconds": seconds, "readings_saved": len(saved),
        "screens": screens,
        "A's COMMIT, sent to answered": figures(commit_ms),
        "feed (baseline)": figures(feed_ms),
        "feed delivered before A's commit returned (counted 0)": early,
        "change on B's GUI thread": figures(stages["gui thread"]),
        "overview tile given the values": figures(stages["tile given"]),
        "overview tile paint": figures(stages["tile paint"]),
        "session screen given the view (chair 1)": figures(stages["screen given"]),
        "session screen paint (chair 1)": figures(stages["screen paint"]),
        "not seen": missing,
        "idle_s": idle_s,
        "idle statements from B": idle_statements,
        "idle statements per minute": round(idle_statements * 60 / idle_s, 2),
        "load average before / after the run": (
            tuple(round(x, 2) for x in load_before), tuple(round(x, 2) for x in load_during)),
        "cpus": os.cpu_count(),
    }
    # Ratios to the feed baseline; a baseline under 1 ms (delivery raced A's own return from
    # COMMIT) is taken as 1 ms.
    base = result["feed (baseline)"]
    for name in ("overview tile given the values", "overview tile paint",
                 "session screen given the view (chair 1)", "session screen paint (chair 1)"):
        shown = result[name]
        if base and shown:
            result[f"{name} / feed, p50 | p95"] = (
                round(shown["p50_ms"] / max(base["p50_ms"], 1.0), 1),
                round(shown["p95_ms"] / max(base["p95_ms"], 1.0), 1))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=os.environ.get("CHAIRSIDE_TEST_PG_URL"),
                        help="a PostgreSQL server URL (default $CHAIRSIDE_TEST_PG_URL); the "
                        "bench makes a database of its own there")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="how long tablet A saves (1 reading/s per chair)")
    parser.add_argument("--chairs", type=int, default=4)
    parser.add_argument("--idle", type=float, default=30.0, help="idle window, seconds")
    parser.add_argument("--screens", choices=("both", "overview", "session"), default="both",
                        help="tablet B's windows: the overview, chair 1's session screen, or "
                        "both (two windows in one process)")
    parser.add_argument("--writer", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--plan", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.db:
        parser.error("--db or $CHAIRSIDE_TEST_PG_URL is needed")
    if args.writer:
        writer(args.db, args.plan, args.out, args.seconds)
        return 0
    if make_url(args.db).get_backend_name() != "postgresql":
        parser.error("--db must be a PostgreSQL server (the LISTEN/NOTIFY change feed)")
    if args.seconds > MAX_READINGS:
        parser.error(f"--seconds at most {MAX_READINGS} (readings are told apart by value)")
    url = create_database(args.db)
    try:
        result = run(url, args.chairs, args.seconds, args.idle, args.screens)
    finally:
        drop_database(args.db, url)
    for key, value in result.items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
