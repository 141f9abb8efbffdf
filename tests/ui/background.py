"""Waiting for the database worker in the window's tests, whichever worker runs them.

With the inline worker every answer is shown before the tap returns; with the thread worker
it comes through the event loop. :func:`settle` waits (never sleeps) until no window has a
call in flight, so a test reads the same with either.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtWidgets import QApplication

from tests.support.stall import WAIT_S

WAIT_MS = int(WAIT_S * 1000)


def _in_flight() -> int:
    from ui.app.main_window import MainWindow  # noqa: PLC0415 - only with a window

    windows = [widget for widget in QApplication.topLevelWidgets()
               if isinstance(widget, MainWindow) and shiboken6.isValid(widget)]
    return sum(window.board.background.in_flight + sum(
        presenter.background.in_flight for presenter in window.presenters.values()
        if shiboken6.isValid(presenter)) for window in windows)


def settle(qtbot) -> None:
    """Every window's calls on the database worker answered (at once when inline)."""
    qtbot.waitUntil(lambda: _in_flight() == 0, timeout=WAIT_MS)
