"""A tap on a chair is answered at once: "Opening chair N…" on its tile while the chair is
read, further taps on the overview ignored until it opens; while the server is known
unreachable the chair opens at once from what the tablet shows, without asking it first."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from monitor.service.tablet import TabletService
from monitor.service.worker import ThreadWorker
from monitor.storage.outbox import Outbox
from tests.support.outage import Outage
from tests.support.stall import StalledService
from tests.ui.app.test_live import two_chairs
from tests.ui.app.test_outbox_window import shoot
from ui.app.main_window import MainWindow

WAIT_MS = 5000


@pytest.fixture
def opened(qtbot, service, clock, nurse, tmp_path) -> Iterator[tuple[MainWindow, StalledService]]:
    two_chairs(service, clock, nurse)
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    tablet = TabletService(service, outbox, clock)
    stalled = StalledService(service)
    worker = ThreadWorker()
    window = MainWindow(stalled, clock, chairs=("1", "2", "3", "4"), staff=(nurse, "Nora"),
                        tick_ms=3_600_000, idle_lock_s=86_400, chair_service=tablet,
                        worker=worker)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()

    def loaded() -> bool:
        window.refresh_overview()
        return all(window.board.view(s) is not None
                   for s in (window.board.seated("1"), window.board.seated("2")) if s)

    qtbot.waitUntil(lambda: window.board.known() and loaded(), timeout=WAIT_MS)
    yield window, stalled
    stalled.release()
    window.timer.stop()
    qtbot.waitUntil(lambda: not window.board.background.in_flight, timeout=WAIT_MS)
    worker.close(5)
    outbox.close()


def tap(qtbot, window: MainWindow, chair: str) -> None:
    qtbot.mouseClick(window.overview.tile(chair), Qt.MouseButton.LeftButton)


def test_a_tap_says_opening_at_once_and_further_taps_wait_for_the_chair(qtbot, opened):
    window, stalled = opened
    stalled.stall("active_sessions")  # a hung server: the chair's read waits
    tap(qtbot, window, "1")
    assert window.opening_notice.text() == "Opening chair 1…"
    assert window.opening_notice.label is not None
    assert window.opening_notice.label.isVisible()
    assert window.stack.currentWidget() is window.overview
    assert stalled.entered.wait(5)
    shoot(window, "opening-chair")
    assert window.opening_notice.label.isVisible()
    tap(qtbot, window, "2")
    tap(qtbot, window, "1")
    assert window.opening_notice.text() == "Opening chair 1…"
    stalled.release()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.sessions.get("1"),
                    timeout=WAIT_MS)
    assert window.opening_notice.text() == ""
    assert "2" not in window.sessions
    assert stalled.calls["active_sessions"] == 1


def test_while_the_server_is_unreachable_a_chair_opens_at_once_from_the_tablet(
        qtbot, opened, service, clock):
    window, stalled = opened
    outage = Outage(service.store)
    outage.begin()
    try:
        window.board.reload()
        qtbot.waitUntil(lambda: window.reachability.unreachable, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: not window.board.background.in_flight, timeout=WAIT_MS)
        stalled.stall("active_sessions")  # asking the server would wait
        tap(qtbot, window, "1")
        assert window.stack.currentWidget() is window.sessions["1"]
        assert stalled.calls["active_sessions"] == 0
        view = window.presenters["1"].view
        assert view is not None
        assert view.info.id == window.board.seated("1")
    finally:
        outage.end()
