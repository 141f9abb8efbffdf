"""What every entry form shares: the scrolling body, the entry time, the feedback strip and
Save; the inline checks before anything is emitted, confirmations, Retry and drafts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from monitor.clinical.validation import (
    ITEM_SCALES,
    MEASURES,
    FieldError,
    validate_reading,
    validate_time,
)
from monitor.clock import Clock
from monitor.service.board import held_text
from ui.common.labels import clock_time
from ui.common.style import PRIMARY_MIN, icon
from ui.common.theme import Theme
from ui.common.widgets import VerticalScroll
from ui.session.entry.entry_time import EntryTime
from ui.session.entry.feedback import (
    FEEDBACK_PX,
    ICON_PX,
    FeedbackMessage,
    SaveBanner,
    entry_button,
)

#: Keys of ``raw()`` that :func:`validate_reading` checks; the others (note, oxygen) are
#: passed to the service beside the reading.
READING_KEYS = frozenset(MEASURES) | frozenset(ITEM_SCALES)
NOTE_MAX_LENGTH = 500
#: Prefix of the confirmation that a value copied from the last reading is unchanged
#: ("same:bp"); never passed on with the confirmed measures.
SAME_AS_LAST = "same:"
#: What a banner that said "Saved on this tablet — not yet on the server" says once the
#: session's held entries have reached the server.
REACHED_SERVER = "On the server now"


def _typed(value: Any) -> bool:
    """Whether a draft value holds something typed or chosen (a score of 0 does)."""
    if isinstance(value, list):
        return any(v is not None for v in value)
    return value is not None and value is not False and value != ""


class EntryForm(QWidget):
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
        self._messages: list[FeedbackMessage] = []
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
        self._banner = SaveBanner(theme)
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
        self._save = entry_button(self.save_text, "save", min_height=PRIMARY_MIN)
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

    def saving(self) -> bool:
        """Whether a submission is being saved (shown "Saving…", not yet answered)."""
        return self._banner.state() == "saving"

    def show_saved(self, text: str) -> None:
        """The caller committed the entry: show ``text`` (e.g. "Saved 10:42"); a late entry
        is said with the time it describes instead ("Saved vitals for 10:32 (late entry)")."""
        self._pending = None
        if self._submitted_late is not None:
            done = self.save_text.replace("Save", "Saved", 1)
            text = f"{done} for {clock_time(self._submitted_late)} (late entry)"
        self._banner.show_state("saved", text)
        self._save.setEnabled(True)

    def show_held(self, text: str) -> None:
        """The entry is saved on this tablet, not yet on the server: ``text`` says so, in
        amber (the form is cleared: the entry is kept on the tablet, not on screen)."""
        self._pending = None
        self._banner.show_state("held", text)
        self._save.setEnabled(True)

    def follow_held(self, held: int, *, refused: bool = False) -> None:
        """The session's count of entries held on this tablet changed: a held banner follows
        it ("… (1)"), says "On the server now" once none wait, or goes when the server
        refused one since (the header says which): never a stale "not yet on the server"."""
        if self._banner.state() != "held":
            return
        if held:
            self._banner.show_state("held", held_text(held))
        elif refused:
            self._banner.clear()
        else:
            self._banner.show_state("saved", REACHED_SERVER)

    def show_not_saved(self, message: str) -> None:
        """The save failed: keep every value on screen, say so, offer Retry."""
        self._banner.show_state(
            "not_saved", f"NOT saved: {message}", retry=self._pending is not None
        )
        self._save.setEnabled(True)

    def show_save_unknown(self, message: str) -> None:
        """The link dropped while saving and whether it is stored is not known: keep every
        value on screen, say so in ``message``'s words, offer Retry (under the same id)."""
        self._banner.show_state("not_saved", message, retry=self._pending is not None)
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
        if self._banner.state() not in ("saved", "held"):
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
    ) -> FeedbackMessage:
        """A message for ``fields``, placed in the feedback strip (``marked`` is the field
        outlined while it shows a refusal)."""
        message = FeedbackMessage(self.theme, fields, value_text, marked)
        self._place_message(message)
        return message

    def _place_message(self, message: FeedbackMessage) -> None:
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
        if self._banner.state() in ("saved", "held"):
            self._banner.clear()

    # -- save ------------------------------------------------------------------------------

    def save(self) -> None:
        """Check the entry; emit ``submitted`` if it passes, else show what to fix. While
        the last submission is being saved, nothing is sent again (a second tap of Save, or
        the keypad's Enter, while the server has not answered)."""
        if self.saving():
            return
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
            if self._banner.state() in ("saved", "held"):
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
        if self._pending is None or self.saving():
            return
        raw, when, confirmed = self._pending
        self.submitted.emit(dict(raw), when, confirmed)

    def _confirmed_fields(self, raw: Mapping[str, Any]) -> frozenset[str]:
        return frozenset(
            field for field, value in self._confirmed.items() if str(raw.get(field)) == value
        )

    def _confirm(self, message: FeedbackMessage) -> None:
        raw = self.raw()
        for field in message.pending:
            self._confirmed[field] = str(raw.get(field))
        what = ("same as last" if any(f.startswith(SAME_AS_LAST) for f in message.pending)
                else "confirmed")
        message.show_note(f"{message.value_text()} {what}: tap {self.save_text} to keep it")

    def _message_widget(self, field: str) -> FeedbackMessage:
        for message in self._messages:
            if field in message.fields:
                return message
        return self._general

    def _show_problems(
        self, errors: list[FieldError], requests: list[FieldError], raw: Mapping[str, Any]
    ) -> None:
        for message in self._messages:
            message.clear()
        refusals: dict[FeedbackMessage, list[str]] = {}
        for error in errors:
            refusals.setdefault(self._message_widget(error.field), []).append(error.message)
        for message, texts in refusals.items():
            message.show_error("\n".join(dict.fromkeys(texts)))
        asks: dict[FeedbackMessage, list[FieldError]] = {}
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
