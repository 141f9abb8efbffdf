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
refusal appears under its field, naming it and the accepted range. Nothing is stored here:
the screen emits a :class:`CheckIn` and ``main`` hands it to the service. The form scrolls
(kinetically) in one column on a portrait screen and two on a landscape one, never sideways.

Controls keep their place while the nurse works: the keypad's dock keeps its room when no
number field is being typed in (opening it squeezes no column), a medication's "Yes:" note
has its room before it shows, and a refusal that goes (the field was answered) leaves its
room until the next "Check in", so nothing moves under a finger between two taps.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from monitor.clinical.domain import Severity
from monitor.clinical.dosing import DosePlan, plan_dose
from monitor.clinical.protocol import Protocol, available_profiles
from monitor.clinical.scores import GAD7, PHQ9, PHQ9_SELF_HARM_ITEM, Scale
from monitor.clinical.validation import (
    MRN_MAX_LENGTH,
    NAME_MAX_LENGTH,
    FieldError,
    ValidationError,
    parse_whole,
    validate_dob_parts,
    validate_escort,
    validate_mrn,
    validate_name,
    validate_reading,
    validate_weight,
)
from monitor.clock import Clock
from monitor.service.clinic import ClinicService
from monitor.service.views import PatientInfo
from ui.common.keypad import NumericKeypad
from ui.common.style import PRIMARY_MIN, TouchButton, tier_icon
from ui.common.theme import TEXT_PX, TOUCH_MIN, Theme
from ui.common.widgets import FieldMessage as SharedFieldMessage
from ui.common.widgets import kinetic, restyle
from ui.overview.screen import chair_title

#: Planned doses offered as buttons, where the profile's range allows them.
MG_PER_KG_CHOICES: tuple[float, ...] = (0.5, 0.75, 1.0)
#: Infusion durations offered as buttons, where the profile's range allows them.
MINUTES_CHOICES: tuple[int, ...] = (40, 50, 60)
#: Search result rows: above the touch minimum, tapped while holding the tablet.
RESULT_ROW_PX = 64
RESULT_ROWS_SHOWN = 4
SEGMENT_MIN = 56
ICON_PX = 28
LOT_MAX_LENGTH = 40
#: Bag volumes are whole millilitres; four digits cover any infusion bag.
BAG_MAX_DIGITS = 4
#: The docked keypad's width: keys well above the touch minimum, the form keeps the rest.
KEYPAD_WIDTH = 380
#: The primary action is wide enough to find without looking twice.
SUBMIT_MIN_WIDTH = 320

#: The concomitant medications asked about: (key in ``CheckIn.medications``, question, what
#: a "yes" means for the nurse). The first four are the esketamine REMS form's questions;
#: the notes follow the Spravato label (CNS depressants deepen sedation; psychostimulants
#: and MAOIs raise blood pressure) and the product brief (SSRIs/SNRIs: closer BP watch).
MEDICATIONS: tuple[tuple[str, str, str], ...] = (
    ("benzodiazepines", "Benzodiazepines", "may deepen sedation"),
    ("non_benzodiazepine_sedative_hypnotics", "Non-benzodiazepine sedative hypnotics",
     "may deepen sedation"),
    ("psychostimulants", "Psychostimulants", "may raise blood pressure"),
    ("maois", "MAOIs", "may raise blood pressure"),
    ("ssris_snris", "SSRIs / SNRIs", "closer BP watch"),
)

#: The answer anchors of PHQ-9 and GAD-7 (the same four), shown once above the items.
MOOD_ANCHORS = "0 not at all · 1 several days · 2 more than half the days · 3 nearly every day"

ESCORT_REASON = "Required: the patient must not drive for 24 hours after the infusion."
ITEM9_WARNING = ("PHQ-9 item 9 (thoughts of self-harm) is above 0. The clinician will be told "
                 "before the infusion starts.")

#: What each field is called in messages (plan_dose names its arguments in code).
_DOSE_FIELDS = {"weight_kg": ("weight", "Weight"), "mg_per_kg": ("mg_per_kg", "Planned dose"),
                "minutes": ("minutes", "Infusion time"),
                "bag_volume_ml": ("bag_volume_ml", "Bag volume")}


@dataclass(frozen=True)
class NewPatient:
    """A patient not yet on file, as entered at check-in (already validated)."""

    mrn: str
    name: str
    date_of_birth: date


@dataclass(frozen=True)
class CheckIn:
    """Everything the check-in screen gathered, validated, ready for the service.

    ``patient`` is the id of a patient on file or a :class:`NewPatient` to add first.
    ``medications`` maps each key of :data:`MEDICATIONS` to the answer (read-only).
    ``plan`` is the dose plan shown to the nurse when she tapped "Check in".
    """

    chair: str
    patient: uuid.UUID | NewPatient
    profile: str
    weight_kg: float
    mg_per_kg: float
    minutes: int
    bag_volume_ml: float
    plan: DosePlan
    lot_number: str
    medications: Mapping[str, bool]
    escort_name: str
    phq9_items: tuple[int, ...] | None = None
    gad7_items: tuple[int, ...] | None = None


