"""UI test hygiene: every test starts without widgets or an application style left over.

The main window styles the whole application; a style left set, or top-level widgets
waiting for deletion, would change the next test's sizes and make it slower.

The UI tests run on SQLite only: :func:`service` here replaces the per-backend one of
``tests/conftest.py`` (whose ``nurse`` then uses it).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from monitor.service.clinic import ClinicService
from monitor.service.worker import InlineWorker, ThreadWorker, Worker
from tests.conftest import TEST_SECRET
from tests.support.stall import WAIT_S
from ui.common.background import Background

#: A bound on waiting for the database worker (it ends at once when the code is right).
SETTLE_S = 30.0


@pytest.fixture(autouse=True)
def _clean_application(qapp: QApplication):
    yield
    for widget in qapp.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    if qapp.property("chairside_theme"):
        qapp.setStyleSheet("")
        qapp.setPalette(QPalette())
        qapp.setProperty("chairside_theme", None)


@pytest.fixture
def service(sqlite_store, clock):
    return ClinicService(sqlite_store, clock, secret=TEST_SECRET)


@pytest.fixture(params=["inline", "thread"])
def db_worker(request):
    """Where a window's database work runs: at once (a tablet's own file) or on a background
    thread (the clinic's server); a screen's tests that take it run under both."""
    if request.param == "inline":
        yield None
        return
    worker = ThreadWorker()
    yield worker
    worker.close(SETTLE_S)


def settle(qtbot) -> None:
    """Wait until no window waits on its database worker (at once with the inline one)."""
    def idle() -> bool:
        return all(background.in_flight == 0
                   for widget in QApplication.topLevelWidgets()
                   for background in widget.findChildren(Background))

    qtbot.waitUntil(idle, timeout=int(SETTLE_S * 1000))


@pytest.fixture(params=["inline", "thread"])
def window_worker(request) -> Iterator[Worker]:
    """The window's database worker: each test that takes it runs with both (a lone tablet
    on its file; the clinic's server, answers through the event loop)."""
    worker: Worker = ThreadWorker() if request.param == "thread" else InlineWorker()
    yield worker
    # What the test left asked is run before the worker closes (never cancelled: a
    # cancelled call would be answered as such to a screen that no longer waits for it).
    worker.submit(lambda: None).result(WAIT_S)
    worker.close(WAIT_S)
