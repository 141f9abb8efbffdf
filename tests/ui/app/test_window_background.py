"""The window with its database work on a background thread (as on the clinic's server):
a chair opens from a read in the background, and while the server holds a save the tick
goes on, the session's countdown and the chair's tile turn OVERDUE from the tablet's clock,
and the save's outcome is shown when it comes."""

from __future__ import annotations

from datetime import timedelta

import pytest
import shiboken6

from monitor.service.worker import ThreadWorker
from tests.support.stall import WAIT_S, StalledService
from tests.ui.app.test_live import two_chairs
from tests.ui.session.entry.forms import enter_value, save
from ui.app.main_window import MainWindow

WAIT_MS = int(WAIT_S * 1000)


@pytest.fixture
def window(qtbot, service, clock, nurse):
    two_chairs(service, clock, nurse)
    gated = StalledService(service)
    worker = ThreadWorker()
    window = MainWindow(gated, clock, chairs=("1", "2", "3", "4"), staff=(nurse, "Nora"),
                        tick_ms=3_600_000, idle_lock_s=24 * 3600, worker=worker)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    yield window, gated
    gated.release()
    # The window may be gone already (the application's clean-up deletes what the test
    # showed); nothing of it is waited on then.
    qtbot.waitUntil(lambda: not shiboken6.isValid(window) or (
        all(p.pending == 0 and not p._loading for p in window.presenters.values())
        and window.board.background.in_flight == 0), timeout=WAIT_MS)
    if shiboken6.isValid(window):
        window.close()
    worker.close(WAIT_S)


def test_the_tick_runs_on_while_the_server_holds_a_save_then_saved_is_shown(
        qtbot, window, clock):
    window, gated = window
    window.open_chair("1")  # read in the background; the screen opens when it arrives
    qtbot.waitUntil(lambda: "1" in window.sessions
                    and window.current_session() is window.sessions["1"], timeout=WAIT_MS)
    screen = window.sessions["1"]
    assert screen.presenter.view is not None
    gated.stall("record_reading")
    enter_value(qtbot, screen.vitals, "hr", "88")
    save(qtbot, screen.vitals)
    assert gated.entered.wait(WAIT_S)
    assert screen.vitals.banner_text() == "Saving…"
    clock.advance(timedelta(minutes=30))
    window.tick()  # the session reloads behind the held save; the countdown does not wait
    assert "OVERDUE" in screen.header.due.text()
    window.show_overview()
    window.tick()
    assert window.overview.tiles["1"].tile().overdue
    assert not gated.opened.is_set()
    with qtbot.waitSignal(screen.presenter.saved, timeout=WAIT_MS):
        gated.release()
    assert screen.vitals.banner_text().startswith("Saved vitals")
    assert gated.calls["record_reading"] == 1
