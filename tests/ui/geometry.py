"""A check shared by the screen tests: no tappable control moves while the nurse works.

:func:`control_places` records where every visible control is, mapped to its window;
:func:`moved` names those that are somewhere else after a change (a keypad opening, a
message appearing or going, a late-entry note). A control that only appeared or went is not
a move: the rule is that a finger aimed at a control still lands on it.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QApplication,
    QLineEdit,
    QWidget,
)

TAPPABLE = (QAbstractButton, QLineEdit, QAbstractItemView, QAbstractSlider)


def settle() -> None:
    """Let pending layout requests run (they are posted events, not timers)."""
    for _ in range(3):
        QApplication.sendPostedEvents()
        QApplication.processEvents()


def control_places(root: QWidget) -> dict[QWidget, QRect]:
    """Every visible tappable control under ``root``, by its rectangle in the window."""
    settle()
    window = root.window()
    return {
        widget: QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
        for widget in root.findChildren(QWidget)
        if isinstance(widget, TAPPABLE) and widget.isVisible()
    }


def _name(widget: QWidget) -> str:
    text = getattr(widget, "text", None)
    label = widget.objectName() or (text() if callable(text) else "")
    return f"{type(widget).__name__} {label!r}"


def moved(before: dict[QWidget, QRect], after: dict[QWidget, QRect]) -> list[str]:
    """The controls present both times whose place or size changed, with both rectangles."""
    return [
        f"{_name(widget)}: {_rect(was)} -> {_rect(after[widget])}"
        for widget, was in before.items()
        if widget in after and after[widget] != was
    ]


def _rect(rect: QRect) -> str:
    return f"({rect.x()},{rect.y()} {rect.width()}x{rect.height()})"
