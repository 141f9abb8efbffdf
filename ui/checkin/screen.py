"""The check-in screen: who sits in the chair, what they will receive, and who takes them home.

One chair's check-in, in the order of the REMS form and the clinic's sheet:

* **Patient**: found by MRN or name (a text field for a hardware or on-screen keyboard, or
  the built-in keypad for MRN digits), or entered as a new patient (MRN, name, date of birth).
* **Protocol and dose**: the clinic's profile, the planned mg/kg and minutes (choices inside
  the profile's range), today's weight and the bag volume; the dose, rate and pump setting
  are computed live by :func:`monitor.clinical.dosing.plan_dose`, never here. The drug lot number.
* **Concomitant medications**: the REMS form's yes/no questions, plus SSRIs/SNRIs.
* **Escort**: required, because the patient must not drive for 24 hours.
* **Mood scores**: PHQ-9 and GAD-7, optional; PHQ-9 item 9 above 0 is said to reach the
  clinician.

Every value is checked with :mod:`monitor.clinical.validation` when the nurse taps "Check in"; a
refusal appears under its field, naming it and the accepted range. The database is read on
the app's worker, never while the screen waits: the profile's protocol when it is chosen (the
button waits for it), a new patient's MRN when the form is checked ("Checking…"), and a
draft's patient (its typed values show at once). Nothing is stored here:
the screen emits a :class:`CheckIn` and ``main`` hands it to the service. The form scrolls
(kinetically) in one column on a portrait screen and two on a landscape one, never sideways.

Controls keep their place while the nurse works: the keypad's dock keeps its room when no
number field is being typed in (opening it squeezes no column), a medication's "Yes:" note
has its room before it shows, and a refusal that goes (the field was answered) leaves its
room until the next "Check in", so nothing moves under a finger between two taps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Protocol

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from monitor.clinical.checkin import MRN_MAX_LENGTH, NAME_MAX_LENGTH, validate_escort
from monitor.clinical.protocol import available_profiles
from monitor.clinical.scores import GAD7, PHQ9
from monitor.clinical.validation import FieldError
from monitor.clock import Clock
from monitor.service.views import PatientInfo
from ui.checkin.dose import DoseCard, ProtocolSource
from ui.checkin.parts import (
    FORM_HEADING_PX,
    SEGMENT_SPACING,
    Card,
    FieldMessage,
    ScoreForm,
    line_edit,
    retain_room,
)
from ui.checkin.patient import PatientCard, PatientLookup
from ui.checkin.values import MEDICATIONS, CheckIn, NewPatient, number_text
from ui.common.background import Background
from ui.common.keypad import NumericKeypad
from ui.common.segmented import SEGMENT_MIN, Segmented
from ui.common.style import PRIMARY_MIN, TouchButton
from ui.common.theme import Theme
from ui.common.widgets import heading, kinetic, label, restyle
from ui.overview.screen import chair_title

__all__ = ["CheckIn", "CheckInScreen", "NewPatient"]

#: The docked keypad's width: keys well above the touch minimum, the form keeps the rest.
KEYPAD_WIDTH = 380
#: The primary action is wide enough to find without looking twice.
SUBMIT_MIN_WIDTH = 320

ESCORT_REASON = "Required: the patient must not drive for 24 hours after the infusion."

#: What a field is called in the summary beside the "Check in" button.
_FIELD_NAMES = {
    "patient": "Patient", "mrn": "MRN", "name": "Name", "dob": "Date of birth",
    "weight": "Weight", "mg_per_kg": "Planned dose", "minutes": "Infusion time",
    "bag_volume_ml": "Bag volume", "lot": "Lot number", "medications": "Medications",
    "escort": "Escort", "phq9_items": "PHQ-9", "gad7_items": "GAD-7",
}


class CheckInReads(PatientLookup, ProtocolSource, Protocol):
    """What the check-in screen reads of the clinic service: the patients on file and the
    protocol of each profile. :class:`monitor.service.clinic.ClinicService` is one."""


class CheckInScreen(QWidget):
    """Check a patient in to one chair.

    ``service`` is used to read only: :meth:`~CheckInReads.search_patients`,
    :meth:`~CheckInReads.find_patient` (an MRN already on file) and
    :meth:`~CheckInReads.protocol_for`. ``clock`` gives today's date for the date of birth.
    ``background``: where the reads run (default: at once).
    The sections are cards: :attr:`patient_card` (a :class:`PatientCard`),
    :attr:`dose_card` (a :class:`DoseCard`), :attr:`medications_card`, :attr:`escort_card`
    and :attr:`mood_card`.

    Signals:
        checkInRequested(object): a validated :class:`CheckIn`.
        cancelled(): the nurse left without checking in.
        limitsRequested(object): the own limits of the patient chosen (its id).
    """

    checkInRequested = Signal(object)
    cancelled = Signal()
    limitsRequested = Signal(object)

    def __init__(self, theme: Theme, service: CheckInReads, clock: Clock, chair: str, *,
                 profiles: Sequence[tuple[str, str]] | None = None,
                 background: Background | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.service = service
        self.clock = clock
        self.chair = chair
        self._orientation = Qt.Orientation.Horizontal
        #: Every field's message, by field, across the cards.
        self.messages: dict[str, FieldMessage] = {}
        #: Fields named in the summary ("Check: …") and refusals not tied to a field.
        self._to_check: list[str] = []
        self._unplaced: list[str] = []

        self.patient_card = PatientCard(theme, service, clock, background)
        self.patient_card.limitsRequested.connect(self.limitsRequested)
        self.dose_card = DoseCard(
            theme, service, list(profiles) if profiles is not None else available_profiles(),
            background)
        #: Whether a new patient's MRN is being looked up before the check-in.
        self.checking = False
        self._build_medications()
        self._build_escort()
        self._build_mood()
        for card in (self.patient_card, self.dose_card, self.medications_card,
                     self.escort_card):
            self.messages.update(card.messages)
        self.messages["phq9_items"] = self.phq9.message
        self.messages["gad7_items"] = self.gad7.message
        for message in self.messages.values():
            message.cleared.connect(self._message_cleared)
        for edit in (*self.patient_card.number_fields(), *self.dose_card.number_fields()):
            edit.installEventFilter(self)

        self.title = heading(f"Check in — {chair_title(chair)}", px=FORM_HEADING_PX)
        self.cancel_button = TouchButton("Cancel", min_size=PRIMARY_MIN * 2,
                                         min_height=PRIMARY_MIN)
        self.cancel_button.setObjectName("cancel")
        self.cancel_button.clicked.connect(self.cancelled)
        self.submit_button = TouchButton("Check in patient", min_size=SUBMIT_MIN_WIDTH,
                                         min_height=PRIMARY_MIN)
        self.submit_button.setObjectName("check-in")
        self.submit_button.setProperty("primary", True)
        self.submit_button.clicked.connect(self.submit)
        self.summary = label(role="error")
        self.summary.hide()

        self._content = QWidget()
        self._columns = QHBoxLayout(self._content)
        self._columns.setContentsMargins(0, 0, 8, 0)
        self._columns.setSpacing(12)
        self._left = QVBoxLayout()
        self._right = QVBoxLayout()
        for column in (self._left, self._right):
            column.setSpacing(12)
            self._columns.addLayout(column, 1)
        self.form_scroll = QScrollArea()
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.form_scroll.setWidget(self._content)
        kinetic(self.form_scroll.viewport())

        # One keypad for every number field, docked under the form like a soft keyboard and
        # shown while a number field is being edited.
        self.keypad = NumericKeypad(theme, max_length=8)
        self.keypad.setObjectName("checkin-keypad")
        self.keypad.setMinimumWidth(KEYPAD_WIDTH)
        self.keypad.submitted.connect(lambda _text: self._keypad_enter())
        # The dock keeps the keypad's room when it is put away: a keypad that opened into
        # the form's room would squeeze its columns under the finger (the weight field
        # sliding into the escort's place, the month into the day's).
        self._dock_hint = QFrame()
        self._dock_hint.setProperty("role", "card")
        hint_text = label("Keypad: tap a number field (weight, bag volume, date of birth) "
                          "to type it here.", "muted")
        hint_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint_layout = QVBoxLayout(self._dock_hint)
        hint_layout.setContentsMargins(24, 24, 24, 24)
        hint_layout.addWidget(hint_text)
        self._dock = QStackedWidget()
        self._dock.setObjectName("keypad-dock")
        self._dock.addWidget(self._dock_hint)
        self._dock.addWidget(self.keypad)
        self._dock.setCurrentWidget(self._dock_hint)

        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        foot = QHBoxLayout()
        foot.setSpacing(12)
        foot.addWidget(self.cancel_button)
        foot.addWidget(self.summary, 1)
        foot.addStretch(0)
        foot.addWidget(self.submit_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(8)
        # The keypad docks beside the form on a landscape screen (the form keeps its height)
        # and under it on a portrait one (the form keeps its width).
        self._body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self._body.setSpacing(12)
        self._body.addWidget(self.form_scroll, 1)
        self._body.addWidget(self._dock, 0, Qt.AlignmentFlag.AlignCenter)
        layout.addLayout(head)
        layout.addLayout(self._body, 1)
        layout.addLayout(foot)

        self.patient_card.keypadRequested.connect(self.show_keypad)
        self.patient_card.keypadReleased.connect(self.hide_keypad)
        self.patient_card.patientSelected.connect(self._patient_selected)
        self.patient_card.findingChanged.connect(self._update_submit)
        self.dose_card.protocolChanged.connect(self._update_submit)
        #: What the first protocol read fills in an untouched form (see :meth:`blank_state`).
        self._blank_defaults: dict[str, Any] = {}
        self.dose_card.protocolChanged.connect(self._first_protocol)

        self._place()
        self.dose_card.choose_profile(self.dose_card.profile.values()[0])
        self.patient_card.set_mode("find")
        # Aimed at a field from the start: the keypad's own display (shown only while it has
        # no field) would otherwise go at the first tap and change the dock's size.
        weight = self.dose_card.weight
        options = weight.property("keypad")
        self.keypad.set_target(weight, decimal=options["decimal"], slash=False,
                               max_length=options["max_length"])
        self._blank = self.draft_state()

    # -- building --------------------------------------------------------------------------

    def _build_medications(self) -> None:
        card = self.medications_card = Card(self.theme, "Concomitant medications",
                                            "medications-card")
        card.body.addWidget(label("Is the patient taking… (REMS form)", "muted"))
        self.medications: dict[str, Segmented] = {}
        self.medication_notes: dict[str, QLabel] = {}
        for key, question, note in MEDICATIONS:
            row = QGridLayout()
            row.setHorizontalSpacing(10)
            segmented = Segmented(f"med-{key}", [False, True], ["No", "Yes"],
                                  spacing=SEGMENT_SPACING)
            segmented.setFixedWidth(180)
            question_label = label(question)
            question_label.setMinimumHeight(SEGMENT_MIN)
            row.addWidget(question_label, 0, 0)
            row.addWidget(segmented, 0, 1, 2, 1, Qt.AlignmentFlag.AlignTop)
            hint = label(f"Yes: {note}", "confirm")
            # Its room is kept: a "Yes" that pushed the rows below down would turn the next
            # quick tap into an answer to the wrong question.
            retain_room(hint, True)
            hint.hide()
            row.addWidget(hint, 1, 0)
            row.setColumnStretch(0, 1)
            segmented.changed.connect(lambda value, h=hint: self._medication_answered(h, value))
            self.medications[key] = segmented
            self.medication_notes[key] = hint
            card.body.addLayout(row)
        card.body.addWidget(card.message("medications"))

    def _build_escort(self) -> None:
        card = self.escort_card = Card(self.theme, "Escort", "escort-card")
        self.escort = line_edit("escort", "Who takes the patient home", max_length=NAME_MAX_LENGTH)
        self.escort.textChanged.connect(lambda _t: self.messages["escort"].clear())
        card.field_row("Escort / driver name", self.escort, "escort", marked=self.escort,
                       hint=ESCORT_REASON)

    def _build_mood(self) -> None:
        card = self.mood_card = Card(self.theme, "Mood scores before the infusion", "mood-card")
        self.phq9 = ScoreForm(self.theme, PHQ9, "phq9_items")
        self.gad7 = ScoreForm(self.theme, GAD7, "gad7_items")
        card.body.addWidget(self.phq9)
        card.body.addWidget(self.gad7)

    # -- Qt --------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (isinstance(watched, QLineEdit) and watched.property("keypad") is not None
                and event.type() in (QEvent.Type.FocusIn, QEvent.Type.MouseButtonPress)):
            self.show_keypad(watched)
        return super().eventFilter(watched, event)

    # -- public API ------------------------------------------------------------------------

    def orientation(self) -> Qt.Orientation:
        return self._orientation

    def set_orientation(self, orientation: Qt.Orientation) -> None:
        """Horizontal: a landscape screen, two columns. Vertical: portrait, one column."""
        if orientation != self._orientation:
            self._orientation = orientation
            self._place()

    def show_keypad(self, edit: QLineEdit) -> None:
        """Dock the keypad under the form, typing into ``edit``."""
        options = edit.property("keypad") or {"decimal": False, "max_length": MRN_MAX_LENGTH}
        previous = self.keypad.target()
        if previous is not edit:
            restyle(previous, active=False)
            self.keypad.set_target(edit, decimal=options["decimal"], slash=False,
                                   max_length=options["max_length"])
        # The field being typed into is outlined, so the nurse sees where the keys go.
        restyle(edit, active=True)
        self._dock.setCurrentWidget(self.keypad)
        self.form_scroll.ensureWidgetVisible(edit, 0, 24)

    def _keypad_enter(self) -> None:
        """Enter: on to the next date-of-birth field with the keypad still open; elsewhere
        the keypad is put away."""
        following = self.patient_card.next_date_field(self.keypad.target())
        if following is not None and following.isVisible():
            following.setFocus()
            self.show_keypad(following)
        else:
            self.hide_keypad()

    def hide_keypad(self) -> None:
        restyle(self.keypad.target(), active=False)
        self._dock.setCurrentWidget(self._dock_hint)

    def select_patient(self, patient: PatientInfo) -> None:
        """Check in ``patient`` (on file); their last weight fills today's weight."""
        self.patient_card.select_patient(patient)

    def _patient_selected(self, patient: PatientInfo) -> None:
        if patient.weight_kg is not None:
            self.dose_card.weight.setText(number_text(patient.weight_kg, 1))

    def draft_state(self) -> dict[str, Any]:
        """Everything typed or chosen, as JSON values, to keep as a draft."""
        who, dose = self.patient_card, self.dose_card
        selected = who.selected_patient()
        return {
            "mode": who.mode.value(), "search": who.search.text(),
            "patient_mrn": selected.mrn if selected is not None else None,
            "mrn": who.mrn.text(), "name": who.name.text(),
            "dob": [who.dob_year.text(), who.dob_month.text(), who.dob_day.text()],
            "profile": dose.profile.value(), "weight": dose.weight.text(),
            "mg_per_kg": dose.mg_per_kg.value(), "minutes": dose.minutes.value(),
            "bag": dose.bag.text(), "lot": dose.lot.text(), "escort": self.escort.text(),
            "medications": {key: row.value() for key, row in self.medications.items()},
            "phq9": self.phq9.answers() if self.phq9.included() else None,
            "gad7": self.gad7.answers() if self.gad7.included() else None,
        }

    def blank_state(self) -> dict[str, Any]:
        """:meth:`draft_state` of the form as it opened, nothing typed or chosen (the
        protocol's defaults included once it has been read)."""
        return {**self._blank, **self._blank_defaults}

    def _first_protocol(self) -> None:
        protocol = self.dose_card.protocol()
        if protocol is not None and not self._blank_defaults:
            dose = protocol.dose
            self._blank_defaults = {
                "mg_per_kg": dose.mg_per_kg_default, "minutes": dose.minutes_default,
                "bag": number_text(dose.bag_volume_ml_default, 0)}

    def restore_draft(self, state: Mapping[str, Any]) -> None:
        """Put a kept draft back (a patient on file is found again by MRN)."""
        who, dose = self.patient_card, self.dose_card
        if state.get("profile") in dose.profile.values():
            dose.choose_profile(state["profile"])
        mode = state.get("mode")
        who.set_mode(mode if isinstance(mode, str) and mode in ("find", "new") else "find")
        texts = ((who.mrn, "mrn"), (who.name, "name"), (dose.weight, "weight"),
                 (dose.bag, "bag"), (dose.lot, "lot"), (self.escort, "escort"))
        for edit, key in texts:
            if isinstance(state.get(key), str):
                edit.setText(state[key])
        dob = state.get("dob")
        if isinstance(dob, list) and len(dob) == 3:  # year, month, day
            for edit, text in zip((who.dob_year, who.dob_month, who.dob_day), dob,
                                  strict=True):
                edit.setText(str(text))
        dose.choose_dose(state.get("mg_per_kg"), state.get("minutes"))
        for key, value in (state.get("medications") or {}).items():
            if key in self.medications and value in (True, False):
                self.medications[key].set_value(value)
                self._medication_answered(self.medication_notes[key], value)
        for form, key in ((self.phq9, "phq9"), (self.gad7, "gad7")):
            answers = state.get(key)
            if isinstance(answers, list) and len(answers) == len(form.items):
                form.set_answers(answers)
        dose.update_dose()
        mrn = state.get("patient_mrn")
        if isinstance(mrn, str):
            who.find_again(mrn)  # the patient's details when they come

    # -- refusals ---------------------------------------------------------------------------

    def show_errors(self, errors: Sequence[FieldError]) -> None:
        """Show refusals (from this screen or from the service) under their fields."""
        for message in self.messages.values():
            message.clear()
            message.release()
        unplaced: list[str] = []
        for error in errors:
            under = self.messages.get(error.field)
            if under is None:
                unplaced.append(error.message)
            elif under.isHidden():
                under.show_error(error.message)
        shown = [e for e in errors if e.field in self.messages]
        self._to_check = list(dict.fromkeys(e.field for e in shown))
        self._unplaced = unplaced
        self._show_summary()
        first = next((self.messages[e.field] for e in shown), None)
        if first is not None:
            self._reveal(first)

    def _reveal(self, message: QWidget) -> None:
        """Scroll the form so that ``message``, just shown, is whole in view. Its place and
        height are known only once the layouts have run: scrolled at once, a refusal at the
        foot of a column was left cut at the viewport's edge beside "Check: Medications"."""
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        self.form_scroll.ensureWidgetVisible(message, 0, 80)

    def _show_summary(self) -> None:
        """"Check: Weight, Escort" beside the button, naming only fields still at fault."""
        names = ", ".join(dict.fromkeys(_FIELD_NAMES.get(f, f) for f in self._to_check))
        parts = ([f"Check: {names}"] if names else []) + self._unplaced
        self.summary.setText(" · ".join(parts))
        self.summary.setVisible(bool(parts))

    def _message_cleared(self, field: str) -> None:
        if field in self._to_check:
            self._to_check.remove(field)
            self._show_summary()

    def _update_submit(self) -> None:
        """The button waits for the protocol, a draft's patient and an MRN being looked up."""
        ready = (self.dose_card.protocol() is not None and not self.patient_card.finding
                 and not self.checking)
        self.submit_button.setEnabled(ready)
        self.submit_button.setText("Checking…" if self.checking else "Check in patient")

    def submit(self) -> None:
        """Check everything (a new patient's MRN on the worker, "Checking…" meanwhile);
        emit :attr:`checkInRequested` or show what must be fixed."""
        if self.checking or not self.submit_button.isEnabled():
            return
        self.hide_keypad()
        mrn = self.patient_card.new_mrn()
        if mrn is None:
            self._check([])
            return

        def checked(refusals: list[FieldError]) -> None:
            self.checking = False
            self._update_submit()
            if self.patient_card.new_mrn() != mrn:
                self.submit()  # the MRN was changed meanwhile: look the new one up
            else:
                self._check(refusals)

        self.checking = True
        self._update_submit()
        self.patient_card.check_mrn(mrn, checked)

    def _check(self, refusals: list[FieldError]) -> None:
        """Check every value, with ``refusals`` of the MRN looked up."""
        errors: list[FieldError] = []
        patient = self.patient_card.patient(errors)
        errors.extend(refusals)
        plan = self.dose_card.plan(errors, for_submit=True)
        medications = self._medication_answers(errors)
        escort = validate_escort(self.escort.text())
        if escort.error is not None:
            errors.append(FieldError("escort", f"{escort.error.message} (required: the patient "
                                               "must not drive for 24 hours)"))
        phq9 = self.phq9.checked_items(errors)
        gad7 = self.gad7.checked_items(errors)
        if errors or refusals or patient is None or plan is None or medications is None \
                or escort.value is None:
            self.show_errors(errors)
            self.dose_card.show_weight_confirmation()
            return
        self.show_errors([])
        self.checkInRequested.emit(CheckIn(
            chair=self.chair, patient=patient, profile=self.dose_card.profile.value(),
            weight_kg=plan.weight_kg, mg_per_kg=plan.mg_per_kg, minutes=int(plan.minutes),
            bag_volume_ml=plan.bag_volume_ml, plan=plan,
            lot_number=self.dose_card.lot.text().strip(),
            medications=MappingProxyType(medications), escort_name=escort.value,
            phq9_items=phq9, gad7_items=gad7,
        ))

    # -- medications -----------------------------------------------------------------------

    def _medication_answered(self, hint: QLabel, value: bool) -> None:
        hint.setVisible(value is True)
        self.messages["medications"].clear()

    def _medication_answers(self, errors: list[FieldError]) -> dict[str, bool] | None:
        answers = {key: segmented.value() for key, segmented in self.medications.items()}
        missing = [question for key, question, _ in MEDICATIONS if answers[key] is None]
        if missing:
            errors.append(FieldError("medications", "Answer yes or no for: "
                                                    f"{', '.join(missing)}"))
            return None
        return {key: bool(value) for key, value in answers.items()}

    # -- layout ----------------------------------------------------------------------------

    def _place(self) -> None:
        landscape = self._orientation == Qt.Orientation.Horizontal
        self._body.setDirection(QBoxLayout.Direction.LeftToRight if landscape
                                else QBoxLayout.Direction.TopToBottom)
        cards = (self.patient_card, self.dose_card, self.medications_card, self.escort_card,
                 self.mood_card)
        for column in (self._left, self._right):
            # removeWidget deletes the layout's item; an item only taken out would stay
            # alive holding the card, and the card's size changes (an error shown under a
            # field) would then never reach the layout it is in now: the text overlapped
            # the next card.
            for card in cards:
                column.removeWidget(card)
            while column.count():
                column.takeAt(0)
        left: tuple[Card, ...] = cards
        right: tuple[Card, ...] = ()
        if landscape:
            left = (self.patient_card, self.escort_card, self.medications_card)
            right = (self.dose_card, self.mood_card)
        for card in left:
            self._left.addWidget(card)
        for card in right:
            self._right.addWidget(card)
        self._left.addStretch(1)
        self._right.addStretch(1)
        self._columns.setStretch(1, 1 if right else 0)
