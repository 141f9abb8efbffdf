"""The banner of a tablet started without its server: it names the tablet's copy from the
first screen (sign-in included) until the server answers; the names and the PIN checked on
the copy are no answer of the server's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from monitor.service.offline import CachingClinic, TabletCopies
from monitor.service.tablet import TabletService
from monitor.service.worker import ThreadWorker
from monitor.storage.outbox import Outbox
from monitor.storage.tablet_cache import TabletCache
from tests.conftest import TEST_PIN, TEST_SECRET
from tests.support.outage import Outage
from tests.ui.app.test_offline_window import CHAIRS, earlier_run
from tests.ui.app.test_outbox_window import shoot
from ui.app.main_window import MainWindow
from ui.common.labels import clock_time


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


@pytest.mark.parametrize("threaded", [False, True], ids=["inline", "threaded"])
def test_the_copy_banner_shows_from_sign_in_until_the_server_answers(
        qtbot, service, clock, nurse, cache, outbox, threaded):
    store = service.store
    earlier_run(store, clock, cache, nurse)
    made = cache.refreshed_at()
    assert made is not None
    clock.advance(timedelta(minutes=30))
    copy_banner = f"Server unreachable — showing this tablet's copy from {clock_time(made)}"
    worker = ThreadWorker() if threaded else None
    outage = Outage(store)
    outage.begin()
    try:
        clinic = CachingClinic(store, clock, secret=TEST_SECRET, cache=cache, tablet="Chair 2")
        tablet = TabletService(clinic, outbox, clock, cached=clinic.cached_view)
        copies = TabletCopies(clinic, tablet.copy_of, started_offline=made)
        window = MainWindow(clinic, clock, chairs=CHAIRS, tick_ms=3_600_000,
                            idle_lock_s=86_400, chair_service=tablet, copies=copies,
                            worker=worker)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        login = window.login_screen
        qtbot.waitUntil(lambda: bool(login.name_buttons), timeout=5000)
        assert window.stack.currentWidget() is login
        assert window.banner.isVisible()
        assert window.banner.text().startswith(copy_banner)
        shoot(window, f"copy-banner-signin-{'threaded' if threaded else 'inline'}")

        login.loginRequested.emit(nurse, TEST_PIN)
        qtbot.waitUntil(lambda: window.staff_id == nurse, timeout=5000)
        clock.advance(timedelta(seconds=20))
        window.tick()
        qtbot.waitUntil(lambda: window.overview.tiles["1"].tile().session_id is not None,
                        timeout=5000)
        assert window.banner.isVisible()
        assert window.banner.text().startswith(copy_banner)
        assert "since" not in window.banner.text()
        shoot(window, f"copy-banner-overview-{'threaded' if threaded else 'inline'}")
    finally:
        outage.end()

    def live_again() -> bool:
        clock.advance(timedelta(seconds=1))
        window.tick()
        return not window.banner.isVisible()

    qtbot.waitUntil(live_again, timeout=5000)
    if worker is not None:
        window.timer.stop()
        qtbot.waitUntil(lambda: not window.board.background.in_flight, timeout=5000)
        worker.close(5)
