"""The infusion arithmetic: dose, rate and pump setting from weight and the planned regimen.

dose mg = mg/kg × weight; rate mg/min = dose ÷ minutes; pump mL/h = bag volume ÷ hours
(70 kg at 0.5 mg/kg → 35 mg → 0.875 mg/min; a 100 mL bag over 40 min runs at 150 mL/h).
The planned mg/kg and duration must lie in the protocol's allowed ranges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from monitor.clinical.protocol import Protocol


@dataclass(frozen=True, slots=True)
class DosePlan:
    weight_kg: float
    mg_per_kg: float
    minutes: float
    bag_volume_ml: float
    dose_mg: float
    rate_mg_per_min: float
    pump_ml_per_h: float


def plan_dose(weight_kg: float, mg_per_kg: float, minutes: float, bag_volume_ml: float,
              protocol: Protocol) -> DosePlan:
    """The dose plan, or ``ValueError`` naming the field and the accepted range."""
    for name, value in (("weight_kg", weight_kg), ("mg_per_kg", mg_per_kg),
                        ("minutes", minutes), ("bag_volume_ml", bag_volume_ml)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name}: expected a number, got {value!r}")
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"{name}: {value} must be a number above 0")
    dose = protocol.dose
    if not dose.mg_per_kg_min <= mg_per_kg <= dose.mg_per_kg_max:
        raise ValueError(f"mg_per_kg: {mg_per_kg} is outside the protocol's range "
                         f"{dose.mg_per_kg_min:g}–{dose.mg_per_kg_max:g} mg/kg")
    if not dose.minutes_min <= minutes <= dose.minutes_max:
        raise ValueError(f"minutes: {minutes} is outside the protocol's range "
                         f"{dose.minutes_min}–{dose.minutes_max} min")
    dose_mg = mg_per_kg * weight_kg
    return DosePlan(
        weight_kg=weight_kg, mg_per_kg=mg_per_kg, minutes=minutes, bag_volume_ml=bag_volume_ml,
        dose_mg=dose_mg,
        rate_mg_per_min=dose_mg / minutes,
        # × 60 ÷ minutes rather than ÷ (minutes / 60): 100 mL over 40 min is exactly 150.0.
        pump_ml_per_h=bag_volume_ml * 60 / minutes,
    )
