"""A tablet started on its copy, whose entries reach the server once it answers: the open
chair's screen follows the drain within a tick (never a stale "not yet on the server"),
even when no change notice arrives for it (the change feed not yet connected again)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from monitor.service.offline import CachingClinic, TabletCopies
from monitor.service.tablet import TabletService
from monitor.storage.changes.feed import open_feed
from monitor.storage.outbox import Outbox
from monitor.storage.tablet_cache import TabletCache
from tests.conftest import TEST_PIN, TEST_SECRET
from tests.support.outage import Outage
from tests.ui.app.test_offline_window import CHAIRS, earlier_run
from ui.app.change_signals import ChangeSignals
from ui.app.main_window import MainWindow

HELD_FOUR = "Saved on this tablet — not yet on the server (4)"


@pytest.fixture
def cache(tmp_path) -> Iterator[TabletCache]:
    opened = TabletCache(tmp_path / "tablet-cache.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def outbox(tmp_path) -> Iterator[Outbox]:
    opened = Outbox(tmp_path / "outbox.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def silent_changes(service) -> Iterator[ChangeSignals]:
    """A change feed that has not connected (yet): it delivers nothing."""
    feed = open_feed(service.store)
    signals = ChangeSignals(feed)
    yield signals
    signals.close()


def test_the_open_session_follows_the_drain_after_a_start_on_the_copy(
        qtbot, service, clock, nurse, cache, outbox, silent_changes):
    store = service.store
    earlier_run(store, clock, cache, nurse)
    made = cache.refreshed_at()
    clock.advance(timedelta(minutes=30))
    outage = Outage(store)
    outage.begin()
    try:
        clinic = CachingClinic(store, clock, secret=TEST_SECRET, cache=cache, tablet="Chair 2")
        tablet = TabletService(clinic, outbox, clock, cached=clinic.cached_view)
        copies = TabletCopies(clinic, tablet.copy_of, started_offline=made)
        window = MainWindow(clinic, clock, chairs=CHAIRS, tick_ms=3_600_000,
                            idle_lock_s=86_400, chair_service=tablet, copies=copies,
                            changes=silent_changes)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        window.login_screen.loginRequested.emit(nurse, TEST_PIN)

        def copy_shown() -> bool:
            clock.advance(timedelta(seconds=1))
            window.tick()
            return window.board.seated("1") is not None

        qtbot.waitUntil(copy_shown, timeout=5000)
        window.open_chair("1")
        screen = window.sessions["1"]
        for hr in ("72", "74", "76", "78"):
            clock.advance(timedelta(seconds=30))
            screen.presenter.save_reading({"hr": hr, "spo2": "97"})
        assert HELD_FOUR in screen.header.notice_text()
    finally:
        outage.end()

    def live_again() -> bool:
        clock.advance(timedelta(seconds=1))
        window.tick()
        return not window.banner.isVisible()

    qtbot.waitUntil(live_again, timeout=5000)
    # The drain's thread gives the four to the server; no change notice arrives.
    assert tablet.drain() == 4
    clock.advance(timedelta(seconds=1))
    window.tick()
    qtbot.waitUntil(lambda: HELD_FOUR not in screen.header.notice_text(), timeout=2000)
    assert screen.presenter.view is not None
    assert screen.presenter.view.held == 0
    assert not screen.presenter.view.on_tablet
    window.show_overview()
    window.tick()
    assert window.overview.tiles["1"].tile().held == 0
