"""The entry panel of a session whose discharge is signed: closed, and why.

Once the discharge is signed (or overridden) nothing more is entered at the chair. In place
of the entry forms :class:`ClosedPanel` says who signed and when, and lets a clinician open
entries after sign-off with a reason; the service checks the role and the reason, and marks
each such entry as made after sign-off.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from monitor.clinical.signing import MIN_AFTER_SIGNOFF_REASON, SignOff
from ui.common.style import PRIMARY_MIN, TouchButton, icon
from ui.common.theme import TEXT_PX, TOUCH_MIN, Theme

ICON_PX = 32
#: Beside the disabled button when someone other than a clinician is signed in.
CLINICIAN_ONLY = "Only a clinician can add entries after sign-off: ask one to sign in."


class ClosedPanel(QFrame):
    """"Session closed: discharge signed 12:21 by Ana Ruiz …", and the late entry's reason.

    Signals:
        lateEntryRequested(str): a clinician asks to enter after sign-off, for this reason.
        lateEntryEnded(): entries after sign-off are over; the chair is closed again.
    """

    lateEntryRequested = Signal(str)
    lateEntryEnded = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None, *,
                 is_clinician: Callable[[], bool] = lambda: True) -> None:
        super().__init__(parent)
        self.theme = theme
        #: Asked each time the state is shown: only a clinician may enter after sign-off, so
        #: for anyone else the button is disabled with the reason right under it.
        self.is_clinician = is_clinician
        self.setObjectName("closed-panel")
        self.icon = QLabel()
        self.icon.setFixedSize(ICON_PX, ICON_PX)
        self.title = QLabel("Session closed")
        self.title.setStyleSheet(f"font-size: {TEXT_PX + 6}px; font-weight: bold;")
        self.why = QLabel()
        self.why.setWordWrap(True)
        self.why.setObjectName("closed-why")
        self.why.setStyleSheet(f"font-size: {TEXT_PX}px;")
        self.late_title = QLabel("Late entry after sign-off (clinicians)")
        self.late_title.setStyleSheet(f"font-size: {TEXT_PX}px; font-weight: bold;")
        self.reason = QLineEdit()
        self.reason.setObjectName("after-signoff-reason")
        self.reason.setPlaceholderText("Reason for the entry")
        self.reason.setMinimumHeight(TOUCH_MIN)
        self.reason.setMaxLength(300)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {theme.critical}; font-weight: bold;")
        self.message.hide()
        self.open_button = TouchButton("Add entries after sign-off", min_height=PRIMARY_MIN)
        self.open_button.setObjectName("open-after-signoff")
        self.open_button.clicked.connect(self._open)
        self.clinician_only = QLabel(CLINICIAN_ONLY)
        self.clinician_only.setObjectName("after-signoff-clinician-only")
        self.clinician_only.setWordWrap(True)
        self.clinician_only.setStyleSheet(f"font-size: {TEXT_PX}px; color: {theme.warning};")
        self.clinician_only.hide()
        self.end_button = TouchButton("Close entries again", min_height=PRIMARY_MIN)
        self.end_button.setObjectName("end-after-signoff")
        self.end_button.clicked.connect(self.lateEntryEnded)
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.state.setStyleSheet(f"font-size: {TEXT_PX}px; font-weight: bold; "
                                 f"color: {theme.advisory};")

        head = QHBoxLayout()
        head.addWidget(self.icon)
        head.addWidget(self.title, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.setSpacing(10)
        layout.addLayout(head)
        layout.addWidget(self.why)
        layout.addSpacing(12)
        layout.addWidget(self.late_title)
        layout.addWidget(self.reason)
        layout.addWidget(self.message)
        layout.addWidget(self.open_button)
        layout.addWidget(self.clinician_only)
        layout.addWidget(self.state)
        layout.addWidget(self.end_button)
        layout.addStretch(1)
        self.icon.setPixmap(icon(theme, "ok", ICON_PX).pixmap(ICON_PX))

    def show_state(self, signed: SignOff, late_reason: str | None) -> None:
        """Closed by ``signed``; ``late_reason`` set while a clinician enters after it."""
        why = signed.closed_text().removeprefix("Session closed: ")  # the title says it
        self.why.setText(why[:1].upper() + why[1:])
        entering = late_reason is not None
        for widget in (self.reason, self.open_button):
            widget.setVisible(not entering)
        allowed = self.is_clinician()
        self.reason.setEnabled(allowed)
        self.open_button.setEnabled(allowed)
        self.open_button.setToolTip("" if allowed else CLINICIAN_ONLY)
        self.clinician_only.setVisible(not entering and not allowed)
        self.message.hide()
        self.state.setVisible(entering)
        self.end_button.setVisible(entering)
        if entering:
            self.state.setText(f"Entries now are marked after sign-off, for: {late_reason}")

    def show_problem(self, text: str) -> None:
        self.message.setText(f"⚠ {text}")
        self.message.show()

    def _open(self) -> None:
        reason = self.reason.text().strip()
        if len(reason) < MIN_AFTER_SIGNOFF_REASON:
            self.show_problem(f"Reason: at least {MIN_AFTER_SIGNOFF_REASON} characters")
            return
        self.lateEntryRequested.emit(reason)
