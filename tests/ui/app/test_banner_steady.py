"""The outage banner comes and goes without moving anything under the nurse's finger: it is
drawn in the strip at the top of the window, which is there at the same height whether it
shows the tablet's name and the time or the banner (landscape and portrait)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint

from monitor.service.tablet import TabletService
from monitor.storage.outbox import Outbox
from tests.support.outage import Outage
from tests.ui.app.test_live import two_chairs
from tests.ui.geometry import control_places, moved, settle
from ui.app.main_window import MainWindow

SHOTS = os.environ.get("CHAIRSIDE_SHOTS")  # a folder: the screens are also saved there
SIZES = [(1280, 800), (800, 1280)]


@pytest.fixture(params=["desk", "tablet"])
def window(request, qtbot, service, clock, nurse, tmp_path):
    """A window on a desk (no outbox) or on a tablet that keeps entries while the server is
    away (its banner's words are the longest)."""
    outbox = Outbox(tmp_path / "outbox.sqlite3") if request.param == "tablet" else None
    shown = MainWindow(service, clock, chairs=("1", "2", "3", "4"), staff=(nurse, "Nora"),
                       tick_ms=3_600_000, idle_lock_s=86_400,
                       chair_service=(TabletService(service, outbox, clock)
                                      if outbox is not None else None))
    qtbot.addWidget(shown)
    yield shown
    if outbox is not None:
        outbox.close()


def _outage(qtbot, window: MainWindow, service, clock) -> Outage:
    """The server stops answering and the next tick finds it (the banner shows)."""
    outage = Outage(service.store)
    outage.begin()
    clock.advance(1)
    window.board.reload()  # the chairs read again (as a change on another tablet makes it)
    window.tick()
    qtbot.waitUntil(window.banner.isVisible)
    settle()
    assert window.banner.text().startswith("Server unreachable since ")
    return outage


def _shoot(window: MainWindow, name: str) -> None:
    if SHOTS:
        window.grab().save(str(Path(SHOTS) / f"{name}.png"))


@pytest.mark.parametrize("size", SIZES, ids=["landscape", "portrait"])
def test_the_banner_moves_no_control_of_the_session_screen(
        qtbot, window, service, clock, nurse, size):
    two_chairs(service, clock, nurse)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    window.open_chair("1")
    screen = window.current_session()
    assert screen is not None
    qtbot.waitUntil(lambda: screen.presenter.view is not None)
    settle()
    back = screen.header.back_button
    save = screen.vitals.save_button()
    assert back.isVisible()
    assert save.isVisible()
    strip_height = window.top_strip.height()
    before = control_places(window)
    back_at = back.mapToGlobal(QPoint(0, 0))
    save_at = save.mapToGlobal(QPoint(0, 0))
    _shoot(window, f"session-{size[0]}x{size[1]}-answering")

    outage = _outage(qtbot, window, service, clock)
    _shoot(window, f"session-{size[0]}x{size[1]}-banner")
    assert back.mapToGlobal(QPoint(0, 0)) == back_at
    assert save.mapToGlobal(QPoint(0, 0)) == save_at
    assert moved(before, control_places(window)) == []
    assert window.top_strip.height() == strip_height
    # The banner's words are whole in the strip.
    assert window.banner.heightForWidth(window.banner.width()) <= window.banner.height()

    outage.end()
    clock.advance(60)
    window.tick()
    qtbot.waitUntil(window.banner.isHidden)
    settle()
    assert back.mapToGlobal(QPoint(0, 0)) == back_at
    assert save.mapToGlobal(QPoint(0, 0)) == save_at
    assert moved(before, control_places(window)) == []


@pytest.mark.parametrize("size", SIZES, ids=["landscape", "portrait"])
def test_the_banner_moves_no_control_of_the_overview(
        qtbot, window, service, clock, nurse, size):
    two_chairs(service, clock, nurse)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    window.show_overview()
    settle()
    assert window.stack.currentWidget() is window.overview
    assert "ChairSide" in window.top_strip.line.text()
    before = control_places(window)
    assert before, "the overview has controls to compare"
    _shoot(window, f"overview-{size[0]}x{size[1]}-answering")

    outage = _outage(qtbot, window, service, clock)
    _shoot(window, f"overview-{size[0]}x{size[1]}-banner")
    assert moved(before, control_places(window)) == []
    assert not window.top_strip.line.isVisible()
    assert window.top_strip.sign.isVisible()
    outage.end()
