"""The time an entry describes: now, or earlier for a late entry, never later than now."""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics, QHideEvent, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from monitor.clock import Clock, ensure_utc
from ui.common.labels import clock_time
from ui.common.theme import Theme
from ui.common.widgets import label, restyle
from ui.session.entry.feedback import FeedbackMessage, entry_button


class EntryTime(QWidget):
    """The time an entry describes: now, or earlier for a late entry, never later than now.

    "Now" follows the clock until the nurse steps back (−15, −5, −1 min); from then on the
    entry describes that fixed time, tagged "late" in the time row, and the form's Save
    says it too ("Save vitals · late entry for 10:32"); :meth:`late_text` gives the whole
    "late entry: describes 10:32, entered 10:41". Nothing is added under the row: a row
    that comes and goes pushes Save and the keys away under the finger. The first step
    back starts from the current whole minute, so −5 at 10:41:37 gives 10:36. Its
    :attr:`message` is placed by the form, in the feedback strip.

    Signals:
        changed(object): the described time, or ``None`` when back to "now".
    """

    changed = Signal(object)
    STEPS_MIN = (15, 5, 1)
    #: How often "now" on screen is brought up to date (the clock itself is never waited on).
    REFRESH_MS = 10_000

    def __init__(self, theme: Theme, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self._clock = clock
        self._described: datetime | None = None

        self._time = label(role="total", wrap=False)
        self._time.setObjectName("entry-time")
        # "now" or "late": words of one width, so the row never reflows.
        self._tag = label(role="muted", wrap=False)
        self._tag.setObjectName("late-entry")
        row = QHBoxLayout()
        row.setSpacing(6)
        row.addWidget(label("Time", "field", wrap=False))
        row.addWidget(self._time)
        row.addWidget(self._tag)
        row.addStretch(1)
        for minutes in self.STEPS_MIN:
            step = entry_button(f"\u2212{minutes} min", f"time-back-{minutes}")
            step.setAccessibleName(f"{minutes} minutes earlier")
            step.clicked.connect(lambda _checked, m=minutes: self.step_back(m))
            row.addWidget(step)
        self._now = entry_button("Now", "time-now")
        self._now.clicked.connect(self.reset)
        row.addWidget(self._now)

        self.message = FeedbackMessage(theme, ("time",), self.text)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)

        self._timer = QTimer(self)
        self._timer.setInterval(self.REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self.refresh()

    def when(self) -> datetime:
        """The time the entry describes (UTC): the fixed late time, or the clock's now."""
        now = self._clock.now()
        if self._described is None or self._described > now:
            return now
        return self._described

    def is_late(self) -> bool:
        return self._described is not None and self._described < self._clock.now()

    def text(self) -> str:
        """The time as shown, e.g. "10:32"."""
        return clock_time(self.when())

    def late_text(self) -> str:
        """"late entry: describes 10:32, entered 10:41", or "" when the entry is for now."""
        if not self.is_late():
            return ""
        return (f"late entry: describes {clock_time(self.when())}, "
                f"entered {clock_time(self._clock.now())}")

    def step_back(self, minutes: int) -> None:
        if self.is_late() and self._described is not None:
            base = self._described
        else:
            base = self._clock.now().replace(second=0, microsecond=0)
        self._described = base - timedelta(minutes=minutes)
        self.refresh()
        self.changed.emit(self._described)

    def set_time(self, when: datetime) -> None:
        """Describe ``when``; a time at or after now means "now"."""
        when = ensure_utc(when)
        self._described = when if when < self._clock.now() else None
        self.refresh()
        self.changed.emit(self._described)

    def reset(self) -> None:
        """Back to "now"."""
        self._described = None
        self.refresh()
        self.changed.emit(None)

    def refresh(self) -> None:
        """Re-read the clock and update what is shown."""
        dropped = self._described is not None and not self.is_late()
        if dropped:
            # The wall clock was set back past the late time: the entry describes now.
            self._described = None
        late = self.is_late()
        self._time.setText(clock_time(self.when()))
        if (self._tag.text() == "late") != late:
            self._tag.setText("late" if late else "now")
            restyle(self._tag, role="late" if late else "muted")
        # As wide as the wider word in bold, whichever shows: the row never reflows.
        bold = QFont(self._tag.font())
        bold.setBold(True)
        self._tag.setFixedWidth(
            max(QFontMetrics(bold).horizontalAdvance(word) for word in ("now", "late")) + 2
        )
        self._tag.setAccessibleName(self.late_text() or "now")
        self._now.setEnabled(late)
        if dropped:
            self.changed.emit(None)

    def showEvent(self, event: QShowEvent) -> None:
        self.refresh()
        self._timer.start()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()
        super().hideEvent(event)
