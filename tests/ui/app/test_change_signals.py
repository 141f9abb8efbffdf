"""ChangeSignals: a change committed anywhere arrives as a signal on the GUI thread."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QThread

from monitor.storage.changes import ChangeKind
from monitor.storage.changes.feed import open_feed
from tests.conftest import TEST_PIN
from ui.app.change_signals import ChangeSignals


@pytest.fixture
def signals(service, qapp):
    feed = open_feed(service.store, poll_interval=3600.0)  # own commits wake it at once
    adapter = ChangeSignals(feed)
    feed.start()
    assert feed.connected.wait(10)
    yield adapter
    adapter.close()
    feed.stop()


def test_a_committed_change_is_emitted_on_the_gui_thread(signals, service, qapp, qtbot):
    threads = []
    signals.changed.connect(lambda _change: threads.append(QThread.currentThread()))
    with qtbot.waitSignal(signals.changed, timeout=10_000) as blocker:
        staff = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    (change,) = blocker.args
    assert (change.kind, change.record_id) == (ChangeKind.STAFF, staff)
    assert threads == [qapp.thread()]


def test_a_change_in_a_session_names_the_session(signals, service, nurse, qtbot):
    patient = service.add_patient("MRN100200", by=nurse, name="Ada Byrne",
                                  date_of_birth=date(1980, 4, 2))
    with qtbot.waitSignal(signals.sessionChanged, timeout=10_000) as blocker:
        session_id = service.start_session(patient.id, by=nurse, chair="2")
    assert blocker.args == [session_id]


def test_a_staff_change_is_signalled_as_such(signals, service, qtbot):
    with qtbot.waitSignal(signals.staffChanged, timeout=10_000):
        service.ensure_staff("Tom Nurse", "nurse", pin=TEST_PIN)
