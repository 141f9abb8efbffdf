"""The check-in form's Patient card: find a patient on file, or enter a new one.

A patient on file is found by MRN or name (a text field for a hardware or on-screen
keyboard, or the built-in keypad for MRN digits); a new patient is entered with MRN, name and
date of birth (year, month and day typed one after another on the keypad).

The search runs as the nurse types, on the app's database worker
(:class:`~ui.common.background.Background`): "Searching…" shows until the answer comes,
only the newest query's answer is shown (an older one arriving late is dropped), and a
server that cannot be reached or is busy is said under the search, which keeps its text.
A new patient's MRN is looked up there too when the form is checked (:meth:`check_mrn`), and
a draft's patient is found again there (:meth:`find_again`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import Future
from typing import Protocol

import shiboken6
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from monitor.clinical.checkin import (
    MRN_MAX_LENGTH,
    NAME_MAX_LENGTH,
    validate_dob_parts,
    validate_mrn,
    validate_name,
)
from monitor.clinical.validation import FieldError
from monitor.clock import Clock
from monitor.service.views import PatientInfo
from monitor.storage.store import StorageError
from ui.checkin.parts import SEGMENT_SPACING, Card, line_edit, number_field
from ui.checkin.values import NewPatient, number_text
from ui.common.background import Background, Latest
from ui.common.segmented import Segmented
from ui.common.style import TouchButton
from ui.common.theme import Theme
from ui.common.widgets import kinetic, label

#: Search result rows: above the touch minimum, tapped while holding the tablet.
RESULT_ROW_PX = 64
RESULT_ROWS_SHOWN = 4
#: What the search says until its answer comes.
SEARCHING = "Searching…"


class PatientLookup(Protocol):
    """The patients on file, as the check-in reads them (``service.checkin``)."""

    def find_patient(self, mrn: str) -> PatientInfo | None: ...

    def search_patients(self, text: str) -> list[PatientInfo]: ...


class PatientCard(Card):
    """Find patient / New patient, and the patient chosen.

    ``service`` is read only: :meth:`~PatientLookup.search_patients` and
    :meth:`~PatientLookup.find_patient`. ``clock`` gives today's date for the date of birth.
    ``background``: where the search runs (default: at once, in the caller's thread).
    Its messages are in :attr:`messages`, by field ("patient", "mrn", "name", "dob").

    Signals:
        keypadRequested(object): the nurse asked for the keypad to type into this field.
        keypadReleased(): the keypad is no longer needed (the other mode was chosen).
        patientSelected(object): a patient on file was chosen (:class:`PatientInfo`).
        limitsRequested(object): "Own limits…" was tapped for the patient chosen (its id).
        findingChanged(): a draft's patient began or ended being found again.
    """

    keypadRequested = Signal(object)
    keypadReleased = Signal()
    patientSelected = Signal(object)
    limitsRequested = Signal(object)
    findingChanged = Signal()

    def __init__(self, theme: Theme, service: PatientLookup, clock: Clock,
                 background: Background | None = None) -> None:
        super().__init__(theme, "Patient", "patient-card")
        self.service = service
        self.clock = clock
        self._background = background if background is not None else Background(parent=self)
        self._searches = Latest(self._background)
        self._finds = Latest(self._background)
        self._selected: PatientInfo | None = None
        self.mode = Segmented("mode", ["find", "new"], ["Find patient", "New patient"],
                              spacing=SEGMENT_SPACING)
        self.mode.changed.connect(self.set_mode)
        self.body.addWidget(self.mode)

        self.find_box = QWidget()
        find = QVBoxLayout(self.find_box)
        find.setContentsMargins(0, 0, 0, 0)
        find.setSpacing(6)
        self.search = line_edit("search", "MRN or name", max_length=NAME_MAX_LENGTH)
        self.search.textChanged.connect(self._search)
        self.search_keypad = TouchButton("123")
        self.search_keypad.setObjectName("search-keypad")
        self.search_keypad.setToolTip("Type MRN digits on the keypad")
        self.search_keypad.clicked.connect(lambda: self.keypadRequested.emit(self.search))
        # Qt's own clear button in the field is 22 px: too small for a finger.
        self.search_clear = TouchButton("Clear")
        self.search_clear.setObjectName("search-clear")
        self.search_clear.clicked.connect(self.search.clear)
        search_row = QHBoxLayout()
        search_row.addWidget(self.search, 1)
        search_row.addWidget(self.search_clear)
        search_row.addWidget(self.search_keypad)
        find.addWidget(label("Search", "field"))
        find.addLayout(search_row)
        self.results = QListWidget()
        self.results.setObjectName("results")
        self.results.setUniformItemSizes(True)
        self.results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.results.setFixedHeight(RESULT_ROW_PX * RESULT_ROWS_SHOWN + 8)
        t = self.theme
        # The app sheet has no list role yet; rows need the theme's surface and a divider.
        self.results.setStyleSheet(
            f"QListWidget {{ background-color: {t.surface}; color: {t.text}; border: 2px solid "
            f"{t.border}; border-radius: 8px; }}"
            f"QListWidget::item {{ padding: 0 12px; border-bottom: 1px solid {t.border}; }}"
            f"QListWidget::item:selected {{ background-color: {t.accent}; "
            f"color: {t.accent_text}; font-weight: bold; }}")
        self.results.itemClicked.connect(self._result_chosen)
        kinetic(self.results.viewport())
        find.addWidget(self.results)
        self.no_results = label(role="muted")
        find.addWidget(self.no_results)
        self.selected = label(role="field")
        self.selected.setObjectName("selected-patient")
        # The patient's own limits, to read or (clinicians) to set before the session starts.
        self.limits_button = TouchButton("Own limits…")
        self.limits_button.setObjectName("patient-limits")
        self.limits_button.clicked.connect(self._limits)
        self.limits_button.hide()
        chosen = QHBoxLayout()
        chosen.addWidget(self.selected, 1)
        chosen.addWidget(self.limits_button)
        find.addLayout(chosen)
        find.addWidget(self.message("patient", self.search))
        self.body.addWidget(self.find_box)

        self.new_box = QWidget()
        new = QVBoxLayout(self.new_box)
        new.setContentsMargins(0, 0, 0, 0)
        new.setSpacing(6)
        self.mrn = line_edit("mrn", "e.g. MRN-004211", max_length=MRN_MAX_LENGTH)
        self.name = line_edit("name", "Given name and family name", max_length=NAME_MAX_LENGTH)
        new.addWidget(label("MRN", "field"))
        new.addWidget(self.mrn)
        new.addWidget(self.message("mrn", self.mrn))
        new.addWidget(label("Name", "field"))
        new.addWidget(self.name)
        new.addWidget(self.message("name", self.name))
        self.dob_year = line_edit("dob-year", "YYYY", max_length=4)
        self.dob_month = line_edit("dob-month", "MM", max_length=2)
        self.dob_day = line_edit("dob-day", "DD", max_length=2)
        dob_row = QHBoxLayout()
        dob_row.setSpacing(6)
        for edit, stretch in ((self.dob_year, 2), (self.dob_month, 1), (self.dob_day, 1)):
            number_field(edit, max_length=edit.maxLength())
            dob_row.addWidget(edit, stretch)
        new.addWidget(label("Date of birth (year, month, day)", "field"))
        new.addLayout(dob_row)
        new.addWidget(self.message("dob", self.dob_year))
        self.body.addWidget(self.new_box)
        self.mrn.textChanged.connect(lambda _t: self.messages["mrn"].clear())
        self.name.textChanged.connect(lambda _t: self.messages["name"].clear())
        for edit in (self.dob_year, self.dob_month, self.dob_day):
            edit.textChanged.connect(lambda _t: self.messages["dob"].clear())
        # Year, month and day are typed one after another: a full field moves on.
        self.dob_year.textChanged.connect(lambda t: self._advance(t, 4, self.dob_month))
        self.dob_month.textChanged.connect(lambda t: self._advance(t, 2, self.dob_day))

    def number_fields(self) -> tuple[QLineEdit, ...]:
        """The fields the keypad types into."""
        return (self.dob_year, self.dob_month, self.dob_day)

    def next_date_field(self, edit: QLineEdit | None) -> QLineEdit | None:
        """The date-of-birth field typed after ``edit`` (month after year, day after month)."""
        following = {self.dob_year: self.dob_month, self.dob_month: self.dob_day}
        return following.get(edit) if edit is not None else None

    def set_mode(self, mode: str) -> None:
        """"find" a patient on file, or enter a "new" one."""
        self.mode.set_value(mode)
        self.find_box.setVisible(mode == "find")
        self.new_box.setVisible(mode == "new")
        self.selected.setVisible(mode == "find" and self._selected is not None)
        self.limits_button.setVisible(mode == "find" and self._selected is not None)
        self.keypadReleased.emit()

    def select_patient(self, patient: PatientInfo, *, announce: bool = True) -> None:
        """Check in ``patient`` (on file); ``announce``: the nurse chose them (the card
        shows Find patient and tells :attr:`patientSelected`), else a draft's patient
        found again (the mode and the values typed stay)."""
        if announce:
            self._drop_find()
        self._selected = patient
        self.set_mode("find" if announce else self.mode.value() or "find")
        self.selected.setText(f"Selected: {patient_line(patient)}")
        self.messages["patient"].clear()
        if announce:
            self.patientSelected.emit(patient)

    @property
    def finding(self) -> bool:
        """Whether a draft's patient is still being found again."""
        return self._finds.pending

    def find_again(self, mrn: str) -> None:
        """Find a draft's patient by ``mrn`` (on the worker) and select them when found."""
        service = self.service

        def answered(future: Future[PatientInfo | None]) -> None:
            if future.cancelled() or not shiboken6.isValid(self):
                return  # the check-in was left meanwhile, or the app is closing
            self.findingChanged.emit()
            try:
                patient = future.result()
            except StorageError as exc:
                self._show_search_state(exc.message)
                return
            if patient is None:
                self._show_search_state(f"{mrn} is no longer on file: search for the patient.")
                return
            if not self.search.text().strip():
                self.no_results.hide()  # else it says what the nurse's own search found
            self.select_patient(patient, announce=False)

        self._show_search_state(f"Finding {mrn}…")
        self._finds.run(lambda: service.find_patient(mrn), answered)
        if self._finds.pending:
            self.findingChanged.emit()

    def _drop_find(self) -> None:
        if self._finds.pending:
            self._finds.drop()
            self.findingChanged.emit()

    def _limits(self) -> None:
        if self._selected is not None:
            self.limitsRequested.emit(self._selected.id)

    def selected_patient(self) -> PatientInfo | None:
        return self._selected

    def patient(self, errors: list[FieldError]) -> uuid.UUID | NewPatient | None:
        """The patient chosen or entered, or None with the refusals added to ``errors``."""
        if self.mode.value() == "find":
            if self._selected is None:
                errors.append(FieldError("patient", "Choose the patient from the search "
                                                    "results, or tap New patient"))
                return None
            return self._selected.id
        mrn = validate_mrn(self.mrn.text())
        name = validate_name(self.name.text())
        dob = validate_dob_parts(self.dob_year.text(), self.dob_month.text(),
                                 self.dob_day.text(), today=self.clock.now().astimezone().date())
        errors.extend(c.error for c in (mrn, name, dob) if c.error is not None)
        if mrn.value is None or name.value is None or dob.value is None:
            return None
        return NewPatient(mrn.value, name.value, dob.value)

    def new_mrn(self) -> str | None:
        """The new patient's MRN to look up before the check-in (None: none to look up)."""
        return validate_mrn(self.mrn.text()).value if self.mode.value() == "new" else None

    def check_mrn(self, mrn: str, done: Callable[[list[FieldError]], None]) -> None:
        """Look ``mrn`` up on the worker; ``done`` gets the refusal (an MRN on file, or a
        server that could not be asked, in the store's words) or nothing."""
        service = self.service

        def answered(future: Future[PatientInfo | None]) -> None:
            if future.cancelled() or not shiboken6.isValid(self):
                return
            try:
                existing = future.result()
            except StorageError as exc:
                done([FieldError("mrn", exc.message)])
                return
            done([] if existing is None else [FieldError(
                "mrn", f"MRN {mrn} is already on file ({existing.name or 'no name'}): use "
                       "Find patient")])

        self._background.run(lambda: service.find_patient(mrn), answered)

    def _search(self, text: str) -> None:
        self.messages["patient"].clear()
        needle = text.strip()
        if not needle:
            self._searches.drop()
            self._show_found(needle, [])
            return
        service = self.service

        def answered(future: Future[list[PatientInfo]]) -> None:
            if future.cancelled() or not shiboken6.isValid(self):
                return  # the check-in was left meanwhile, or the app is closing
            try:
                found = future.result()
            except StorageError as exc:
                self._show_search_state(exc.message)
                return
            self._show_found(needle, found)

        self._show_search_state(SEARCHING)
        self._searches.run(lambda: service.search_patients(needle), answered)

    @property
    def searching(self) -> bool:
        """Whether the newest search has not been answered yet."""
        return self._searches.pending

    def _show_search_state(self, text: str) -> None:
        """"Searching…" or why the search could not be made; the results shown go."""
        self.results.clear()
        self.results.hide()
        self.no_results.setText(text)
        self.no_results.show()

    def _show_found(self, needle: str, found: list[PatientInfo]) -> None:
        self.results.clear()
        for patient in found:
            item = QListWidgetItem(patient_line(patient))
            item.setData(Qt.ItemDataRole.UserRole, patient)
            item.setSizeHint(QSize(0, RESULT_ROW_PX))
            self.results.addItem(item)
        # The list is as tall as its rows, up to four; more scroll inside it.
        shown_rows = min(max(len(found), 1), RESULT_ROWS_SHOWN)
        self.results.setFixedHeight(RESULT_ROW_PX * shown_rows + 8)
        self.results.setVisible(bool(found))
        self.no_results.setText(f"No patient matches “{needle}”. Use New patient to add them."
                                if needle and not found else "")
        self.no_results.setVisible(bool(needle and not found))

    def _result_chosen(self, item: QListWidgetItem) -> None:
        self.select_patient(item.data(Qt.ItemDataRole.UserRole))

    @staticmethod
    def _advance(text: str, length: int, following: QLineEdit) -> None:
        if len(text) == length and following.isVisible():
            following.setFocus()


def patient_line(patient: PatientInfo) -> str:
    """"Ada Byrne · MRN-004211 · born 1980-04-02 · 70 kg": a patient on one line."""
    parts = [patient.name or "(no name)", patient.mrn]
    if patient.date_of_birth is not None:
        parts.append(f"born {patient.date_of_birth.isoformat()}")
    if patient.weight_kg is not None:
        parts.append(f"{number_text(patient.weight_kg, 1)} kg")
    return " · ".join(parts)
