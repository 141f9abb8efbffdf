"""main.py wires the app: argument checks, --demo and --screenshot, offscreen."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

import main
from ui.app.main_window import MainWindow


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
        seen["size"] = window.size()
        seen["screen"] = window.screen().availableGeometry().size()
        window.close()
        return 0

    monkeypatch.setattr(QApplication, "exec", exec_once)
    monkeypatch.setattr(main, "DEMO_HISTORY_SESSIONS", 4)
    assert main.main(["--demo"]) == 0
    qapp.setStyleSheet("")  # the window styled the application; leave it as found
    qapp.setProperty("chairside_theme", None)
    first, *others = seen["tiles"]
    assert first.session_id is not None
    assert first.initials == "DD"
    assert all(tile.empty for tile in others)
    assert seen["hooks"] == 1
    assert seen["signed_in"] == "Demo Nurse", "a newcomer starts without a PIN"
    assert seen["idle_s"] == 600 * main.DEMO_SPEED, "ten real minutes on the fast demo clock"
    assert seen["size"] == seen["screen"], "the whole screen, even without a window manager"


def test_screenshot_writes_every_main_screen(tmp_path):
    assert main.main(["--screenshot", str(tmp_path), "--size", "1280x800"]) == 0
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(names) >= 10
    for screen in ("overview", "check-in", "session-flags", "entry-vitals", "discharge"):
        assert any(screen in name for name in names), screen


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


def test_the_demo_runs_with_its_database_work_on_a_background_thread(qapp, qtbot, monkeypatch):
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
    assert main.main(["--demo", "--worker", "thread"]) == 0
    qapp.setStyleSheet("")
    qapp.setProperty("chairside_theme", None)
    assert seen["threaded"]
    assert seen["first"].session_id is not None
