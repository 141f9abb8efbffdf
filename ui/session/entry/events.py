"""The event form: a medication given (from the protocol's list), an adverse event, or a
free note."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtWidgets import QLineEdit, QPushButton, QVBoxLayout, QWidget

from monitor.clinical.domain import EventKind
from monitor.clinical.protocol import Medication
from monitor.clinical.validation import FieldError
from monitor.clock import Clock
from ui.common.segmented import Segmented
from ui.common.style import PRIMARY_MIN
from ui.common.theme import TOUCH_MIN, Theme
from ui.common.widgets import label
from ui.session.entry.form import NOTE_MAX_LENGTH, EntryForm

#: Adverse events offered by :class:`EventEntry`: (value in ``raw()``, button text).
ADVERSE_EVENTS: tuple[tuple[str, str], ...] = (
    ("nausea_vomiting", "Nausea / vomiting"),
    ("agitation", "Agitation"),
    ("headache", "Headache"),
    ("dizziness", "Dizziness"),
    ("other", "Other"),
)


class EventEntry(EntryForm):
    """Medication given (from the protocol's list), adverse event, or a free note.

    ``raw()``: ``kind`` (an :class:`~monitor.clinical.domain.EventKind` value or ``None``),
    ``medication`` (the chosen :class:`~monitor.clinical.protocol.Medication` or ``None``),
    ``adverse_event`` (a value of :data:`ADVERSE_EVENTS` or ``None``) and ``note`` (str).
    A note is required for a free note and for an "Other" adverse event.

    Signals:
        submitted(dict, object, object): see :class:`EntryForm`.
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
