"""Device readings from the bedside monitor, waiting on the session screen for the nurse.

:class:`DeviceReadingsPanel` shows the oldest waiting reading (cuff time, BP, HR, SpO2, RR)
with one-tap **Confirm** and **Discard** (Discard then offers one-tap reasons), and how many of
the session's readings came from the monitor rather than the keypad. It is hidden while
nothing waits and the monitor has filed nothing. :class:`DeviceReadingsController` feeds
it from :class:`monitor.feed.filing.FeedFiling` and forwards the nurse's taps through the
session's presenter, so "Saved", refusals and NOT saved read as for a typed reading.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TypeVar

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from monitor.clinical.validation import FieldError
from monitor.feed.filing import DeviceReadingInfo, FeedError, FeedFiling
from monitor.service.views import SavedReading
from monitor.storage.store import StorageError
from ui.common.labels import clock_time
from ui.common.style import TouchButton
from ui.common.theme import TOUCH_MIN, Theme
from ui.session.presenter import SessionPresenter

T = TypeVar("T")

#: Values in a row: the smallest value size the house allows, so the row stays one line
#: high and the rail and chart keep their room.
ROW_VALUE_PX = 24
BUTTON_MIN_WIDTH = 120

#: The reasons offered after Discard, one tap each.
DISCARD_REASONS = ("Artefact", "Cuff off", "Patient moving")


def reading_text(info: DeviceReadingInfo) -> str:
    """``BP 190/95 · HR 88 · SpO2 97 % · RR 14``, leaving out what the monitor did not send."""
    values = info.values
    parts = []
    if "sbp" in values or "dbp" in values:
        parts.append(f"BP {values.get('sbp', '–')}/{values.get('dbp', '–')}")
    for key, label, unit in (("hr", "HR", ""), ("spo2", "SpO2", " %"), ("rr", "RR", "")):
        if key in values:
            parts.append(f"{label} {values[key]}{unit}")
    return " · ".join(parts)


class _Row(QFrame):
    confirm = Signal()
    discard = Signal(str)

    def __init__(self, theme: Theme, info: DeviceReadingInfo) -> None:
        super().__init__()
        self.info = info
        self.setObjectName("deviceReading")
        self.setStyleSheet(
            f"QFrame#deviceReading {{ background-color: {theme.surface}; "
            f"border: 2px solid {theme.border}; border-radius: 8px; }}")
        when = QLabel(clock_time(info.time))
        self.values = values = QLabel(reading_text(info))
        for label in (when, values):
            label.setStyleSheet(f"QLabel {{ font-size: {ROW_VALUE_PX}px; font-weight: bold; }}")
        values.setWordWrap(True)
        self.confirm_button = TouchButton("Confirm", min_size=BUTTON_MIN_WIDTH,
                                          min_height=TOUCH_MIN)
        self.confirm_button.setProperty("role", "primary")
        self.discard_button = TouchButton("Discard", min_size=BUTTON_MIN_WIDTH,
                                          min_height=TOUCH_MIN)
        self.confirm_button.clicked.connect(self.confirm)
        self.discard_button.clicked.connect(self._ask_reason)
        self.reasons = QWidget()
        reasons = QHBoxLayout(self.reasons)
        reasons.setContentsMargins(0, 0, 0, 0)
        reasons.addWidget(QLabel("Why?"))
        self.reason_buttons = []
        for reason in DISCARD_REASONS:
            button = TouchButton(reason, min_size=TOUCH_MIN)
            button.clicked.connect(lambda _=False, r=reason: self.discard.emit(r.lower()))
            reasons.addWidget(button)
            self.reason_buttons.append(button)
        self.keep_button = TouchButton("Keep", min_size=TOUCH_MIN)
        self.keep_button.clicked.connect(self._ask_reason)
        reasons.addWidget(self.keep_button)
        reasons.addStretch(1)
        self.reasons.setVisible(False)
        # Three short lines rather than one long one: the chart's column is narrow in
        # landscape (about 570 px at 1280x800).
        top = QHBoxLayout()
        top.addWidget(when)
        top.addWidget(values, 1)
        self.buttons = QWidget()
        buttons = QHBoxLayout(self.buttons)
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.confirm_button)
        buttons.addWidget(self.discard_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.buttons)
        layout.addWidget(self.reasons)
        if info.reason:
            note = QLabel(info.reason)
            note.setProperty("role", "muted")
            note.setWordWrap(True)
            layout.addWidget(note)

    def _ask_reason(self) -> None:
        """Discard swaps the buttons for the reasons (Keep swaps them back): same height."""
        asking = not self.reasons.isVisible()
        self.reasons.setVisible(asking)
        self.buttons.setVisible(not asking)


class DeviceReadingsPanel(QWidget):
    """The waiting device readings, and the count of readings the monitor filed.

    Signals:
        confirmRequested(object): the id of the device reading to file.
        discardRequested(object, str): the id of the device reading to discard, and why.
        heightWanted(int): the height that shows the panel whole (0 when hidden), for the
            splitter it sits in.
    """

    confirmRequested = Signal(object)
    discardRequested = Signal(object, str)
    heightWanted = Signal(int)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.rows: list[_Row] = []
        self._rows = QVBoxLayout()
        self._rows.setContentsMargins(0, 0, 0, 0)
        self._layout = layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addLayout(self._rows)
        self.setVisible(False)

    def show_readings(self, pending: Sequence[DeviceReadingInfo], filed: int) -> None:
        for row in self.rows:
            self._rows.removeWidget(row)
            row.deleteLater()
        self.rows = []
        # The oldest only: the nurse confirms in order, and the chart keeps its height.
        for info in pending[:1]:
            row = _Row(self.theme, info)
            row.confirm.connect(lambda i=info.id: self.confirmRequested.emit(i))
            row.discard.connect(lambda reason, i=info.id: self.discardRequested.emit(i, reason))
            self._rows.addWidget(row)
            self.rows.append(row)
        waiting = (f"{len(pending)} monitor reading{'s' if len(pending) != 1 else ''} to "
                   "confirm" if pending else "No monitor reading to confirm")
        self.summary.setText(f"{waiting} · {filed} from the monitor, not typed")
        self.setVisible(bool(pending) or filed > 0)
        parent = self.parentWidget()
        shown = self.isVisibleTo(parent) if parent is not None else self.isVisible()
        self.heightWanted.emit(self._layout.sizeHint().height() if shown else 0)


class DeviceReadingsController(QObject):
    """Keeps a :class:`DeviceReadingsPanel` in step with the session's device readings and
    carries out the nurse's Confirm and Discard through the session's presenter."""

    def __init__(self, filing: FeedFiling, presenter: SessionPresenter,
                 panel: DeviceReadingsPanel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.filing = filing
        self.presenter = presenter
        self.panel = panel
        panel.confirmRequested.connect(self.confirm)
        panel.discardRequested.connect(self.discard)
        self._record: object = None
        presenter.viewChanged.connect(self._view_changed)

    def _view_changed(self, view: object) -> None:
        """Read again when the record changed, not when the clock moved it on (the tick
        re-shows the same record; a monitor's new reading arrives as a change of the
        session, which loads a new one)."""
        record = getattr(view, "record", None)
        if record is not self._record:
            self._record = record
            self.reload()

    def reload(self) -> None:
        """Read the session's device readings again (on the presenter's worker)."""
        session_id = self.presenter.session_id

        def answered(future: Future[list[DeviceReadingInfo]]) -> None:
            try:
                readings = future.result()
            except StorageError:
                return  # the presenter reports the database; the panel keeps what it showed
            pending = [r for r in readings if r.status == "pending"]
            filed = sum(r.status in ("confirmed", "auto") for r in readings)
            self.panel.show_readings(pending, filed)

        self.presenter.background.run(lambda: self.filing.device_readings(session_id),
                                      answered)

    def confirm(self, device_reading_id: uuid.UUID) -> bool:
        answer = [False]
        by = self.presenter.staff_id

        def done(saved: SavedReading | FeedError | None) -> None:
            if saved is None or isinstance(saved, FeedError):
                return
            self.presenter._done("Saved monitor reading")
            if saved.new_flags:
                self.presenter.flagsRaised.emit(saved.new_flags)
            answer[0] = True

        self._attempt(lambda: self.filing.confirm(device_reading_id, by=by), done)
        return answer[0]

    def discard(self, device_reading_id: uuid.UUID, reason: str) -> bool:
        answer = [False]
        by = self.presenter.staff_id

        def discard() -> bool:
            self.filing.discard(device_reading_id, reason, by=by)
            return True

        def done(result: bool | FeedError | None) -> None:
            if result is None or isinstance(result, FeedError):
                return
            self.presenter._done("Discarded monitor reading")
            answer[0] = True

        self._attempt(discard, done)
        return answer[0]

    def _attempt(self, action: Callable[[], T], done: Callable[[T | FeedError | None], None],
                 ) -> None:
        """Run ``action`` through the presenter (its outcome announced as a save's); a
        reading confirmed or discarded meanwhile on another tablet is said and re-read."""
        def caught() -> T | FeedError:
            try:
                return action()
            except FeedError as exc:
                return exc

        def answered(result: T | FeedError | None) -> None:
            if isinstance(result, FeedError):
                self.presenter.refused.emit([FieldError("device reading", str(result))], [])
                self.reload()
            done(result)

        self.presenter._attempt(caught, answered)
