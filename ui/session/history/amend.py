"""Amending a reading: its values corrected on the keypad, checked, with a reason.

:class:`AmendDialog` shows the measures the reading holds, prefilled; the corrected values are
checked with :func:`monitor.clinical.validation.validate_reading` before the amendment is asked
for. The reading as entered stays in the history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QSize,
    Signal,
)
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from monitor.clinical.validation import FieldError, validate_reading
from ui.common.keypad import NumericKeypad
from ui.common.labels import clock_time
from ui.common.theme import Theme
from ui.common.widgets import FieldMessage, KeypadField, VerticalScroll, label, restyle
from ui.session.history.dialogs import (
    AMEND_REASONS,
    DIALOG_MAX,
    ReasonPicker,
    dialog_footer,
    dialog_frame,
    field_message,
)
from ui.session.history.entries import HistoryEntry

#: The amend dialog's reason buttons give up a little height to the fields above them: the
#: dialog must fit under 700 px with the keypad.
COMPACT_CHOICE_MIN_PX = 56
#: Measures of a reading the amend dialog edits: (field, label, unit or range).
AMEND_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("bp", "BP", "mmHg"),
    ("hr", "HR", "/min"),
    ("spo2", "SpO2", "%"),
    ("rr", "RR", "/min"),
    ("cadss6", "CADSS-6", "total 0–24"),
    ("moaas", "MOAA/S", "0–5"),
    ("nausea", "Nausea", "0–10"),
    ("anxiety", "Anxiety", "0–10"),
    ("pain", "Pain", "0–10"),
)
#: Keypad length limits: "300/200" for BP, three digits for the rest, also where the range
#: is shorter, so that a slip ("12" for MOAA/S) is refused with the range, not cut to "1".
BP_MAX_LENGTH = 7
VALUE_MAX_LENGTH = 3
#: Validator fields that belong to each amend field (BP is one entry for two measures).
_FIELD_OF = {"sbp": "bp", "dbp": "bp", "cadss6_items": "cadss6"}
#: Measures an amendment passes on unchanged: the dialog does not edit them, and the
#: replacement reading holds only what the amendment gives it.
_CARRIED = (("phq9_items", "phq9"), ("gad7_items", "gad7"))


class _VerticalScroll(VerticalScroll):
    """As tall as its fields want, up to the dialog's largest size."""

    def sizeHint(self) -> QSize:
        fields = self.widget()
        wanted = fields.sizeHint().height() if fields is not None else 0
        return self.minimumSizeHint().expandedTo(QSize(0, min(wanted, DIALOG_MAX.height())))


@dataclass
class _AmendRow:
    key: str
    edit: KeypadField
    message: FieldMessage
    max_length: int
    original: str


