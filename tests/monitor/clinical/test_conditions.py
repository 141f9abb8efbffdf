"""Each condition's level at its boundaries, its message, and the high BP that
escalates on a repeat."""

from __future__ import annotations

import pytest

from monitor.clinical.domain import Measure, Severity
from tests.monitor.builders import r, record
from tests.monitor.clinical.flag_cases import (
    NORMAL,
    A,
    C,
    W,
    at_baseline,
    during_infusion,
    flags_at,
    start,
    tiers,
)

# --- boundaries ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "values", "expected"),
    [
        ("bp-high", {"sbp": 179, "dbp": 80}, []),
        ("bp-high", {"sbp": 180, "dbp": 80}, [W]),
        ("bp-high", {"sbp": 130, "dbp": 109}, []),
        ("bp-high", {"sbp": 130, "dbp": 110}, [W]),
        ("bp-high", {"sbp": 199, "dbp": 80}, [W]),
        ("bp-high", {"sbp": 200, "dbp": 80}, [C]),
        ("bp-high", {"sbp": 150, "dbp": 119}, [W]),
        ("bp-high", {"sbp": 150, "dbp": 120}, [C]),
        ("bp-high", {"sbp": 165, "dbp": 105}, []),  # baseline tiers do not apply during infusion
        ("bp-low", {"sbp": 90, "dbp": 60}, []),
        ("bp-low", {"sbp": 89, "dbp": 60}, [W]),
        ("bp-low", {"sbp": 80, "dbp": 50}, [W]),
        ("bp-low", {"sbp": 79, "dbp": 50}, [C]),
        ("hr-high", {"hr": 110}, []),  # NEWS2 91–110: 1 point, no flag of its own
        ("hr-high", {"hr": 111}, [W]),  # NEWS2 111–130: 2 points
        ("hr-high", {"hr": 130}, [W]),
        ("hr-high", {"hr": 131}, [C]),  # NEWS2 ≥ 131: 3 points
        ("hr-low", {"hr": 51}, []),
        ("hr-low", {"hr": 50}, [A]),  # NEWS2 41–50: 1 point
        ("hr-low", {"hr": 41}, [A]),
        ("hr-low", {"hr": 40}, [C]),  # NEWS2 ≤ 40: 3 points
        ("spo2-low", {"spo2": 94}, []),
        ("spo2-low", {"spo2": 93}, [W]),
        ("spo2-low", {"spo2": 92}, [W]),
        ("spo2-low", {"spo2": 91}, [C]),
        ("rr-low", {"rr": 12}, []),
        ("rr-low", {"rr": 11}, [A]),  # NEWS2 9–11: 1 point
        ("rr-low", {"rr": 9}, [A]),
        ("rr-low", {"rr": 8}, [C]),  # NEWS2 ≤ 8: 3 points
        ("rr-high", {"rr": 20}, []),
        ("rr-high", {"rr": 21}, [W]),
        ("rr-high", {"rr": 24}, [W]),
        ("rr-high", {"rr": 25}, [C]),
        ("moaas-low", {"moaas": 4}, []),
        ("moaas-low", {"moaas": 3}, [W]),
        ("moaas-low", {"moaas": 2}, [W]),
        ("moaas-low", {"moaas": 1}, [C]),
        ("cadss6-high", {"cadss6": 15}, []),
        ("cadss6-high", {"cadss6": 16}, [A]),
        ("nausea-high", {"nausea": 6}, []),
        ("nausea-high", {"nausea": 7}, [A]),
    ],
)
def test_limit_boundaries_during_infusion(key: str, values: dict[str, int],
                                          expected: list[Severity]) -> None:
    assert during_infusion(key, **values) == expected


@pytest.mark.parametrize(
    ("sbp", "expected"),
    [(155, []), (156, [A]), (157, [A])],  # baseline 120: +30 % is exactly 156
)
def test_sbp_rise_boundary_is_thirty_percent_over_baseline(sbp: int,
                                                          expected: list[Severity]) -> None:
    rec = record(r(-5, sbp=120, dbp=80), start(0), r(5, sbp=sbp, dbp=85))
    assert [f.severity for f in flags_at(rec, 5, "bp-rise")] == expected


