"""The app's own touch-sized Yes/No and OK dialogs, in place of the platform's small ones."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDialog, QWidget

from tests.ui.touch import small_touch_targets
from ui.common.ask import ConfirmDialog, ask, tell
from ui.common.style import PRIMARY_MIN, apply_theme
from ui.common.theme import DIM, LIGHT

#: The dialog is a window of its own; the offscreen platform answers its size constraints
#: with this warning, which a real window system does not give.
dialog_window = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture
def parent(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    return widget


@dialog_window
@pytest.mark.parametrize("theme", [DIM, LIGHT], ids=["dim", "light"])
def test_the_buttons_are_fingertip_sized(qtbot, parent, theme):
    apply_theme(parent, theme)
    dialog = ConfirmDialog(None, "Stop infusion", "Record the infusion as stopped at 10:42?",
                           action="Yes", keep="No", parent=parent)
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    assert small_touch_targets(dialog) == []
    assert dialog.act.height() >= PRIMARY_MIN
    assert dialog.keep.height() >= PRIMARY_MIN
    assert dialog.keep.width() >= 160
    assert dialog.keep.isDefault(), "Enter gives the safe answer"


@dialog_window
@pytest.mark.parametrize(("button", "answer"), [("confirm-act", True), ("confirm-keep", False)])
def test_ask_answers_by_the_button_tapped(qtbot, parent, button, answer):
    def tap():
        dialog = next(d for d in parent.findChildren(QDialog) if d.isVisible())
        qtbot.mouseClick(dialog.findChild(QWidget, button), Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, tap)
    assert ask(parent, "Stop infusion", "Record the infusion as stopped?") is answer


@dialog_window
def test_tell_has_one_button(qtbot, parent):
    seen = []

    def tap():
        dialog = next(d for d in parent.findChildren(QDialog) if d.isVisible())
        seen.append((dialog.keep.isVisible(), dialog.act.text()))
        qtbot.mouseClick(dialog.act, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, tap)
    tell(parent, "Theme not changed", "Save or clear the entry first.")
    assert seen == [(False, "OK")]
