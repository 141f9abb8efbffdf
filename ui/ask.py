"""Touch-sized questions and notices: the app's own Yes/No and OK dialogs.

The platform's message boxes have buttons sized for a mouse, and on a touch screen they are
hard to hit; these have fingertip buttons (:data:`ui.style.PRIMARY_MIN` high), large text
and the app's theme. :func:`ask` and :func:`tell` block like ``QMessageBox.question`` and
``QMessageBox.information``; :class:`TouchQuestion` is the dialog they show.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ui.style import PRIMARY_MIN, TouchButton
from ui.theme import TEXT_PX

#: The least width of a button, so that "No" is as easy to hit as "Stop infusion".
BUTTON_MIN_WIDTH = 160
#: The least width of the dialog: its text reads in lines of a comfortable length.
DIALOG_MIN_WIDTH = 520


class TouchQuestion(QDialog):
    """A question with a text and one or two large buttons.

    ``no`` empty: a notice with only the ``yes`` button (e.g. "OK"). Accepted by ``yes``,
    rejected by ``no`` (or closing). Signals: those of :class:`QDialog`.
    """

    def __init__(self, parent: QWidget | None, title: str, text: str, *, yes: str = "Yes",
                 no: str = "No") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self.setMinimumWidth(DIALOG_MIN_WIDTH)
        heading = QLabel(title)
        heading.setStyleSheet(f"font-size: {TEXT_PX + 4}px; font-weight: bold;")
        self.text = QLabel(text)
        self.text.setWordWrap(True)
        self.text.setStyleSheet(f"font-size: {TEXT_PX + 2}px;")
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.yes_button = TouchButton(yes, min_size=BUTTON_MIN_WIDTH, min_height=PRIMARY_MIN)
        self.yes_button.setObjectName("ask-yes")
        self.yes_button.setProperty("primary", True)
        self.yes_button.clicked.connect(self.accept)
        self.no_button = TouchButton(no, min_size=BUTTON_MIN_WIDTH, min_height=PRIMARY_MIN)
        self.no_button.setObjectName("ask-no")
        self.no_button.clicked.connect(self.reject)
        self.no_button.setVisible(bool(no))
        buttons = QHBoxLayout()
        buttons.setSpacing(16)
        buttons.addStretch(1)
        buttons.addWidget(self.no_button)
        buttons.addWidget(self.yes_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(16)
        layout.addWidget(heading)
        layout.addWidget(self.text)
        layout.addLayout(buttons)
        # The safe answer has the focus: Enter on a keyboard does not stop an infusion.
        (self.no_button if no else self.yes_button).setDefault(True)


def ask(parent: QWidget | None, title: str, text: str, *, yes: str = "Yes",
        no: str = "No") -> bool:
    """Ask ``text`` and wait for the answer: ``True`` for ``yes``."""
    dialog = TouchQuestion(parent, title, text, yes=yes, no=no)
    try:
        return dialog.exec() == QDialog.DialogCode.Accepted
    finally:
        dialog.deleteLater()


def tell(parent: QWidget | None, title: str, text: str, *, ok: str = "OK") -> None:
    """Show ``text`` until "OK" is tapped."""
    dialog = TouchQuestion(parent, title, text, yes=ok, no="")
    try:
        dialog.exec()
    finally:
        dialog.deleteLater()
