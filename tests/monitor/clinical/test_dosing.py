"""Dose arithmetic and its refusals."""

from __future__ import annotations

import math
import re

import pytest

from monitor.clinical.dosing import DosePlan, plan_dose
from monitor.clinical.protocol import load_protocol

PROTOCOL = load_protocol("iv_ketamine")


def test_product_example_70_kg_at_half_mg_per_kg_over_40_minutes() -> None:
    plan = plan_dose(70, 0.5, 40, 100, PROTOCOL)
    assert plan == DosePlan(weight_kg=70, mg_per_kg=0.5, minutes=40, bag_volume_ml=100,
                            dose_mg=35.0, rate_mg_per_min=0.875, pump_ml_per_h=150.0)


def test_one_mg_per_kg_over_an_hour() -> None:
    plan = plan_dose(82.5, 1.0, 60, 250, PROTOCOL)
    assert plan.dose_mg == pytest.approx(82.5)
    assert plan.rate_mg_per_min == pytest.approx(1.375)
    assert plan.pump_ml_per_h == pytest.approx(250.0)


def test_plan_is_frozen() -> None:
    plan = plan_dose(70, 0.5, 40, 100, PROTOCOL)
    with pytest.raises(AttributeError):
        plan.dose_mg = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, 0.5, 40, 100), "weight_kg: 0 must be a number above 0"),
        ((-70, 0.5, 40, 100), "weight_kg: -70 must be a number above 0"),
        ((math.nan, 0.5, 40, 100), "weight_kg: nan must be a number above 0"),
        ((70, 0, 40, 100), "mg_per_kg: 0 must be a number above 0"),
        ((70, 0.5, 0, 100), "minutes: 0 must be a number above 0"),
        ((70, 0.5, 40, -1), "bag_volume_ml: -1 must be a number above 0"),
        ((70, 0.4, 40, 100), "mg_per_kg: 0.4 is outside the protocol's range 0.5–1 mg/kg"),
        ((70, 1.1, 40, 100), "mg_per_kg: 1.1 is outside the protocol's range 0.5–1 mg/kg"),
        ((70, 0.5, 30, 100), "minutes: 30 is outside the protocol's range 40–60 min"),
        ((70, 0.5, 61, 100), "minutes: 61 is outside the protocol's range 40–60 min"),
        ((True, 0.5, 40, 100), "weight_kg: expected a number, got True"),
    ],
)
def test_bad_inputs_are_refused_naming_field_and_range(args: tuple[float, ...],
                                                       message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        plan_dose(*args, PROTOCOL)


def test_range_edges_are_accepted() -> None:
    assert plan_dose(70, 0.5, 40, 100, PROTOCOL).dose_mg == 35.0
    assert plan_dose(70, 1.0, 60, 100, PROTOCOL).dose_mg == 70.0


def test_per_patient_protocol_range_applies() -> None:
    wider = PROTOCOL.with_overrides({"dose.mg_per_kg_max": 1.5})
    assert plan_dose(70, 1.2, 40, 100, wider).dose_mg == pytest.approx(84.0)
