"""The window of a tablet charting through an outage: the chair's tile counts the entries
saved on the tablet, and they reach the server once it is back."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.service.tablet import TabletService
from monitor.storage.outbox import Outbox
from tests.support.outage import Outage
from tests.ui.app.test_live import two_chairs
from ui.app.main_window import MainWindow

SHOTS = os.environ.get("CHAIRSIDE_SHOTS")  # a folder: the screens are also saved there


@pytest.fixture
def window(qtbot, service, clock, nurse, tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    tablet = TabletService(service, outbox, clock)
    shown = MainWindow(service, clock, chairs=("1", "2", "3", "4"), staff=(nurse, "Nora"),
                       tick_ms=3_600_000, idle_lock_s=86_400, chair_service=tablet)
    qtbot.addWidget(shown)
    shown.resize(1280, 800)
    yield shown
    outbox.close()


def shoot(window: MainWindow, name: str) -> None:
    if SHOTS:
        for size in ((1280, 800), (800, 1280)):
            window.resize(*size)
            window.grab().save(str(Path(SHOTS) / f"{name}-{size[0]}x{size[1]}.png"))
        window.resize(1280, 800)


def test_the_chairs_tile_counts_the_entries_saved_on_this_tablet_until_the_drain(
        qtbot, window, service, clock, nurse):
    two_chairs(service, clock, nurse)
    window.show()
    window.tick()
    window.open_chair("1")
    screen = window.sessions["1"]
    outage = Outage(service.store)
    outage.begin()
    try:
        clock.advance(timedelta(minutes=5))
        screen.presenter.save_reading({"sbp": "126", "dbp": "80", "hr": "74", "spo2": "88"})
        screen.presenter.save_reading({"hr": "76", "spo2": "90"})
        assert "Saved on this tablet — not yet on the server (2)" in \
            screen.header.notice_text()
        shoot(window, "held-session")
        screen.tabs.setCurrentWidget(screen.discharge)
        shoot(window, "held-discharge")
        window.show_overview()
        window.tick()
        tile = window.overview.tiles["1"]
        assert tile.tile().held == 2
        assert "2 saved on this tablet — not yet on the server" in tile.texts()
        assert tile.tile().spo2 == 90
        shoot(window, "held-overview")
    finally:
        outage.end()
    tablet = window.chair_service
    assert isinstance(tablet, TabletService)
    assert tablet.drain() == 2
    clock.advance(timedelta(seconds=10))
    window.tick()
    tile = window.overview.tiles["1"]
    assert tile.tile().held == 0
    assert tile.tile().spo2 == 90
    assert not any("saved on this tablet" in text for text in tile.texts())


def test_the_outage_banner_of_a_tablet_with_an_outbox_says_entries_are_saved_on_it(
        qtbot, window, service, clock, nurse):
    two_chairs(service, clock, nurse)
    window.show()
    window.tick()
    outage = Outage(service.store)
    outage.begin()
    try:
        window.board.reload()
        window.refresh_overview()
        assert window.banner.isVisible()
        text = window.banner.text()
        assert text.startswith("Server unreachable since ")
        assert text.endswith("— entries are saved on this tablet until it is back")
        assert "not being saved" not in text
        shoot(window, "outage-banner-outbox")
    finally:
        outage.end()


def test_the_outage_banner_without_an_outbox_keeps_saying_entries_are_not_saved(
        qtbot, service, clock, nurse):
    desk = MainWindow(service, clock, chairs=("1", "2"), staff=(nurse, "Nora"),
                      tick_ms=3_600_000, idle_lock_s=86_400)
    qtbot.addWidget(desk)
    desk.show()
    outage = Outage(service.store)
    outage.begin()
    try:
        desk.board.reload()
        desk.refresh_overview()
        assert desk.banner.isVisible()
        assert desk.banner.text().endswith("— entries are not being saved to the server")
    finally:
        outage.end()
