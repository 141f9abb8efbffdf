"""An unreachable server: a banner on every screen since the first failure, occupied chairs
stay occupied, and the banner and the old error clear by themselves once the server answers."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStatusBar

from monitor.storage.store import StorageError
from tests.ui.app.test_live import _window, listening, two_chairs
from ui.app.main_window import MainWindow
from ui.common.labels import clock_time


@pytest.fixture
def outage(service, monkeypatch):
    """Make every session read fail as an unreachable server does (``chairs_read``: all but
    the read of which session sits on each chair); ``outage.end()`` ends it.
    ``outage.tries`` counts the reads tried meanwhile."""
    load, active, protocol = service.load, service.active_sessions, service.session_protocol

    class Outage:
        tries = 0

        def start(self, *, chairs_read: bool = False) -> None:
            def unreachable(*_args, **_kwargs):
                Outage.tries += 1
                raise StorageError("unreachable", "The database cannot be reached.")

            monkeypatch.setattr(service, "load", unreachable)
            monkeypatch.setattr(service, "session_protocol", unreachable)
            if not chairs_read:
                monkeypatch.setattr(service, "active_sessions", unreachable)

        def end(self) -> None:
            monkeypatch.setattr(service, "load", load)
            monkeypatch.setattr(service, "session_protocol", protocol)
            monkeypatch.setattr(service, "active_sessions", active)

    return Outage()


def _status_line(window: MainWindow) -> bool | None:
    """Whether the window's status line shows (None: it has none)."""
    bar = window.findChild(QStatusBar, options=Qt.FindChildOption.FindDirectChildrenOnly)
    return None if bar is None else not bar.isHidden()


def _ticks(window: MainWindow, clock, seconds: int) -> None:
    for _ in range(seconds):
        clock.advance(1)
        window.tick()


def test_the_banner_dates_from_the_first_failure_and_clears_when_the_server_answers(
        qtbot, service, clock, nurse, outage):
    two_chairs(service, clock, nurse)
    window = _window(qtbot, service, clock, nurse)
    window.show()
    assert window.overview.tiles["1"].tile().session_id is not None
    assert window.banner.isHidden()
    status_before = _status_line(window)
    outage.start()
    clock.advance(1)
    first = clock.now()
    window.tick()
    assert window.banner.isVisible()
    assert f"Server unreachable since {clock_time(first)}" in window.banner.text()
    assert _status_line(window) == status_before  # the banner has its own strip
    _ticks(window, clock, 120)
    assert f"since {clock_time(first)}" in window.banner.text()
    assert window.banner.isVisible()
    # An occupied chair is never shown free because its session could not be read.
    assert window.overview.tiles["1"].tile().session_id is not None
    assert window.overview.tiles["2"].tile().hr == 72
    # Paced: far fewer reads than ticks while the server stays away.
    assert outage.tries < 40
    outage.end()
    _ticks(window, clock, 8)
    assert window.banner.isHidden()
    assert _status_line(window) == status_before  # back as it was, nothing left behind
    assert window.overview.tiles["1"].tile().session_id is not None
    window.close()


def test_a_chair_screen_shows_the_banner_and_clears_it_with_a_live_feed(
        qtbot, service, clock, nurse, outage):
    sessions = two_chairs(service, clock, nurse)
    with listening(service) as changes:
        window = _window(qtbot, service, clock, nurse, changes)
        window.show()
        window.open_chair("1")
        assert window.current_session() is not None
        outage.start()
        # Another tablet's reading announces a change this tablet cannot read.
        service.record_reading(sessions["2"], {"sbp": "124", "dbp": "80", "hr": "64",
                                               "spo2": "98"}, by=nurse)
        qtbot.waitUntil(window.banner.isVisible, timeout=10_000)
        assert window.current_session() is not None  # every screen: the chair's too
        tiles = window.chair_tiles()
        assert tiles is not None
        assert tiles[1].session_id == sessions["2"]
        outage.end()
        _ticks(window, clock, 8)
        assert window.banner.isHidden()
        assert window.chair_tiles()[1].hr == 64
        window.close()


def test_a_chair_stays_occupied_when_only_its_session_cannot_be_read(
        qtbot, service, clock, nurse, outage):
    sessions = two_chairs(service, clock, nurse)
    window = _window(qtbot, service, clock, nurse)
    window.show()
    outage.start(chairs_read=True)
    _ticks(window, clock, 3)
    tiles = window.chair_tiles()
    assert tiles is not None
    assert [t.session_id for t in tiles[:2]] == [sessions["1"], sessions["2"]]
    assert window.overview.tiles["2"].tile().session_id == sessions["2"]
    assert window.banner.isVisible()
    window.close()


def test_tapping_an_occupied_chair_in_an_outage_opens_its_session_not_a_check_in(
        qtbot, service, clock, nurse, outage):
    sessions = two_chairs(service, clock, nurse)
    window = _window(qtbot, service, clock, nurse)
    window.show()
    outage.start()
    _ticks(window, clock, 2)
    window.open_chair("1")
    screen = window.current_session()
    assert screen is not None
    assert screen.presenter.session_id == sessions["1"]
    assert window.checkin is None
    assert window.banner.isVisible()
    window.close()


def test_an_open_chair_screen_shows_the_banner_and_clears_it_by_itself(
        qtbot, service, clock, nurse, outage):
    two_chairs(service, clock, nurse)
    window = _window(qtbot, service, clock, nurse)
    window.show()
    window.open_chair("2")
    outage.start()
    _ticks(window, clock, 30)
    assert window.banner.isVisible()
    assert outage.tries < 15  # paced, not one read a second
    # A read stores nothing: the chair's screen does not say "NOT saved" for it.
    screen = window.current_session()
    assert screen is not None
    assert "Nothing was recorded" not in screen.header.notice.text()
    assert screen.header.notice.isHidden()
    outage.end()
    _ticks(window, clock, 8)
    assert window.banner.isHidden()
    bar = window.findChild(QStatusBar, options=Qt.FindChildOption.FindDirectChildrenOnly)
    assert bar is None or bar.currentMessage() == ""
    window.close()


def test_an_idle_tablet_shows_the_banner_when_its_change_feed_drops(
        qtbot, service, clock, nurse, outage, monkeypatch):
    """Nothing is tapped and nothing is announced: the dropped change feed alone makes the
    tablet read its chairs again, and that read finding the server gone shows the banner."""
    two_chairs(service, clock, nurse)
    with listening(service) as changes:
        window = _window(qtbot, service, clock, nurse, changes)
        window.show()
        window.tick()
        assert changes.listening()
        outage.start()
        _ticks(window, clock, 3)
        assert window.banner.isHidden(), "a live feed that still listens reads nothing"
        assert outage.tries == 0
        monkeypatch.setattr(changes, "listening", lambda: False)
        clock.advance(1)
        dropped = clock.now()
        window.tick()
        qtbot.waitUntil(window.banner.isVisible, timeout=10_000)
        assert f"Server unreachable since {clock_time(dropped)}" in window.banner.text()
        assert window.overview.tiles["1"].tile().session_id is not None
        outage.end()
        _ticks(window, clock, 8)
        assert window.banner.isHidden()
        window.close()
