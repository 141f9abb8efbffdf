"""Correcting an entry: the reason asked for, and the void dialog.

The entry is never deleted or edited in place (product brief, "Records"): :class:`VoidDialog`
marks it void with a reason, and the amend dialog (:mod:`ui.session.history.amend`) replaces a
reading's values with a reason. Both ask the reason on a :class:`ReasonPicker` and show the
entry in a card above the question.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import (
    QSize,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ui.common.labels import clock_time
from ui.common.style import PRIMARY_MIN, TouchButton, palette
from ui.common.theme import TOUCH_MIN, Theme
from ui.common.widgets import FieldMessage, label
from ui.session.history.entries import HistoryEntry

#: Why an entry is corrected. "Other" needs a note saying why.
VOID_REASONS: tuple[str, ...] = (
    "Entered in error",
    "Wrong patient",
    "Duplicate entry",
    "Equipment artefact",
    "Other",
)
#: An amendment keeps the entry and corrects its values, so a wrong patient or a duplicate
#: is not a reason for it (those entries are voided).
AMEND_REASONS: tuple[str, ...] = tuple(
    r for r in VOID_REASONS if r not in {"Wrong patient", "Duplicate entry"}
)
OTHER_REASON = "Other"
NOTE_MAX_LENGTH = 300
CHOICE_MIN_PX = 64
#: Dialogs must fit a 1280 × 800 landscape screen with room for the window frame and the
#: system bar, and the 800 px width of a portrait one.
DIALOG_MAX = QSize(780, 700)


def reason_text(choice: str, note: str) -> str:
    """The reason stored with a correction: the choice, and the note after a colon."""
    note = note.strip()
    if not note:
        return choice
    return f"{choice}: {note}"


class ReasonPicker(QWidget):
    """Large reason choices in two columns, and a note ("Other" needs it).

    Signals:
        changed(): the choice or the note changed.
    """

    changed = Signal()

    def __init__(
        self, reasons: Sequence[str], *, min_height: int = CHOICE_MIN_PX,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.choices = QButtonGroup(self)
        self.choices.setExclusive(True)
        self._buttons: dict[str, QPushButton] = {}
        grid = QGridLayout()
        grid.setSpacing(8)
        for number, reason in enumerate(reasons):
            button = TouchButton(reason, min_height=min_height)
            button.setObjectName(f"reason-{number}")
            button.setCheckable(True)
            button.setProperty("choice", True)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            # No keyboard focus: a focus frame on the first choice reads as "already chosen".
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.choices.addButton(button, number)
            self._buttons[reason] = button
            grid.addWidget(button, number // 2, number % 2)
        self.choices.buttonToggled.connect(lambda *_: self._changed())
        self.note = QLineEdit()
        self.note.setObjectName("reason-note")
        self.note.setMaxLength(NOTE_MAX_LENGTH)
        self.note.setMinimumHeight(TOUCH_MIN)
        self.note.textChanged.connect(lambda _text: self._changed())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(label("Reason (required)", "field", wrap=False))
        layout.addLayout(grid)
        layout.addWidget(self.note)
        self._changed()

    def button(self, reason: str) -> QPushButton:
        return self._buttons[reason]

    def choice(self) -> str:
        button = self.choices.checkedButton()
        return button.text() if button is not None else ""

    def complete(self) -> bool:
        choice = self.choice()
        return bool(choice) and (choice != OTHER_REASON or bool(self.note.text().strip()))

    def reason(self) -> str:
        """The reason to store ("" until complete)."""
        return reason_text(self.choice(), self.note.text()) if self.complete() else ""

    def _changed(self) -> None:
        required = self.choice() == OTHER_REASON
        self.note.setPlaceholderText(
            "Note: say why (required for Other)" if required else "Note (optional)")
        self.changed.emit()


def dialog_frame(dialog: QDialog, theme: Theme, title: str, entry: HistoryEntry) -> None:
    dialog.setWindowTitle(title)
    dialog.setAccessibleDescription(entry.summary())
    dialog.setMaximumSize(DIALOG_MAX)
    # A dialog is a window of its own: the theme's palette is set here so that it is dark in
    # the dim theme even when only the session window was themed.
    dialog.setPalette(palette(theme))
    dialog.setAutoFillBackground(True)


def dialog_footer(ok_text: str) -> tuple[QHBoxLayout, QPushButton, QPushButton]:
    cancel = TouchButton("Cancel", min_size=TOUCH_MIN * 3, min_height=PRIMARY_MIN)
    cancel.setObjectName("cancel")
    ok = TouchButton(ok_text, min_size=TOUCH_MIN * 4, min_height=PRIMARY_MIN)
    ok.setObjectName("ok")
    ok.setProperty("primary", True)
    ok.setDefault(True)
    row = QHBoxLayout()
    row.setSpacing(12)
    row.addStretch(1)
    row.addWidget(cancel)
    row.addWidget(ok)
    return row, cancel, ok


def entry_card(entry: HistoryEntry) -> QFrame:
    """The entry being corrected, as the list shows it, in a card above the question."""
    card = QFrame()
    card.setProperty("banner", "entry")
    layout = QVBoxLayout(card)
    layout.setContentsMargins(12, 8, 12, 8)
    layout.setSpacing(2)
    when = clock_time(entry.time) if entry.time is not None else ""
    layout.addWidget(label(f"{when}   {entry.what}".strip(), "field"))
    if entry.values:
        # A measure and its value stay on one line ("CADSS-6 1", never "CADSS-6" / "1").
        parts = [p.replace(" ", "\u00a0") if len(p) <= 20 else p
                 for p in entry.values.split(" · ")]
        layout.addWidget(label(" · ".join(parts)))
    return card


class VoidDialog(QDialog):
    """Asks why an entry is voided: one reason from large choices, and a note.

    The entry is not deleted: it stays in the history, marked void with the reason.

    Signals:
        voidConfirmed(str): the reason (the choice, then ": note" when a note was given),
            when the nurse taps "Void entry". It stays disabled until a reason is chosen,
            and for "Other" until the note says why.
    """

    voidConfirmed = Signal(str)

    def __init__(self, theme: Theme, entry: HistoryEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.entry = entry
        dialog_frame(self, theme, "Void entry", entry)
        question = label(f"Void this {entry.kind}?", "total", wrap=False)
        explain = label("It stays in the chart history, struck through, with your reason.",
                        "muted")
        self.reasons = ReasonPicker(VOID_REASONS)
        self.reasons.changed.connect(self._update)
        footer, self.cancel, self.ok = dialog_footer("Void entry")
        self.cancel.clicked.connect(self.reject)
        self.ok.clicked.connect(self.accept)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.setSpacing(10)
        layout.addWidget(question)
        layout.addWidget(entry_card(entry))
        layout.addWidget(explain)
        layout.addWidget(self.reasons)
        layout.addStretch(1)
        layout.addLayout(footer)
        self._update()

    def reason(self) -> str:
        return self.reasons.reason()

    def _update(self) -> None:
        self.ok.setEnabled(self.reasons.complete())

    def accept(self) -> None:
        if not self.reasons.complete():
            return
        self.voidConfirmed.emit(self.reason())
        super().accept()


def field_message(theme: Theme) -> FieldMessage:
    """A refusal or a "confirm this unusual value" request under one amend field; its
    "Confirm" button takes no focus, so the keypad stays on the field being typed."""
    confirm = TouchButton("Confirm")
    confirm.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return FieldMessage(theme, confirm, margins=(0, 0, 0, 4))
