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


@pytest.mark.postgres
def test_a_tablet_of_the_clinic_server_charts_through_an_outbox_beside_its_drafts(
        qapp, monkeypatch, pg_url, tmp_path):
    from monitor.service.tablet import TabletService  # noqa: PLC0415

    seen = {}

    def exec_once(_app=None):
        (window,) = [w for w in QApplication.topLevelWidgets()
                     if isinstance(w, MainWindow) and w.isVisible()]
        seen["chairs"] = window.chair_service
        window.close()
        return 0

    monkeypatch.setattr(QApplication, "exec", exec_once)
    monkeypatch.setattr(main, "default_draft_dir", lambda: tmp_path / "ChairSide" / "drafts")
    assert main.main(["--db", pg_url]) == 0
    qapp.setStyleSheet("")
    qapp.setProperty("chairside_theme", None)
    assert isinstance(seen["chairs"], TabletService)
    assert seen["chairs"].outbox.path == tmp_path / "ChairSide" / "outbox.sqlite3"
    assert seen["chairs"].outbox.path.exists()
