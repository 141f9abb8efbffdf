"""How long the GUI thread waits on the clinic's server during saves: inline vs background.

    CHAIRSIDE_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python bench/bench_gui_stall.py [--saves 20] [--latency-ms 5] [--stall-s 1.5]

A session presenter saves readings to PostgreSQL through a TCP proxy
(``tests/support/tcpproxy.py``) while a 5 ms QTimer on the GUI thread notes the longest gap
between its ticks: the longest time a tap or a repaint would have waited. Two cases, each
with the inline worker (every call on the GUI thread, as before) and the thread worker
(:class:`monitor.service.worker.ThreadWorker`):

- ``latency``: ``--saves`` readings saved one after the other, ``--latency-ms`` added to
  every packet each way (Wi-Fi);
- ``stall``: one save while the server does not answer for ``--stall-s`` seconds (the proxy
  holds every byte, then lets them through).

Printed: the longest GUI-thread wait (ms) per case and worker, the idle loop's own longest
gap measured in the same run (the baseline), and inline ÷ thread. Target: the thread
worker's longest wait ≤ 100 ms in both cases. Runs offscreen, in a private schema dropped
at the end; the shared server itself is never stopped.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from sqlalchemy import create_engine, make_url, text  # noqa: E402

from monitor.clinical.domain import EventKind  # noqa: E402
from monitor.clock import SystemClock  # noqa: E402
from monitor.service.clinic import ClinicService  # noqa: E402
from monitor.service.worker import InlineWorker, ThreadWorker, Worker  # noqa: E402
from monitor.storage.store import open_store  # noqa: E402
from tests.support.tcpproxy import FaultyProxy  # noqa: E402

TICK_MS = 5
PIN = "735194"


class Watch:
    """The longest gap between ticks of a QTimer on the GUI thread, while it runs."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer  # noqa: PLC0415

        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.last = 0.0
        self.longest = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.last)
        self.last = now

    def __enter__(self) -> Watch:
        self.last = time.perf_counter()
        self.longest = 0.0
        self.timer.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._tick()
        self.timer.stop()


def spin(app: object, until: Callable[[], bool], limit_s: float = 120.0) -> None:
    """Run the event loop until ``until()`` (events only: nothing else runs meanwhile)."""
    from PySide6.QtCore import QEventLoop  # noqa: PLC0415

    end = time.perf_counter() + limit_s
    while not until():
        if time.perf_counter() > end:
            raise TimeoutError("the save never answered")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)  # type: ignore[attr-defined]
        time.sleep(0.0005)


def run(args: argparse.Namespace) -> int:
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    from ui.session.presenter import SessionPresenter  # noqa: PLC0415

    base = args.pg or os.environ.get("CHAIRSIDE_TEST_PG_URL")
    if not base:
        print("set CHAIRSIDE_TEST_PG_URL (or --pg URL): a PostgreSQL server to save to")
        return 2
    app = QApplication.instance() or QApplication([])
    target = make_url(base)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    proxy = FaultyProxy(target.port or 5432, target.host or "127.0.0.1")
    url = target.set(port=proxy.port).update_query_dict({"options": f"-csearch_path={schema}"})
    store = open_store(url.render_as_string(hide_password=False))
    try:
        clock = SystemClock()
        service = ClinicService(store, clock, secret=secrets.token_bytes(32))
        nurse = service.ensure_staff("Bench Nurse", "nurse", pin=PIN)
        results: dict[tuple[str, str], float] = {}
        idle = Watch()
        with idle:
            started = time.perf_counter()
            spin(app, lambda: time.perf_counter() - started > 0.5)
        for name, make in (("inline", InlineWorker), ("thread", ThreadWorker)):
            worker: Worker = make()
            patient = service.add_patient(f"B-{name}", by=nurse, name="Bench Patient",
                                          weight_kg=70)
            session_id = service.start_session(patient.id, by=nurse, chair=name)
            service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
            presenter = SessionPresenter(service, clock, session_id, nurse, worker=worker)
            answered: list[str] = []
            for signal in (presenter.saved, presenter.notSaved, presenter.saveUnknown):
                signal.connect(answered.append)
            presenter.refresh()
            spin(app, lambda p=presenter: p.view is not None)

            def settled(p: SessionPresenter = presenter) -> bool:
                return p.pending == 0 and not p._loading

            proxy.set_latency(args.latency_ms / 1000)
            with Watch() as watch:
                for n in range(args.saves):
                    presenter.save_reading({"hr": str(60 + n % 30)}, label="vitals")
                    spin(app, settled)
                    pause = time.perf_counter()  # the nurse's next tap comes a little later
                    spin(app, lambda t=pause: time.perf_counter() - t > 0.02)
            results[(name, "latency")] = watch.longest
            proxy.pass_through()
            before = len(answered)
            with Watch() as watch:
                proxy.stall()
                threading.Timer(args.stall_s, proxy.pass_through).start()
                presenter.save_reading({"hr": "77"}, label="vitals")
                spin(app, lambda b=before, a=answered: len(a) > b and settled())
            results[(name, "stall")] = watch.longest
            outcome = answered[-1] if len(answered) > before else "(no answer)"
            print(f"{name}: the save during the stall answered {outcome!r}")
            worker.close(10)
        print(f"idle event loop, longest gap (baseline): {idle.longest * 1000:.1f} ms")
        print(f"{'case':<38}{'inline ms':>12}{'thread ms':>12}{'inline/thread':>15}")
        for case, what in (("latency", f"{args.saves} saves, {args.latency_ms:g} ms latency"),
                           ("stall", f"1 save, server stalled {args.stall_s:g} s")):
            inline, thread = results[("inline", case)], results[("thread", case)]
            print(f"{what:<38}{inline * 1000:>12.1f}{thread * 1000:>12.1f}"
                  f"{inline / thread if thread else float('inf'):>15.1f}")
        worst = max(results[("thread", c)] for c in ("latency", "stall"))
        print(f"thread worker: longest GUI-thread wait {worst * 1000:.1f} ms "
              f"(target ≤ 100 ms: {'met' if worst <= 0.1 else 'NOT met'})")
    finally:
        store.close()
        proxy.close()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="PostgreSQL URL (default: $CHAIRSIDE_TEST_PG_URL)")
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=5.0)
    parser.add_argument("--stall-s", type=float, default=1.5)
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
