"""The PIN entry: a masked field (or two) over the built-in keypad.

Used wherever a PIN is typed: sign-in, the first administrator, the lock screen, the
signature dialog and staff administration. The keypad and a hardware keyboard both type
into the outlined field. :func:`pin_problem` says why a new PIN would be refused before it
is sent; the service checks it again.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent, QShowEvent
from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

from monitor.service.auth import MAX_PIN_LENGTH, MIN_PIN_DIGITS, InvalidPin, check_new_pin
from ui.common.keypad import NumericKeypad
from ui.common.style import KEY_MIN
from ui.common.theme import Theme
from ui.common.widgets import restyle

#: The shortest PIN accepted (digits).
MIN_PIN = MIN_PIN_DIGITS
#: Long enough for a password typed on the keypad or a keyboard.
MAX_PIN = MAX_PIN_LENGTH


def pin_problem(pin: str) -> str | None:
    """Why ``pin`` cannot be a new PIN or password (the service's rule), or None."""
    try:
        check_new_pin(pin)
    except InvalidPin as exc:
        return str(exc)
    return None


class PinField(QLineEdit):
    """A masked PIN or password field. The keypad writes it; a keyboard may type in it too.

    Signals:
        tapped(): the field was touched (make it the keypad's target).
    """

    tapped = Signal()

    def __init__(self, name: str, placeholder: str = "PIN",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setEchoMode(QLineEdit.EchoMode.Password)
        self.setPlaceholderText(placeholder)
        self.setMaxLength(MAX_PIN)
        self.setMinimumHeight(KEY_MIN)
        self.setProperty("value", True)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        super().mousePressEvent(event)
        self.tapped.emit()


class PinEntry(QWidget):
    """One or more :class:`PinField` over the built-in keypad; a tap picks the field typed.

    Signals:
        submitted(): Enter on the keypad or Return in a field.
    """

    submitted = Signal()

    def __init__(self, theme: Theme, fields: Sequence[PinField],
                 parent: QWidget | None = None, *, focus_on_show: bool = True) -> None:
        super().__init__(parent)
        self.fields = tuple(fields)
        #: Whether showing takes the keyboard focus (not where a name is typed first).
        self.focus_on_show = focus_on_show
        self.keypad = NumericKeypad(theme, max_length=MAX_PIN, target=self.fields[0])
        self.keypad.submitted.connect(lambda _text: self.submitted.emit())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        for field in self.fields:
            field.tapped.connect(lambda f=field: self.select(f))
            field.returnPressed.connect(self.submitted)
            layout.addWidget(field)
        layout.addWidget(self.keypad)
        self.select(self.fields[0], focus=focus_on_show)

    def select(self, field: PinField, *, focus: bool = True) -> None:
        """Make ``field`` the one the keypad types into (outlined) and the keyboard too: the
        outlined field is where typed digits go, whichever the nurse types on."""
        self.keypad.set_target(field)
        for each in self.fields:
            restyle(each, active=each is field)
        if focus:
            field.setFocus(Qt.FocusReason.OtherFocusReason)

    def clear(self) -> None:
        for field in self.fields:
            field.clear()
        self.select(self.fields[0])

    def showEvent(self, event: QShowEvent) -> None:
        # Focus given before the window shows is lost to its first button: give it again.
        super().showEvent(event)
        if self.focus_on_show:
            self.keypad.target().setFocus(Qt.FocusReason.OtherFocusReason)
