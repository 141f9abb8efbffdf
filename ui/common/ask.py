"""Touch-sized questions, notices and reasons: the app's own dialogs.

The platform's message boxes have buttons sized for a mouse, and on a touch screen they are
hard to hit. :class:`ConfirmDialog` asks one question in large type with two large buttons:
the safe choice on the left (the default, and taken by Escape), the action on the right,
named for what it does ("Close ChairSide", "Start without it"); with no safe choice it is a
notice with one button. :func:`ask` and :func:`tell` show it and wait, like
``QMessageBox.question`` and ``QMessageBox.information``. :class:`ReasonDialog` asks for a
written reason first (a clinician's start while PHQ-9 item 9 waits).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ui.common.style import PRIMARY_MIN, TouchButton
from ui.common.theme import TEXT_PX, TOUCH_MIN, Theme

HEADLINE_PX = TEXT_PX + 6
BUTTON_MIN_WIDTH = 200


class ConfirmDialog(QDialog):
    """Asks ``question``; ``accepted`` when the nurse takes the action, ``rejected`` for
    the safe choice.

    Signals: those of :class:`QDialog`.
    """

    def __init__(self, theme: Theme | None, title: str, question: str, *, action: str,
                 keep: str = "Go back", detail: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        if theme is not None:
            # A dialog is a window of its own: it takes the theme's background here.
            self.setStyleSheet(f"ConfirmDialog {{ background-color: {theme.background}; }}")
        headline = QLabel(title)
        headline.setStyleSheet(f"QLabel {{ font-size: {HEADLINE_PX}px; font-weight: bold; }}")
        headline.setWordWrap(True)
        self.question = QLabel(question)
        self.question.setObjectName("confirm-question")
        self.question.setWordWrap(True)
        self.question.setStyleSheet(f"QLabel {{ font-size: {TEXT_PX + 4}px; }}")
        self.detail = QLabel(detail)
        self.detail.setProperty("role", "muted")
        self.detail.setWordWrap(True)
        self.detail.setVisible(bool(detail))
        self.keep, self.act, buttons = _answer_buttons(self, keep, action, name="confirm")
        self.keep.setVisible(bool(keep))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(14)
        layout.addWidget(headline)
        layout.addWidget(self.question)
        layout.addWidget(self.detail)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.setMinimumWidth(min(560, 2 * BUTTON_MIN_WIDTH + 120))
        # The safe answer has the focus: Enter on a keyboard does not stop an infusion.
        (self.keep if keep else self.act).setDefault(True)


class ReasonDialog(QDialog):
    """Asks for a written reason of at least ``min_length`` characters before ``action``.

    Signals: those of :class:`QDialog`; :meth:`reason` holds the text once accepted.
    """

    def __init__(self, theme: Theme, title: str, explanation: str, *, action: str,
                 min_length: int, placeholder: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self.min_length = min_length
        t = theme
        self.setStyleSheet(
            f"ReasonDialog {{ background-color: {t.background}; }}"
            f"QPlainTextEdit {{ background-color: {t.surface}; color: {t.text}; "
            f"border: 2px solid {t.border}; border-radius: 8px; padding: 6px; }}"
            f"QPlainTextEdit:focus {{ border-color: {t.accent}; }}")
        headline = QLabel(title)
        headline.setStyleSheet(f"QLabel {{ font-size: {HEADLINE_PX}px; font-weight: bold; }}")
        headline.setWordWrap(True)
        text = QLabel(explanation)
        text.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setObjectName("reason")
        self.text.setPlaceholderText(placeholder)
        self.text.setMinimumHeight(3 * TOUCH_MIN)
        self.count = QLabel()
        self.count.setProperty("role", "muted")
        self.keep, self.act, buttons = _answer_buttons(self, "Cancel", action, name="reason",
                                                       keep_name="reason-cancel")
        self.text.textChanged.connect(self._update)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(headline)
        layout.addWidget(text)
        layout.addWidget(self.text)
        layout.addWidget(self.count)
        layout.addLayout(buttons)
        self.setMinimumWidth(min(560, 2 * BUTTON_MIN_WIDTH + 120))
        self._update()

    def reason(self) -> str:
        return self.text.toPlainText().strip()

    def _update(self) -> None:
        length = len(self.reason())
        self.act.setEnabled(length >= self.min_length)
        self.count.setText(f"{length} characters (at least {self.min_length})")


def _answer_buttons(dialog: QDialog, keep: str, action: str, *, name: str,
                    keep_name: str = "") -> tuple[TouchButton, TouchButton, QHBoxLayout]:
    """The safe choice (rejects) on the left and the action (accepts) on the right."""
    safe = TouchButton(keep, min_size=BUTTON_MIN_WIDTH, min_height=PRIMARY_MIN)
    safe.setObjectName(keep_name or f"{name}-keep")
    act = TouchButton(action, min_size=BUTTON_MIN_WIDTH, min_height=PRIMARY_MIN)
    act.setObjectName(f"{name}-act")
    act.setProperty("primary", True)
    safe.clicked.connect(dialog.reject)
    act.clicked.connect(dialog.accept)
    row = QHBoxLayout()
    row.setSpacing(16)
    row.addWidget(safe)
    row.addStretch(1)
    row.addWidget(act)
    return safe, act, row


def ask(parent: QWidget | None, title: str, text: str, *, yes: str = "Yes",
        no: str = "No") -> bool:
    """Ask ``text`` and wait for the answer: ``True`` for ``yes``."""
    dialog = ConfirmDialog(None, title, text, action=yes, keep=no, parent=parent)
    try:
        return dialog.exec() == QDialog.DialogCode.Accepted
    finally:
        dialog.deleteLater()


def tell(parent: QWidget | None, title: str, text: str, *, ok: str = "OK") -> None:
    """Show ``text`` until "OK" is tapped."""
    dialog = ConfirmDialog(None, title, text, action=ok, keep="", parent=parent)
    try:
        dialog.exec()
    finally:
        dialog.deleteLater()
