"""Switching between the dim and light themes: feedback while it runs, and the old screens
gone before the new style sheet is applied (re-polishing them made the switch slow)."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

import ui.app.main_window
from tests.conftest import TEST_PIN
from tests.ui.sessions import patient_session
from ui.app.main_window import MainWindow
from ui.common.style import busy_cursor, stylesheet
from ui.common.theme import DIM, LIGHT


def test_the_busy_cursor_shows_while_busy_and_goes_after(qapp):
    assert QApplication.overrideCursor() is None
    with busy_cursor():
        assert QApplication.overrideCursor().shape() == Qt.CursorShape.WaitCursor
    assert QApplication.overrideCursor() is None


def test_the_style_sheet_of_a_theme_is_built_once():
    assert stylesheet(DIM) is stylesheet(DIM)
    assert stylesheet(DIM) != stylesheet(LIGHT)


def test_switching_says_so_and_drops_the_old_screens_first(qtbot, service, clock, monkeypatch):
    nurse = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    session_id = patient_session(service, nurse)
    window = MainWindow(service, clock, staff=(nurse, "Nora Nurse"), tick_ms=3_600_000)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    old_session = window.show_session("Chair 2", session_id)
    window.show_overview()
    button = window.overview.theme_button
    seen = []
    applied = ui.app.main_window.apply_theme

    def apply_theme(target, theme):
        seen.append((button.text(), QApplication.overrideCursor() is not None,
                     shiboken6.isValid(old_session)))
        applied(target, theme)

    monkeypatch.setattr(ui.app.main_window, "apply_theme", apply_theme)
    window.toggle_theme()
    assert seen == [("Switching theme…", True, False)]
    assert window.theme is LIGHT
    assert QApplication.overrideCursor() is None
    assert window.overview.theme_button.text() != "Switching theme…"


def test_switching_after_the_protocol_screen_builds_it_again(qtbot, service, clock):
    """The protocol screen is dropped with the others: switching the theme after it was
    shown neither touches the deleted screen nor leaves the window without one."""
    nurse = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    window = MainWindow(service, clock, staff=(nurse, "Nora Nurse"), tick_ms=3_600_000)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    window.show_protocol()
    old = window.protocol_screen
    window.show_overview()
    window.toggle_theme()
    assert window.theme is LIGHT
    assert not shiboken6.isValid(old)
    assert window.protocol_screen is None
    window.resize(800, 1280)  # the orientation reaches every live screen
    window.show_protocol()
    assert window.stack.currentWidget() is window.protocol_screen
    assert shiboken6.isValid(window.protocol_screen)
