"""The session screen's header and its pump-rate question.

The header carries the back button (with the tablet's name under it), who and where, the
phase with its elapsed time, the next reading's countdown, undo, the outcome of the last
action (for a while) and the infusion controls; the start button says what the start waits
for. It shows a :class:`~monitor.service.clinic.SessionView` and emits what was tapped.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from monitor.clinical.domain import EventKind, Phase
from monitor.clinical.rules import infusion_started_at, infusion_stopped_at
from monitor.clinical.start_gate import (
    DEFERRED_BASELINE_BP,
    DEFERRED_PHQ9,
    WAITING_BASELINE_BP,
    WAITING_PHQ9,
    baseline_question,
    missing_baseline,
    start_hold,
)
from monitor.service.board import format_elapsed, held_text, repeat_label
from monitor.service.views import SessionView
from ui.common.elided import ElidedLabel
from ui.common.keypad import NumericKeypad
from ui.common.labels import clock_time
from ui.common.style import TouchButton, icon
from ui.common.theme import TEXT_PX, Theme

#: How long the outcome of an action stays in the header: long enough to be read after
#: looking up from the patient, short enough not to be taken for the state of things later.
NOTICE_LASTS = timedelta(minutes=2)

START_TEXT = "▶ Start infusion"
#: What the start button's second line says it waits for (short; the tooltip is whole).
START_WAITS = {WAITING_PHQ9: "clinician: PHQ-9 item 9",
               DEFERRED_PHQ9: "clinician: deferred (PHQ-9 9)",
               WAITING_BASELINE_BP: "clinician: baseline BP",
               DEFERRED_BASELINE_BP: "clinician: deferred (BP)"}


class RateDialog(QDialog):
    """Asks for the new pump rate (mL/h) with the built-in keypad, whose own display shows
    the rate as typed."""

    def __init__(self, theme: Theme, current: float | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Change infusion rate")
        layout = QVBoxLayout(self)
        now = f"now {current:g} mL/h" if current else "current rate not recorded"
        layout.addWidget(QLabel(f"New pump rate in mL/h ({now})"))
        self.message = QLabel("")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.keypad = NumericKeypad(theme, decimal=True, max_length=5)
        # Hardware digit keys type the rate too.
        self.keypad.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.keypad.submitted.connect(lambda _text: self.accept())
        layout.addWidget(self.keypad)
        buttons = QHBoxLayout()
        cancel = TouchButton("Cancel")
        cancel.clicked.connect(self.reject)
        ok = TouchButton("Record rate change")
        ok.setProperty("primary", True)
        ok.clicked.connect(self.accept)
        buttons.addWidget(cancel)
        buttons.addWidget(ok)
        layout.addLayout(buttons)
        self.keypad.setFocus()

    def rate(self) -> float | None:
        text = self.keypad.text()
        try:
            value = float(text) if text else None
        except ValueError:
            return None
        return value if value is not None and 0 < value <= 999 else None

    def accept(self) -> None:
        if self.rate() is None:
            self.message.setText("Pump rate must be a number from 0.1 to 999 mL/h")
            return
        super().accept()


#: Lines the header keeps for its notice, shown or not.
NOTICE_LINES = 2


class SessionHeader(QFrame):
    """Back button, who and where, phase with elapsed time, next reading, undo, controls.

    Signals:
        back(): return to the chair overview.
        undo(): undo the last entry.
        infusion(object): an infusion control was tapped (an :class:`EventKind`).
    """

    back = Signal()
    undo = Signal()
    infusion = Signal(object)

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.setProperty("role", "card")
        self.back_button = TouchButton("◀ Chairs")
        self.back_button.clicked.connect(self.back)
        #: The tablet's name, small under the back button (clinic mode: several tablets
        #: chart into one database); one line, elided, whole in the tooltip.
        self.tablet = ElidedLabel(1)
        self.tablet.setObjectName("session-tablet")
        self.tablet.setProperty("role", "muted")
        self.tablet.hide()
        self.who = QLabel()
        self.who.setStyleSheet(f"font-size: {TEXT_PX + 4}px; font-weight: bold;")
        self.who.setWordWrap(True)
        self.phase = QLabel()
        self.phase.setStyleSheet(f"font-size: {TEXT_PX + 2}px;")
        # One line ("Infusing · 34:00 elapsed"): wrapped, it broke early and made the header
        # a line taller, which the chart needs.
        self.phase.setWordWrap(False)
        # One line, elided, whole in the tooltip: wrapped, "Next reading in 9:58 min (due
        # 20:43)" took three lines once the infusion controls showed, and squeezed the values.
        self.due = ElidedLabel(1)
        self.due.setObjectName("session-due")
        self.due.setStyleSheet(f"font-size: {TEXT_PX + 2}px; font-weight: bold;")
        self.due_icon = QLabel()
        #: The outcome of the last action taken outside the entry forms (infusion controls,
        #: acknowledgements, discharge): "Saved …", a refusal, or NOT saved. Never modal.
        # Two lines at most, elided with the whole text in the tooltip: a wrapped notice
        # made the header up to three lines taller and moved the tabs, tiles and keypad.
        self.notice = ElidedLabel(NOTICE_LINES)
        self.notice.setObjectName("session-notice")
        self.undo_button = TouchButton("Undo")
        self.undo_button.clicked.connect(self.undo)
        self.undo_button.hide()
        self.controls: dict[EventKind, TouchButton] = {}
        for kind, text in (
            (EventKind.INFUSION_START, START_TEXT),
            (EventKind.INFUSION_PAUSE, "❚❚ Pause"),
            (EventKind.INFUSION_RESUME, "▶ Resume"),
            (EventKind.RATE_CHANGE, "Rate…"),
            (EventKind.INFUSION_STOP, "■ Stop infusion"),
        ):
            button = TouchButton(text)
            button.setObjectName(f"infusion-{kind.value}")
            button.clicked.connect(lambda _checked=False, k=kind: self.infusion.emit(k))
            self.controls[kind] = button

        texts = QVBoxLayout()
        texts.setSpacing(2)
        texts.addWidget(self.who)
        #: The phase, and in landscape the notice beside it (elided, whole in its tooltip).
        self._phase_row = QHBoxLayout()
        self._phase_row.setSpacing(16)
        self._phase_row.addWidget(self.phase)
        texts.addLayout(self._phase_row)
        #: The countdown's own line: beside the phase, with undo and the infusion controls
        #: shown, "Repeat SpO2 in 4:56 min (due 23:05)" was cut to "Repeat SpO2 in 4:56 mi…".
        due_row = QHBoxLayout()
        due_row.addWidget(self.due_icon)
        due_row.addWidget(self.due, 1)
        texts.addLayout(due_row)
        #: The notice's own line in portrait; landscape has no height for a fourth line.
        self._notice_row = QHBoxLayout()
        self._notice_row.addWidget(self.notice, 1)
        texts.addLayout(self._notice_row)
        # Room for the notice is kept, so the screen does not shift when one appears.
        policy = self.notice.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.notice.setSizePolicy(policy)
        self.notice.hide()
        #: When the notice was shown (the clock's time), so that it can go when it is old.
        self._notice_at: datetime | None = None
        #: The notice shows the entries held on this tablet (cleared once none are).
        self._held_shown = False
        #: The notice says an action was not recorded (kept over the held count until it goes).
        self._problem_shown = False
        #: The notice is a green "Saved …" confirmation (the one :meth:`mark_earlier` dims).
        self._saved_shown = False
        self._layout = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self._layout.setContentsMargins(8, 4, 8, 4)
        back = QVBoxLayout()
        back.setSpacing(2)
        back.addStretch(1)
        back.addWidget(self.back_button)
        back.addWidget(self.tablet)
        back.addStretch(1)
        top = QHBoxLayout()
        top.addLayout(back)
        top.addLayout(texts, 1)
        # Undo leads the controls: beside them in landscape, on their row in portrait,
        # where beside the texts it left the countdown too little width.
        self._controls_row = QHBoxLayout()
        self._controls_row.addWidget(self.undo_button)
        for button in self.controls.values():
            self._controls_row.addWidget(button)
        self._layout.addLayout(top, 1)
        self._layout.addLayout(self._controls_row)

    def set_tablet(self, name: str) -> None:
        """Show which tablet this is: "Tablet Room-2", or "Demo tablet" as it is ("" shows
        nothing)."""
        shown = name if "tablet" in name.lower() else f"Tablet {name}"
        # Its height is set from its font: the style sheet's small type, not the default.
        self.tablet.ensurePolished()
        self.tablet.setText(shown if name else "")
        self.tablet.setVisible(bool(name))

    def set_orientation(self, orientation: Qt.Orientation) -> None:
        landscape = orientation == Qt.Orientation.Horizontal
        self._layout.setDirection(
            QBoxLayout.Direction.LeftToRight if landscape
            else QBoxLayout.Direction.TopToBottom
        )
        # Landscape keeps one line for the notice (elided, whole in its tooltip): 800 px
        # high, with the outage banner shown, a second line was taken from the value tiles.
        self.notice.lines = 1 if landscape else NOTICE_LINES
        self._phase_row.removeWidget(self.notice)
        self._notice_row.removeWidget(self.notice)
        if landscape:
            self._phase_row.addWidget(self.notice, 1)
        else:
            self._notice_row.addWidget(self.notice, 1)
        self.notice.ensurePolished()
        self.notice.setText(self.notice.text())

    def show_view(self, view: SessionView) -> None:
        if self._notice_at is not None and view.at - self._notice_at >= NOTICE_LASTS:
            self.clear_notice()
        info = view.info
        name = info.patient.name or "(name not recorded)"
        chair = f"Chair {info.chair} · " if info.chair else ""
        self.who.setText(f"{chair}{name} · MRN {info.patient.mrn}")
        record = view.record
        started, stopped = infusion_started_at(record), infusion_stopped_at(record)
        phase = view.phase
        if phase in (Phase.INFUSING, Phase.PAUSED) and started is not None:
            text = f"{phase.value.capitalize()} · {format_elapsed(view.at - started)} elapsed"
        elif phase is Phase.RECOVERY and stopped is not None:
            state = "Ready for discharge" if view.discharge.ready else "Recovery"
            text = f"{state} · {format_elapsed(view.at - stopped)} since stop"
        else:
            text = phase.value.capitalize()
        self.phase.setText(text)
        if view.next_due is None:
            self._set_due("")
            self.due_icon.clear()
        else:
            left = view.next_due - view.at
            if left.total_seconds() < 0:
                self.due.setStyleSheet(
                    f"font-size: {TEXT_PX + 2}px; font-weight: bold; color: {self.theme.warning};")
                self._set_due(f"Reading OVERDUE by {format_elapsed(-left)}")
                self.due_icon.setPixmap(icon(self.theme, "overdue", 28).pixmap(28))
            else:
                repeat = repeat_label(view.repeat_for)
                # As short as the usual line, so the portrait header keeps it on one line.
                which = f"Repeat {repeat}" if repeat else "Next reading"
                self.due.setStyleSheet(f"font-size: {TEXT_PX + 2}px; font-weight: bold;")
                self._set_due(f"{which} in {format_elapsed(left)} "
                              f"(due {clock_time(view.next_due)})")
                self.due_icon.clear()
        # Hidden when empty: an empty icon indented the countdown under the phase.
        self.due_icon.setVisible(not self.due_icon.pixmap().isNull())
        allowed = {
            Phase.BASELINE: {EventKind.INFUSION_START},
            Phase.INFUSING: {EventKind.INFUSION_PAUSE, EventKind.RATE_CHANGE,
                             EventKind.INFUSION_STOP},
            Phase.PAUSED: {EventKind.INFUSION_RESUME, EventKind.INFUSION_STOP},
        }.get(phase, set())
        for kind, button in self.controls.items():
            button.setVisible(kind in allowed)
        self._show_start(view)
        self._show_held(view)

    def _set_due(self, text: str) -> None:
        """The countdown, on one line: its height from the style sheet's font, not the
        default one (the label may not be polished yet)."""
        self.due.ensurePolished()
        self.due.setText(text)

    def _show_held(self, view: SessionView) -> None:
        """While entries wait on this tablet for the server, the header says how many (in
        amber); an entry the server refused is said until the session is closed here."""
        if view.refused_on_server:
            self.show_notice("The server refused an entry saved on this tablet: "
                             + view.refused_on_server[-1], problem=True, at=view.at)
        elif self._problem_shown:
            return  # why an action was not recorded stays until it goes, not hidden by the count
        elif view.held:
            self.show_held(held_text(view.held), at=view.at)
        elif self._held_shown:
            self.clear_notice()

    def _show_start(self, view: SessionView) -> None:
        """The start button says what the start waits for, or what it would go without."""
        button = self.controls[EventKind.INFUSION_START]
        text, tip = START_TEXT, ""
        if view.phase is Phase.BASELINE:
            hold = start_hold(view.flags, view.record.acknowledgements)
            missing = missing_baseline(view.record)
            if hold is not None:
                text = f"{START_TEXT}\nwaits for {START_WAITS.get(hold, hold)}"
                tip = f"The infusion waits for {hold}."
            elif missing:
                text = f"{START_TEXT}\nno baseline {', '.join(missing)}"
                tip = baseline_question(missing)
        button.setText(text)
        button.setToolTip(tip)
        button.setProperty("waiting", "true" if "waits" in text else "false")

    def show_notice(self, text: str, *, problem: bool, at: datetime) -> None:
        """Show the outcome of an action taken at ``at``; it goes after :data:`NOTICE_LASTS`."""
        colour = self.theme.critical if problem else self.theme.ok
        self.notice.setStyleSheet(f"font-weight: bold; color: {colour};")
        self.notice.setText(("⚠ " if problem else "✓ ") + text)
        self.notice.show()
        self._notice_at = at
        self._problem_shown = problem
        self._saved_shown = not problem

    def mark_earlier(self) -> None:
        """A save is in flight: a green "✓ Saved vitals 20:31" beside the form's "Saving…"
        reads as this save's outcome; it is said, dimmed, as the earlier entry's."""
        if not self._saved_shown or self.notice.isHidden():
            return
        self._saved_shown = False
        text = self.notice.text().removeprefix("✓ ")
        self.notice.setStyleSheet(f"color: {self.theme.text_muted};")
        self.notice.setText(f"Earlier: {text}")

    def show_held(self, text: str, *, at: datetime) -> None:
        """An entry saved on this tablet, not yet on the server: amber, never green."""
        self.notice.setStyleSheet(f"font-weight: bold; color: {self.theme.warning};")
        self.notice.setText(text)
        self.notice.show()
        self._notice_at = at
        self._held_shown = True
        self._problem_shown = False
        self._saved_shown = False

    def clear_notice(self) -> None:
        self._held_shown = False
        self._problem_shown = False
        self._saved_shown = False
        self.notice.clear()
        self.notice.hide()
        self._notice_at = None

    def notice_text(self) -> str:
        """The notice as shown ("" when none)."""
        return self.notice.text() if not self.notice.isHidden() else ""

    def show_undo(self, label: str) -> None:
        self.undo_button.setText(f"Undo {label}" if label else "Undo")
        self.undo_button.setVisible(bool(label))