class AmendDialog(QDialog):
    """Corrects a reading's values: the measures it holds, prefilled, typed on the keypad.

    Tapping a field points the keypad at it with its value selected, so the first digit
    typed replaces it. Clearing a field removes that measure from the corrected reading.
    On "Save amendment" the values are checked with
    :func:`~monitor.clinical.validation.validate_reading`: a refusal shows under its field, naming
    the field and its range; an unusual value waits for a "Confirm <value>" tap. A reason
    is required ("Other" with a note). Measures the dialog does not edit (PHQ-9, GAD-7) and
    unchanged CADSS-6 item scores are passed on as they were.

    Signals:
        amendConfirmed(dict, str, object): the raw values, the reason and the confirmed
            fields (``frozenset[str]``), once the values pass the checks.
    """

    amendConfirmed = Signal(dict, str, object)

    def __init__(self, theme: Theme, entry: HistoryEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if entry.reading is None:
            raise ValueError("only a reading can be amended")
        self.theme = theme
        self.entry = entry
        self.reading = entry.reading
        dialog_frame(self, theme, "Amend reading", entry)
        #: validator field -> the raw value the nurse confirmed; a changed value needs a new
        #: confirmation.
        self._confirmed: dict[str, str] = {}
        self._rows: list[_AmendRow] = []
        self._active: _AmendRow | None = None

        self.keypad = NumericKeypad(theme)
        self.keypad.valueChanged.connect(self._typed)
        self.keypad.submitted.connect(self._next_field)
        self.keypad.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)

        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(4)
        for key, name, unit in AMEND_FIELDS:
            original = self._original(key)
            if original is None:
                continue
            edit = KeypadField(f"amend-{key}", "300/200" if key == "bp" else "250", frame=40)
            edit.setAccessibleName(name)
            edit.setText(original)
            max_length = BP_MAX_LENGTH if key == "bp" else VALUE_MAX_LENGTH
            row = _AmendRow(key, edit, field_message(theme), max_length, original)
            row.message.confirmClicked.connect(lambda r=row: self._confirm(r))
            edit.tapped.connect(lambda r=row: self._activate(r))
            names = QVBoxLayout()
            names.setSpacing(0)
            names.addWidget(label(name, "field", wrap=False))
            names.addWidget(label(f"{unit}\nwas {original}", "muted", wrap=False))
            names.addStretch(1)
            line = 2 * len(self._rows)
            grid.addLayout(names, line, 0)
            grid.addWidget(edit, line, 1)
            grid.addWidget(row.message, line + 1, 0, 1, 2)
            self._rows.append(row)
        grid.setColumnStretch(1, 1)
        fields = QWidget()
        fields_layout = QVBoxLayout(fields)
        fields_layout.setContentsMargins(0, 0, 8, 0)
        fields_layout.addLayout(grid)
        if self.reading.cadss6_items is not None:
            fields_layout.addWidget(label(
                "CADSS-6 item scores are kept only while the total stays "
                f"{self.reading.cadss6}.", "muted"))
        fields_layout.addStretch(1)
        self._scroll = _VerticalScroll(fields)

        self.reasons = ReasonPicker(AMEND_REASONS, min_height=COMPACT_CHOICE_MIN_PX)
        self.reasons.changed.connect(self._update)
        self.general = field_message(theme)
        footer, self.cancel, self.ok = dialog_footer("Save amendment")
        self.cancel.clicked.connect(self.reject)
        self.ok.clicked.connect(self.accept)

        when = clock_time(entry.time) if entry.time is not None else ""
        title = label(f"Amend reading of {when}", "total", wrap=False)
        explain = label(f"{entry.what} · the values as entered stay in the history", "muted")
        editing = QHBoxLayout()
        editing.setSpacing(12)
        editing.addWidget(self._scroll, 1)
        editing.addWidget(self.keypad)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 14, 20, 14)
        layout.setSpacing(8)
        layout.addWidget(title)
        layout.addWidget(explain)
        layout.addLayout(editing, 1)
        layout.addWidget(self.reasons)
        layout.addWidget(self.general)
        layout.addLayout(footer)
        # A value kept as it was was confirmed when it was first saved (the service asked
        # then); only a changed unusual value needs a new "Confirm" tap.
        self._confirmed = {
            field: value for field, value in self.raw().items()
            if isinstance(value, str) and value
        }
        if self._rows:
            self._activate(self._rows[0])
        self._update()

    def sizeHint(self) -> QSize:
        # As wide as a portrait screen allows: the wider the fields, the fewer lines a
        # message under one of them takes.
        return super().sizeHint().expandedTo(QSize(DIALOG_MAX.width(), 0)).boundedTo(DIALOG_MAX)

    # -- state for the caller and tests ----------------------------------------------------

    def field(self, key: str) -> QLineEdit:
        """The value field ``bp``, ``hr``, ``spo2``, ``rr``, ``cadss6``, ``moaas`` …"""
        return self._row(key).edit

    def fields(self) -> list[str]:
        return [row.key for row in self._rows]

    def message_for(self, key: str) -> str:
        """The visible message under field ``key`` ("" when none)."""
        return self._row(key).message.text()

    def general_message(self) -> str:
        return self.general.text()

    def confirm_button(self, key: str) -> QPushButton:
        return self._row(key).message.confirm_button()

    def activate(self, key: str) -> None:
        """Point the keypad at field ``key``, as a tap on it does."""
        self._activate(self._row(key))

    def raw(self) -> dict[str, Any]:
        """The corrected reading as typed: text for the edited measures (BP split at its
        "/"), the unedited measures passed on as they were."""
        raw: dict[str, Any] = {}
        for row in self._rows:
            text = row.edit.text()
            if row.key == "bp":
                sbp, _slash, dbp = text.partition("/")
                raw["sbp"], raw["dbp"] = sbp, dbp
            else:
                raw[row.key] = text
        reading = self.reading
        if reading.cadss6_items is not None and raw.get("cadss6") == str(reading.cadss6):
            raw["cadss6_items"] = reading.cadss6_items
        for items, total in _CARRIED:
            if getattr(reading, items) is not None:
                raw[items] = getattr(reading, items)
            elif getattr(reading, total) is not None:
                raw[total] = getattr(reading, total)
        return raw

    def reason(self) -> str:
        return self.reasons.reason()

    # -- checks ------------------------------------------------------------------------------

    def accept(self) -> None:
        """Check the values; emit ``amendConfirmed`` and close if they pass."""
        if not self.reasons.complete():
            return
        for row in self._rows:
            row.message.clear()
            restyle(row.edit, problem=False)
        self.general.clear()
        if all(row.edit.text() == row.original for row in self._rows):
            self.general.show_error("Nothing changed: correct a value, or Cancel.")
            return
        raw = self.raw()
        confirmed = self._confirmed_fields(raw)
        check = validate_reading(raw, confirmed=confirmed)
        if check.errors or check.needs_confirmation:
            self._show_problems(check.errors, check.needs_confirmation)
            return
        if not check.values:
            self.general.show_error("Enter at least one value. To take back the whole "
                                    "entry, void it instead.")
            return
        # Only confirmations that were needed go on: the service is told about the unusual
        # values, not about every value left as it was.
        needed = {request.field for request in validate_reading(raw).needs_confirmation}
        self.amendConfirmed.emit(raw, self.reason(), confirmed & needed)
        super().accept()

    def _show_problems(
        self, errors: Sequence[FieldError], requests: Sequence[FieldError]
    ) -> None:
        refused: dict[str, list[str]] = {}
        for error in errors:
            refused.setdefault(_FIELD_OF.get(error.field, error.field), []).append(error.message)
        for key, texts in refused.items():
            target = self._find(key)
            if target is None:
                self.general.show_error("\n".join(texts))
                continue
            target.message.show_error("\n".join(dict.fromkeys(texts)))
            restyle(target.edit, problem=True)
        asks: dict[str, list[FieldError]] = {}
        for request in requests:
            key = _FIELD_OF.get(request.field, request.field)
            if key not in refused:
                asks.setdefault(key, []).append(request)
        for key, fields in asks.items():
            target = self._find(key)
            if target is not None:
                target.message.show_confirm("\n".join(f.message for f in fields),
                                            target.edit.text(), [f.field for f in fields])
        shown = [row.message for row in self._rows if not row.message.isHidden()]
        if shown:
            self._scroll.ensureWidgetVisible(shown[0])

    def _confirm(self, row: _AmendRow) -> None:
        raw = self.raw()
        for field in row.message.pending:
            self._confirmed[field] = str(raw.get(field))
        row.message.show_note(f"{row.edit.text()} confirmed: tap Save amendment to keep it")

    def _confirmed_fields(self, raw: Mapping[str, Any]) -> frozenset[str]:
        return frozenset(
            field for field, value in self._confirmed.items() if str(raw.get(field)) == value
        )

    # -- typing ------------------------------------------------------------------------------

    def _original(self, key: str) -> str | None:
        if key == "bp":
            reading = self.reading
            if reading.sbp is None or reading.dbp is None:
                return None
            return f"{reading.sbp}/{reading.dbp}"
        value = getattr(self.reading, key)
        return None if value is None else str(value)

    def _row(self, key: str) -> _AmendRow:
        row = self._find(key)
        if row is None:
            raise KeyError(f"this reading has no {key} to amend")
        return row

    def _find(self, key: str) -> _AmendRow | None:
        return next((row for row in self._rows if row.key == key), None)

    def _activate(self, row: _AmendRow) -> None:
        if self._active is not None:
            restyle(self._active.edit, active=False)
        self._active = row
        restyle(row.edit, active=True)
        self.keypad.set_target(row.edit, slash=row.key == "bp", max_length=row.max_length)
        self.keypad.set_text(row.edit.text(), replace_on_type=True)
        self._scroll.ensureWidgetVisible(row.edit)

    def _typed(self, _text: str) -> None:
        row = self._active
        if row is None:
            return
        # The value changed: its message and any confirmation of the old value go.
        row.message.clear()
        restyle(row.edit, problem=False)
        self.general.clear()

    def _next_field(self, _text: str) -> None:
        if self._active is None:
            return
        index = self._rows.index(self._active)
        if index + 1 < len(self._rows):
            self._activate(self._rows[index + 1])

    def _update(self) -> None:
        self.ok.setEnabled(self.reasons.complete())
