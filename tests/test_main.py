"""main.py wires the app: argument checks, --demo and --screenshot, offscreen."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication
from sqlalchemy import text

import main
from monitor.storage.settings import TABLET_ENV, kept_tablet_name
from ui.app.main_window import MainWindow
from ui.app.tablet_name import TabletNameDialog
from ui.common.ask import ConfirmDialog
from ui.common.style import PRIMARY_MIN


def test_size_and_chairs_are_checked():
    with pytest.raises(SystemExit):
        main.parse_args(["--size", "wide"])
    with pytest.raises(SystemExit):
        main.parse_args(["--chairs", "0"])
    args = main.parse_args(["--size", "800x1280", "--chairs", "6"])
    assert (args.width, args.height, args.chairs) == (800, 1280, 6)


def test_demo_opens_a_clinic_whose_first_chair_runs_by_itself(qapp, monkeypatch):
    seen = {}

    def exec_once(_app=None):
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        (window,) = windows
        window.tick()
        seen["tiles"] = [window.overview.tile(c).tile() for c in window.chairs]
        seen["hooks"] = len(window.tick_hooks)
        seen["idle_s"] = window.idle.idle_s
        seen["signed_in"] = window.staff_name
        seen["title"] = window.windowTitle()
        seen["size"] = window.size()
        seen["screen"] = window.screen().availableGeometry().size()
        window.close()
        return 0

    monkeypatch.setattr(QApplication, "exec", exec_once)
    monkeypatch.setattr(main, "DEMO_HISTORY_SESSIONS", 4)
    monkeypatch.setattr(TabletNameDialog, "exec", lambda _d: pytest.fail("the demo asked"))
    assert main.main(["--demo"]) == 0
    qapp.setStyleSheet("")  # the window styled the application; leave it as found
    qapp.setProperty("chairside_theme", None)
    first, *others = seen["tiles"]
    assert first.session_id is not None
    assert first.initials == "DD"
    assert all(tile.empty for tile in others)
    assert seen["hooks"] == 1
    assert seen["signed_in"] == "Demo Nurse", "a newcomer starts without a PIN"
    assert seen["title"] == "ChairSide · Demo tablet", "a fixed name, never asked"
    assert seen["idle_s"] == 600 * main.DEMO_SPEED, "ten real minutes on the fast demo clock"
    assert seen["size"] == seen["screen"], "the whole screen, even without a window manager"


def test_screenshot_writes_every_main_screen(tmp_path):
    assert main.main(["--screenshot", str(tmp_path), "--size", "1280x800"]) == 0
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(names) >= 10
    for screen in ("overview", "check-in", "session-flags", "entry-vitals", "discharge"):
        assert any(screen in name for name in names), screen


def _run_once(monkeypatch, seen: dict) -> None:
    """Let main() build its window, note what it shows, and close it instead of running."""

    def exec_once(_app=None):
        # The one this main() shows (windows of earlier runs are closed, maybe not yet gone).
        (window,) = [w for w in QApplication.topLevelWidgets()
                     if isinstance(w, MainWindow) and w.isVisible()]
        seen["title"] = window.windowTitle()
        seen["tablet"] = window.service.tablet
        store = window.service.store
        if not store.is_sqlite:
            with store.read() as db:
                seen["application_name"] = db.execute(text(
                    "SELECT application_name FROM pg_stat_activity "
                    "WHERE pid = pg_backend_pid()")).scalar_one()
        window.close()
        return 0

    monkeypatch.setattr(QApplication, "exec", exec_once)


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """main() keeps the tablet's name in the test's own settings file."""
    path = tmp_path / "config" / "settings.json"
    monkeypatch.setattr(main, "default_settings_path", lambda: path)
    monkeypatch.delenv(TABLET_ENV, raising=False)
    return path


def _never_asked(monkeypatch) -> None:
    def refuse(_dialog):
        raise AssertionError("the tablet's name was asked for")

    monkeypatch.setattr(TabletNameDialog, "exec", refuse)


def test_tablet_names_the_window_and_is_kept(qapp, monkeypatch, settings, sqlite_url):
    seen: dict = {}
    _run_once(monkeypatch, seen)
    _never_asked(monkeypatch)
    assert main.main(["--db", sqlite_url, "--tablet", "Room-2"]) == 0
    assert (seen["title"], seen["tablet"]) == ("ChairSide · Room-2", "Room-2")
    assert kept_tablet_name(settings) == "Room-2"
    assert main.main(["--db", sqlite_url]) == 0, "kept: not asked again"
    assert seen["tablet"] == "Room-2"
    monkeypatch.setenv(TABLET_ENV, "Kiosk-7")
    assert main.main(["--db", sqlite_url]) == 0
    assert seen["tablet"] == "Kiosk-7"
    assert main.main(["--db", sqlite_url, "--tablet", "Room-3"]) == 0
    assert seen["tablet"] == "Room-3", "--tablet wins over the environment"
    qapp.setStyleSheet("")
    qapp.setProperty("chairside_theme", None)


def test_the_first_start_asks_for_the_name_once(qapp, monkeypatch, settings, sqlite_url):
    seen: dict = {}
    asked = []
    _run_once(monkeypatch, seen)

    def answer(dialog):
        asked.append(dialog.field.text())
        dialog.field.setText("Room-4")
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(TabletNameDialog, "exec", answer)
    assert main.main(["--db", sqlite_url]) == 0
    assert main.main(["--db", sqlite_url]) == 0
    assert len(asked) == 1
    assert seen["tablet"] == "Room-4"
    qapp.setStyleSheet("")
    qapp.setProperty("chairside_theme", None)


def test_closing_at_the_name_opens_nothing(qapp, monkeypatch, settings, tmp_path):
    monkeypatch.setattr(TabletNameDialog, "exec", lambda dialog: dialog.reject() or 0)
    database = tmp_path / "never.sqlite3"
    assert main.main(["--db", f"sqlite:///{database}"]) == 1
    assert not database.exists()
    assert not settings.exists()


def test_a_bad_tablet_name_is_refused_naming_the_option(capsys):
    with pytest.raises(SystemExit):
        main.parse_args(["--tablet", "x" * 33])
    assert "--tablet: Tablet name: 1 to 32 characters, not 33" in capsys.readouterr().err


@pytest.mark.postgres
def test_the_server_lists_the_tablets_connection_by_its_name(qapp, monkeypatch, settings,
                                                             pg_url):
    import uuid  # noqa: PLC0415

    name = f"Room {uuid.uuid4().hex[:8]}"
    seen: dict = {}
    _run_once(monkeypatch, seen)
    assert main.main(["--db", pg_url, "--tablet", name]) == 0
    assert seen["application_name"] == name
    qapp.setStyleSheet("")
    qapp.setProperty("chairside_theme", None)


@pytest.mark.postgres
def test_a_tablet_of_the_clinic_server_charts_through_an_outbox_beside_its_drafts(
        qapp, monkeypatch, settings, pg_url, tmp_path):
    from monitor.service.tablet import TabletService  # noqa: PLC0415

    seen = {}

    def exec_once(_app=None):
        (window,) = [w for w in QApplication.topLevelWidgets()
                     if isinstance(w, MainWindow) and w.isVisible()]
        seen["chairs"] = window.chair_service
        window.close()
        return 0

    monkeypatch.setattr(QApplication, "exec", exec_once)
    _never_asked(monkeypatch)
    monkeypatch.setattr(main, "default_draft_dir", lambda: tmp_path / "ChairSide" / "drafts")
    assert main.main(["--db", pg_url, "--tablet", "Room-2"]) == 0
    qapp.setStyleSheet("")
    qapp.setProperty("chairside_theme", None)
    assert isinstance(seen["chairs"], TabletService)
    assert seen["chairs"].outbox.path == tmp_path / "ChairSide" / "outbox.sqlite3"
    assert seen["chairs"].outbox.path.exists()


def test_a_lone_sqlite_tablet_has_no_outbox(qapp, monkeypatch, settings, sqlite_url, tmp_path):
    seen = {}

    def exec_once(_app=None):
        (window,) = [w for w in QApplication.topLevelWidgets()
                     if isinstance(w, MainWindow) and w.isVisible()]
        seen["same"] = window.chair_service is window.service
        window.close()
        return 0

    monkeypatch.setattr(QApplication, "exec", exec_once)
    _never_asked(monkeypatch)
    monkeypatch.setattr(main, "default_draft_dir", lambda: tmp_path / "ChairSide" / "drafts")
    assert main.main(["--db", sqlite_url, "--tablet", "Room-2"]) == 0
    qapp.setStyleSheet("")
    qapp.setProperty("chairside_theme", None)
    assert seen["same"]
    assert not (tmp_path / "ChairSide" / "outbox.sqlite3").exists()


def test_a_server_gets_the_background_worker_and_the_tablets_file_runs_inline():
    from monitor.service.worker import InlineWorker, ThreadWorker  # noqa: PLC0415

    server = main.make_worker("auto", "postgresql+psycopg://clinic-server/chairside")
    try:
        assert isinstance(server, ThreadWorker)
    finally:
        server.close()
    assert isinstance(main.make_worker("auto", "sqlite:///chairside.sqlite3"), InlineWorker)
    forced = main.make_worker("thread", "sqlite:///chairside.sqlite3")
    try:
        assert isinstance(forced, ThreadWorker)
    finally:
        forced.close()
    assert isinstance(main.make_worker("inline", "postgresql://x/y"), InlineWorker)
    assert main.parse_args(["--worker", "thread"]).worker == "thread"
    with pytest.raises(SystemExit):
        main.parse_args(["--worker", "fast"])


def test_the_demo_runs_with_its_database_work_on_a_background_thread(
        qapp, qtbot, monkeypatch, settings):
    seen = {}

    def exec_once(_app=None):
        (window,) = [w for w in QApplication.topLevelWidgets()
                     if isinstance(w, MainWindow) and w.isVisible()]
        seen["threaded"] = window.board.threaded
        window.tick()  # the chairs are read in the background; the tick does not wait
        qtbot.waitUntil(lambda: window.board.known() and window.board.background.in_flight == 0,
                        timeout=30_000)
        window.tick()
        seen["first"] = window.overview.tile(window.chairs[0]).tile()
        window.close()
        return 0

    monkeypatch.setattr(QApplication, "exec", exec_once)
    monkeypatch.setattr(main, "DEMO_HISTORY_SESSIONS", 4)
    _never_asked(monkeypatch)
    assert main.main(["--demo", "--worker", "thread"]) == 0
    qapp.setStyleSheet("")
    qapp.setProperty("chairside_theme", None)
    assert seen["threaded"]
    assert seen["first"].session_id is not None


#: A server nothing answers for (connecting is refused at once), with a password in its URL.
DEAD_SERVER = "postgresql+psycopg://chairside:s3cret-pw@127.0.0.1:9/chairside"


def test_a_first_start_without_the_server_says_it_is_needed_and_names_its_host(
        qapp, monkeypatch, settings, tmp_path):
    told = []
    monkeypatch.setattr(main, "default_draft_dir", lambda: tmp_path / "ChairSide" / "drafts")

    def shown(dialog):  # the app's own dialog, in its theme, with a button large to tap
        told.append((dialog.windowTitle(), dialog.question.text()))
        assert dialog.act.sizeHint().height() >= PRIMARY_MIN
        assert dialog.act.text() == "Close ChairSide"
        assert not dialog.keep.isVisibleTo(dialog)
        # the theme's style, not the platform's
        assert "font-size" in QApplication.instance().styleSheet()
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(ConfirmDialog, "exec", shown)
    _never_asked(monkeypatch)
    assert main.main(["--db", DEAD_SERVER, "--tablet", "Room-2"]) == 1
    ((title, text),) = told
    assert title == "ChairSide cannot open its database"
    assert "first start" in text
    assert "127.0.0.1:9" in text
    assert "s3cret-pw" not in text
    qapp.setStyleSheet("")


def test_a_start_without_the_server_opens_on_the_tablets_copy(
        qapp, qtbot, monkeypatch, settings, tmp_path, sqlite_url, clock):
    from monitor.service.auth import load_secret  # noqa: PLC0415
    from monitor.service.offline import CachingClinic  # noqa: PLC0415
    from monitor.storage.store import open_store  # noqa: PLC0415
    from monitor.storage.tablet_cache import TabletCache, default_cache_path  # noqa: PLC0415

    drafts = tmp_path / "ChairSide" / "drafts"
    monkeypatch.setattr(main, "default_draft_dir", lambda: drafts)
    # An earlier run read the staff from its server (here a file: the copy is the same).
    cache = TabletCache(default_cache_path(drafts))
    store = open_store(sqlite_url)
    try:
        earlier = CachingClinic(store, clock, secret=load_secret(), cache=cache)
        earlier.ensure_staff("Nora Nurse", "nurse", pin="482913")
        earlier.staff_list()
    finally:
        store.close()
        cache.close()
    seen: dict = {}

    def exec_once(_app=None):
        (window,) = [w for w in QApplication.topLevelWidgets()
                     if isinstance(w, MainWindow) and w.isVisible()]
        seen["banner"] = window.banner.text() if window.banner.isVisible() else ""
        # The names are read on the database worker (from the copy, the server being away).
        qtbot.waitUntil(lambda: bool(window.login_screen.staff), timeout=20_000)
        seen["names"] = [person.name for person in window.login_screen.staff]
        seen["chairs"] = type(window.chair_service).__name__
        window.close()
        return 0

    monkeypatch.setattr(QApplication, "exec", exec_once)
    _never_asked(monkeypatch)
    assert main.main(["--db", DEAD_SERVER, "--tablet", "Room-2"]) == 0
    qapp.setStyleSheet("")
    qapp.setProperty("chairside_theme", None)
    assert seen["banner"].startswith("Server unreachable — showing this tablet's copy from ")
    assert seen["names"] == ["Nora Nurse"]
    assert seen["chairs"] == "TabletService"
