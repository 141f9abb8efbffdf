"""The segmented choice: a row (or grid) of buttons of which at most one is chosen.

Scores (0–4, 0–10), yes/no answers, the protocol profile, the kind of event: every choice
made with one tap looks and behaves the same on every screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QPushButton, QSizePolicy, QWidget

from ui.common.style import TouchButton

#: Score buttons are a little over the touch minimum: they are tapped in quick succession.
SEGMENT_MIN = 56


class Segmented(QWidget):
    """Buttons for the values of one choice; at most one is chosen.

    The chosen button is filled, outlined thickly and bold (the app sheet's ``:checked``),
    so the choice shows without relying on colour. With ``allow_none`` a second tap on the
    chosen button takes the choice back. The buttons stand in one row, or, for long labels
    (medications, protocol names), in a grid of ``columns``.

    Signals:
        changed(object): the chosen value, or ``None``.
    """

    changed = Signal(object)

    def __init__(
        self,
        name: str,
        values: Sequence[Any],
        labels: Sequence[str] | None = None,
        *,
        allow_none: bool = False,
        min_height: int = SEGMENT_MIN,
        spacing: int = 4,
        columns: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._value: Any = None
        self._allow_none = allow_none
        self._buttons: dict[Any, QPushButton] = {}
        layout = QHBoxLayout(self) if columns is None else QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(spacing)
        for index, (value, text) in enumerate(
            zip(values, labels or [str(v) for v in values], strict=True)
        ):
            button = TouchButton(text, min_height=min_height)
            button.setObjectName(f"{name}-{value}")
            button.setCheckable(True)
            button.setProperty("segment" if columns is None else "choice", True)
            # A focus frame left on a tapped button would look like a second choice.
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.clicked.connect(lambda _checked=False, v=value: self._clicked(v))
            if isinstance(layout, QGridLayout) and columns is not None:
                layout.addWidget(button, index // columns, index % columns)
            else:
                layout.addWidget(button)
            self._buttons[value] = button

    def value(self) -> Any:
        return self._value

    def values(self) -> list[Any]:
        """The values offered, in order."""
        return list(self._buttons)

    def set_value(self, value: Any) -> None:
        """Show ``value`` as chosen (``None``: nothing), without emitting ``changed``."""
        self._value = value
        for key, button in self._buttons.items():
            button.setChecked(key == value)

    def button(self, value: Any) -> QPushButton:
        return self._buttons[value]

    def _clicked(self, value: Any) -> None:
        self.set_value(None if value == self._value and self._allow_none else value)
        self.changed.emit(self._value)
