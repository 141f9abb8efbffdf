"""The vital signs form: BP as one entry, heart rate, SpO2, respiratory rate on the keypad,
room air or oxygen, and a note."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QGridLayout, QLineEdit, QSizePolicy, QVBoxLayout, QWidget

from monitor.clinical.domain import Measure, Reading
from monitor.clinical.validation import MEASURES, FieldError, check_typed_key
from monitor.clinical.wording import MEASURE_NAMES
from monitor.clock import Clock
from ui.common.keypad import NumericKeypad
from ui.common.labels import clock_time
from ui.common.segmented import Segmented
from ui.common.theme import TOUCH_MIN, Theme
from ui.common.widgets import KeypadField, label, restyle
from ui.session.entry.form import NOTE_MAX_LENGTH, SAME_AS_LAST, EntryForm

#: Horizontal padding, border and a margin of a value field, beside its text.
_VALUE_EDIT_FRAME = 36
_VALUE_EDIT_MAX = 360


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


class VitalsEntry(EntryForm):
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
        submitted(dict, object, object): see :class:`EntryForm`.
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
