"""Why ChairSide cannot start is said in the app's own dialog: its theme, large type and one
button at least 48 px tall, whole at 1280 x 800 and 800 x 1280 (the platform's message box
drew "OK" about 25 px tall)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QDialog

from tests.ui.geometry import settle
from ui.app.start_problem import CLOSE_TEXT, start_problem_dialog, tell_start_problem
from ui.common.style import PRIMARY_MIN
from ui.common.theme import DIM, LIGHT, TEXT_PX, TOUCH_MIN

SHOTS = os.environ.get("CHAIRSIDE_SHOTS")  # a folder: the screens are also saved there
TEXT = ("This tablet needs the clinic server at 127.0.0.1:55432 for its first start: the "
        "server cannot be reached now. Once it has started with the server, this tablet "
        "keeps a copy and can start without it. Check the network and the server, then "
        "start ChairSide again.")


@pytest.mark.parametrize("theme", [DIM, LIGHT], ids=["dim", "light"])
@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
def test_the_problem_is_large_and_its_one_button_easy_to_tap(qtbot, qapp, theme, size):
    dialog = start_problem_dialog(theme, "ChairSide cannot open its database", TEXT)
    qtbot.addWidget(dialog)
    dialog.setMaximumWidth(size[0] - 40)
    dialog.show()
    qtbot.waitExposed(dialog)
    settle()
    assert dialog.question.text() == TEXT
    assert dialog.question.font().pixelSize() >= TEXT_PX
    button = dialog.act
    assert button.text() == CLOSE_TEXT
    assert button.isVisible()
    assert not dialog.keep.isVisible()  # one button: nothing to choose
    assert button.height() >= max(PRIMARY_MIN, TOUCH_MIN)
    assert button.width() >= button.fontMetrics().horizontalAdvance(CLOSE_TEXT)
    assert dialog.palette().window().color().name() == theme.background
    assert dialog.width() <= size[0]
    assert dialog.height() <= size[1]
    if SHOTS:
        name = f"start-problem-{theme.name}-{size[0]}x{size[1]}.png"
        dialog.grab().save(str(Path(SHOTS) / name))
    # The words are whole: the dialog is as tall as they need at its width.
    words = dialog.question
    assert words.height() >= words.heightForWidth(words.width())
    dialog.close()
    qapp.setStyleSheet("")


def test_closing_it_returns_to_the_caller(qtbot):
    shown = []

    def run(dialog: QDialog) -> int:
        shown.append(dialog.windowTitle())
        dialog.act.click()
        return dialog.result()

    tell_start_problem(DIM, "ChairSide cannot name this tablet", "The settings file is read-only.",
                       run=run)
    assert shown == ["ChairSide cannot name this tablet"]
    QApplication.instance().setStyleSheet("")
