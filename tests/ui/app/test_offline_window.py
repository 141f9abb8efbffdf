"""The window of a tablet started while its server is away: the banner names the tablet's
copy, sign-in works on it, the chairs and a session show from it, an entry is held; when
the server answers the banner clears and the chairs are the server's again, without a
restart."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from monitor.service.offline import CachingClinic, TabletCopies
from monitor.service.tablet import TabletService
from monitor.storage.outbox import Outbox
from monitor.storage.tablet_cache import TabletCache
from tests.conftest import TEST_PIN, TEST_SECRET
from tests.support.outage import Outage
from tests.ui.app.test_live import two_chairs
from ui.app.main_window import MainWindow
from ui.common.labels import clock_time

CHAIRS = ("1", "2", "3", "4")


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


def earlier_run(store, clock, cache, nurse) -> dict[str, object]:
    """A run with the server: the sign-in list, the chairs and their sessions were read."""
    clinic = CachingClinic(store, clock, secret=TEST_SECRET, cache=cache, tablet="Chair 2")
    sessions = two_chairs(clinic, clock, nurse)
    clinic.staff_list()
    clinic.active_sessions(CHAIRS)
    for session_id in sessions.values():
        clinic.load(session_id)
    return sessions


def test_a_window_started_on_the_copy_says_so_and_goes_live_when_the_server_answers(
        qtbot, service, clock, nurse, cache, outbox):
    store = service.store
    sessions = earlier_run(store, clock, cache, nurse)
    made = cache.refreshed_at()
    assert made is not None
    clock.advance(timedelta(minutes=30))

    outage = Outage(store)
    outage.begin()
    try:
        clinic = CachingClinic(store, clock, secret=TEST_SECRET, cache=cache, tablet="Chair 2")
        tablet = TabletService(clinic, outbox, clock, cached=clinic.cached_view)
        copies = TabletCopies(clinic, tablet.copy_of, started_offline=made)
        window = MainWindow(clinic, clock, chairs=CHAIRS, tick_ms=3_600_000,
                            idle_lock_s=86_400, chair_service=tablet, copies=copies)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        assert window.banner.isVisible()
        assert window.banner.text().startswith(
            f"Server unreachable — showing this tablet's copy from {clock_time(made)}")
        assert window.stack.currentWidget() is window.login_screen

        window.login_screen.loginRequested.emit(nurse, TEST_PIN)
        assert window.staff_id == nurse
        assert window.stack.currentWidget() is window.overview

        def copy_shown() -> bool:
            clock.advance(timedelta(seconds=1))
            window.tick()
            tile = window.overview.tiles["1"].tile()
            return tile.session_id == sessions["1"]

        qtbot.waitUntil(copy_shown, timeout=5000)
        assert window.overview.tiles["2"].tile().session_id == sessions["2"]
        assert window.banner.isVisible()
        assert "this tablet's copy" in window.banner.text()
        assert not window.protocol_button.isEnabled()  # the protocol is the server's
        assert window.protocol_button.toolTip().startswith("Needs the server")

        window.open_chair("1")
        screen = window.sessions["1"]
        screen.presenter.save_reading({"sbp": "126", "dbp": "80", "hr": "74", "spo2": "88"})
        assert "Saved on this tablet — not yet on the server (1)" in \
            screen.header.notice_text()
        window.show_overview()
    finally:
        outage.end()

    def live_again() -> bool:
        clock.advance(timedelta(seconds=1))
        window.tick()
        return not window.banner.isVisible()

    qtbot.waitUntil(live_again, timeout=5000)
    assert window.reachability.since is None
    assert window.protocol_button.isEnabled()
    # The session opened on the copy is the server's again (its held reading still added).
    shown = window.presenters["1"].view
    assert shown is not None
    assert not shown.on_tablet
    assert shown.held == 1
    assert tablet.drain() == 1
    assert tablet.drain() == 0
    window.board.reload()
    window.refresh_overview()
    tile = window.overview.tiles["1"].tile()
    assert tile.session_id == sessions["1"]
    assert tile.held == 0
    assert tile.spo2 == 88

    # A later outage is the usual one: "since", not the copy of the start.
    Outage(store).begin()
    try:
        window.board.reload()
        window.refresh_overview()
        assert window.banner.isVisible()
        assert window.banner.text().startswith("Server unreachable since ")
    finally:
        Outage(store).end()


def test_the_banner_dates_a_copy_from_another_day():
    from datetime import UTC, datetime  # noqa: PLC0415

    from ui.common.banner import copy_text  # noqa: PLC0415

    now = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    same_day = now - timedelta(minutes=50)
    assert copy_text(same_day, now).startswith(
        f"Server unreachable — showing this tablet's copy from {clock_time(same_day)};")
    yesterday = now - timedelta(days=1)
    text = copy_text(yesterday, now)
    assert f"{yesterday.astimezone():%a %d %b} {clock_time(yesterday)}" in text
