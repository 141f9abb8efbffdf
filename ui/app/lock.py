"""The lock screen, and the idle watch that brings it up.

After a while without a touch or a key (:data:`IDLE_LOCK_S`, ten minutes by default) the
window locks: :class:`LockScreen` covers every screen and shows no patient data at all — no
names, no MRNs, no values — only which chairs have a reading due or overdue ("Chair 2 —
reading due in 0:45", "Chair 3 — reading OVERDUE 2:10"), so a reading falling due is not
missed. The screens underneath stay alive, hidden, so a half-typed entry survives; whoever
signs in at the lock (the same nurse, or a colleague taking over) continues from there.

:class:`IdleWatcher` is an application-wide event filter: every mouse, touch or key event
restarts the idle time, read from the injected clock's ``monotonic()`` (tests move a
``ManualClock``; the window's tick asks :meth:`IdleWatcher.expired`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QBoxLayout, QLabel, QVBoxLayout, QWidget

from monitor.clock import Clock
from monitor.service.board import ChairTile
from ui.common.labels import clock_time
from ui.common.theme import Theme
from ui.common.widgets import heading, label
from ui.overview.screen import chair_title
from ui.staff.login import LoginScreen

if TYPE_CHECKING:
    from monitor.service.auth import StaffInfo

#: Seconds without input before the window locks (the product's default: ten minutes).
IDLE_LOCK_S = 600.0

#: Events that count as someone using the tablet.
INPUT_EVENTS = frozenset({
    QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease, QEvent.Type.MouseMove,
    QEvent.Type.MouseButtonDblClick, QEvent.Type.Wheel, QEvent.Type.KeyPress,
    QEvent.Type.KeyRelease, QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate,
    QEvent.Type.TouchEnd, QEvent.Type.TabletPress, QEvent.Type.TabletMove,
})


def minutes_seconds(delta: timedelta) -> str:
    """``0:45``, ``12:05``: a countdown in minutes and seconds."""
    seconds = max(0, int(delta.total_seconds()))
    return f"{seconds // 60}:{seconds % 60:02d}"


def due_text(tile: ChairTile) -> str | None:
    """What the lock screen may say about a chair: only whether a reading is due, or None."""
    if tile.empty or tile.due_in is None:
        return None
    if tile.overdue:
        return f"{chair_title(tile.chair)} — reading OVERDUE {minutes_seconds(-tile.due_in)}"
    return f"{chair_title(tile.chair)} — reading due in {minutes_seconds(tile.due_in)}"


class IdleWatcher(QObject):
    """Restarts the idle time on every input event of the application.

    Install with ``QApplication.instance().installEventFilter(watcher)``; it never consumes
    an event. Signals: none (the owner asks :meth:`expired` on its tick).
    """

    def __init__(self, clock: Clock, idle_s: float = IDLE_LOCK_S,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.clock = clock
        self.idle_s = idle_s
        self.last_input = clock.monotonic()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in INPUT_EVENTS:
            self.last_input = self.clock.monotonic()
        return False

    def reset(self) -> None:
        self.last_input = self.clock.monotonic()

    def idle_for(self) -> float:
        return self.clock.monotonic() - self.last_input

    def expired(self) -> bool:
        return self.idle_for() >= self.idle_s


class LockScreen(QWidget):
    """Locked: chairs with a reading due, and sign-in for whoever continues.

    Signals:
        loginRequested(object, str): a staff id and the PIN typed to unlock.
    """

    loginRequested = Signal(object, str)

    def __init__(self, theme: Theme, *, hint: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.title = heading("ChairSide is locked")
        self.locked = label("", "muted")
        self.locked.setObjectName("lock-since")
        self.explain = label(
            "Patient details are hidden. Tap your name and type your PIN to continue. A "
            "colleague can sign in here too: what they enter is then recorded under their "
            "name.")
        self.chairs_box = QWidget()
        self.chairs_layout = QVBoxLayout(self.chairs_box)
        self.chairs_layout.setContentsMargins(0, 0, 0, 0)
        self.chairs_layout.setSpacing(6)
        self.chair_labels: list[QLabel] = []
        self.login = LoginScreen(theme, title="Sign in to unlock", hint=hint)
        self.login.hint.hide()
        self.login.loginRequested.connect(self.loginRequested)

        side = QVBoxLayout()
        side.setSpacing(10)
        side.addWidget(self.title)
        side.addWidget(self.locked)
        side.addWidget(self.explain)
        side.addWidget(label("Readings", "field"))
        side.addWidget(self.chairs_box)
        side.addStretch(1)
        self.body = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self.body.setContentsMargins(24, 20, 8, 0)
        self.body.setSpacing(12)
        self.body.addLayout(side, 2)
        self.body.addWidget(self.login, 5)

    def set_orientation(self, orientation: Qt.Orientation) -> None:
        vertical = orientation == Qt.Orientation.Vertical
        self.body.setDirection(QBoxLayout.Direction.TopToBottom if vertical
                               else QBoxLayout.Direction.LeftToRight)
        self.login.set_orientation(orientation)

    def show_locked(self, at: datetime, by: str) -> None:
        """When the window locked, and whose session it was (a staff name, never a patient)."""
        who = f" — {by} was signed in" if by else ""
        self.locked.setText(f"Locked at {clock_time(at)}{who}")
        self.login.reset()

    def show_staff(self, staff: Sequence[StaffInfo], *, at: datetime | None = None) -> None:
        self.login.show_staff(staff, at=at)

    def show_error(self, text: str, *, keep_pin: bool = False) -> None:
        self.login.show_error(text, keep_pin=keep_pin)

    def show_chairs(self, tiles: Sequence[ChairTile]) -> None:
        """One line per chair with a reading due or overdue; nothing about the patient."""
        texts = [text for text in (due_text(tile) for tile in tiles) if text is not None]
        if not texts:
            texts = ["No reading due"]
        while len(self.chair_labels) < len(texts):
            shown = label()
            shown.setObjectName(f"lock-chair-{len(self.chair_labels)}")
            self.chairs_layout.addWidget(shown)
            self.chair_labels.append(shown)
        for index, shown in enumerate(self.chair_labels):
            if index < len(texts):
                text = texts[index]
                shown.setText(text)
                overdue = "OVERDUE" in text
                shown.setStyleSheet(
                    f"QLabel {{ font-size: 24px; font-weight: bold; "
                    f"color: {self.theme.critical if overdue else self.theme.text}; }}")
                shown.show()
            else:
                shown.hide()

    def chair_texts(self) -> list[str]:
        return [shown.text() for shown in self.chair_labels if not shown.isHidden()]
