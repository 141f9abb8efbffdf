"""A check shared by the screen tests: every visible button and text field is a fingertip
target (the product's tablet rule: at least 48 × 48 px)."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractButton, QLineEdit, QWidget

from ui.common.theme import TOUCH_MIN


def small_touch_targets(root: QWidget) -> list[str]:
    """Visible buttons and line edits under ``root`` smaller than the touch minimum."""
    small = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, QAbstractButton | QLineEdit) or not widget.isVisible():
            continue
        if widget.width() < TOUCH_MIN or widget.height() < TOUCH_MIN:
            name = widget.objectName() or getattr(widget, "text", lambda: "")()
            small.append(f"{type(widget).__name__} {name!r}: {widget.width()}×{widget.height()}")
    return small
