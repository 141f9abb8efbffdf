"""The check-in form's Protocol and dose card: profile, weight, planned dose, infusion time,
bag volume and lot number, with the dose, rate and pump setting computed as they are chosen.

The numbers are computed by :func:`monitor.clinical.dosing.plan_dose`, never here; this card
shows them and says why none can be computed yet.

The profile's protocol is read once when the profile is chosen, on the app's database worker
(:class:`~ui.common.background.Background`), and kept: a weight typed computes the dose from
the kept protocol without asking the server. Until it comes the card says "Loading the
protocol…" and has no dose; a server that cannot be reached is said in the store's words,
and every value typed stays.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QLineEdit, QVBoxLayout

from monitor.clinical.checkin import validate_weight
from monitor.clinical.dosing import DosePlan, plan_dose
from monitor.clinical.protocol import Protocol
from monitor.clinical.validation import FieldError, ValidationError, parse_whole
from monitor.storage.store import StorageError
from ui.checkin.parts import SEGMENT_SPACING, Card, line_edit, number_field
from ui.checkin.values import number_text
from ui.common.background import Background, Latest
from ui.common.segmented import Segmented
from ui.common.theme import Theme
from ui.common.widgets import label

#: Planned doses offered as buttons, where the profile's range allows them.
MG_PER_KG_CHOICES: tuple[float, ...] = (0.5, 0.75, 1.0)
#: Infusion durations offered as buttons, where the profile's range allows them.
MINUTES_CHOICES: tuple[int, ...] = (40, 50, 60)
LOT_MAX_LENGTH = 40
#: Bag volumes are whole millilitres; four digits cover any infusion bag.
BAG_MAX_DIGITS = 4
#: What the dose card says while the profile's protocol is read.
LOADING_PROTOCOL = "Loading the protocol…"

#: What each field is called in messages (plan_dose names its arguments in code).
_DOSE_FIELDS = {"weight_kg": ("weight", "Weight"), "mg_per_kg": ("mg_per_kg", "Planned dose"),
                "minutes": ("minutes", "Infusion time"),
                "bag_volume_ml": ("bag_volume_ml", "Bag volume")}


class ProtocolSource(typing.Protocol):
    """The protocol a session started now would run under, by profile
    (``service.session_protocols``)."""

    def protocol_for(self, profile: str) -> Protocol: ...


class DoseCard(Card):
    """The protocol profile and the dose, computed live.

    ``service`` is read only: :meth:`~ProtocolSource.protocol_for` gives each profile's
    ranges and defaults, read on ``background`` (default: at once) when a profile is chosen.
    Its messages are in :attr:`messages`, by field ("weight", "mg_per_kg", "minutes",
    "bag_volume_ml", "lot"). The screen reads :meth:`plan` when the nurse checks in.

    Signals:
        protocolChanged(): the profile's protocol began loading, arrived, or could not be read
            (:meth:`protocol` says which).
    """

    protocolChanged = Signal()

    def __init__(self, theme: Theme, service: ProtocolSource,
                 profiles: Sequence[tuple[str, str]],
                 background: Background | None = None) -> None:
        super().__init__(theme, "Protocol and dose", "dose-card")
        self.service = service
        self._reads = Latest(background if background is not None else Background(parent=self))
        #: The chosen profile's protocol, once read; None while it loads or could not be read.
        self._protocol: Protocol | None = None
        #: Why the chosen profile's protocol could not be read (the store's words).
        self._read_error: str | None = None
        #: Planned dose and minutes to choose once the protocol is there (a draft's).
        self._wanted: tuple[Any, Any] = (None, None)
        self._confirmed_weight: str | None = None
        # One under another: a narrow column keeps the long protocol names.
        self.profile = Segmented("profile", [p for p, _ in profiles],
                                 [name for _, name in profiles], spacing=SEGMENT_SPACING,
                                 columns=1)
        self.profile.changed.connect(self.choose_profile)
        self.body.addWidget(label("Protocol profile", "field"))
        self.body.addWidget(self.profile)
        self.weight = line_edit("weight", "kg", max_length=5)
        number_field(self.weight, decimal=True, max_length=5)
        self.weight.textChanged.connect(self._weight_changed)
        self.field_row("Weight today (kg)", self.weight, "weight", marked=self.weight)
        self.messages["weight"].confirmClicked.connect(self._confirm_weight)
        self._mg_box = QVBoxLayout()
        self._minutes_box = QVBoxLayout()
        self.mg_per_kg = Segmented("mg_per_kg", [], spacing=SEGMENT_SPACING)
        self.minutes = Segmented("minutes", [], spacing=SEGMENT_SPACING)
        self.body.addWidget(label("Planned dose (mg/kg)", "field"))
        self.body.addLayout(self._mg_box)
        self.body.addWidget(self.message("mg_per_kg"))
        self.body.addWidget(label("Infusion time (min)", "field"))
        self.body.addLayout(self._minutes_box)
        self.body.addWidget(self.message("minutes"))
        self.bag = line_edit("bag", "mL", max_length=BAG_MAX_DIGITS)
        number_field(self.bag, max_length=BAG_MAX_DIGITS)
        self.bag.textChanged.connect(lambda _t: self._field_changed("bag_volume_ml"))
        self.field_row("Bag volume (mL)", self.bag, "bag_volume_ml", marked=self.bag)

        self.dose_result = QFrame()
        self.dose_result.setObjectName("dose-result")
        self.dose_result.setProperty("banner", "saving")
        result = QGridLayout(self.dose_result)
        result.setContentsMargins(12, 8, 12, 8)
        result.setHorizontalSpacing(12)
        self.dose_values: dict[str, QLabel] = {}
        for column, (key, name) in enumerate((("dose", "Dose mg"), ("rate", "Rate mg/min"),
                                              ("pump", "Pump mL/h"))):
            result.addWidget(label(name, "muted", wrap=False), 0, column)
            value = label("–", "value", wrap=False)
            value.setObjectName(f"dose-{key}")
            self.dose_values[key] = value
            result.addWidget(value, 1, column)
            result.setColumnStretch(column, 1)
        self.dose_note = label(role="muted")
        result.addWidget(self.dose_note, 2, 0, 1, 3)
        self.body.addWidget(self.dose_result)

        self.lot = line_edit("lot", "as printed on the vial", max_length=LOT_MAX_LENGTH)
        self.field_row("Drug lot number", self.lot, "lot", marked=self.lot)

    def number_fields(self) -> tuple[QLineEdit, ...]:
        """The fields the keypad types into."""
        return (self.weight, self.bag)

    def protocol(self) -> Protocol | None:
        """The chosen profile's protocol as read; None while it loads or could not be read."""
        return self._protocol

    @property
    def loading(self) -> bool:
        """Whether the chosen profile's protocol is still being read."""
        return self._reads.pending

    def choose_profile(self, profile: str) -> None:
        """Read ``profile``'s protocol (on the worker); once it is there, offer its doses and
        times, keeping the ones chosen that it allows."""
        self.profile.set_value(profile)
        if self._protocol is not None:
            self._wanted = (self.mg_per_kg.value(), self.minutes.value())
        self._protocol = None
        self._read_error = None
        service = self.service

        def answered(future: Future[Protocol]) -> None:
            if future.cancelled() or not shiboken6.isValid(self):
                return  # the check-in was left meanwhile, or the app is closing
            try:
                protocol = future.result()
            except StorageError as exc:
                self._read_error = f"{exc.message} Tap the protocol profile to try again."
                self.update_dose()
                self.protocolChanged.emit()
                return
            self._apply(protocol)

        self._reads.run(lambda: service.protocol_for(profile), answered)
        if self.loading:
            self.update_dose()
            self.protocolChanged.emit()

    def choose_dose(self, mg_per_kg: Any, minutes: Any) -> None:
        """Choose the planned dose and minutes (a draft's), now or once the protocol is
        there; a value the profile does not offer is left unchosen."""
        if self._protocol is None:
            self._wanted = (mg_per_kg, minutes)
            return
        for row, value in ((self.mg_per_kg, mg_per_kg), (self.minutes, minutes)):
            if value in row.values():
                row.set_value(value)
        self.update_dose()

    def _apply(self, protocol: Protocol) -> None:
        """Offer ``protocol``'s doses and times, keeping the ones chosen that it allows."""
        self._protocol = protocol
        dose = protocol.dose
        mg_values = sorted({v for v in (*MG_PER_KG_CHOICES, dose.mg_per_kg_default)
                            if dose.mg_per_kg_min <= v <= dose.mg_per_kg_max})
        minute_values = sorted({v for v in (*MINUTES_CHOICES, dose.minutes_default)
                                if dose.minutes_min <= v <= dose.minutes_max})
        wanted_mg, wanted_minutes = self._wanted
        self._wanted = (None, None)
        keep_mg = wanted_mg if wanted_mg in mg_values else None
        keep_minutes = wanted_minutes if wanted_minutes in minute_values else None
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
        self.update_dose()
        self.protocolChanged.emit()

    def plan(self, errors: list[FieldError], *, for_submit: bool = False) -> DosePlan | None:
        """The dose plan, or None with the refusals added to ``errors``; ``for_submit``
        also asks for an unusual weight to be confirmed."""
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
        protocol = self._protocol
        if protocol is None:
            errors.append(FieldError("profile", LOADING_PROTOCOL if self.loading else
                                     self._read_error or LOADING_PROTOCOL))
        if (weight.value is None or bag is None or mg_per_kg is None or minutes is None
                or protocol is None):
            return None
        try:
            return plan_dose(float(weight.value), mg_per_kg, minutes, bag, protocol)
        except ValueError as exc:
            errors.append(_dose_error(str(exc)))
            return None

    def update_dose(self) -> None:
        """Show the dose, rate and pump setting, or why they cannot be computed yet."""
        errors: list[FieldError] = []
        plan = self.plan(errors)
        if plan is None:
            for value in self.dose_values.values():
                value.setText("–")
            reasons = [e.message for e in errors if e.field in ("weight", "bag_volume_ml")
                       and (e.field != "weight" or self.weight.text())]
            self.dose_note.setText(
                LOADING_PROTOCOL if self.loading else self._read_error or (
                    reasons[0] if reasons else "Enter today's weight to compute the dose."))
            return
        self.dose_values["dose"].setText(number_text(plan.dose_mg, 1))
        self.dose_values["rate"].setText(number_text(plan.rate_mg_per_min))
        self.dose_values["pump"].setText(number_text(plan.pump_ml_per_h, 1))
        self.dose_note.setText(
            f"{number_text(plan.weight_kg, 1)} kg × {number_text(plan.mg_per_kg, 2)} mg/kg over "
            f"{number_text(plan.minutes, 0)} min; {number_text(plan.bag_volume_ml, 0)} mL bag "
            f"({self._protocol.name if self._protocol is not None else ''})")

    def dose_texts(self) -> dict[str, str]:
        """What the dose panel shows: ``{"dose": "35", "rate": "0.875", "pump": "150"}``."""
        return {key: value.text() for key, value in self.dose_values.items()}

    def show_weight_confirmation(self) -> None:
        """Ask for an unusual weight to be confirmed ("Confirm 180 kg") under the field."""
        weight = validate_weight(self.weight.text(),
                                 confirmed=self.weight.text() == self._confirmed_weight)
        if weight.error is None and weight.needs_confirmation is not None:
            self.messages["weight"].show_confirm(weight.needs_confirmation.message,
                                                 f"{self.weight.text()} kg")

    def _replace_segmented(self, box: QVBoxLayout, old: Segmented, name: str,
                           values: Sequence[Any], labels: Sequence[str]) -> Segmented:
        box.removeWidget(old)
        old.deleteLater()
        new = Segmented(name, values, labels, spacing=SEGMENT_SPACING)
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
        self.update_dose()

    def _field_changed(self, field: str) -> None:
        self.messages[field].clear()
        self.update_dose()


def _dose_error(text: str) -> FieldError:
    """A :func:`plan_dose` refusal ("bag_volume_ml: 0 must be …") under its field's name."""
    argument, _, problem = text.partition(": ")
    field, name = _DOSE_FIELDS.get(argument, ("weight", argument))
    return FieldError(field, f"{name}: {problem}")


def _mg_per_kg_text(value: float) -> str:
    """"0.5", "0.75", "1.0": a whole mg/kg keeps its ".0" so that it reads as a dose."""
    text = number_text(value, 2)
    return text if "." in text else f"{text}.0"