def test_sbp_rise_message_gives_value_baseline_and_limit() -> None:
    rec = record(r(-5, sbp=120, dbp=80), start(0), r(5, sbp=158, dbp=85))
    (flag,) = flags_at(rec, 5, "bp-rise")
    assert flag.message == "SBP 158 is 32 % above baseline 120 (limit 30 %)"
    assert flag.measure is Measure.BP


def test_sbp_rise_does_not_apply_before_the_infusion() -> None:
    rec = record(r(-10, sbp=100, dbp=70), r(-5, sbp=135, dbp=80))
    assert flags_at(rec, -5, "bp-rise") == []


@pytest.mark.parametrize(
    ("sbp", "dbp", "expected"),
    [
        (139, 80, []),
        (140, 80, [A]),
        (130, 89, []),
        (130, 90, [A]),
        (159, 85, [A]),
        (160, 85, [W]),
        (150, 99, [A]),
        (150, 100, [W]),
        (180, 85, [W]),
    ],
)
def test_baseline_bp_tiers(sbp: int, dbp: int, expected: list[Severity]) -> None:
    assert at_baseline("bp-high", sbp=sbp, dbp=dbp) == expected


def test_baseline_warning_message_asks_for_clinician_review() -> None:
    (flag,) = flags_at(record(r(0, sbp=162, dbp=101)), 0, "bp-high")
    assert flag.message == ("Baseline BP 162/101: systolic ≥ 160 and diastolic ≥ 100 — "
                            "clinician review before start")


def test_phq9_item9_above_zero_warns_the_clinician() -> None:
    rec = record(r(0, phq9=12, phq9_items=(2, 2, 1, 1, 1, 2, 1, 1, 1)))
    (flag,) = flags_at(rec, 0, "phq9-item9")
    assert flag.severity is W
    assert flag.measure is Measure.PHQ9
    assert flag.message == "PHQ-9 item 9 (self-harm) scored 1 — tell the clinician"


def test_phq9_item9_zero_raises_nothing() -> None:
    rec = record(r(0, phq9=11, phq9_items=(2, 2, 1, 1, 1, 2, 1, 1, 0)))
    assert flags_at(rec, 0) == []


def test_messages_give_value_and_limit() -> None:
    rec = record(r(-5, **NORMAL), start(0),
                 r(5, sbp=182, dbp=96, hr=132, spo2=92, rr=26, moaas=3, cadss6=17, nausea=7))
    messages = {f.key: f.message for f in flags_at(rec, 5)}
    assert messages["bp-high"] == "BP 182/96: systolic ≥ 180 — repeat within 5 min"
    assert messages["hr-high"] == "HR 132 ≥ 131"
    assert messages["spo2-low"] == "SpO2 92 % ≤ 93 %"
    assert messages["rr-high"] == "RR 26 ≥ 25"
    assert messages["moaas-low"] == (
        "MOAA/S 3 ≤ 3 — responds only after name called loudly/repeatedly"
    )
    assert messages["cadss6-high"] == "CADSS-6 17 ≥ 16"
    assert messages["nausea-high"] == "Nausea 7/10 ≥ 7/10"


def test_low_spo2_on_oxygen_says_so() -> None:
    rec = record(r(-5, **NORMAL), start(0), r(5, spo2=90, on_oxygen=True))
    (flag,) = flags_at(rec, 5, "spo2-low")
    assert flag.message == "SpO2 90 % ≤ 91 % on oxygen"


# --- BP repeat escalation -----------------------------------------------------------------


def test_high_bp_repeated_within_window_becomes_critical() -> None:
    rec = record(r(-5, **NORMAL), start(0), r(20, sbp=182, dbp=96), r(27, sbp=184, dbp=112))
    assert tiers(flags_at(rec, 27, "bp-high")) == [("bp-high", W), ("bp-high", C)]
    critical = next(f for f in flags_at(rec, 27, "bp-high") if f.severity is C)
    assert critical.message == (
        "BP 184/112: still systolic ≥ 180 and diastolic ≥ 110 on repeat (first 10:20)")


