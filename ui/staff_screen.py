"""Who is at the chairs: the nurse or clinician picks their name before entering anything.

Every record says who entered it, so the app starts here. A new staff member adds their
name and role once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from monitor.validation import validate_name
from ui.style import TouchButton
from ui.theme import TEXT_PX, Theme
from ui.widgets import kinetic

ROLES = (("nurse", "Nurse"), ("clinician", "Clinician"))


class StaffScreen(QWidget):
    """A button per staff member, and a form to add oneself.

    Signals:
        chosen(object, str): the staff id and name of who is now using the app.
        added(str, str): a new staff member's name and role, to be stored by the caller.
    """

    chosen = Signal(object, str)
    added = Signal(str, str)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        heading = QLabel("Who is at the chairs?")
        heading.setStyleSheet(f"font-size: {TEXT_PX + 10}px; font-weight: bold;")
        hint = QLabel("Tap your name. Everything you enter is recorded under it.")
        hint.setWordWrap(True)
        self._buttons = QWidget()
        self._grid = QGridLayout(self._buttons)
        self._grid.setSpacing(10)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self._buttons)
        kinetic(scroll.viewport())

        self.name = QLineEdit()
        self.name.setPlaceholderText("Your name")
        self.name.setMinimumHeight(56)
        self.role = "nurse"
        self.role_buttons: dict[str, TouchButton] = {}
        roles = QHBoxLayout()
        for role, text in ROLES:
            button = TouchButton(text)
            button.setCheckable(True)
            button.setChecked(role == self.role)
            button.clicked.connect(lambda _c=False, r=role: self._set_role(r))
            self.role_buttons[role] = button
            roles.addWidget(button)
        self.add_button = TouchButton("Add me")
        self.add_button.setProperty("primary", True)
        self.add_button.clicked.connect(self._add)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {theme.critical};")

        new = QHBoxLayout()
        new.addWidget(self.name, 2)
        new.addLayout(roles, 1)
        new.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 24, 24, 24)
        layout.setSpacing(14)
        layout.addWidget(heading)
        layout.addWidget(hint)
        layout.addWidget(scroll, 1)
        layout.addWidget(QLabel("Not on the list?"))
        layout.addLayout(new)
        layout.addWidget(self.message)

    def show_staff(self, staff: Sequence[tuple[uuid.UUID, str, str]]) -> None:
        """``(id, name, role)`` for each active staff member."""
        while self._grid.count():
            item = self._grid.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()
        for index, (staff_id, name, role) in enumerate(staff):
            button = TouchButton(f"{name}\n{role}", min_height=72)
            button.setObjectName(f"staff-{index}")
            button.clicked.connect(lambda _c=False, s=staff_id, n=name: self.chosen.emit(s, n))
            self._grid.addWidget(button, index // 3, index % 3)

    def _set_role(self, role: str) -> None:
        self.role = role
        for key, button in self.role_buttons.items():
            button.setChecked(key == role)

    def _add(self) -> None:
        check = validate_name(self.name.text(), label="Your name")
        if check.error is not None or check.value is None:
            self.message.setText(check.error.message if check.error else "Enter your name")
            return
        self.message.setText("")
        self.name.clear()
        self.added.emit(check.value, self.role)
