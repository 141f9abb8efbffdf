"""Stopping the infusion before its planned duration: why, and how much was given.

:class:`EarlyStopDialog` says how far the infusion ran ("13 of 40 min"), asks the reason
(one tap, and words if needed) and the dose actually given, in mg or as the volume in mL,
typed on the built-in keypad. The check is :func:`monitor.clinical.infusion.check_early_stop`'s: a
refusal names the field and its range, and the dialog stays open with what was typed.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from monitor.clinical.infusion import (
    DOSE_GIVEN_MG,
    STOP_REASON,
    VOLUME_GIVEN_ML,
    EarlyStop,
    EarlyStopError,
    check_early_stop,
)
from ui.common.keypad import NumericKeypad
from ui.common.style import TouchButton
from ui.common.theme import TEXT_PX, TOUCH_MIN, Theme

#: Reasons offered with one tap; "Other" needs words.
REASONS = ("Adverse effect", "Patient asked to stop", "Line or pump problem", "Other")


def _landscape(parent: QWidget | None) -> bool:
    """Whether the window the dialog opens over (or else the screen) is wider than tall."""
    if parent is not None:
        size = parent.window().size()
    else:
        screen = QGuiApplication.primaryScreen()
        size = screen.availableSize() if screen is not None else None
    return size is None or size.width() > size.height()


class EarlyStopDialog(QDialog):
    """Reason and dose given for an early stop. ``data()`` is the stop event's data."""

    def __init__(self, theme: Theme, stop: EarlyStop, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stop = stop
        self.setWindowTitle("Stop infusion early")
        plan = stop.plan
        planned = f"{plan.dose_mg:g} mg" if plan.dose_mg else "the planned dose"
        bag = f" in {plan.bag_volume_ml:g} mL" if plan.bag_volume_ml else ""
        intro = QLabel(f"The infusion has run {stop.words}. Record why it stops early and "
                       f"what was given (planned {planned}{bag}).")
        intro.setWordWrap(True)
        intro.setStyleSheet(f"font-size: {TEXT_PX}px;")

        self.reasons = QButtonGroup(self)
        reason_grid = QGridLayout()
        for index, text in enumerate(REASONS):
            button = TouchButton(text)
            button.setCheckable(True)
            button.setObjectName(f"reason-{index}")
            self.reasons.addButton(button, index)
            reason_grid.addWidget(button, index // 2, index % 2)
        self.detail = QLineEdit()
        self.detail.setObjectName("early-stop-detail")
        self.detail.setPlaceholderText("Details (needed for Other)")
        self.detail.setMinimumHeight(TOUCH_MIN)
        self.detail.setMaxLength(200)

        self.units = QButtonGroup(self)
        units = QHBoxLayout()
        units.addWidget(QLabel("Amount given, in"))
        for index, text in enumerate(("mg", "mL")):
            button = TouchButton(text)
            button.setCheckable(True)
            button.setObjectName(f"unit-{text}")
            self.units.addButton(button, index)
            units.addWidget(button)
        units.addStretch(1)
        self.units.button(0).setChecked(True)
        self.message = QLabel("")
        self.message.setObjectName("early-stop-message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {theme.critical}; font-weight: bold;")
        self.keypad = NumericKeypad(theme, decimal=True, max_length=6)
        self.keypad.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.keypad.submitted.connect(lambda _text: self.accept())

        buttons = QHBoxLayout()
        cancel = TouchButton("Cancel")
        cancel.clicked.connect(self.reject)
        ok = TouchButton("Record early stop")
        ok.setObjectName("record-early-stop")
        ok.setProperty("primary", True)
        ok.clicked.connect(self.accept)
        buttons.addWidget(cancel)
        buttons.addWidget(ok)

        questions = QVBoxLayout()
        questions.setContentsMargins(0, 0, 0, 0)
        questions.addWidget(intro)
        questions.addWidget(QLabel("Why did it stop early?"))
        questions.addLayout(reason_grid)
        questions.addWidget(self.detail)
        questions.addLayout(units)
        questions.addWidget(self.message)
        questions.addStretch(1)
        # On a landscape screen the keypad stands beside the questions: stacked, the dialog
        # is taller than 800 px and its title goes off the top. On a portrait one, below.
        body = QHBoxLayout() if _landscape(parent) else QVBoxLayout()
        body.setSpacing(16)
        body.addLayout(questions, 1)
        body.addWidget(self.keypad)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addLayout(buttons)
        self.keypad.setFocus()

    def showEvent(self, event: QShowEvent) -> None:
        # The layout's minimum leaves out what word-wrapped text needs: at that size the
        # reasons and the keypad's last row were overlapped. Once styled, keep the room all
        # of it asks for.
        self.setMinimumSize(self.sizeHint().expandedTo(self.minimumSizeHint()))
        super().showEvent(event)

    def set_given(self, text: str, *, unit: str = "mg") -> None:
        """Type ``text`` as the amount given, in ``unit`` (for tests and screenshots)."""
        self.units.button(0 if unit == "mg" else 1).setChecked(True)
        self.keypad.set_text(text)

    def choose_reason(self, index: int, detail: str = "") -> None:
        self.reasons.button(index).setChecked(True)
        self.detail.setText(detail)

    def reason(self) -> str:
        chosen = self.reasons.checkedId()
        detail = self.detail.text().strip()
        if chosen < 0 or (REASONS[chosen] == "Other" and not detail):
            return detail
        base = "" if REASONS[chosen] == "Other" else REASONS[chosen]
        return " — ".join(part for part in (base, detail) if part)

    def data(self) -> dict[str, Any]:
        """The stop event's data as typed (the service checks it again)."""
        key = DOSE_GIVEN_MG if self.units.checkedId() == 0 else VOLUME_GIVEN_ML
        return {STOP_REASON: self.reason(), key: self.keypad.text()}

    def accept(self) -> None:
        try:
            check_early_stop(self.data(), self.stop)
        except EarlyStopError as refused:
            self.message.setText("⚠ " + "; ".join(e.message for e in refused.errors))
            return
        super().accept()
