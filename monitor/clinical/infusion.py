"""How much of the planned infusion ran, and the dose the patient actually received.

An infusion stopped before its planned duration (pauses not counted) is an *early stop*:
the nurse gives the reason and the volume or dose actually given, which must lie between 0
and the planned dose. The stop event keeps them (``data``), and the dose delivered is read
back from it for the record, the course of treatment and the exports. An infusion that ran
its planned time delivered the planned dose.

Pure functions of the record: no database, no Qt.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.clinical.domain import EventKind, Phase, SessionRecord
from monitor.clinical.phases import phase_changes
from monitor.clinical.validation import FieldError

#: Keys of an early stop's event data.
DOSE_GIVEN_MG = "dose_given_mg"
VOLUME_GIVEN_ML = "volume_given_ml"
STOP_REASON = "early_stop_reason"
MINUTES_RUN = "minutes_run"
PLANNED_MINUTES = "planned_minutes"

#: Keys :func:`check_early_stop` sets; a stop that is not early carries none of them.
EARLY_STOP_KEYS = (DOSE_GIVEN_MG, VOLUME_GIVEN_ML, STOP_REASON, MINUTES_RUN, PLANNED_MINUTES)

#: A stop within this many minutes of the planned duration is on time: the nurse taps Stop
#: when the pump says it is done, which is not to the second.
ON_TIME_WITHIN_MIN = 1.0

#: A dose or volume typed by hand: digits, at most one decimal point (ASCII only).
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?")


@dataclass(frozen=True, slots=True)
class Plan:
    """What the check-in planned: minutes, dose (mg) and bag volume (mL); any may be unknown."""

    minutes: float | None
    dose_mg: float | None
    bag_volume_ml: float | None

    @property
    def mg_per_ml(self) -> float | None:
        if not self.dose_mg or not self.bag_volume_ml:
            return None
        return self.dose_mg / self.bag_volume_ml


@dataclass(frozen=True, slots=True)
class EarlyStop:
    """Stopping now ends the infusion ``minutes_run`` into ``planned_minutes``."""

    minutes_run: float
    plan: Plan

    @property
    def words(self) -> str:
        """"13 of 40 min"."""
        return f"{math.floor(self.minutes_run):d} of {self.plan.minutes:g} min"


@dataclass(frozen=True, slots=True)
class DoseDelivered:
    """The dose the patient received: the plan's, or what the nurse gave on an early stop."""

    dose_mg: float | None
    planned_mg: float | None
    early: bool = False
    reason: str = ""
    volume_ml: float | None = None
    minutes_run: float | None = None
    planned_minutes: float | None = None

    @property
    def words(self) -> str:
        """"12 mg of 35 mg planned (stopped early at 13 of 40 min: nausea)" or "35 mg"."""
        if self.dose_mg is None:
            return "not recorded"
        if not self.early:
            return f"{self.dose_mg:g} mg (as planned)"
        planned = f" of {self.planned_mg:g} mg planned" if self.planned_mg else ""
        volume = f", {self.volume_ml:g} mL" if self.volume_ml is not None else ""
        run = ""
        if self.minutes_run is not None and self.planned_minutes:
            run = f" at {math.floor(self.minutes_run):d} of {self.planned_minutes:g} min"
        reason = f": {self.reason}" if self.reason else ""
        return f"{self.dose_mg:g} mg{planned}{volume} (stopped early{run}{reason})"


def minutes_run(record: SessionRecord, until: datetime) -> float:
    """Minutes the infusion ran (infusing, not paused) up to ``until``."""
    running_since: datetime | None = None
    total = 0.0
    for time, phase in phase_changes(record):
        if time > until:
            break
        if phase is Phase.INFUSING and running_since is None:
            running_since = time
        elif phase is not Phase.INFUSING and running_since is not None:
            total += (time - running_since).total_seconds() / 60
            running_since = None
    if running_since is not None:
        total += (until - running_since).total_seconds() / 60
    return total


def early_stop(record: SessionRecord, plan: Plan, at: datetime) -> EarlyStop | None:
    """What stopping at ``at`` would be, when it is before the planned duration; else None."""
    changes = [(t, p) for t, p in phase_changes(record) if t <= at]
    phase = changes[-1][1] if changes else Phase.BASELINE
    if phase not in (Phase.INFUSING, Phase.PAUSED) or not plan.minutes:
        return None
    run = minutes_run(record, at)
    return EarlyStop(run, plan) if run < plan.minutes - ON_TIME_WITHIN_MIN else None