def number_text(value: float, places: int = 3) -> str:
    """``35`` for 35.0, ``0.875``, ``1.313`` for 1.3125: at most ``places`` decimals shown."""
    text = f"{value:.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _label(text: str = "", role: str | None = None, *, wrap: bool = True) -> QLabel:
    label = QLabel(text)
    if role is not None:
        label.setProperty("role", role)
    label.setWordWrap(wrap)
    return label


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    # Bigger than any role of the app sheet, so set on the label itself.
    label.setStyleSheet(f"QLabel {{ font-size: {TEXT_PX + 6}px; font-weight: bold; }}")
    return label


def _line_edit(name: str, placeholder: str = "", *, max_length: int = 100) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setPlaceholderText(placeholder)
    edit.setMaxLength(max_length)
    edit.setMinimumHeight(TOUCH_MIN)
    return edit


class Segmented(QWidget):
    """A row of buttons of which at most one is chosen (a segmented control).

    The chosen button is filled, thickly outlined and bold (the app sheet's ``:checked``),
    so the choice shows without relying on colour.

    Signals:
        changed(object): the chosen value, or ``None``.
    """

    changed = Signal(object)

    def __init__(self, name: str, values: Sequence[Any], labels: Sequence[str] | None = None,
                 *, min_height: int = SEGMENT_MIN, vertical: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._value: Any = None
        self._buttons: dict[Any, QPushButton] = {}
        # Long labels (protocol names) go one under another, so a narrow column keeps them.
        layout = QVBoxLayout(self) if vertical else QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        for value, text in zip(values, labels or [str(v) for v in values], strict=True):
            button = TouchButton(text, min_height=min_height)
            button.setObjectName(f"{name}-{value}")
            button.setCheckable(True)
            button.setProperty("choice" if vertical else "segment", True)
            # A focus frame left on a tapped segment would look like a second choice.
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.clicked.connect(lambda _checked=False, v=value: self._clicked(v))
            layout.addWidget(button)
            self._buttons[value] = button

    def value(self) -> Any:
        return self._value

    def values(self) -> list[Any]:
        return list(self._buttons)

    def set_value(self, value: Any) -> None:
        """Show ``value`` as chosen (``None``: nothing), without emitting ``changed``."""
        self._value = value
        for key, button in self._buttons.items():
            button.setChecked(key == value)

    def button(self, value: Any) -> QPushButton:
        return self._buttons[value]

    def _clicked(self, value: Any) -> None:
        self.set_value(value)
        self.changed.emit(value)


class FieldMessage(SharedFieldMessage):
    """What is wrong with one field, under it: icon + text, and "Confirm" for an unusual
    value (its button named ``confirm-<field>``).

    A message that goes while the nurse works keeps its room (the rows under it stay
    where they are) until :meth:`release` gives it back, when the form is checked again.

    Signals:
        confirmClicked(): the nurse confirmed the unusual value.
        cleared(str): a message that was showing went (the field was changed); the field.
    """

    cleared = Signal(str)

    def __init__(self, theme: Theme, field: str, marked: QWidget | None = None,
                 parent: QWidget | None = None) -> None:
        confirm = TouchButton("Confirm")
        confirm.setObjectName(f"confirm-{field}")
        super().__init__(theme, confirm, marked=marked, expand_text=False, parent=parent)
        self.field = field

    def clear(self) -> None:
        showing = not self.isHidden()
        if showing:
            _retain_room(self, True)
        super().clear()
        if showing:
            self.cleared.emit(self.field)

    def release(self) -> None:
        """Give back the room a cleared message kept."""
        _retain_room(self, False)


class _Card(QFrame):
    """One section of the form: a heading and its rows."""

    def __init__(self, title: str, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setProperty("role", "card")
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(14, 10, 14, 14)
        self.body.setSpacing(8)
        self.body.addWidget(_heading(title))


class ScoreForm(QWidget):
    """An optional questionnaire (PHQ-9 or GAD-7): each item scored 0–3 by tapping, the total
    and its band shown as the items are answered.

    Signals: none; the screen reads :meth:`answers` when the nurse checks in.
    """

    def __init__(self, theme: Theme, scale: Scale, field: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.scale = scale
        self.field = field
        self.toggle = TouchButton(f"Add {scale.name}")
        self.toggle.setObjectName(f"{field}-toggle")
        self.toggle.clicked.connect(lambda: self.set_included(not self.included()))
        self.total = _label(role="field")
        self.items: list[Segmented] = []
        self._body = QWidget()
        body = QVBoxLayout(self._body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(4)
        body.addWidget(_label(MOOD_ANCHORS, "muted"))
        for number, text in enumerate(scale.items, start=1):
            body.addWidget(_label(f"{number}. {text}"))
            segmented = Segmented(f"{field}-{number}", range(scale.item_max + 1))
            segmented.changed.connect(lambda _v: self._update())
            body.addWidget(segmented)
            self.items.append(segmented)
        self.item9_warning = QWidget()
        warning_row = QHBoxLayout(self.item9_warning)
        warning_row.setContentsMargins(0, 4, 0, 4)
        warning_icon = QLabel()
        warning_icon.setPixmap(tier_icon(theme, Severity.WARNING, ICON_PX).pixmap(ICON_PX))
        warning_icon.setFixedSize(ICON_PX, ICON_PX)
        self.item9_text = _label(ITEM9_WARNING, "confirm")
        warning_row.addWidget(warning_icon, 0, Qt.AlignmentFlag.AlignTop)
        warning_row.addWidget(self.item9_text, 1)
        self.item9_warning.hide()
        # The warning's room is kept while the items show (set_included): answering item 9
        # moves no row.
        self.message = FieldMessage(theme, field)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        head = QHBoxLayout()
        head.addWidget(_label(f"{scale.name} (optional)", "field"), 1)
        head.addWidget(self.toggle)
        layout.addLayout(head)
        layout.addWidget(self._body)
        layout.addWidget(self.item9_warning)
        layout.addWidget(self.total)
        layout.addWidget(self.message)
        self.set_included(False)

    def included(self) -> bool:
        return not self._body.isHidden()

    def set_included(self, included: bool) -> None:
        self._body.setVisible(included)
        _retain_room(self.item9_warning, included)
        self.toggle.setText(f"Remove {self.scale.name}" if included else f"Add {self.scale.name}")
        if not included:
            for segmented in self.items:
                segmented.set_value(None)
        self._update()

    def answers(self) -> list[int | None]:
        return [segmented.value() for segmented in self.items]

    def set_answers(self, answers: Sequence[int | None]) -> None:
        self.set_included(True)
        for segmented, value in zip(self.items, answers, strict=True):
            segmented.set_value(value)
        self._update()

    def _update(self) -> None:
        self.message.clear()
        answers = self.answers()
        answered = sum(a is not None for a in answers)
        self.total.setVisible(self.included())
        if answered == len(answers):
            total = self.scale.total([a for a in answers if a is not None])
            self.total.setText(f"Total {total} of {self.scale.max_total} — "
                               f"{self.scale.band(total)}")
        else:
            self.total.setText(f"{answered} of {len(answers)} items answered")
        item9 = answers[PHQ9_SELF_HARM_ITEM] if self.scale is PHQ9 else None
        self.item9_warning.setVisible(item9 is not None and item9 > 0)


class CheckInScreen(QWidget):
    """Check a patient in to one chair.

    ``service`` is used to read only: :meth:`ClinicService.search_patients`,
    :meth:`~ClinicService.find_patient` (an MRN already on file) and
    :meth:`~ClinicService.protocol_for`. ``clock`` gives today's date for the date of birth.

    Signals:
        checkInRequested(object): a validated :class:`CheckIn`.
        cancelled(): the nurse left without checking in.
    """

    checkInRequested = Signal(object)
    cancelled = Signal()

    def __init__(self, theme: Theme, service: ClinicService, clock: Clock, chair: str, *,
                 profiles: Sequence[tuple[str, str]] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.service = service
        self.clock = clock
        self.chair = chair
        self._profiles = list(profiles) if profiles is not None else available_profiles()
        self._selected: PatientInfo | None = None
        self._confirmed_weight: str | None = None
        self._orientation = Qt.Orientation.Horizontal
        self.messages: dict[str, FieldMessage] = {}
        #: Fields named in the summary ("Check: …") and refusals not tied to a field.
        self._to_check: list[str] = []
        self._unplaced: list[str] = []

        self._build_patient()
        self._build_dose()
        self._build_medications()
        self._build_escort()
        self._build_mood()

        self.title = _heading(f"Check in — {chair_title(chair)}")
        self.cancel_button = TouchButton("Cancel", min_size=PRIMARY_MIN * 2,
                                         min_height=PRIMARY_MIN)
        self.cancel_button.setObjectName("cancel")
        self.cancel_button.clicked.connect(self.cancelled)
        self.submit_button = TouchButton("Check in patient", min_size=SUBMIT_MIN_WIDTH,
                                         min_height=PRIMARY_MIN)
        self.submit_button.setObjectName("check-in")
        self.submit_button.setProperty("primary", True)
        self.submit_button.clicked.connect(self.submit)
        self.summary = _label(role="error")
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
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(self._content)
        kinetic(self.scroll.viewport())

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
        hint_text = _label("Keypad: tap a number field (weight, bag volume, date of birth) "
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
        self._body.addWidget(self.scroll, 1)
        self._body.addWidget(self._dock, 0, Qt.AlignmentFlag.AlignCenter)
        layout.addLayout(head)
        layout.addLayout(self._body, 1)
        layout.addLayout(foot)

        self._place()
        self._choose_profile(self._profiles[0][0])
        self._set_mode("find")
        # Aimed at a field from the start: the keypad's own display (shown only while it has
        # no field) would otherwise go at the first tap and change the dock's size.
        options = self.weight.property("keypad")
        self.keypad.set_target(self.weight, decimal=options["decimal"], slash=False,
                               max_length=options["max_length"])

    # -- building --------------------------------------------------------------------------

    def _message(self, field: str, marked: QWidget | None = None) -> FieldMessage:
        message = FieldMessage(self.theme, field, marked)
        message.cleared.connect(self._message_cleared)
        self.messages[field] = message
        return message

    def _field_row(self, card: _Card, label: str, widget: QWidget, field: str, *,
                   marked: QWidget | None = None, hint: str = "") -> None:
        card.body.addWidget(_label(label, "field"))
        if hint:
            card.body.addWidget(_label(hint, "muted"))
        card.body.addWidget(widget)
        card.body.addWidget(self._message(field, marked))

    def _build_patient(self) -> None:
        card = self.patient_card = _Card("Patient", "patient-card")
        self.mode = Segmented("mode", ["find", "new"], ["Find patient", "New patient"])
        self.mode.changed.connect(self._set_mode)
        card.body.addWidget(self.mode)

        self.find_box = QWidget()
        find = QVBoxLayout(self.find_box)
        find.setContentsMargins(0, 0, 0, 0)
        find.setSpacing(6)
        self.search = _line_edit("search", "MRN or name", max_length=NAME_MAX_LENGTH)
        self.search.textChanged.connect(self._search)
        self.search_keypad = TouchButton("123")
        self.search_keypad.setObjectName("search-keypad")
        self.search_keypad.setToolTip("Type MRN digits on the keypad")
        self.search_keypad.clicked.connect(lambda: self.show_keypad(self.search))
        # Qt's own clear button in the field is 22 px: too small for a finger.
        self.search_clear = TouchButton("Clear")
        self.search_clear.setObjectName("search-clear")
        self.search_clear.clicked.connect(self.search.clear)
        search_row = QHBoxLayout()
        search_row.addWidget(self.search, 1)
        search_row.addWidget(self.search_clear)
        search_row.addWidget(self.search_keypad)
        find.addWidget(_label("Search", "field"))
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
        self.no_results = _label(role="muted")
        find.addWidget(self.no_results)
        self.selected = _label(role="field")
        self.selected.setObjectName("selected-patient")
        find.addWidget(self.selected)
        find.addWidget(self._message("patient", self.search))
        card.body.addWidget(self.find_box)

        self.new_box = QWidget()
        new = QVBoxLayout(self.new_box)
        new.setContentsMargins(0, 0, 0, 0)
        new.setSpacing(6)
        self.mrn = _line_edit("mrn", "e.g. MRN-004211", max_length=MRN_MAX_LENGTH)
        self.name = _line_edit("name", "Given name and family name", max_length=NAME_MAX_LENGTH)
        new.addWidget(_label("MRN", "field"))
        new.addWidget(self.mrn)
        new.addWidget(self._message("mrn", self.mrn))
        new.addWidget(_label("Name", "field"))
        new.addWidget(self.name)
        new.addWidget(self._message("name", self.name))
        self.dob_year = _line_edit("dob-year", "YYYY", max_length=4)
        self.dob_month = _line_edit("dob-month", "MM", max_length=2)
        self.dob_day = _line_edit("dob-day", "DD", max_length=2)
        dob_row = QHBoxLayout()
        dob_row.setSpacing(6)
        for edit, stretch in ((self.dob_year, 2), (self.dob_month, 1), (self.dob_day, 1)):
            self._keypad_field(edit, max_length=edit.maxLength())
            dob_row.addWidget(edit, stretch)
        new.addWidget(_label("Date of birth (year, month, day)", "field"))
        new.addLayout(dob_row)
        new.addWidget(self._message("dob", self.dob_year))
        card.body.addWidget(self.new_box)
        self.mrn.textChanged.connect(lambda _t: self.messages["mrn"].clear())
        self.name.textChanged.connect(lambda _t: self.messages["name"].clear())
        for edit in (self.dob_year, self.dob_month, self.dob_day):
            edit.textChanged.connect(lambda _t: self.messages["dob"].clear())
        # Year, month and day are typed one after another: a full field moves on.
        self.dob_year.textChanged.connect(lambda t: self._advance(t, 4, self.dob_month))
        self.dob_month.textChanged.connect(lambda t: self._advance(t, 2, self.dob_day))

    def _build_dose(self) -> None:
        card = self.dose_card = _Card("Protocol and dose", "dose-card")
        self.profile = Segmented("profile", [p for p, _ in self._profiles],
                                 [name for _, name in self._profiles], vertical=True)
        self.profile.changed.connect(self._choose_profile)
        card.body.addWidget(_label("Protocol profile", "field"))
        card.body.addWidget(self.profile)
        self.weight = _line_edit("weight", "kg", max_length=5)
        self._keypad_field(self.weight, decimal=True, max_length=5)
        self.weight.textChanged.connect(self._weight_changed)
        self._field_row(card, "Weight today (kg)", self.weight, "weight", marked=self.weight)
        self.messages["weight"].confirmClicked.connect(self._confirm_weight)
        self._mg_box = QVBoxLayout()
        self._minutes_box = QVBoxLayout()
        self.mg_per_kg = Segmented("mg_per_kg", [])
        self.minutes = Segmented("minutes", [])
        card.body.addWidget(_label("Planned dose (mg/kg)", "field"))
        card.body.addLayout(self._mg_box)
        card.body.addWidget(self._message("mg_per_kg"))
        card.body.addWidget(_label("Infusion time (min)", "field"))
        card.body.addLayout(self._minutes_box)
        card.body.addWidget(self._message("minutes"))
        self.bag = _line_edit("bag", "mL", max_length=BAG_MAX_DIGITS)
        self._keypad_field(self.bag, max_length=BAG_MAX_DIGITS)
        self.bag.textChanged.connect(lambda _t: self._field_changed("bag_volume_ml"))
        self._field_row(card, "Bag volume (mL)", self.bag, "bag_volume_ml", marked=self.bag)

        self.dose_result = QFrame()
        self.dose_result.setObjectName("dose-result")
        self.dose_result.setProperty("banner", "saving")
        result = QGridLayout(self.dose_result)
        result.setContentsMargins(12, 8, 12, 8)
        result.setHorizontalSpacing(12)
        self.dose_values: dict[str, QLabel] = {}
        for column, (key, name) in enumerate((("dose", "Dose mg"), ("rate", "Rate mg/min"),
                                              ("pump", "Pump mL/h"))):
            result.addWidget(_label(name, "muted", wrap=False), 0, column)
            value = _label("–", "value", wrap=False)
            value.setObjectName(f"dose-{key}")
            self.dose_values[key] = value
            result.addWidget(value, 1, column)
            result.setColumnStretch(column, 1)
        self.dose_note = _label(role="muted")
        result.addWidget(self.dose_note, 2, 0, 1, 3)
        card.body.addWidget(self.dose_result)

        self.lot = _line_edit("lot", "as printed on the vial", max_length=LOT_MAX_LENGTH)
        self._field_row(card, "Drug lot number", self.lot, "lot", marked=self.lot)

    def _build_medications(self) -> None:
        card = self.medications_card = _Card("Concomitant medications", "medications-card")
        card.body.addWidget(_label("Is the patient taking… (REMS form)", "muted"))
        self.medications: dict[str, Segmented] = {}
        self.medication_notes: dict[str, QLabel] = {}
        for key, question, note in MEDICATIONS:
            row = QGridLayout()
            row.setHorizontalSpacing(10)
            segmented = Segmented(f"med-{key}", [False, True], ["No", "Yes"])
            segmented.setFixedWidth(180)
            question_label = _label(question)
            question_label.setMinimumHeight(SEGMENT_MIN)
            row.addWidget(question_label, 0, 0)
            row.addWidget(segmented, 0, 1, 2, 1, Qt.AlignmentFlag.AlignTop)
            hint = _label(f"Yes: {note}", "confirm")
            # Its room is kept: a "Yes" that pushed the rows below down would turn the next
            # quick tap into an answer to the wrong question.
            _retain_room(hint, True)
            hint.hide()
            row.addWidget(hint, 1, 0)
            row.setColumnStretch(0, 1)
            segmented.changed.connect(lambda value, h=hint: self._medication_answered(h, value))
            self.medications[key] = segmented
            self.medication_notes[key] = hint
            card.body.addLayout(row)
        card.body.addWidget(self._message("medications"))

    def _build_escort(self) -> None:
        card = self.escort_card = _Card("Escort", "escort-card")
        self.escort = _line_edit("escort", "Who takes the patient home", max_length=NAME_MAX_LENGTH)
        self.escort.textChanged.connect(lambda _t: self.messages["escort"].clear())
        self._field_row(card, "Escort / driver name", self.escort, "escort",
                        marked=self.escort, hint=ESCORT_REASON)

    def _build_mood(self) -> None:
        card = self.mood_card = _Card("Mood scores before the infusion", "mood-card")
        self.phq9 = ScoreForm(self.theme, PHQ9, "phq9_items")
        self.gad7 = ScoreForm(self.theme, GAD7, "gad7_items")
        self.messages["phq9_items"] = self.phq9.message
        self.messages["gad7_items"] = self.gad7.message
        for form in (self.phq9, self.gad7):
            form.message.cleared.connect(self._message_cleared)
        card.body.addWidget(self.phq9)
        card.body.addWidget(self.gad7)

    def _keypad_field(self, edit: QLineEdit, *, decimal: bool = False, max_length: int) -> None:
        """Make ``edit`` a number field: tapping it docks the keypad, writing into it."""
        edit.setProperty("keypad", {"decimal": decimal, "max_length": max_length})
        edit.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly if not decimal
                                 else Qt.InputMethodHint.ImhFormattedNumbersOnly)
        edit.installEventFilter(self)

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
        self.scroll.ensureWidgetVisible(edit, 0, 24)

    def _keypad_enter(self) -> None:
        """Enter: on to the next date-of-birth field with the keypad still open; elsewhere
        the keypad is put away."""
        following = {self.dob_year: self.dob_month, self.dob_month: self.dob_day}.get(
            self.keypad.target())
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
        self._selected = patient
        self.mode.set_value("find")
        self._set_mode("find")
        self.selected.setText(f"Selected: {_patient_line(patient)}")
        self.selected.show()
        self.messages["patient"].clear()
        if patient.weight_kg is not None:
            self.weight.setText(number_text(patient.weight_kg, 1))

    def selected_patient(self) -> PatientInfo | None:
        return self._selected

    def draft_state(self) -> dict[str, Any]:
        """Everything typed or chosen, as JSON values, to keep as a draft."""
        return {
            "mode": self.mode.value(), "search": self.search.text(),
            "patient_mrn": self._selected.mrn if self._selected is not None else None,
            "mrn": self.mrn.text(), "name": self.name.text(),
            "dob": [self.dob_year.text(), self.dob_month.text(), self.dob_day.text()],
            "profile": self.profile.value(), "weight": self.weight.text(),
            "mg_per_kg": self.mg_per_kg.value(), "minutes": self.minutes.value(),
            "bag": self.bag.text(), "lot": self.lot.text(), "escort": self.escort.text(),
            "medications": {key: row.value() for key, row in self.medications.items()},
            "phq9": self.phq9.answers() if self.phq9.included() else None,
            "gad7": self.gad7.answers() if self.gad7.included() else None,
        }

    def restore_draft(self, state: Mapping[str, Any]) -> None:
        """Put a kept draft back (a patient on file is found again by MRN)."""
        if state.get("profile") in self.profile.values():
            self._choose_profile(state["profile"])
        mrn = state.get("patient_mrn")
        patient = self.service.find_patient(mrn) if isinstance(mrn, str) else None
        if patient is not None:
            self.select_patient(patient)
        self._set_mode(state.get("mode") if state.get("mode") in ("find", "new") else "find")
        texts = ((self.mrn, "mrn"), (self.name, "name"), (self.weight, "weight"),
                 (self.bag, "bag"), (self.lot, "lot"), (self.escort, "escort"))
        for edit, key in texts:
            if isinstance(state.get(key), str):
                edit.setText(state[key])
        dob = state.get("dob")
        if isinstance(dob, list) and len(dob) == 3:  # year, month, day
            for edit, text in zip((self.dob_year, self.dob_month, self.dob_day), dob,
                                  strict=True):
                edit.setText(str(text))
        for row, key in ((self.mg_per_kg, "mg_per_kg"), (self.minutes, "minutes")):
            if state.get(key) in row.values():
                row.set_value(state[key])
        for key, value in (state.get("medications") or {}).items():
            if key in self.medications and value in (True, False):
                self.medications[key].set_value(value)
                self._medication_answered(self.medication_notes[key], value)
        for form, key in ((self.phq9, "phq9"), (self.gad7, "gad7")):
            answers = state.get(key)
            if isinstance(answers, list) and len(answers) == len(form.items):
                form.set_answers(answers)
        self._update_dose()

    def dose_texts(self) -> dict[str, str]:
        """What the dose panel shows: ``{"dose": "35", "rate": "0.875", "pump": "150"}``."""
        return {key: label.text() for key, label in self.dose_values.items()}

    def show_errors(self, errors: Sequence[FieldError]) -> None:
        """Show refusals (from this screen or from the service) under their fields."""
        for message in self.messages.values():
            message.clear()
            message.release()
        unplaced: list[str] = []
        for error in errors:
            message = self.messages.get(error.field)
            if message is None:
                unplaced.append(error.message)
            elif message.isHidden():
                message.show_error(error.message)
        shown = [e for e in errors if e.field in self.messages]
        self._to_check = list(dict.fromkeys(e.field for e in shown))
        self._unplaced = unplaced
        self._show_summary()
        first = next((self.messages[e.field] for e in shown), None)
        if first is not None:
            self.scroll.ensureWidgetVisible(first, 0, 80)

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

    def submit(self) -> None:
        """Check everything; emit :attr:`checkInRequested` or show what must be fixed."""
        self.hide_keypad()
        errors: list[FieldError] = []
        patient = self._patient(errors)
        plan = self._plan(errors, for_submit=True)
        medications = self._medication_answers(errors)
        escort = validate_escort(self.escort.text())
        if escort.error is not None:
            errors.append(FieldError("escort", f"{escort.error.message} (required: the patient "
                                               "must not drive for 24 hours)"))
        phq9 = self._items(self.phq9, errors)
        gad7 = self._items(self.gad7, errors)
        if errors or patient is None or plan is None or medications is None \
                or escort.value is None:
            self.show_errors(errors)
            self._show_weight_confirmation()
            return
        self.show_errors([])
        self.checkInRequested.emit(CheckIn(
            chair=self.chair, patient=patient, profile=self.profile.value(),
            weight_kg=plan.weight_kg, mg_per_kg=plan.mg_per_kg, minutes=int(plan.minutes),
            bag_volume_ml=plan.bag_volume_ml, plan=plan, lot_number=self.lot.text().strip(),
            medications=MappingProxyType(medications), escort_name=escort.value,
            phq9_items=phq9, gad7_items=gad7,
        ))

    # -- patient ---------------------------------------------------------------------------

    def _set_mode(self, mode: str) -> None:
        self.mode.set_value(mode)
        self.find_box.setVisible(mode == "find")
        self.new_box.setVisible(mode == "new")
        self.selected.setVisible(mode == "find" and self._selected is not None)
        self.hide_keypad()

    def _search(self, text: str) -> None:
        self.results.clear()
        self.messages["patient"].clear()
        needle = text.strip()
        found = self.service.search_patients(needle) if needle else []
        for patient in found:
            item = QListWidgetItem(_patient_line(patient))
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

    def _patient(self, errors: list[FieldError]) -> uuid.UUID | NewPatient | None:
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
        if mrn.value is not None:
            existing = self.service.find_patient(mrn.value)
            if existing is not None:
                errors.append(FieldError("mrn", f"MRN {mrn.value} is already on file "
                                                f"({existing.name or 'no name'}): use Find "
                                                "patient"))
                return None
        if mrn.value is None or name.value is None or dob.value is None:
            return None
        return NewPatient(mrn.value, name.value, dob.value)

    # -- dose ------------------------------------------------------------------------------

    def protocol(self) -> Protocol:
        return self.service.protocol_for(self.profile.value())

    def _choose_profile(self, profile: str) -> None:
        self.profile.set_value(profile)
        dose = self.protocol().dose
        mg_values = sorted({v for v in (*MG_PER_KG_CHOICES, dose.mg_per_kg_default)
                            if dose.mg_per_kg_min <= v <= dose.mg_per_kg_max})
        minute_values = sorted({v for v in (*MINUTES_CHOICES, dose.minutes_default)
                                if dose.minutes_min <= v <= dose.minutes_max})
        keep_mg = self.mg_per_kg.value() if self.mg_per_kg.value() in mg_values else None
        keep_minutes = self.minutes.value() if self.minutes.value() in minute_values else None
        self.mg_per_kg = self._replace_segmented(
            self._mg_box, self.mg_per_kg, "mg_per_kg", mg_values,
            [_mg_per_kg_text(v) for v in mg_values])
        self.minutes = self._replace_segmented(
            self._minutes_box, self.minutes, "minutes", minute_values,
            [str(v) for v in minute_values])
        self.mg_per_kg.set_value(keep_mg if keep_mg is not None else dose.mg_per_kg_default)
        self.minutes.set_value(keep_minutes if keep_minutes is not None
                               else dose.minutes_default)
        if not self.bag.text():
            self.bag.setText(number_text(dose.bag_volume_ml_default, 0))
        self._update_dose()

    def _replace_segmented(self, box: QVBoxLayout, old: Segmented, name: str,
                           values: Sequence[Any], labels: Sequence[str]) -> Segmented:
        box.removeWidget(old)
        old.deleteLater()
        new = Segmented(name, values, labels)
        new.changed.connect(lambda _v: self._field_changed(name))
        box.addWidget(new)
        return new

    def _weight_changed(self, text: str) -> None:
        if text != self._confirmed_weight:
            self._confirmed_weight = None
        self._field_changed("weight")

    def _confirm_weight(self) -> None:
        self._confirmed_weight = self.weight.text()
        self.messages["weight"].clear()
        self._update_dose()

    def _field_changed(self, field: str) -> None:
        self.messages[field].clear()
        self._update_dose()

    def _plan(self, errors: list[FieldError], *, for_submit: bool = False) -> DosePlan | None:
        weight = validate_weight(self.weight.text(),
                                 confirmed=self.weight.text() == self._confirmed_weight)
        if weight.error is not None:
            errors.append(weight.error)
        elif for_submit and weight.needs_confirmation is not None:
            errors.append(weight.needs_confirmation)
        bag: int | None = None
        try:
            bag = parse_whole(self.bag.text(), field="bag_volume_ml", label="Bag volume")
        except ValidationError as exc:
            errors.append(FieldError("bag_volume_ml", f"{exc.message} of mL"))
        mg_per_kg, minutes = self.mg_per_kg.value(), self.minutes.value()
        if mg_per_kg is None:
            errors.append(FieldError("mg_per_kg", "Choose the planned dose in mg/kg"))
        if minutes is None:
            errors.append(FieldError("minutes", "Choose the infusion time"))
        if weight.value is None or bag is None or mg_per_kg is None or minutes is None:
            return None
        try:
            return plan_dose(float(weight.value), mg_per_kg, minutes, bag, self.protocol())
        except ValueError as exc:
            errors.append(_dose_error(str(exc)))
            return None

    def _update_dose(self) -> None:
        errors: list[FieldError] = []
        plan = self._plan(errors)
        if plan is None:
            for label in self.dose_values.values():
                label.setText("–")
            reasons = [e.message for e in errors if e.field in ("weight", "bag_volume_ml")
                       and (e.field != "weight" or self.weight.text())]
            self.dose_note.setText(reasons[0] if reasons else
                                   "Enter today's weight to compute the dose.")
            return
        self.dose_values["dose"].setText(number_text(plan.dose_mg, 1))
        self.dose_values["rate"].setText(number_text(plan.rate_mg_per_min))
        self.dose_values["pump"].setText(number_text(plan.pump_ml_per_h, 1))
        self.dose_note.setText(
            f"{number_text(plan.weight_kg, 1)} kg × {number_text(plan.mg_per_kg, 2)} mg/kg over "
            f"{number_text(plan.minutes, 0)} min; {number_text(plan.bag_volume_ml, 0)} mL bag "
            f"({self.protocol().name})")

    def _show_weight_confirmation(self) -> None:
        weight = validate_weight(self.weight.text(),
                                 confirmed=self.weight.text() == self._confirmed_weight)
        if weight.error is None and weight.needs_confirmation is not None:
            self.messages["weight"].show_confirm(weight.needs_confirmation.message,
                                                 f"{self.weight.text()} kg")

    # -- medications, scores ----------------------------------------------------------------

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

    @staticmethod
    def _items(form: ScoreForm, errors: list[FieldError]) -> tuple[int, ...] | None:
        if not form.included():
            return None
        answers = form.answers()
        check = validate_reading({form.field: answers})
        errors.extend(e for e in check.errors if e.field == form.field)
        if any(a is None for a in answers) and not check.errors:
            errors.append(FieldError(form.field, f"Answer all {len(answers)} items of "
                                                 f"{form.scale.name}, or remove it"))
        items = check.values.get(form.field)
        return tuple(items) if isinstance(items, tuple) else None

    @staticmethod
    def _advance(text: str, length: int, following: QLineEdit) -> None:
        if len(text) == length and following.isVisible():
            following.setFocus()

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
        if landscape:
            left = (self.patient_card, self.escort_card, self.medications_card)
            right = (self.dose_card, self.mood_card)
        else:
            left, right = cards, ()
        for card in left:
            self._left.addWidget(card)
        for card in right:
            self._right.addWidget(card)
        self._left.addStretch(1)
        self._right.addStretch(1)
        self._columns.setStretch(1, 1 if right else 0)


#: What a field is called in the summary beside the "Check in" button.
_FIELD_NAMES = {
    "patient": "Patient", "mrn": "MRN", "name": "Name", "dob": "Date of birth",
    "weight": "Weight", "mg_per_kg": "Planned dose", "minutes": "Infusion time",
    "bag_volume_ml": "Bag volume", "lot": "Lot number", "medications": "Medications",
    "escort": "Escort", "phq9_items": "PHQ-9", "gad7_items": "GAD-7",
}


def _retain_room(widget: QWidget, retain: bool) -> None:
    """Whether ``widget`` keeps its room in the layout while hidden."""
    policy = widget.sizePolicy()
    if policy.retainSizeWhenHidden() != retain:
        policy.setRetainSizeWhenHidden(retain)
        widget.setSizePolicy(policy)


def _dose_error(text: str) -> FieldError:
    """A :func:`plan_dose` refusal ("bag_volume_ml: 0 must be …") under its field's name."""
    argument, _, problem = text.partition(": ")
    field, label = _DOSE_FIELDS.get(argument, ("weight", argument))
    return FieldError(field, f"{label}: {problem}")


def _mg_per_kg_text(value: float) -> str:
    """"0.5", "0.75", "1.0": a whole mg/kg keeps its ".0" so that it reads as a dose."""
    text = number_text(value, 2)
    return text if "." in text else f"{text}.0"


def _patient_line(patient: PatientInfo) -> str:
    parts = [patient.name or "(no name)", patient.mrn]
    if patient.date_of_birth is not None:
        parts.append(f"born {patient.date_of_birth.isoformat()}")
    if patient.weight_kg is not None:
        parts.append(f"{number_text(patient.weight_kg, 1)} kg")
    return " · ".join(parts)

