"""The feedback strip of an entry form: messages with their "Confirm" button, and the save
state with Retry.

The strip sits above Save at a fixed height (one message, or the save state, with its
button beside it); more messages scroll inside it, so nothing that shows or goes moves a
field, a key or Save under a finger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from monitor.clinical.domain import Severity
from ui.common.style import TouchButton, icon, tier_icon
from ui.common.theme import TOUCH_MIN, Theme
from ui.common.widgets import FieldMessage, FittedLabel, restyle

#: The feedback strip above Save: one message with its "Confirm" button beside it, or the
#: save state with Retry. It never grows: more messages scroll inside it.
FEEDBACK_PX = TOUCH_MIN + 4
ICON_PX = 28


def entry_button(text: str, name: str, *, min_height: int = TOUCH_MIN) -> QPushButton:
    """A touch button named ``name`` (Save, Retry, "Confirm", a time step) that a tap does
    not leave focused."""
    button = TouchButton(text, min_height=min_height)
    button.setObjectName(name)
    # Focus follows taps on a tablet; a focus rect left on a score button looks like a choice.
    button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
    return button


class FeedbackMessage(FieldMessage):
    """Feedback under one field: a refusal, or an unusual value with a "Confirm" button
    (named ``confirm``) that names the value as it stands on screen.

    Signals:
        confirmClicked(): the nurse tapped "Confirm <value>".
    """

    def __init__(
        self,
        theme: Theme,
        fields: Iterable[str],
        value_text: Callable[[], str],
        marked: QWidget | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(theme, entry_button("Confirm", "confirm"), marked=marked,
                         margins=(0, 2, 0, 2), text_height=FEEDBACK_PX - 4, parent=parent)
        # The strip is wide and one button high: "Confirm" goes beside the words.
        grid = self.layout()
        assert isinstance(grid, QGridLayout)
        grid.removeWidget(self.confirm_button())
        grid.addWidget(self.confirm_button(), 0, 2, Qt.AlignmentFlag.AlignVCenter)
        #: Field names (as in ``FieldError.field``) this message speaks for.
        self.fields = frozenset(fields)
        #: What "Confirm …" names: the value as it stands on screen.
        self.value_text = value_text


class SaveBanner(QFrame):
    """Save state: "Saving…", "Saved 10:42", or "NOT saved: …" with Retry.

    Signals:
        retry(): the nurse tapped Retry.
    """

    retry = Signal()

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.setObjectName("save-banner")
        self._state: str | None = None
        self._icon = QLabel()
        self._icon.setFixedSize(ICON_PX, ICON_PX)
        self._text = FittedLabel(FEEDBACK_PX - 4)
        self._text.setObjectName("save-state")
        self._text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._retry = entry_button("Retry", "retry")
        self._retry.clicked.connect(self.retry)
        layout = QHBoxLayout(self)
        # One Retry high, like a message with its "Confirm": the strip shows exactly one.
        layout.setContentsMargins(12, 2, 8, 2)
        layout.addWidget(self._icon)
        layout.addWidget(self._text, 1)
        layout.addWidget(self._retry)
        self.hide()

    def state(self) -> str | None:
        return self._state

    def text(self) -> str:
        return self._text.text() if self._state is not None else ""

    def retry_button(self) -> QPushButton:
        return self._retry

    def show_state(self, state: str, text: str, *, retry: bool = False) -> None:
        icons = {
            "saving": icon(self.theme, "overdue", ICON_PX),
            "saved": icon(self.theme, "ok", ICON_PX),
            # Saved on the tablet only: amber, never the green of "on the server".
            "held": tier_icon(self.theme, Severity.WARNING, ICON_PX),
            "not_saved": tier_icon(self.theme, Severity.CRITICAL, ICON_PX),
        }
        self._state = state
        self._icon.setPixmap(icons[state].pixmap(ICON_PX, ICON_PX))
        self._text.setText(text)
        self._retry.setVisible(retry)
        restyle(self, banner=state)
        self.show()

    def hide_retry(self) -> None:
        self._retry.hide()

    def clear(self) -> None:
        self._state = None
        self.hide()
