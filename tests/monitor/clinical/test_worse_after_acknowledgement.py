"""A worse condition after an acknowledgement fires: for every measure with tiers, a reading
in a higher tier than the reading before it raises a new flag once the flags that could
cover it are acknowledged; the same tier does not fire again, whatever its value."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.clinical.domain import Measure, Severity
from monitor.clinical.rules import current_levels
from tests.monitor.builders import ack, r, record, t
from tests.monitor.clinical.flag_cases import NORMAL, PROTOCOL, A, C, W, flags_at, start

#: Condition, its lower tier with the values that meet it, a critical value.
TIERED: list[tuple[str, Severity, dict[str, Any], dict[str, Any]]] = [
    ("spo2-low", W, {"spo2": 93}, {"spo2": 88}),
    ("bp-high", W, {"sbp": 185}, {"sbp": 205}),
    ("bp-high", W, {"dbp": 112}, {"dbp": 122}),
    ("bp-low", W, {"sbp": 88}, {"sbp": 76}),
    ("hr-high", W, {"hr": 115}, {"hr": 135}),
    ("hr-low", A, {"hr": 48}, {"hr": 38}),
    ("rr-high", W, {"rr": 22}, {"rr": 26}),
    ("rr-low", A, {"rr": 10}, {"rr": 7}),
    ("moaas-low", W, {"moaas": 3}, {"moaas": 1}),
]
IDS = [f"{key}-{'-'.join(lower)}" for key, _, lower, _ in TIERED]


def _reading(minute: float, values: dict[str, Any]) -> Any:
    return r(minute, **{**NORMAL, **values})


def _sorted(flags: list[Any]) -> list[tuple[Severity, bool, bool]]:
    """(tier, acknowledged, open) of each flag, by time."""
    return [(f.severity, f.acknowledged, f.open) for f in sorted(flags, key=lambda f: f.time)]


@pytest.mark.parametrize(("key", "tier", "lower", "critical"), TIERED, ids=IDS)
def test_a_critical_reading_after_the_lower_flag_was_acknowledged_fires_critical(
        key: str, tier: Severity, lower: dict[str, Any], critical: dict[str, Any]) -> None:
    base = [_reading(-5, {}), start(0), _reading(10, lower)]
    (first,) = flags_at(record(*base), 10, key)
    rec = record(*base, ack(first, 12), _reading(30, critical))
    assert _sorted(flags_at(rec, 30, key)) == [(tier, True, False), (C, False, True)]


@pytest.mark.parametrize(("key", "tier", "lower", "critical"), TIERED, ids=IDS)
def test_back_to_critical_after_an_acknowledged_critical_eased_to_a_lower_tier_fires_again(
        key: str, tier: Severity, lower: dict[str, Any], critical: dict[str, Any]) -> None:
    base = [_reading(-5, {}), start(0), _reading(10, critical)]
    (first,) = flags_at(record(*base), 10, key)
    rec = record(*base, ack(first, 12), _reading(30, lower), _reading(50, critical))
    flags = flags_at(rec, 50, key)
    assert _sorted(flags) == [(C, True, False), (C, False, True)]
    assert max(flags, key=lambda f: f.time).time == t(50)


@pytest.mark.parametrize(("key", "tier", "lower", "critical"), TIERED, ids=IDS)
def test_back_to_critical_while_the_critical_flag_waits_raises_nothing_more(
        key: str, tier: Severity, lower: dict[str, Any], critical: dict[str, Any]) -> None:
    rec = record(_reading(-5, {}), start(0), _reading(10, critical), _reading(30, lower),
                 _reading(50, critical))
    assert _sorted(flags_at(rec, 50, key)) == [(C, False, True)]


def test_a_high_bp_acknowledged_then_still_there_on_the_repeat_fires_critical() -> None:
    base = [_reading(-5, {}), start(0), _reading(10, {"sbp": 184})]
    (warning,) = flags_at(record(*base), 10, "bp-high")
    rec = record(*base, ack(warning, 11), _reading(15, {"sbp": 186}))
    flags = flags_at(rec, 15, "bp-high")
    assert _sorted(flags) == [(W, True, False), (C, False, True)]
    assert "on repeat" in max(flags, key=lambda f: f.time).message


def test_a_lower_tier_after_an_acknowledged_critical_raises_nothing() -> None:
    base = [_reading(-5, {}), start(0), _reading(10, {"spo2": 88})]
    (first,) = flags_at(record(*base), 10, "spo2-low")
    rec = record(*base, ack(first, 12), _reading(20, {"spo2": 93}))
    assert _sorted(flags_at(rec, 20, "spo2-low")) == [(C, True, False)]


def test_a_worse_value_in_the_same_tier_after_the_acknowledgement_does_not_fire_again() -> None:
    """The protocol's tiers are the conditions: SpO2 82 is the same critical condition the
    nurse acknowledged at 90 ("act now" was answered); the screen still shows it critical."""
    base = [_reading(-5, {}), start(0), _reading(10, {"spo2": 90})]
    (first,) = flags_at(record(*base), 10, "spo2-low")
    rec = record(*base, ack(first, 12), _reading(20, {"spo2": 82}))
    assert _sorted(flags_at(rec, 20, "spo2-low")) == [(C, True, False)]
    assert current_levels(rec, PROTOCOL, t(20))[Measure.SPO2] is C


@pytest.mark.parametrize("baseline_sbp", [145, 165, 185])
def test_a_high_bp_once_the_infusion_runs_fires_after_the_baseline_bp_was_reviewed(
        baseline_sbp: int) -> None:
    """Before the start a high BP is the baseline's condition, reviewed by a clinician;
    180 and over during the infusion is the 'repeat within 5 min' warning all the same."""
    base = [_reading(-5, {"sbp": baseline_sbp})]
    (reviewed,) = flags_at(record(*base), -5, "bp-high")
    rec = record(*base, ack(reviewed, -3), start(0), _reading(10, {"sbp": 185}))
    flags = flags_at(rec, 10, "bp-high")
    assert [(f.time, f.severity, f.open) for f in sorted(flags, key=lambda f: f.time)] == [
        (t(-5), reviewed.severity, False), (t(10), W, True)]
    assert "repeat within" in max(flags, key=lambda f: f.time).message


def test_a_high_bp_carried_on_from_baseline_to_the_infusion_is_not_held_over() -> None:
    base = [_reading(-5, {"sbp": 165})]
    (reviewed,) = flags_at(record(*base), -5, "bp-high")
    rec = record(*base, ack(reviewed, -3), start(0), _reading(10, {"sbp": 185}),
                 _reading(14, {"sbp": 186}))
    flags = sorted(flags_at(rec, 14, "bp-high"), key=lambda f: f.time)
    assert [(f.severity, f.open) for f in flags] == [(W, False), (W, False), (C, True)]
    assert flags[1].resolution == "escalated"
