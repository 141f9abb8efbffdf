"""The pump-rate question: the rate typed on its keypad, shown once."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit

from ui.common.style import apply_theme
from ui.common.theme import DIM
from ui.session.header import RateDialog


def shown_texts(dialog: RateDialog) -> list[str]:
    widgets = [*dialog.findChildren(QLabel), *dialog.findChildren(QLineEdit)]
    return [w.text() for w in widgets if w.isVisible() and w.text()]


def test_the_typed_rate_is_shown_once(qtbot):
    dialog = RateDialog(DIM, 12.0)
    qtbot.addWidget(dialog)
    apply_theme(dialog, DIM)
    dialog.show()
    qtbot.waitExposed(dialog)
    for key in (Qt.Key.Key_2, Qt.Key.Key_5, Qt.Key.Key_Period, Qt.Key.Key_5):
        qtbot.keyClick(dialog.keypad, key)
    assert dialog.keypad.text() == "25.5"
    assert shown_texts(dialog).count("25.5") == 1
    assert "New pump rate in mL/h (now 12 mL/h)" in shown_texts(dialog)
    assert dialog.rate() == 25.5