@pytest.mark.parametrize(
    ("sbp", "dbp", "crossed"),
    [
        (186, 104, "systolic ≥ 180"),
        (150, 112, "diastolic ≥ 110"),
        (186, 114, "systolic ≥ 180 and diastolic ≥ 110"),
    ],
)
def test_bp_warning_message_names_the_part_that_crossed(sbp: int, dbp: int,
                                                        crossed: str) -> None:
    rec = record(r(-5, **NORMAL), start(0), r(5, sbp=sbp, dbp=dbp))
    (flag,) = flags_at(rec, 5, "bp-high")
    assert flag.severity is W
    assert flag.message == f"BP {sbp}/{dbp}: {crossed} — repeat within 5 min"


@pytest.mark.parametrize(
    ("sbp", "dbp", "crossed"),
    [
        (204, 104, "systolic ≥ 200"),
        (150, 121, "diastolic ≥ 120"),
        (210, 125, "systolic ≥ 200 and diastolic ≥ 120"),
    ],
)
def test_bp_critical_message_names_the_part_that_crossed(sbp: int, dbp: int,
                                                         crossed: str) -> None:
    rec = record(r(-5, **NORMAL), start(0), r(5, sbp=sbp, dbp=dbp))
    (flag,) = flags_at(rec, 5, "bp-high")
    assert flag.severity is C
    assert flag.message == f"BP {sbp}/{dbp}: {crossed}"


@pytest.mark.parametrize(
    ("sbp", "dbp", "crossed"),
    [
        (186, 104, "systolic ≥ 180"),
        (150, 112, "diastolic ≥ 110"),
        (186, 114, "systolic ≥ 180 and diastolic ≥ 110"),
    ],
)
def test_bp_repeat_message_names_the_part_that_crossed(sbp: int, dbp: int,
                                                       crossed: str) -> None:
    rec = record(r(-5, **NORMAL), start(0), r(20, sbp=182, dbp=96), r(27, sbp=sbp, dbp=dbp))
    critical = next(f for f in flags_at(rec, 27, "bp-high") if f.severity is C)
    assert critical.message == f"BP {sbp}/{dbp}: still {crossed} on repeat (first 10:20)"


@pytest.mark.parametrize(
    ("sbp", "dbp", "severity", "crossed", "advice"),
    [
        (165, 85, Severity.WARNING, "systolic ≥ 160", "clinician review before start"),
        (150, 102, Severity.WARNING, "diastolic ≥ 100", "clinician review before start"),
        (145, 85, Severity.ADVISORY, "systolic ≥ 140", "consider delaying the infusion"),
        (130, 92, Severity.ADVISORY, "diastolic ≥ 90", "consider delaying the infusion"),
        (145, 93, Severity.ADVISORY, "systolic ≥ 140 and diastolic ≥ 90",
         "consider delaying the infusion"),
    ],
)
def test_baseline_bp_message_names_the_part_that_crossed(
        sbp: int, dbp: int, severity: Severity, crossed: str, advice: str) -> None:
    (flag,) = flags_at(record(r(0, sbp=sbp, dbp=dbp)), 0, "bp-high")
    assert flag.severity is severity
    assert flag.message == f"Baseline BP {sbp}/{dbp}: {crossed} — {advice}"


def test_high_bp_repeated_exactly_at_window_edge_is_critical() -> None:
    rec = record(r(-5, **NORMAL), start(0), r(20, sbp=182, dbp=96), r(30, sbp=181, dbp=96))
    assert tiers(flags_at(rec, 30, "bp-high")) == [("bp-high", W), ("bp-high", C)]


def test_high_bp_repeated_outside_window_stays_a_warning() -> None:
    rec = record(r(-5, **NORMAL), start(0), r(20, sbp=182, dbp=96), r(31, sbp=184, dbp=100))
    assert tiers(flags_at(rec, 31, "bp-high")) == [("bp-high", W)]


def test_normal_bp_between_high_readings_breaks_the_repeat() -> None:
    rec = record(r(-5, **NORMAL), start(0), r(20, sbp=182, dbp=96), r(23, sbp=150, dbp=90),
                 r(26, sbp=183, dbp=96))
    assert tiers(flags_at(rec, 26, "bp-high")) == [("bp-high", W)]


def test_reading_without_bp_does_not_break_the_repeat() -> None:
    rec = record(r(-5, **NORMAL), start(0), r(20, sbp=182, dbp=96), r(23, cadss6=8),
                 r(26, sbp=183, dbp=96))
    assert tiers(flags_at(rec, 26, "bp-high")) == [("bp-high", W), ("bp-high", C)]
