"""A touch-sized question before an action that is not simply undone.

:class:`ConfirmDialog` asks one question in large type with two large buttons: the safe
choice on the left (taken by Escape), the action on the right, named for what it does
("Close ChairSide", "Start without it"), never a small native Yes/No.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ui.style import PRIMARY_MIN, TouchButton
from ui.theme import TEXT_PX, Theme

HEADLINE_PX = TEXT_PX + 6
BUTTON_MIN_WIDTH = 200


class ConfirmDialog(QDialog):
    """Asks ``question``; ``accepted`` when the nurse takes the action, ``rejected`` for
    the safe choice.

    Signals: those of :class:`QDialog`.
    """

    def __init__(self, theme: Theme, title: str, question: str, *, action: str,
                 keep: str = "Go back", detail: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
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
        self.keep = TouchButton(keep, min_size=BUTTON_MIN_WIDTH, min_height=PRIMARY_MIN)
        self.keep.setObjectName("confirm-keep")
        self.keep.setDefault(True)
        self.act = TouchButton(action, min_size=BUTTON_MIN_WIDTH, min_height=PRIMARY_MIN)
        self.act.setObjectName("confirm-act")
        self.act.setProperty("primary", True)
        self.keep.clicked.connect(self.reject)
        self.act.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.setSpacing(16)
        buttons.addWidget(self.keep)
        buttons.addStretch(1)
        buttons.addWidget(self.act)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(14)
        layout.addWidget(headline)
        layout.addWidget(self.question)
        layout.addWidget(self.detail)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.setMinimumWidth(min(560, 2 * BUTTON_MIN_WIDTH + 120))
