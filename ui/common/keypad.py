"""The built-in numeric keypad.

The operating system's on-screen keyboard does not appear reliably for Qt widgets, and Qt's
virtual keyboard is GPL-only, so every number in ChairSide is typed on this keypad: digits in
a phone-style grid, backspace, clear, Enter, and, where the field needs them, "/" (blood
pressure is typed as one entry, "128/82") and ".".

A hardware keyboard (a tablet's keyboard cover, a desktop in the clinic) types on it too:
digits, Backspace, Delete (clear), Enter, and "/" or "." where the field takes them
(:meth:`NumericKeypad.handle_key`; a form forwards the keys it is sent).

The keypad only ever puts the ASCII characters ``0``–``9``, ``/`` and ``.`` into its
target. A key it will not type (a letter from a hardware keyboard, "/" in heart rate, a digit
past the field's length) is never dropped in silence: :attr:`NumericKeypad.refused` says why,
for the form to show, and nothing typed before it is cut. The form may give the target a
``check`` (its field's rule from :func:`monitor.clinical.validation.check_typed_key`), which then
words the refusal. The keypad does not judge the number: the entry forms pass the text to
:func:`monitor.clinical.validation.validate_reading`.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import QGridLayout, QLineEdit, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from ui.common.style import KEY_MIN, TouchButton
from ui.common.theme import Theme

DIGITS = "0123456789"
#: The key names :meth:`NumericKeypad.button` accepts besides the digits, "/" and ".".
BACKSPACE, CLEAR, ENTER = "back", "clear", "enter"
#: Long enough for "300/200", the widest blood pressure accepted.
DEFAULT_MAX_LENGTH = 7
#: A field's rule for a key: ``check(text, key)`` gives the refusal message, or ``None``.
KeyCheck = Callable[[str, str], str | None]
#: Keys grow with the space they are given, up to this: beyond it a thumb travels further
#: for nothing.
KEY_MAX = 104


class NumericKeypad(QWidget):
    """Digits, backspace, clear, Enter, and optional "/" and "." keys.

    It edits a :class:`QLineEdit`: one it is given (``target``, or later
    :meth:`set_target`), or a large read-only display of its own.

    Text loaded with ``replace_on_type=True`` (a field's last value) is shown selected, and
    the first digit typed replaces it (Backspace removes it whole), so an unchanged value
    needs no key at all and a new one needs no clearing first. Ctrl+A selects the value the
    same way.

    Signals:
        valueChanged(str): the new text, whenever a key or :meth:`set_text` changed it.
        submitted(str): Enter was tapped; the text as it stands.
        refused(str): a key was not typed; why, naming what the field takes.
    """

    valueChanged = Signal(str)
    submitted = Signal(str)
    refused = Signal(str)

    def __init__(
        self,
        theme: Theme,
        *,
        slash: bool = False,
        decimal: bool = False,
        max_length: int = DEFAULT_MAX_LENGTH,
        target: QLineEdit | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._theme = theme
        self._slash = slash
        self._decimal = decimal
        self._max_length = max_length
        self._replace_on_type = False
        self._check: KeyCheck | None = None
        self._refused_key = ""

        self._own_display = QLineEdit(self)
        self._own_display.setReadOnly(True)
        self._own_display.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._own_display.setProperty("value", True)
        self._own_display.setMinimumHeight(KEY_MIN)
        self._own_display.setObjectName("keypad-display")

        self._buttons: dict[str, QPushButton] = {}
        grid = QGridLayout()
        grid.setSpacing(6)
        # Phone order (1 2 3 on top), not calculator order: nurses type on phones.
        for index, digit in enumerate("123456789"):
            grid.addWidget(self._key(digit, digit), index // 3, index % 3)
        self._punctuation = self._key("/", "/")
        grid.addWidget(self._punctuation, 3, 0)
        grid.addWidget(self._key("0", "0"), 3, 1)
        grid.addWidget(self._key(BACKSPACE, "\u232b"), 3, 2)
        grid.addWidget(self._key(CLEAR, "Clear"), 0, 3, 2, 1)
        grid.addWidget(self._key(ENTER, "Enter"), 2, 3, 2, 1)
        self._buttons[BACKSPACE].setAccessibleName("Backspace")
        self._buttons[BACKSPACE].setToolTip("Delete the last character")
        self._buttons[CLEAR].setToolTip("Clear the whole value")
        self._buttons[ENTER].setProperty("primary", True)
        for column in range(4):
            grid.setColumnStretch(column, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self._own_display)
        layout.addLayout(grid)
        # Keys grow to KEY_MAX and stop; any further height stays empty below them.
        layout.setAlignment(Qt.AlignmentFlag.AlignTop)

        self._target = self._own_display
        self.set_target(target)

    # -- public API ------------------------------------------------------------------------

    def target(self) -> QLineEdit:
        """The line edit the keys write into (the keypad's own display when none was given)."""
        return self._target

    def set_target(
        self,
        target: QLineEdit | None,
        *,
        slash: bool | None = None,
        decimal: bool | None = None,
        max_length: int | None = None,
        check: KeyCheck | None = None,
    ) -> None:
        """Write into ``target`` from now on (``None``: the keypad's own display).

        ``slash``, ``decimal`` and ``max_length`` change what the keys may type for the new
        target; left out, they stay as they were. ``check`` is the new target's own rule for
        each key (none: only the keypad's). The target's text is kept as it is, cut down to
        what the keypad may type.
        """
        self._check = check
        if slash is not None:
            self._slash = slash
        if decimal is not None:
            self._decimal = decimal
        if max_length is not None:
            self._max_length = max_length
        # A value left selected in a field no longer being typed in would look "live".
        self._target.deselect()
        self._target = target if target is not None else self._own_display
        self._own_display.setVisible(target is None)
        self._update_punctuation_key()
        self.set_text(self._target.text())

    def text(self) -> str:
        return self._target.text()

    def set_text(self, text: str, *, replace_on_type: bool = False) -> None:
        """Put ``text`` in the target, keeping only the characters the keypad may type.

        With ``replace_on_type`` the text is shown selected and the first digit typed
        replaces it (how a field opens on its last value).
        """
        self._replace_on_type = replace_on_type
        self._write(self._allowed(text))

    def clear(self) -> None:
        self.set_text("")

    def handle_key(self, event: QKeyEvent) -> bool:
        """Type a hardware key as the keypad key it stands for; whether it was taken.

        A printable key the current field does not take (a letter, "/" in heart rate) is
        taken and refused: :attr:`refused` says so, and nothing is typed.
        """
        if self.isEnabled() and event.matches(QKeySequence.StandardKey.SelectAll):
            self.select_all()
            return True
        if not self.isEnabled() or event.modifiers() & (
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
            | Qt.KeyboardModifier.MetaModifier
        ):
            return False
        name = self._key_for(event)
        if name is not None:
            self._press(name)
            return True
        text = event.text()
        if len(text) == 1 and text.isprintable() and not text.isspace():
            self._refuse(text)
            return True
        return False

    def select_all(self) -> None:
        """Select the whole value: the next digit replaces it, Backspace removes it."""
        self._replace_on_type = bool(self._target.text())
        if self._replace_on_type:
            self._target.selectAll()

    def refused_key(self) -> str:
        """The key last refused (as typed), "" before any."""
        return self._refused_key

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self.handle_key(event):
            super().keyPressEvent(event)

    def _key_for(self, event: QKeyEvent) -> str | None:
        """The keypad key a hardware key stands for in the current field, if any."""
        special = {Qt.Key.Key_Backspace: BACKSPACE, Qt.Key.Key_Delete: CLEAR,
                   Qt.Key.Key_Return: ENTER, Qt.Key.Key_Enter: ENTER}
        key = Qt.Key(event.key())
        if key in special:
            return special[key]
        text = event.text()
        if len(text) == 1 and text in DIGITS:
            return text
        # "/" and "." share the punctuation key; a decimal comma is a point here.
        if (text == "/" and self._slash) or (text in (".", ",") and self._decimal):
            return "/"
        return None

    def button(self, key: str) -> QPushButton:
        """The key ``key``: a digit, "/" (also the "." key when decimals are on), or one of
        :data:`BACKSPACE`, :data:`CLEAR`, :data:`ENTER`."""
        if key == ".":
            key = "/"
        return self._buttons[key]

    # -- keys ------------------------------------------------------------------------------

    def _key(self, name: str, label: str) -> QPushButton:
        button = TouchButton(label, min_size=KEY_MIN, parent=self)
        button.setObjectName(f"key-{name}")
        button.setProperty("key", True)
        button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        # Clear and Enter span two rows.
        tall = name in (CLEAR, ENTER)
        button.setMaximumSize(KEY_MAX + 40, 2 * KEY_MAX + 8 if tall else KEY_MAX)
        # Taps must not move keyboard focus off the field being edited.
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setAutoRepeat(name == BACKSPACE)
        button.clicked.connect(lambda: self._press(name))
        self._buttons[name] = button
        return button

    def _update_punctuation_key(self) -> None:
        key = self._punctuation
        if self._slash:
            key.setText("/")
            key.setToolTip("Between systolic and diastolic")
        elif self._decimal:
            key.setText(".")
            key.setToolTip("Decimal point")
        else:
            # A blank, not an empty string: Qt sizes an empty button as if it read "XXXX".
            key.setText(" ")
            key.setToolTip("")
        key.setEnabled(self._slash or self._decimal)

    def _press(self, name: str) -> None:
        text = self._target.text()
        if name == ENTER:
            self._replace_on_type = False
            self.submitted.emit(text)
            return
        if name == CLEAR:
            new = ""
        elif name == BACKSPACE:
            # Like any text field: Backspace removes a selected value whole.
            new = "" if self._replace_on_type else text[:-1]
        else:
            char = "." if name == "/" and not self._slash else name
            base = "" if self._replace_on_type and char in DIGITS else text
            refusal = self._check(base, char) if self._check is not None else None
            if refusal is None and not self._may_append(base, char):
                refusal = self._refusal(char)
            if refusal is not None:
                # The key is not typed; what stands (a loaded value too) stays as it is.
                self._refused_key = char
                self.refused.emit(refusal)
                return
            new = base + char
        self._replace_on_type = False
        self._write(new)

    def _refuse(self, char: str) -> None:
        refusal = self._check(self.text(), char) if self._check is not None else None
        self._refused_key = char
        self.refused.emit(refusal or self._refusal(char))

    def _refusal(self, char: str) -> str:
        """Why ``char`` was not typed, by the keypad's own rules."""
        takes = ["digits 0-9"]
        if self._slash:
            takes.append("one '/' after a digit")
        if self._decimal:
            takes.append("one '.' after a digit")
        shown = char if char.isprintable() and not char.isspace() else "that key"
        return (f"“{shown}” was not typed: this field takes {' and '.join(takes)}, "
                f"at most {self._max_length} characters")

    def _may_append(self, text: str, char: str) -> bool:
        if len(text) >= self._max_length:
            return False
        if char in DIGITS:
            return True
        # One separator, after at least one digit: "/82" and "128//" are never meant.
        if char == "/":
            return self._slash and "/" not in text and text[-1:].isdigit()
        if char == ".":
            return self._decimal and "." not in text and text[-1:].isdigit()
        return False

    def _allowed(self, text: str) -> str:
        """``text`` cut to what the keys could have typed (digits and enabled separators)."""
        kept = ""
        for char in text:
            if char in DIGITS or (char in "/." and self._may_append(kept, char)):
                kept += char
        return kept[: self._max_length]

    def _write(self, text: str) -> None:
        changed = text != self._target.text()
        self._target.setText(text)
        if self._replace_on_type and text:
            self._target.selectAll()
        else:
            self._target.deselect()
            self._target.setCursorPosition(len(text))
        if changed:
            self.valueChanged.emit(text)
