"""The chair-side entry forms: vitals, CADSS-6, MOAA/S, comfort scores and events.

Every form is built for a nurse holding a tablet in one hand in a dim room: large fields and
buttons, numbers typed on the built-in :class:`~ui.common.keypad.NumericKeypad`, scores chosen by
tapping. Each form:

* gives what was entered with ``raw()`` (text as typed for keypad fields, ints for scores)
  and, on Save, checks it with :func:`monitor.clinical.validation.validate_reading` before it emits
  anything: a refusal is shown with the field's name and accepted range, and the field is
  outlined; an unusual value waits for a "Confirm <value>" tap;
* keeps every control where it is while the nurse works: messages, the save state and
  "Confirm" buttons share one feedback strip of fixed height above Save (it scrolls when
  several show), and a late entry is said in the time row, so nothing that appears or goes
  moves a field, a key or Save under a finger;
* emits ``submitted(raw, when, confirmed)`` and never touches storage itself. The caller
  saves and then reports back with ``show_saving()``, ``show_saved(text)``,
  ``show_not_saved(message)`` or ``show_errors(...)``. "Saved" appears only when the
  caller says so; "NOT saved" keeps every value on screen with a Retry button that emits
  the very same submission again (same values, same time, same confirmations);
* carries an :class:`EntryTime`: the entry describes "now" unless the nurse steps it back
  for a late entry, and it can never describe the future.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics, QHideEvent, QIcon, QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from monitor.clinical.domain import EventKind, Measure, Reading, Severity
from monitor.clinical.protocol import Medication
from monitor.clinical.scores import CADSS6, MOAAS_LEVELS
from monitor.clinical.validation import (
    ITEM_SCALES,
    MEASURES,
    FieldError,
    check_typed_key,
    validate_reading,
    validate_time,
)
from monitor.clinical.wording import MEASURE_NAMES
from monitor.clock import Clock, ensure_utc
from ui.common.keypad import NumericKeypad
from ui.common.labels import clock_time
from ui.common.segmented import Segmented
from ui.common.style import KEY_MIN, PRIMARY_MIN, TouchButton, icon, tier_icon
from ui.common.theme import TOUCH_MIN, Theme
from ui.common.widgets import (
    FieldMessage,
    FittedLabel,
    KeypadField,
    VerticalScroll,
    label,
    restyle,
)

#: Keys of ``raw()`` that :func:`validate_reading` checks; the others (note, oxygen) are
#: passed to the service beside the reading.
READING_KEYS = frozenset(MEASURES) | frozenset(ITEM_SCALES)
#: The feedback strip above Save: one message with its "Confirm" button beside it, or the
#: save state with Retry. It never grows: more messages scroll inside it.
FEEDBACK_PX = TOUCH_MIN + 4
ICON_PX = 28
NOTE_MAX_LENGTH = 500
#: Prefix of the confirmation that a value copied from the last reading is unchanged
#: ("same:bp"); never passed on with the confirmed measures.
SAME_AS_LAST = "same:"
#: Horizontal padding, border and a margin of a value field, beside its text.
_VALUE_EDIT_FRAME = 36
_VALUE_EDIT_MAX = 360

#: The CADSS answer anchors, shown once above the items so that each row stays one line.
CADSS_ANCHORS = "0 not at all · 1 slightly · 2 moderately · 3 considerably · 4 extremely"

#: Adverse events offered by :class:`EventEntry`: (value in ``raw()``, button text).
ADVERSE_EVENTS: tuple[tuple[str, str], ...] = (
    ("nausea_vomiting", "Nausea / vomiting"),
    ("agitation", "Agitation"),
    ("headache", "Headache"),
    ("dizziness", "Dizziness"),
    ("other", "Other"),
)


def _button(text: str, name: str, *, min_height: int = TOUCH_MIN) -> QPushButton:
    button = TouchButton(text, min_height=min_height)
    button.setObjectName(name)
    # Focus follows taps on a tablet; a focus rect left on a score button looks like a choice.
    button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
    return button


class _Message(FieldMessage):
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
        super().__init__(theme, _button("Confirm", "confirm"), marked=marked,
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
            step = _button(f"\u2212{minutes} min", f"time-back-{minutes}")
            step.setAccessibleName(f"{minutes} minutes earlier")
            step.clicked.connect(lambda _checked, m=minutes: self.step_back(m))
            row.addWidget(step)
        self._now = _button("Now", "time-now")
        self._now.clicked.connect(self.reset)
        row.addWidget(self._now)

        self.message = _Message(theme, ("time",), self.text)

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


class _Banner(QFrame):
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
        self._retry = _button("Retry", "retry")
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


def _typed(value: Any) -> bool:
    """Whether a draft value holds something typed or chosen (a score of 0 does)."""
    if isinstance(value, list):
        return any(v is not None for v in value)
    return value is not None and value is not False and value != ""


class _EntryForm(QWidget):
    """What every entry form shares: scrolling body, entry time, the feedback strip (save
    state and every message), Save button.

    Signals:
        submitted(dict, object, object): ``raw()``, the time the entry describes (aware
            UTC ``datetime``) and the confirmed fields (``frozenset[str]``). Emitted by Save
            once the entry passes the inline checks, and again, unchanged, by Retry.
    """

    submitted = Signal(dict, object, object)
    save_text = "Save"

    def __init__(self, theme: Theme, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self._clock = clock
        self._messages: list[_Message] = []
        #: field -> the raw value the nurse confirmed; a changed value needs a new confirm.
        self._confirmed: dict[str, str] = {}
        #: The last submission, for Retry; dropped as soon as any value changes.
        self._pending: tuple[dict[str, Any], datetime, frozenset[str]] | None = None
        #: Set while :meth:`clear` empties the form: emptying is not the nurse editing.
        self._clearing = False
        #: The time the last submission described, when it was a late entry: "Saved" names
        #: it (the caller's text names when it was saved). Kept through :meth:`clear`.
        self._submitted_late: datetime | None = None

        self._body = QWidget()
        self.body_layout = QVBoxLayout(self._body)
        self.body_layout.setContentsMargins(10, 10, 10, 10)
        self.body_layout.setSpacing(10)
        self._scroll = VerticalScroll(self._body)

        # The feedback strip: a fixed height in the footer, whatever it shows. The banner's
        # and every message's appearing or going then moves no control outside it (a keypad
        # that jumps the moment "Saved" goes turns the next taps into the wrong digits).
        self._banner = _Banner(theme)
        self._banner.retry.connect(self._retry)
        self._feedback = QWidget()
        self._feedback.setObjectName("feedback")
        self._feedback_layout = QVBoxLayout(self._feedback)
        self._feedback_layout.setContentsMargins(0, 0, 0, 0)
        self._feedback_layout.setSpacing(4)
        self._feedback_layout.addWidget(self._banner)
        self._feedback_layout.addStretch(1)
        self._feedback_scroll = VerticalScroll(self._feedback)
        self._feedback_scroll.setFixedHeight(FEEDBACK_PX)
        # Refusals that belong to no one field ("enter at least one vital sign").
        self._general = self.add_message((), lambda: "")

        self.time = EntryTime(theme, clock)
        self._place_message(self.time.message)
        self.time.changed.connect(self._time_changed)
        self._save = _button(self.save_text, "save", min_height=PRIMARY_MIN)
        self._save.setProperty("primary", True)
        self._save.setIconSize(QSize(ICON_PX, ICON_PX))
        self._save.clicked.connect(self.save)

        footer = QFrame()
        footer.setProperty("role", "card")
        footer_layout = QVBoxLayout(footer)
        footer_layout.setContentsMargins(12, 8, 12, 12)
        footer_layout.setSpacing(8)
        footer_layout.addWidget(self.time)
        footer_layout.addWidget(self._feedback_scroll)
        footer_layout.addWidget(self._save)

        #: Beside the scrolling body, for what must never scroll away (the keypad).
        self.side_layout = QHBoxLayout()
        self.side_layout.setContentsMargins(0, 10, 8, 10)
        main = QHBoxLayout()
        main.setSpacing(0)
        main.addWidget(self._scroll, 1)
        main.addLayout(self.side_layout)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(main, 1)
        layout.addWidget(footer)

    # -- what subclasses provide -----------------------------------------------------------
    # Every form defines ``raw`` and ``_clear_values`` as methods; they are declared here,
    # not defined, so that a form without them fails at once with AttributeError.

    #: The values as entered: measure or event keys to raw text or choices.
    raw: Callable[[], dict[str, Any]]
    #: Empties the form's own fields (the entry time and messages are the base's).
    _clear_values: Callable[[], None]

    def _missing(self, raw: Mapping[str, Any]) -> list[FieldError]:
        """Refusals for required answers left out (the validator treats blanks as absent)."""
        return []

    # -- save state, driven by the caller --------------------------------------------------

    def show_saving(self) -> None:
        """The submission is being written: Save and Retry wait."""
        self._banner.show_state("saving", "Saving…")
        self._save.setEnabled(False)

    def show_saved(self, text: str) -> None:
        """The caller committed the entry: show ``text`` (e.g. "Saved 10:42"); a late entry
        is said with the time it describes instead ("Saved vitals for 10:32 (late entry)")."""
        self._pending = None
        if self._submitted_late is not None:
            done = self.save_text.replace("Save", "Saved", 1)
            text = f"{done} for {clock_time(self._submitted_late)} (late entry)"
        self._banner.show_state("saved", text)
        self._save.setEnabled(True)

    def show_not_saved(self, message: str) -> None:
        """The save failed: keep every value on screen, say so, offer Retry."""
        self._banner.show_state(
            "not_saved", f"NOT saved: {message}", retry=self._pending is not None
        )
        self._save.setEnabled(True)

    def show_errors(
        self, errors: Sequence[FieldError], needs_confirmation: Sequence[FieldError] = ()
    ) -> None:
        """The service refused the entry: show each refusal at its field, keep the values."""
        self._pending = None
        self._show_problems(list(errors), list(needs_confirmation), self.raw())
        if errors:
            # One whole message in the strip: the first refusal, said with "NOT saved" in
            # the banner; the others stay outlined at their fields (said again on Save).
            refusals = [m for m in self._messages if not m.isHidden() and m.is_error()]
            marked = [m for m in refusals if m.marked is not None]
            for message in self._messages:
                message.hide()
            more = len(errors) - 1
            text = f"NOT saved: {errors[0].message}"
            if more and marked:
                text += f" (and {more} more: see the fields outlined in red)"
            self._banner.show_state("not_saved", text)
            self._feedback_layout.activate()
            self._feedback_scroll.ensureWidgetVisible(self._banner, 0, 0)
        else:
            self._banner.clear()
        self._save.setEnabled(True)

    def clear(self) -> None:
        """Empty the form for the next entry. A "Saved" confirmation stays until the next
        edit, so the nurse still sees it after the form is emptied."""
        self._clearing = True
        try:
            self._clear_values()
            self.time.reset()
        finally:
            self._clearing = False
        self._confirmed.clear()
        self._pending = None
        for message in self._messages:
            message.clear()
        if self._banner.state() != "saved":
            self._banner.clear()
        self._save.setEnabled(True)

    # -- state for the caller and tests ----------------------------------------------------

    def save_button(self) -> QPushButton:
        return self._save

    def retry_button(self) -> QPushButton:
        return self._banner.retry_button()

    def banner_text(self) -> str:
        """The save state as shown ("" when none)."""
        return self._banner.text()

    def message_for(self, field: str) -> str:
        """The visible message shown for ``field`` ("" when none)."""
        return self._message_widget(field).text()

    def confirm_button(self, field: str) -> QPushButton:
        return self._message_widget(field).confirm_button()

    # -- drafts: what was typed, kept until it is saved --------------------------------------

    def draft_state(self) -> dict[str, Any]:
        """What the nurse typed or chose, as JSON values, to keep as a draft; ``{}`` when
        nothing is typed or the form keeps no drafts (one without ``_restore_values``)."""
        if not hasattr(self, "_restore_values"):
            return {}
        state = {key: list(value) if isinstance(value, tuple) else value
                 for key, value in self.raw().items()}
        typed = any(_typed(value) for key, value in state.items() if key != "on_oxygen")
        return state if typed else {}

    def restore_draft(self, state: Mapping[str, Any], saved_at: str = "") -> None:
        """Put a kept draft back, saying it is not saved yet."""
        restore: Callable[[Mapping[str, Any]], None] | None = getattr(
            self, "_restore_values", None)
        if restore is None or not state:
            return
        self._clearing = True
        try:
            restore(state)
        finally:
            self._clearing = False
        when = f" (typed {saved_at})" if saved_at else ""
        self._banner.show_state("not_saved", f"Draft restored{when}: NOT saved yet")

    # -- building blocks for subclasses ----------------------------------------------------

    def add_message(
        self, fields: Iterable[str], value_text: Callable[[], str], marked: QWidget | None = None
    ) -> _Message:
        """A message for ``fields``, placed in the feedback strip (``marked`` is the field
        outlined while it shows a refusal)."""
        message = _Message(self.theme, fields, value_text, marked)
        self._place_message(message)
        return message

    def _place_message(self, message: _Message) -> None:
        message.confirmClicked.connect(lambda m=message: self._confirm(m))
        self._messages.append(message)
        self._feedback_layout.insertWidget(self._feedback_layout.count() - 1, message)

    def _time_changed(self, _when: object) -> None:
        # Said on Save itself, the button tapped to keep it: no line comes and goes.
        late = self.time.is_late()
        self._save.setText(f"{self.save_text} · late entry for {self.time.text()}" if late
                           else self.save_text)
        self._save.setIcon(icon(self.theme, "overdue", ICON_PX) if late else QIcon())
        self._edited("time")

    def _edited(self, *fields: str) -> None:
        """A value changed: its message and any stale confirmation go, Retry goes."""
        if self._clearing:
            return
        for field in fields:
            self._message_widget(field).clear()
            self._confirmed.pop(field, None)
        self._general.clear()
        self._pending = None
        self._banner.hide_retry()
        if self._banner.state() == "saved":
            self._banner.clear()

    # -- save ------------------------------------------------------------------------------

    def save(self) -> None:
        """Check the entry; emit ``submitted`` if it passes, else show what to fix."""
        raw = self.raw()
        confirmed = self._confirmed_fields(raw)
        when = self.time.when()
        errors, requests = self._check(raw, confirmed)
        time_error = validate_time(when, self._clock.now(), label="Entry time")
        if time_error is not None:
            errors.append(time_error)
        if errors or requests:
            self._show_problems(errors, requests, raw)
            # The last entry's "Saved" beside this one's refusal reads as if this one saved.
            if self._banner.state() == "saved":
                self._banner.clear()
            return
        for message in self._messages:
            message.clear()
        confirmed = frozenset(f for f in confirmed if not f.startswith(SAME_AS_LAST))
        self._pending = (dict(raw), when, confirmed)
        self._submitted_late = when if self.time.is_late() else None
        self.submitted.emit(dict(raw), when, confirmed)

    def _check(
        self, raw: Mapping[str, Any], confirmed: frozenset[str]
    ) -> tuple[list[FieldError], list[FieldError]]:
        measures = {key: value for key, value in raw.items() if key in READING_KEYS}
        check = validate_reading(measures, confirmed=confirmed)
        missing = self._missing(raw)
        # A missing answer says more than the validator's general refusal of the same field.
        said = {error.field for error in missing}
        return missing + [e for e in check.errors if e.field not in said], (
            check.needs_confirmation
        )

    def _retry(self) -> None:
        if self._pending is None:
            return
        raw, when, confirmed = self._pending
        self.submitted.emit(dict(raw), when, confirmed)

    def _confirmed_fields(self, raw: Mapping[str, Any]) -> frozenset[str]:
        return frozenset(
            field for field, value in self._confirmed.items() if str(raw.get(field)) == value
        )

    def _confirm(self, message: _Message) -> None:
        raw = self.raw()
        for field in message.pending:
            self._confirmed[field] = str(raw.get(field))
        what = ("same as last" if any(f.startswith(SAME_AS_LAST) for f in message.pending)
                else "confirmed")
        message.show_note(f"{message.value_text()} {what}: tap {self.save_text} to keep it")

    def _message_widget(self, field: str) -> _Message:
        for message in self._messages:
            if field in message.fields:
                return message
        return self._general

    def _show_problems(
        self, errors: list[FieldError], requests: list[FieldError], raw: Mapping[str, Any]
    ) -> None:
        for message in self._messages:
            message.clear()
        refusals: dict[_Message, list[str]] = {}
        for error in errors:
            refusals.setdefault(self._message_widget(error.field), []).append(error.message)
        for message, texts in refusals.items():
            message.show_error("\n".join(dict.fromkeys(texts)))
        asks: dict[_Message, list[FieldError]] = {}
        for request in requests:
            message = self._message_widget(request.field)
            if message not in refusals:
                asks.setdefault(message, []).append(request)
        for message, fields in asks.items():
            same = any(f.field.startswith(SAME_AS_LAST) for f in fields)
            message.show_confirm(
                "\n".join(f.message for f in fields), message.value_text(),
                [f.field for f in fields],
                button_text=f"Same as last: {message.value_text()}" if same else None,
            )
        confirmed = self._confirmed_fields(raw)
        for message in self._messages:
            if message.isHidden() and message.fields & confirmed:
                message.show_note(f"{message.value_text()} confirmed")
        # The first problem into view inside the strip, a refusal before a question; the
        # form itself does not scroll.
        shown = sorted((m for m in self._messages if not m.isHidden()),
                       key=lambda m: m not in refusals)
        if shown:
            # Laid out first: a message shown just now has no place in the strip yet.
            self._feedback_layout.activate()
            self._feedback_scroll.ensureWidgetVisible(shown[0], 0, 0)


class _VitalField:
    """One keypad-entered vital sign: its widgets and its last recorded value."""

    def __init__(
        self, form: VitalsEntry, measure: Measure, unit: str, *, slash: bool = False
    ) -> None:
        key = measure.value
        name = MEASURE_NAMES[measure]
        self.key = key
        self.slash = slash
        self.max_length = 7 if slash else 3
        self.unit = unit
        self.last = ""
        self.edit = KeypadField(f"field-{key}", "300/200" if slash else "250",
                                 frame=_VALUE_EDIT_FRAME, max_width=_VALUE_EDIT_MAX)
        self.edit.setAccessibleName(MEASURES[key].label if key in MEASURES else "Blood pressure")
        self.name = label(name, "field", wrap=False)
        self.detail = label(unit, "muted")
        #: What the field's message speaks for: its measures, and the confirmation that a
        #: copied last value is unchanged (dropped, like any confirmation, on an edit).
        self.fields = (*(("sbp", "dbp") if slash else (key,)), f"{SAME_AS_LAST}{key}")
        self.message = form.add_message(self.fields, self.edit.text, self.edit)
        #: The text stands as copied from the last reading, not typed: it is no reading
        #: until the nurse says it is the same.
        self.copied = False
        #: Why a key typed here was refused; it stands (and Save refuses) until the nurse
        #: takes characters away, so that what was typed after it is never kept cut short.
        #: A key refused in an empty field cut nothing short: it is said, and blocks nothing.
        self.refusal: str | None = None
        #: The key that was refused, for Save to name.
        self.refused_key = ""
        #: The text as it stood after the last key, to tell an added key from a removal.
        self.typed = ""

    def check_key(self, text: str, key: str) -> str | None:
        """The refusal of ``key`` typed after ``text`` (see :func:`check_typed_key`)."""
        refusal = check_typed_key(self.key, text, key)
        return refusal.message if refusal is not None else None

    def set_last(self, text: str) -> None:
        self.last = text
        self.detail.setText(f"{self.unit}\nlast {text}" if text else self.unit)


class VitalsEntry(_EntryForm):
    """Blood pressure (one entry, "128/82"), heart rate, SpO2, respiratory rate (optional),
    room air / on oxygen, and a note.

    Tapping a field points the keypad at it and fills it with its last recorded value
    (:meth:`set_last`), selected, as a starting point: a new value is typed straight over
    it, and Save refuses a copy left unchanged until the nurse taps "Same as last" (a copy
    is never a reading by itself). Enter moves to the next field without filling it. A key
    a field does not take (a letter, "/" in heart rate, a fourth digit) is refused under
    the field, and Save refuses the field until characters are taken away: nothing typed
    is kept cut short.

    ``raw()``: ``sbp``, ``dbp`` (the BP entry split at its "/"), ``hr``, ``spo2``, ``rr`` as
    typed (``""`` when empty); ``on_oxygen`` (bool) and ``note`` (str), which go to the
    service beside the reading.

    Signals:
        submitted(dict, object, object): see :class:`_EntryForm`.
    """

    save_text = "Save vitals"

    def __init__(self, theme: Theme, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(theme, clock, parent)
        self._fields = [
            _VitalField(self, Measure.BP, "mmHg", slash=True),
            _VitalField(self, Measure.HR, "/min"),
            _VitalField(self, Measure.SPO2, "%"),
            _VitalField(self, Measure.RR, "/min\noptional"),
        ]
        self._active: _VitalField | None = None
        self.keypad = NumericKeypad(theme)
        # Takes the keyboard focus when a field is tapped, so that hardware digit keys type
        # into that field (the fields themselves take no focus: no system keyboard).
        self.keypad.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.keypad.valueChanged.connect(self._typed)
        self.keypad.submitted.connect(self._next_field)
        self.keypad.refused.connect(self._key_refused)

        self._last_time = label(role="muted")
        self._last_time.setObjectName("last-reading")
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(8)
        for index, field in enumerate(self._fields):
            names = QVBoxLayout()
            names.setSpacing(0)
            names.addWidget(field.name)
            names.addWidget(field.detail)
            names.addStretch(1)
            grid.addLayout(names, index, 0)
            grid.addWidget(field.edit, index, 1)
            field.edit.tapped.connect(lambda f=field: self._activate(f, load_last=True))
        grid.setColumnStretch(1, 1)

        self._oxygen = Segmented("oxygen", (False, True), ("Room air", "On oxygen"))
        self._oxygen.set_value(False)
        self._oxygen.changed.connect(lambda _value: self._edited("on_oxygen"))
        self._note = QLineEdit()
        self._note.setObjectName("note")
        self._note.setPlaceholderText("Note (optional)")
        self._note.setMaxLength(NOTE_MAX_LENGTH)
        self._note.setMinimumHeight(TOUCH_MIN)
        self._note.textEdited.connect(lambda _text: self._edited("note"))

        self.body_layout.addWidget(self._last_time)
        self.body_layout.addLayout(grid)
        self.body_layout.addWidget(self._oxygen)
        self.body_layout.addWidget(self._note)
        self.body_layout.addStretch(1)
        # The keypad sits outside the scrolling area: it must stay under the thumb.
        self.keypad.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.side_layout.addWidget(self.keypad)
        self.set_last(None)
        self._activate(self._fields[0], load_last=False)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Keys reach the form when the focus is on none of its text fields (after a save,
        # on a button): they type into the active value field.
        if not self.keypad.handle_key(event):
            super().keyPressEvent(event)

    def field(self, key: str) -> QLineEdit:
        """The value field ``bp``, ``hr``, ``spo2`` or ``rr``."""
        return self._field(key).edit

    def active_field(self) -> str | None:
        return self._active.key if self._active is not None else None

    def field_hint(self, key: str) -> str:
        """The unit and last value shown beside field ``key``."""
        return self._field(key).detail.text()

    def last_reading_text(self) -> str:
        return self._last_time.text()

    def set_last(self, reading: Reading | None) -> None:
        """The session's last reading: what each field opens on, and the oxygen default
        (oxygen is rarely changed between readings, and a forgotten toggle would record an
        SpO2 on oxygen as room air)."""
        if reading is not None and all(
                getattr(reading, key) is None for key in ("sbp", "dbp", "hr", "spo2", "rr")):
            # Scores only (comfort, CADSS-6): no vital sign to start from.
            reading = None
        bp = ""
        if reading is not None and reading.sbp is not None and reading.dbp is not None:
            bp = f"{reading.sbp}/{reading.dbp}"
        for field in self._fields:
            value = getattr(reading, field.key, None) if field.key != "bp" else bp
            field.set_last("" if value is None else str(value))
        self._oxygen.set_value(reading.on_oxygen if reading is not None else False)
        self._last_time.setText(
            f"Last reading {clock_time(reading.time)}: tap a field to start from it"
            if reading is not None
            else "No reading yet"
        )

    def raw(self) -> dict[str, Any]:
        bp = self._field("bp").edit.text()
        sbp, _slash, dbp = bp.partition("/")
        return {
            "sbp": sbp,
            "dbp": dbp,
            "hr": self._field("hr").edit.text(),
            "spo2": self._field("spo2").edit.text(),
            "rr": self._field("rr").edit.text(),
            "on_oxygen": bool(self._oxygen.value()),
            "note": self._note.text(),
        }

    def _restore_values(self, state: Mapping[str, Any]) -> None:
        sbp, dbp = str(state.get("sbp") or ""), str(state.get("dbp") or "")
        self._field("bp").edit.setText(f"{sbp}/{dbp}" if dbp else sbp)
        for key in ("hr", "spo2", "rr"):
            self._field(key).edit.setText(str(state.get(key) or ""))
        self._oxygen.set_value(bool(state.get("on_oxygen")))
        self._note.setText(str(state.get("note") or ""))
        self._activate(self._fields[0], load_last=False)

    def _missing(self, raw: Mapping[str, Any]) -> list[FieldError]:
        if any(raw[key] for key in ("sbp", "dbp", "hr", "spo2", "rr")):
            return []
        return [FieldError("vitals", "Enter at least one vital sign: BP, heart rate, SpO2 or "
                                     "respiratory rate")]

    def _check(
        self, raw: Mapping[str, Any], confirmed: frozenset[str]
    ) -> tuple[list[FieldError], list[FieldError]]:
        errors, requests = super()._check(raw, confirmed)
        said = {error.field for error in errors}
        for field in self._fields:
            if field.refusal is not None and field.fields[0] not in said:
                # Said anew on Save, so the nurse sees it answer and knows what to do.
                errors.append(FieldError(
                    field.fields[0],
                    f"{field.edit.accessibleName()}: '{field.edit.text()}' came with a refused "
                    f"'{field.refused_key}', tap Clear or correct it"))
            same = field.fields[-1]
            if field.copied and field.edit.text() and same not in confirmed:
                # Asked first: an unusual value is confirmed once it is known to be meant.
                requests = [r for r in requests if r.field not in field.fields]
                requests.append(FieldError(
                    same, f"{field.name.text()} {field.edit.text()} is copied from the last "
                          "reading: type today's value, or tap “Same as last”"))
        return errors, requests

    def _clear_values(self) -> None:
        for field in self._fields:
            field.edit.clear()
            field.copied = False
            field.refusal = None
            field.typed = ""
        self._note.clear()
        self._activate(self._fields[0], load_last=False)

    def _field(self, key: str) -> _VitalField:
        return next(f for f in self._fields if f.key == key)

    def _activate(self, field: _VitalField, *, load_last: bool) -> None:
        if self._active is not None:
            restyle(self._active.edit, active=False)
        self._active = field
        restyle(field.edit, active=True)
        self.keypad.set_target(field.edit, slash=field.slash, max_length=field.max_length,
                               check=field.check_key)
        copy = not field.edit.text() and load_last and bool(field.last)
        text = field.edit.text() or (field.last if load_last else "")
        self.keypad.set_text(text, replace_on_type=True)
        if copy:
            field.copied = True
        field.typed = field.edit.text()
        if self.keypad.isVisible():
            self.keypad.setFocus(Qt.FocusReason.OtherFocusReason)

    def _typed(self, text: str) -> None:
        field = self._active
        if field is None:
            return
        added = len(text) > len(field.typed) and text.startswith(field.typed)
        field.typed = text
        field.copied = False
        self._edited(*field.fields)
        if field.refusal is not None and added:
            field.message.show_error(field.refusal)
        elif not added:
            field.refusal = None

    def _key_refused(self, refusal: str) -> None:
        field = self._active
        if field is None:
            return
        if field.edit.text():
            if field.refusal is None:
                # The first key refused is the one that cut the value short.
                field.refused_key = self.keypad.refused_key()
            field.refusal = refusal
        field.message.show_error(refusal)

    def _next_field(self, _text: str) -> None:
        if self._active is None:
            return
        index = self._fields.index(self._active)
        if index + 1 < len(self._fields):
            self._activate(self._fields[index + 1], load_last=False)


class CadssEntry(_EntryForm):
    """The six CADSS-6 items, each scored 0–4 with one tap; all six are required.

    The running total shows as "CADSS-6 total 7 / 24" (with how many items are scored
    while some are not). ``raw()``: ``{"cadss6_items": (int | None, …six)}``.

    Signals:
        submitted(dict, object, object): see :class:`_EntryForm`.
    """

    save_text = "Save CADSS-6"

    def __init__(self, theme: Theme, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(theme, clock, parent)
        self._items: list[Segmented] = []
        self._labels: list[QLabel] = []
        self._total = label(role="total", wrap=False)
        self._total.setObjectName("cadss-total")
        self._total_message = self.add_message(("cadss6_items", "cadss6"), self._total.text)
        self.body_layout.addWidget(self._total)
        self.body_layout.addWidget(label(CADSS_ANCHORS, "muted"))
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(6)
        for index, text in enumerate(CADSS6.items):
            item_label = label(f"{index + 1}. {text[:1].upper()}{text[1:]}")
            segmented = Segmented(f"cadss-{index + 1}", range(CADSS6.item_max + 1))
            segmented.changed.connect(lambda _value: self._scored())
            grid.addWidget(item_label, index, 0)
            grid.addWidget(segmented, index, 1)
            self._items.append(segmented)
            self._labels.append(item_label)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 2)
        self.body_layout.addLayout(grid)
        self.body_layout.addStretch(1)
        self._update_total()

    def item(self, number: int) -> Segmented:
        """Item ``number`` (1–6)."""
        return self._items[number - 1]

    def item_label(self, number: int) -> str:
        return self._labels[number - 1].text()

    def total_text(self) -> str:
        return self._total.text()

    def raw(self) -> dict[str, Any]:
        return {"cadss6_items": tuple(item.value() for item in self._items)}

    def _missing(self, raw: Mapping[str, Any]) -> list[FieldError]:
        unscored = [str(n) for n, v in enumerate(raw["cadss6_items"], start=1) if v is None]
        if not unscored:
            return []
        items = "item" if len(unscored) == 1 else "items"
        return [FieldError("cadss6_items", f"Score all six CADSS-6 items, each 0 to "
                                           f"{CADSS6.item_max}: {items} {', '.join(unscored)} "
                                           f"not scored")]

    def _clear_values(self) -> None:
        for item in self._items:
            item.set_value(None)
        self._update_total()

    def _restore_values(self, state: Mapping[str, Any]) -> None:
        for item, value in zip(self._items, state.get("cadss6_items") or (), strict=False):
            item.set_value(value)
        self._update_total()

    def _scored(self) -> None:
        self._update_total()
        self._edited("cadss6_items")

    def _update_total(self) -> None:
        scores = [item.value() for item in self._items if item.value() is not None]
        text = f"CADSS-6 total {sum(scores)} / {CADSS6.max_total}"
        if len(scores) < len(self._items):
            text += f"   ({len(scores)} of {len(self._items)} scored)"
        self._total.setText(text)


class _Choice(TouchButton):
    """A tall checkable button with a large number and a wrapped description."""

    def __init__(self, name: str, number: str, description: str) -> None:
        super().__init__(min_height=KEY_MIN)
        self.setObjectName(name)
        self.setCheckable(True)
        self.setProperty("choice", True)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.setAccessibleName(f"{number}: {description}")
        self._number = label(number, "value", wrap=False)
        self._number.setFixedWidth(KEY_MIN)
        self._number.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._description = label(description)
        for child in (self._number, self._description):
            # Taps land on the button, not on the labels drawn over it.
            child.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 12, 6)
        layout.addWidget(self._number)
        layout.addWidget(self._description, 1)
        self.toggled.connect(self._restyle)

    def _restyle(self, checked: bool) -> None:
        for child in (self._number, self._description):
            restyle(child, on_accent=checked)


class MoaasEntry(_EntryForm):
    """MOAA/S: six large choices, 5 (responds readily) down to 0 (no response), each with
    its definition. ``raw()``: ``{"moaas": int | None}``.

    Signals:
        submitted(dict, object, object): see :class:`_EntryForm`.
    """

    save_text = "Save MOAA/S"

    def __init__(self, theme: Theme, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(theme, clock, parent)
        self._value: int | None = None
        self._choices: dict[int, _Choice] = {}
        self.body_layout.addWidget(
            label("MOAA/S: how does the patient respond?", "field", wrap=False))
        self._message = self.add_message(("moaas",), lambda: str(self._value))
        for level in sorted(MOAAS_LEVELS, reverse=True):
            text = MOAAS_LEVELS[level]
            choice = _Choice(f"moaas-{level}", str(level), f"{text[:1].upper()}{text[1:]}")
            choice.clicked.connect(lambda _checked, v=level: self._choose(v))
            self.body_layout.addWidget(choice)
            self._choices[level] = choice
        self.body_layout.addStretch(1)

    def choice(self, level: int) -> QPushButton:
        return self._choices[level]

    def raw(self) -> dict[str, Any]:
        return {"moaas": self._value}

    def _missing(self, raw: Mapping[str, Any]) -> list[FieldError]:
        if raw["moaas"] is not None:
            return []
        return [FieldError("moaas", "Choose the MOAA/S level, 0 to 5")]

    def _clear_values(self) -> None:
        self._set(None)

    def _restore_values(self, state: Mapping[str, Any]) -> None:
        self._set(state.get("moaas"))

    def _choose(self, level: int) -> None:
        self._set(level)
        self._edited("moaas")

    def _set(self, level: int | None) -> None:
        self._value = level
        for value, choice in self._choices.items():
            choice.setChecked(value == level)


class ComfortEntry(_EntryForm):
    """Nausea, anxiety and pain, each 0 (none) to 10 (worst); any may be left out, not all.

    A second tap on the chosen score takes it back. ``raw()``:
    ``{"nausea": int | None, "anxiety": int | None, "pain": int | None}``.

    Signals:
        submitted(dict, object, object): see :class:`_EntryForm`.
    """

    save_text = "Save comfort"
    SCORES = ("nausea", "anxiety", "pain")

    def __init__(self, theme: Theme, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(theme, clock, parent)
        self._rows: dict[str, Segmented] = {}
        self.body_layout.addWidget(label("0 none · 10 worst imaginable", "muted", wrap=False))
        for key in self.SCORES:
            spec = MEASURES[key]
            row = Segmented(key, range(spec.high + 1), allow_none=True, spacing=3)
            row.changed.connect(lambda _value, k=key: self._edited(k))
            self.add_message((key,), lambda r=row: str(r.value()))
            self.body_layout.addWidget(label(spec.label, "field", wrap=False))
            self.body_layout.addWidget(row)
            self._rows[key] = row
        self.body_layout.addStretch(1)

    def row(self, key: str) -> Segmented:
        return self._rows[key]

    def raw(self) -> dict[str, Any]:
        return {key: row.value() for key, row in self._rows.items()}

    def _missing(self, raw: Mapping[str, Any]) -> list[FieldError]:
        if any(value is not None for value in raw.values()):
            return []
        return [FieldError("comfort", "Choose at least one score: nausea, anxiety or pain")]

    def _clear_values(self) -> None:
        for row in self._rows.values():
            row.set_value(None)

    def _restore_values(self, state: Mapping[str, Any]) -> None:
        for key, row in self._rows.items():
            row.set_value(state.get(key))


class EventEntry(_EntryForm):
    """Medication given (from the protocol's list), adverse event, or a free note.

    ``raw()``: ``kind`` (an :class:`~monitor.clinical.domain.EventKind` value or ``None``),
    ``medication`` (the chosen :class:`~monitor.clinical.protocol.Medication` or ``None``),
    ``adverse_event`` (a value of :data:`ADVERSE_EVENTS` or ``None``) and ``note`` (str).
    A note is required for a free note and for an "Other" adverse event.

    Signals:
        submitted(dict, object, object): see :class:`_EntryForm`.
    """

    save_text = "Save event"
    KINDS = (EventKind.MEDICATION, EventKind.ADVERSE_EVENT, EventKind.NOTE)

    def __init__(
        self,
        theme: Theme,
        clock: Clock,
        medications: Sequence[Medication],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(theme, clock, parent)
        self._medications = tuple(medications)
        self._kind = Segmented(
            "kind", [k.value for k in self.KINDS], ("Medication given", "Adverse event", "Note"),
            min_height=PRIMARY_MIN,
        )
        self._kind.changed.connect(self._kind_chosen)
        self.body_layout.addWidget(self._kind)
        self.add_message(("kind",), lambda: "")

        self._medication = Segmented(
            "medication", range(len(self._medications)), [m.label for m in self._medications],
            min_height=PRIMARY_MIN, spacing=8, columns=2,
        )
        self._medication.changed.connect(lambda _value: self._edited("medication"))
        self._adverse = Segmented(
            "adverse", [value for value, _text in ADVERSE_EVENTS],
            [text for _value, text in ADVERSE_EVENTS], min_height=PRIMARY_MIN, spacing=8,
            columns=2,
        )
        self._adverse.changed.connect(self._adverse_chosen)
        # Only the chosen kind's choices are shown, so nothing irrelevant is tappable.
        medication_page = QWidget()
        medication_layout = QVBoxLayout(medication_page)
        medication_layout.setContentsMargins(0, 0, 0, 0)
        if self._medications:
            medication_layout.addWidget(self._medication)
        else:
            medication_layout.addWidget(
                label("The protocol lists no medications: describe it in the note.",
                      "muted")
            )
        self.add_message(("medication",), lambda: "")
        adverse_page = QWidget()
        adverse_layout = QVBoxLayout(adverse_page)
        adverse_layout.setContentsMargins(0, 0, 0, 0)
        adverse_layout.addWidget(self._adverse)
        self.add_message(("adverse_event",), lambda: "")
        self._pages = {EventKind.MEDICATION: medication_page, EventKind.ADVERSE_EVENT: adverse_page}
        self.body_layout.addWidget(medication_page)
        self.body_layout.addWidget(adverse_page)

        self._note_label = label("Note (optional)", "field", wrap=False)
        self._note = QLineEdit()
        self._note.setObjectName("note")
        self._note.setMaxLength(NOTE_MAX_LENGTH)
        self._note.setMinimumHeight(TOUCH_MIN)
        self._note.textEdited.connect(lambda _text: self._edited("note"))
        self.body_layout.addWidget(self._note_label)
        self.body_layout.addWidget(self._note)
        self.add_message(("note",), self._note.text, self._note)
        self.body_layout.addStretch(1)
        self._kind_chosen(None)

    def kind(self) -> Segmented:
        return self._kind

    def medication_button(self, index: int) -> QPushButton:
        return self._medication.button(index)

    def adverse_button(self, value: str) -> QPushButton:
        return self._adverse.button(value)

    def note_field(self) -> QLineEdit:
        return self._note

    def raw(self) -> dict[str, Any]:
        kind = self._kind.value()
        index = self._medication.value() if kind == EventKind.MEDICATION else None
        return {
            "kind": kind,
            "medication": self._medications[index] if index is not None else None,
            "adverse_event": self._adverse.value() if kind == EventKind.ADVERSE_EVENT else None,
            "note": self._note.text().strip(),
        }

    def _check(
        self, raw: Mapping[str, Any], confirmed: frozenset[str]
    ) -> tuple[list[FieldError], list[FieldError]]:
        kind = raw["kind"]
        if kind is None:
            return [FieldError("kind", "Choose what happened: medication, adverse event or "
                                       "note")], []
        errors = []
        if kind == EventKind.MEDICATION and raw["medication"] is None and self._medications:
            errors.append(FieldError("medication", "Choose the medication given"))
        if kind == EventKind.ADVERSE_EVENT and raw["adverse_event"] is None:
            errors.append(FieldError("adverse_event", "Choose the adverse event"))
        if not raw["note"] and self._note_required(raw):
            errors.append(FieldError("note", "Write the note: what happened"))
        return errors, []

    def _note_required(self, raw: Mapping[str, Any]) -> bool:
        return (
            raw["kind"] == EventKind.NOTE
            or raw["adverse_event"] == "other"
            or (raw["kind"] == EventKind.MEDICATION and not self._medications)
        )

    def _clear_values(self) -> None:
        self._kind.set_value(None)
        self._medication.set_value(None)
        self._adverse.set_value(None)
        self._note.clear()
        self._kind_chosen(None)

    def _kind_chosen(self, kind: str | None) -> None:
        for page_kind, page in self._pages.items():
            page.setVisible(kind == page_kind)
        self._update_note_label()
        if kind is not None:
            self._edited("kind")

    def _adverse_chosen(self, _value: str | None) -> None:
        self._update_note_label()
        self._edited("adverse_event")

    def _update_note_label(self) -> None:
        raw = self.raw()
        required = raw["kind"] is not None and self._note_required(raw)
        self._note_label.setText("Note (required)" if required else "Note (optional)")