def check_early_stop(data: Mapping[str, Any] | None, stop: EarlyStop) -> dict[str, Any]:
    """The early stop's event data, checked: a reason, and the dose given in mg or the volume
    in mL (one is enough; a volume is turned into a dose by the bag's concentration).

    Raises :class:`ValueError` with the :class:`FieldError` list when something is wrong.
    """
    data = dict(data or {})
    errors: list[FieldError] = []
    reason = str(data.get(STOP_REASON) or "").strip()
    if not reason:
        errors.append(FieldError(STOP_REASON, "Reason for the early stop: required"))
    plan = stop.plan
    planned_mg = plan.dose_mg
    dose = _number(data.get(DOSE_GIVEN_MG))
    volume = _number(data.get(VOLUME_GIVEN_ML))
    if isinstance(dose, FieldError) or isinstance(volume, FieldError):
        name = DOSE_GIVEN_MG if isinstance(dose, FieldError) else VOLUME_GIVEN_ML
        errors.append(FieldError(name, _range_text(name, plan)))
        raise EarlyStopError(errors)
    volume_refused = False
    if dose is None and volume is not None:
        if plan.bag_volume_ml is not None and volume > plan.bag_volume_ml:
            errors.append(FieldError(VOLUME_GIVEN_ML, _range_text(VOLUME_GIVEN_ML, plan)))
            volume_refused = True
        elif plan.mg_per_ml is not None:
            dose = round(volume * plan.mg_per_ml, 2)
    missing = dose is None and not volume_refused
    out_of_range = dose is not None and planned_mg is not None and not 0 <= dose <= planned_mg
    if missing or out_of_range:
        errors.append(FieldError(DOSE_GIVEN_MG, _range_text(DOSE_GIVEN_MG, plan)))
    if errors:
        raise EarlyStopError(errors)
    checked: dict[str, Any] = {STOP_REASON: reason, DOSE_GIVEN_MG: dose,
                               MINUTES_RUN: round(stop.minutes_run, 1),
                               PLANNED_MINUTES: plan.minutes}
    if volume is not None:
        checked[VOLUME_GIVEN_ML] = volume
    return {**data, **checked}


class EarlyStopError(ValueError):
    """The early stop's reason or dose is missing or out of range; ``errors`` name each."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(e.message for e in errors))


def _range_text(name: str, plan: Plan) -> str:
    if name == VOLUME_GIVEN_ML:
        top = f"{plan.bag_volume_ml:g}" if plan.bag_volume_ml else "the bag's volume"
        return f"Volume given: a number from 0 to {top} mL"
    top = f"{plan.dose_mg:g}" if plan.dose_mg else "the planned dose"
    return f"Dose given: a number from 0 to {top} mg (the planned dose)"


def _number(value: Any) -> float | FieldError | None:
    """A typed number (ASCII digits and one point), None when blank; a FieldError if not."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return FieldError("number", "not a number")
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else FieldError("number", "not a number")
    text = str(value).strip()
    if not _NUMBER.fullmatch(text):
        return FieldError("number", "not a number")
    return float(text)


def early_stop_detail(data: Mapping[str, Any], stop: EarlyStop) -> str:
    """The stop event's detail in words."""
    delivered = delivered_from(data, stop.plan)
    return f"Stopped early at {stop.words}: {delivered.reason}; {delivered.dose_mg:g} mg given"


def delivered_from(data: Mapping[str, Any], plan: Plan) -> DoseDelivered:
    return DoseDelivered(
        dose_mg=float(data[DOSE_GIVEN_MG]), planned_mg=plan.dose_mg, early=True,
        reason=str(data.get(STOP_REASON, "")),
        volume_ml=(float(data[VOLUME_GIVEN_ML]) if data.get(VOLUME_GIVEN_ML) is not None
                   else None),
        minutes_run=data.get(MINUTES_RUN), planned_minutes=data.get(PLANNED_MINUTES),
    )


def dose_delivered(record: SessionRecord, plan: Plan) -> DoseDelivered | None:
    """The dose delivered once the infusion has stopped; None before."""
    stops = [e for e in record.events if e.kind is EventKind.INFUSION_STOP]
    if not stops:
        return None
    early = [e for e in stops if e.data.get(DOSE_GIVEN_MG) is not None]
    if early:
        return delivered_from(early[-1].data, plan)
    return DoseDelivered(dose_mg=plan.dose_mg, planned_mg=plan.dose_mg)
