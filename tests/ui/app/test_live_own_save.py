"""A reading saved on this tablet is evaluated once: the chair's screen and tile show the view
its save gave back, and the change announcing that save loads nothing again. A reading from
another tablet, and any other kind of change made here, is still read again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from monitor.clinical.domain import EventKind, Severity
from monitor.service.clinic import ClinicService
from monitor.storage.changes import Change, ChangeKind
from monitor.storage.store import open_store
from tests.conftest import TEST_PIN, TEST_SECRET
from tests.monitor.counting import counted
from tests.ui.app.test_live import ARRIVES_MS, _window, listening, two_chairs
from ui.app.main_window import MainWindow

#: A reading that raises flags (its change is followed by the flags' changes).
FLAGGED = {"sbp": "150", "dbp": "90", "hr": "112", "spo2": "93"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def tablets(request, clock) -> Iterator[tuple[ClinicService, ClinicService]]:
    """This tablet and another, each with its own store and service, over one database."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    stores = [open_store(url), open_store(url)]
    yield tuple(ClinicService(store, clock, secret=TEST_SECRET) for store in stores)
    for store in stores:
        store.close()


def _heard(window: MainWindow, changes, qtbot, kind: ChangeKind, record_id) -> list[Change]:
    """Wait until the window heard the change of ``kind`` on ``record_id`` and whatever
    it reloads for it is done; the changes heard meanwhile."""
    heard: list[Change] = []
    changes.changed.connect(heard.append)
    try:
        qtbot.waitUntil(lambda: any(c.kind is kind and c.record_id == record_id
                                    for c in heard), timeout=ARRIVES_MS)
        qtbot.waitUntil(lambda: not window._apply_timer.isActive(), timeout=ARRIVES_MS)
        qtbot.wait(50)  # the flags announced with it, and anything they would start
    finally:
        changes.changed.disconnect(heard.append)
    return heard


def test_a_reading_saved_here_is_evaluated_once_and_not_loaded_again(
        qtbot, tablets, clock, monkeypatch):
    service, _other = tablets
    nurse = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    two_chairs(service, clock, nurse)
    with listening(service) as changes:
        window = _window(qtbot, service, clock, nurse, changes)
        window.open_chair("1")
        presenter = window.presenters["1"]
        for raw in (FLAGGED, {"sbp": "124", "dbp": "80", "hr": "64", "spo2": "98"}):
            clock.advance(timedelta(minutes=1))
            with counted(service, monkeypatch) as calls:
                assert presenter.save_reading(raw)
                reading = presenter.view.record.readings[-1]
                heard = _heard(window, changes, qtbot, ChangeKind.READING, reading.id)
            assert sorted(calls) == ["readings", "view"]
            assert presenter.view.record.readings[-1].hr == int(raw["hr"])
            # The overview's tile shows the save too, from the same view, read from nothing.
            with counted(service, monkeypatch) as calls:
                assert window.chair_tiles()[0].hr == int(raw["hr"])
                assert window.chair_tiles()[0].open_flag_count == len(
                    presenter.view.open_flags)
            assert "load" not in calls
            if raw is FLAGGED:
                assert any(c.kind is ChangeKind.FLAG for c in heard)
        window.show_overview()
        assert window.overview.tiles["1"].tile().hr == 64
        assert window.overview.tiles["1"].tile().open_flag_count == len(
            presenter.view.open_flags) > 0
        window.close()


def test_a_reading_saved_on_another_tablet_is_loaded_and_shown(qtbot, tablets, clock,
                                                                monkeypatch):
    service, other = tablets
    nurse = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    sessions = two_chairs(service, clock, nurse)
    with listening(service) as changes:
        window = _window(qtbot, service, clock, nurse, changes)
        window.open_chair("1")
        presenter = window.presenters["1"]
        clock.advance(timedelta(minutes=1))
        # The same save, made by the other tablet.
        with counted(service, monkeypatch) as calls:
            saved = other.record_reading(sessions["1"], FLAGGED, by=nurse)
            _heard(window, changes, qtbot, ChangeKind.READING, saved.id)
            qtbot.waitUntil(lambda: presenter.view.record.readings[-1].id == saved.id,
                            timeout=ARRIVES_MS)
        assert calls.count("load") >= 2  # the chair's tile and its open screen
        assert window.chair_tiles()[0].hr == 112
        assert window.chair_tiles()[0].open_flag_count == len(presenter.view.open_flags) > 0
        window.close()


def test_a_reading_saved_in_another_window_of_this_tablet_is_loaded(qtbot, service, clock,
                                                                     nurse, monkeypatch):
    """What one window shows after its save is its own: another window reads it."""
    two_chairs(service, clock, nurse)
    with listening(service) as changes:
        window = _window(qtbot, service, clock, nurse, changes)
        other = _window(qtbot, service, clock, nurse, changes)
        other.open_chair("1")
        clock.advance(timedelta(minutes=1))
        with counted(service, monkeypatch) as calls:
            assert other.presenters["1"].save_reading(FLAGGED)
            saved = other.presenters["1"].view.record.readings[-1]
            _heard(window, changes, qtbot, ChangeKind.READING, saved.id)
            qtbot.waitUntil(lambda: window.chair_tiles()[0].hr == 112, timeout=ARRIVES_MS)
        assert "load" in calls
        for shown in (window, other):
            shown.close()


@pytest.mark.parametrize("change", ["event", "undo", "acknowledgement"])
def test_any_other_change_made_here_is_loaded_again_when_announced(
        qtbot, service, clock, nurse, monkeypatch, change):
    two_chairs(service, clock, nurse)
    with listening(service) as changes:
        window = _window(qtbot, service, clock, nurse, changes)
        window.open_chair("1")
        presenter = window.presenters["1"]
        clock.advance(timedelta(minutes=1))
        assert presenter.save_reading(FLAGGED)
        reading = presenter.view.record.readings[-1]
        _heard(window, changes, qtbot, ChangeKind.READING, reading.id)
        with counted(service, monkeypatch) as calls:
            if change == "event":
                assert presenter.record_event(EventKind.INFUSION_PAUSE, detail="nausea")
                kind, record_id = ChangeKind.EVENT, presenter._last.id
            elif change == "undo":
                assert presenter.undo_last()
                kind, record_id = ChangeKind.CORRECTION, reading.id
            else:
                flag = next(f for f in presenter.view.open_flags
                            if f.severity is not Severity.CRITICAL)
                assert presenter.acknowledge(flag, "repeat reading")
                kind, record_id = ChangeKind.ACKNOWLEDGEMENT, flag.id
            saved = calls.count("load")
            assert saved >= 1  # the screen and the tile read the change as before
            _heard(window, changes, qtbot, kind, record_id)
        # The announcement reads it again: the chair's tile and its open screen.
        assert calls.count("load") >= saved + 2
        window.close()
