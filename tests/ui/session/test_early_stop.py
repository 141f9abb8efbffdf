"""The early-stop dialog fits a 1280 x 800 and an 800 x 1280 screen whole: its title on the
screen and nothing overlapping."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QAbstractButton, QWidget

from monitor.clinical.infusion import EarlyStop, Plan
from ui.common.style import apply_theme
from ui.common.theme import DIM
from ui.session.early_stop import EarlyStopDialog

STOP = EarlyStop(13.2, Plan(minutes=40, dose_mg=35.0, bag_volume_ml=100.0))
#: Room the window system takes on a tablet screen: the dialog's title bar and a task bar.
SCREEN_CHROME_PX = 80

dialog_window = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def _place(widget: QWidget, window: QWidget) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


@dialog_window
@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
def test_the_early_stop_dialog_fits_the_screen_with_nothing_overlapping(qtbot, qapp, size):
    apply_theme(qapp, DIM)
    screen = QWidget()
    qtbot.addWidget(screen)
    screen.resize(*size)
    screen.show()
    dialog = EarlyStopDialog(DIM, STOP, screen)
    dialog.show()
    qtbot.waitExposed(dialog)
    width, height = size
    frame = dialog.frameGeometry()
    assert frame.height() + SCREEN_CHROME_PX <= height, "the title would be off the screen"
    assert frame.width() <= width
    buttons = [_place(b, dialog) for b in dialog.findChildren(QAbstractButton)
               if b.isVisible()]
    for index, button in enumerate(buttons):
        assert dialog.rect().contains(button)
        assert not any(button.intersects(other) for other in buttons[index + 1:]), button
