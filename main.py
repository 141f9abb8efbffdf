"""Start ChairSide: wire the clock, the database, the clinic service and the window.

    python main.py                      the clinic's database (default: embedded SQLite)
    python main.py --db URL             another database (e.g. the clinic's PostgreSQL)
    python main.py --tablet NAME        name this tablet (kept; default: the kept name, else
                                        asked at the first start; $CHAIRSIDE_TABLET for one run)
    python main.py --demo               a throw-away demo clinic with a self-running chair
    python main.py --worker thread      run the database work on a background thread even on
                                        SQLite (the clinic's PostgreSQL always does; also
                                        $CHAIRSIDE_WORKER=thread)
    python main.py --feed-port 2575     also receive the bedside monitor's HL7 feed (MLLP) in
                                        this app: one tablet with its own monitor
    python main.py --screenshot DIR [--size WxH]
                                        render every main screen from demo data to PNGs
                                        (still pictures: no change feed is opened)
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# The clinic's own modules, Qt-free, are imported before Qt: PySide6 reads the source of
# every module imported after it (looking for its feature switches), which costs start-up.
from monitor.clock import AcceleratedClock, Clock, SystemClock
from monitor.service.auth import DEMO_PIN, load_secret
from monitor.service.clinic import ClinicService
from monitor.service.offline import CachingClinic, TabletCopies, open_clinic_store
from monitor.service.tablet import Drainer, TabletService
from monitor.service.worker import InlineWorker, ThreadWorker, Worker
from monitor.storage.changes.feed import ChangeFeed, open_feed
from monitor.storage.drafts import DraftStore, default_draft_dir
from monitor.storage.outbox import Outbox, default_outbox_path
from monitor.storage.settings import DEMO_TABLET, clean_tablet_name, default_settings_path
from monitor.storage.store import StorageError, StoreOpenError, default_url, open_store
from monitor.storage.tablet_cache import TabletCache, default_cache_path

if TYPE_CHECKING:
    from monitor.feed.background import BackgroundReceiver

#: The demo chair's clock runs this many times faster than real time: its 72-minute
#: session (infusion, a flag, recovery, ready) plays in about two minutes.
DEMO_SPEED = 36.0
DEMO_HISTORY_SESSIONS = 60
#: After the demo chair's discharge, its next patient is checked in this much (demo) time
#: later: "Discharged" is seen for a few seconds, and the demo goes on.
DEMO_NEXT_PATIENT = timedelta(minutes=10)
#: How long closing the app waits for a database call still running (seconds).
WORKER_CLOSE_S = 5.0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python main.py", description="ChairSide")
    parser.add_argument("--db", metavar="URL", help="database URL (default: $CHAIRSIDE_DB or "
                        "the SQLite file in the user data directory)")
    parser.add_argument("--worker", choices=("auto", "thread", "inline"),
                        default=os.environ.get("CHAIRSIDE_WORKER", "auto"),
                        help="where database work runs: a background thread (the screen never "
                        "waits on the server) or inline in the GUI thread; auto (default): "
                        "the thread for a server (PostgreSQL), inline for the SQLite file")
    parser.add_argument("--demo", action="store_true",
                        help="open a throw-away demo clinic whose chair 1 runs by itself")
    parser.add_argument("--screenshot", metavar="DIR", type=Path,
                        help="render every main screen from demo data to PNGs in DIR and exit")
    parser.add_argument("--size", default="1280x800", metavar="WxH",
                        help="window size for --screenshot (default 1280x800)")
    parser.add_argument("--chairs", type=int, default=4, metavar="N",
                        help="number of chairs on the overview (default 4)")
    parser.add_argument("--theme", choices=("dim", "light"), default="dim",
                        help="start in the dim-room (default) or the light theme")
    parser.add_argument("--tablet", metavar="NAME",
                        help="this tablet's name, 1-32 characters, kept for later starts "
                             "(default: $CHAIRSIDE_TABLET, else the kept name, else asked "
                             f"at the first start; the demo is {DEMO_TABLET!r})")
    parser.add_argument("--feed-port", type=int, metavar="PORT",
                        help="receive the bedside monitor's HL7 v2 feed (MLLP) on PORT in this "
                        "app, filing into its database (docs/feed.md; the usual port is 2575)")
    parser.add_argument("--feed-host", default="127.0.0.1", metavar="HOST",
                        help="the address the feed listens on (default 127.0.0.1; 0.0.0.0 for "
                        "a monitor on the network)")
    parser.add_argument("--feed-zone", default="UTC", metavar="ZONE",
                        help="the clinic's time zone for monitor times sent without an offset "
                        "(an IANA name such as Europe/Paris; default UTC)")
    args = parser.parse_args(argv)
    if args.tablet is not None:
        try:
            args.tablet = clean_tablet_name(args.tablet, source="--tablet")
        except ValueError as exc:
            parser.error(str(exc))
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        parser.error("--size must look like 1280x800")
    if not (320 <= width <= 4000 and 320 <= height <= 4000):
        parser.error("--size: width and height must be from 320 to 4000 px")
    args.width, args.height = width, height
    if not 1 <= args.chairs <= 12:
        parser.error("--chairs must be from 1 to 12")
    if args.feed_port is not None and not 0 <= args.feed_port < 65536:
        parser.error("--feed-port must be a port from 1 to 65535 (0: any free port)")
    try:
        args.zone = ZoneInfo(args.feed_zone)
    except (ZoneInfoNotFoundError, ValueError):
        parser.error(f"--feed-zone: {args.feed_zone!r} is not a time zone name such as "
                     "Europe/Paris")
    return args


def make_worker(choice: str, url: str) -> Worker:
    """Where the database work runs: a server over the network on a background thread (a
    stalled server never freezes the screen), the tablet's own SQLite file inline (a local
    file is not the network), unless ``choice`` says otherwise."""
    if choice == "thread" or (choice == "auto" and not url.startswith("sqlite")):
        return ThreadWorker()
    return InlineWorker()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.screenshot is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from ui.app.screenshots import render_all  # noqa: PLC0415 - Qt starts only after the env

        written = render_all(args.screenshot, (args.width, args.height))
        for path in written:
            print(path)
        return 0

    from ui.app.platform_check import xcb_problem  # noqa: PLC0415 - before Qt loads

    problem = xcb_problem()
    if problem is not None:
        # Qt would abort the process (exit 134) with a plugin error; say what to install.
        print(problem, file=sys.stderr)
        return 1
    from PySide6.QtCore import QTimer  # noqa: PLC0415
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415

    from ui.app.chair_flows import WARM_UP_MS, warm_up_session_screen  # noqa: PLC0415
    from ui.app.change_signals import ChangeSignals  # noqa: PLC0415
    from ui.app.lock import IDLE_LOCK_S  # noqa: PLC0415
    from ui.app.main_window import MainWindow  # noqa: PLC0415
    from ui.app.start_problem import tell_start_problem  # noqa: PLC0415
    from ui.app.tablet_name import tablet_name_at_start  # noqa: PLC0415
    from ui.common.theme import THEMES  # noqa: PLC0415

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("ChairSide")
    chairs = [str(n) for n in range(1, args.chairs + 1)]
    theme = THEMES[args.theme]
    demo_dir = tempfile.TemporaryDirectory(prefix="chairside-demo-") if args.demo else None
    clock: Clock = SystemClock()
    # Which tablet this is: the demo's is fixed and never asked (nor kept); otherwise
    # --tablet, $CHAIRSIDE_TABLET, the kept name, or asked once at the first start.
    if demo_dir is not None:
        tablet: str | None = args.tablet or DEMO_TABLET
    else:
        try:
            tablet = tablet_name_at_start(default_settings_path(), theme, given=args.tablet)
        except (ValueError, OSError) as exc:
            tell_start_problem(theme, "ChairSide cannot name this tablet", str(exc))
            return 1
        if tablet is None:
            return 1  # asked for its name, the nurse chose to close ChairSide
    url = args.db or default_url()
    if demo_dir is not None:
        url = f"sqlite:///{Path(demo_dir.name) / 'demo.sqlite3'}"
    # A tablet of the clinic's server keeps a copy of what it needs to start without it.
    cache = (TabletCache(default_cache_path(default_draft_dir()))
             if demo_dir is None and not url.startswith("sqlite") else None)
    copy_from = None
    try:
        # The server lists each connection under the tablet's name (pg_stat_activity).
        if cache is not None:
            store, copy_from = open_clinic_store(url, cache, clock, application_name=tablet)
        else:
            store = open_store(url, application_name=tablet)
    except (StoreOpenError, StorageError) as exc:
        tell_start_problem(theme, "ChairSide cannot open its database", str(exc))
        if cache is not None:
            cache.close()
        return 1
    feed: ChangeFeed | None = None
    changes: ChangeSignals | None = None
    receiver: BackgroundReceiver | None = None
    outbox: Outbox | None = None
    drainer: Drainer | None = None
    worker = make_worker(args.worker, url)
    try:
        staff = None
        hooks = []
        if demo_dir is not None:
            from monitor.demo.data import generate  # noqa: PLC0415
            from monitor.demo.simulate import DemoChair  # noqa: PLC0415

            now = clock.now()
            generate(store, sessions=DEMO_HISTORY_SESSIONS, seed=1,
                     clock_now=now - timedelta(hours=13))
            clock = AcceleratedClock(now, DEMO_SPEED)
            # A throwaway secret for a throwaway database; every demo person's PIN is
            # DEMO_PIN (docs/security.md), and only here.
            secret = secrets.token_bytes(32)
            service = ClinicService(store, clock, secret=secret, tablet=tablet)
            nurse = service.ensure_staff("Demo Nurse", "nurse", pin=DEMO_PIN)
            service.ensure_staff("Demo Admin", "admin", pin=DEMO_PIN)
            service.set_demo_pins(DEMO_PIN)
            staff = (nurse, "Demo Nurse")
            chair = DemoChair(service, nurse, chair=chairs[0], pin=DEMO_PIN,
                              next_after=DEMO_NEXT_PATIENT)
            chair.advance()
            hooks.append(chair.advance)
        else:
            secret = load_secret()
            service = (ClinicService(store, clock, secret=secret, tablet=tablet)
                       if cache is None else
                       CachingClinic(store, clock, secret=secret, tablet=tablet, cache=cache))
        # The demo nurse is signed in already; after a lock, the demo PIN is on the screen.
        hint = f"Demo database: every PIN is {DEMO_PIN}" if demo_dir is not None else ""
        # The demo's clock runs DEMO_SPEED times fast; the idle lock still waits ten real
        # minutes, not seventeen seconds.
        idle_s = IDLE_LOCK_S * (DEMO_SPEED if demo_dir is not None else 1)
        # Entries typed but not saved are kept beside the data; the demo's go with it.
        drafts = DraftStore(Path(demo_dir.name) / "drafts" if demo_dir is not None
                            else default_draft_dir())
        # One feed for the app: what any tablet commits (this one's too) reloads what it
        # touched; the one-second tick then reads nothing. The demo listens too: its
        # self-running chair is seen as another tablet's would be.
        feed = open_feed(store, application_name=tablet)
        changes = ChangeSignals(feed)
        feed.start()
        # A tablet of the clinic's server charts on through an outage: its entries wait in
        # an outbox beside the drafts, drained in order when the server is back. A lone
        # SQLite tablet has none: its database is on the tablet.
        on_tablet: TabletService | None = None
        copies: TabletCopies | None = None
        if isinstance(service, CachingClinic):
            outbox = Outbox(default_outbox_path(default_draft_dir()))
            # The drain runs on a thread of its own, with a service of its own.
            on_tablet = TabletService(service, outbox, clock, drain_service=ClinicService(
                store, clock, secret=secret, tablet=tablet), cached=service.cached_view)
            copies = TabletCopies(service, on_tablet.copy_of, started_offline=copy_from)
            drainer = Drainer(on_tablet)
            on_tablet.on_reachable = drainer.poke
            drainer.start()
        if args.feed_port is not None:
            receiver = start_receiver(service, args)
            if receiver is None:
                return 1
        window = MainWindow(service, clock, chairs=chairs, theme=theme, staff=staff,
                            login_hint=hint, idle_lock_s=idle_s, drafts=drafts,
                            changes=changes, chair_service=on_tablet, worker=worker,
                            copies=copies)
        window.tick_hooks.extend(hooks)
        # A tablet shows the app full screen; on a desktop it opens maximised. Without a
        # window manager (a kiosk session) maximising does nothing, so the window is given
        # the screen's size first rather than Qt's default of two thirds of it.
        screen = app.primaryScreen()
        if screen is not None:
            window.resize(screen.availableGeometry().size())
        window.showMaximized()
        # The session screen's code loads once the first screen is up, not at the first tap.
        QTimer.singleShot(WARM_UP_MS, warm_up_session_screen)
        try:
            return app.exec()
        finally:
            # The window outlives the loop (the caller may run events again): its tick
            # must not read a database about to be closed, nor drive the demo chair.
            window.timer.stop()
            window.tick_hooks.clear()
    finally:
        # A call stalled on the server is not waited for long: its thread is a daemon.
        worker.close(timeout=WORKER_CLOSE_S)
        if receiver is not None:
            receiver.stop()  # files what was acknowledged before the database closes
        if drainer is not None:
            drainer.stop()
        if outbox is not None:
            outbox.close()
        if changes is not None:
            changes.close()
        if feed is not None:
            feed.stop()
        store.close()
        if cache is not None:
            cache.close()
        if demo_dir is not None:
            demo_dir.cleanup()


def start_receiver(service: ClinicService, args: argparse.Namespace) -> BackgroundReceiver | None:
    """The bedside monitor's feed received in this app (``--feed-port``), or None after
    telling the nurse why it cannot listen."""
    from PySide6.QtWidgets import QMessageBox  # noqa: PLC0415

    from monitor.feed.background import BackgroundReceiver, ReceiverStartError  # noqa: PLC0415

    receiver = BackgroundReceiver(service, args.zone)
    try:
        receiver.start(args.feed_host, args.feed_port)
    except ReceiverStartError as exc:
        QMessageBox.critical(None, "ChairSide cannot receive the monitor feed", str(exc))
        return None
    return receiver


if __name__ == "__main__":
    sys.exit(main())
