"""The flag rules at their boundaries, episode firing, overdue readings and normal courses."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.clinical.domain import (
    Event,
    EventKind,
    Flag,
    Measure,
    Phase,
    Reading,
    SessionRecord,
    Severity,
    flag_id,
)
from monitor.clinical.protocol import load_protocol
from monitor.clinical.rules import (
    baseline,
    current_levels,
    evaluate_flags,
    infusion_started_at,
    infusion_stopped_at,
    next_reading,
    next_reading_due,
    session_phase,
)
from tests.monitor.builders import SESSION, ack, ev, r, record, t

PROTOCOL = load_protocol("iv_ketamine")
NORMAL: dict[str, Any] = {"sbp": 128, "dbp": 78, "hr": 72, "spo2": 97, "rr": 14, "cadss6": 0,
                          "moaas": 5, "nausea": 0}


# --- builder ------------------------------------------------------------------------------


def start(minute: float = 0) -> Event:
    return ev(minute, EventKind.INFUSION_START)


def stop(minute: float) -> Event:
    return ev(minute, EventKind.INFUSION_STOP)


def flags_at(rec: SessionRecord, minute: float, key: str | None = None,
             protocol: Any = PROTOCOL) -> list[Flag]:
    return [f for f in evaluate_flags(rec, protocol, t(minute)) if key is None or f.key == key]


def tiers(flags: list[Flag]) -> list[tuple[str, Severity]]:
    return [(f.key, f.severity) for f in sorted(flags, key=lambda f: f.time)]


def during_infusion(key: str, protocol: Any = PROTOCOL, **values: Any) -> list[Severity]:
    """Tiers of ``key`` raised by one infusion reading with ``values`` after a normal baseline."""
    rec = record(r(-5, **NORMAL), start(0), r(5, **values))
    return [f.severity for f in flags_at(rec, 5, key, protocol)]


def at_baseline(key: str, **values: Any) -> list[Severity]:
    rec = record(r(0, **values))
    return [f.severity for f in flags_at(rec, 0, key)]


W, C, A = Severity.WARNING, Severity.CRITICAL, Severity.ADVISORY


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


# --- episodes -----------------------------------------------------------------------------


def test_unchanged_condition_does_not_fire_again() -> None:
    rec = record(r(-5, **NORMAL), start(0), r(10, hr=115), r(20, hr=118), r(30, hr=112))
    assert tiers(flags_at(rec, 30, "hr-high")) == [("hr-high", W)]


def test_unchanged_condition_does_not_fire_again_after_acknowledgement() -> None:
    base = [r(-5, **NORMAL), start(0), r(10, hr=115)]
    first = flags_at(record(*base), 10, "hr-high")[0]
    rec = record(*base, ack(first, 12), r(20, hr=118))
    (flag,) = flags_at(rec, 20, "hr-high")
    assert flag.acknowledged
    assert not flag.open


def test_worse_condition_fires_again() -> None:
    rec = record(r(-5, **NORMAL), start(0), r(10, hr=115), r(20, hr=135))
    assert tiers(flags_at(rec, 20, "hr-high")) == [("hr-high", W), ("hr-high", C)]


def test_oscillation_while_unacknowledged_gives_one_flag() -> None:
    rec = record(r(-5, **NORMAL), start(0), r(10, hr=112), r(15, hr=105), r(20, hr=111),
                 r(25, hr=106), r(30, hr=113))
    assert tiers(flags_at(rec, 30, "hr-high")) == [("hr-high", W)]


def test_oscillation_to_a_worse_tier_still_fires() -> None:
    rec = record(r(-5, **NORMAL), start(0), r(10, hr=112), r(15, hr=105), r(20, hr=131))
    assert tiers(flags_at(rec, 20, "hr-high")) == [("hr-high", W), ("hr-high", C)]


def test_recurrence_after_acknowledgement_fires() -> None:
    base = [r(-5, **NORMAL), start(0), r(10, hr=112)]
    first = flags_at(record(*base), 10, "hr-high")[0]
    rec = record(*base, ack(first, 12), r(15, hr=100), r(20, hr=112))
    flags = flags_at(rec, 20, "hr-high")
    assert [f.time for f in sorted(flags, key=lambda f: f.time)] == [t(10), t(20)]
    assert [f.open for f in flags] == [True, False]


def test_acknowledgement_after_the_recurrence_does_not_unsuppress_it() -> None:
    base = [r(-5, **NORMAL), start(0), r(10, hr=112)]
    first = flags_at(record(*base), 10, "hr-high")[0]
    rec = record(*base, r(15, hr=100), r(20, hr=112), ack(first, 22))
    assert [f.time for f in flags_at(rec, 25, "hr-high")] == [t(10)]


def test_reading_without_the_measure_neither_continues_nor_ends_an_episode() -> None:
    base = [r(-5, **NORMAL), start(0), r(10, hr=112)]
    first = flags_at(record(*base), 10, "hr-high")[0]
    gap = record(*base, ack(first, 11), r(15, cadss6=9), r(20, hr=114))
    assert [f.time for f in flags_at(gap, 20, "hr-high")] == [t(10)]
    ended = record(*base, ack(first, 11), r(15, hr=90), r(20, hr=114))
    assert [f.time for f in flags_at(ended, 20, "hr-high")] == [t(20), t(10)]


# --- ids, acknowledgements, order ---------------------------------------------------------


def test_flag_ids_are_stable_and_anchored_on_the_reading() -> None:
    reading = r(5, hr=132)
    rec = record(r(-5, **NORMAL), start(0), reading)
    (flag,) = flags_at(rec, 5, "hr-high")
    assert flag.id == flag_id(SESSION, "hr-high", C, str(reading.id))
    assert flag.reading_id == reading.id
    assert flag.time == t(5)
    assert flags_at(rec, 9, "hr-high")[0].id == flag.id


def test_acknowledgement_is_attached_only_from_its_time() -> None:
    base = [r(-5, **NORMAL), start(0), r(5, hr=132)]
    (flag,) = flags_at(record(*base), 5)
    acknowledgement = ack(flag, 8)
    rec = record(*base, acknowledgement)
    assert flags_at(rec, 7)[0].acknowledgement is None
    assert flags_at(rec, 8)[0].acknowledgement == acknowledgement


def test_flags_sort_open_first_then_severity_then_time() -> None:
    base = [r(-5, **NORMAL), start(0), r(5, hr=132)]
    critical = flags_at(record(*base), 5)[0]
    rec = record(*base, ack(critical, 6), r(8, spo2=93), r(9, cadss6=18), r(10, rr=26))
    order = [(f.key, f.severity, f.open) for f in flags_at(rec, 10)]
    assert order == [("rr-high", C, True), ("spo2-low", W, True), ("cadss6-high", A, True),
                     ("hr-high", C, False)]


def test_later_entries_are_ignored_when_evaluating_an_earlier_moment() -> None:
    rec = record(r(-5, **NORMAL), start(0), r(5, hr=90), r(15, hr=135))
    assert flags_at(rec, 10) == []


# --- phases and baseline ------------------------------------------------------------------


def test_session_phase_follows_the_events() -> None:
    rec = record(r(-5, **NORMAL), start(0), ev(10, EventKind.INFUSION_PAUSE),
                 ev(12, EventKind.INFUSION_RESUME), stop(40), ev(80, EventKind.DISCHARGE_SIGNED))
    phases = [session_phase(rec, t(m)) for m in (-1, 0, 11, 12, 39, 40, 79, 80, 90)]
    assert phases == [Phase.BASELINE, Phase.INFUSING, Phase.PAUSED, Phase.INFUSING,
                      Phase.INFUSING, Phase.RECOVERY, Phase.RECOVERY, Phase.DISCHARGED,
                      Phase.DISCHARGED]


def test_discharge_override_also_ends_the_session() -> None:
    rec = record(start(0), stop(40), ev(50, EventKind.DISCHARGE_OVERRIDE))
    assert session_phase(rec, t(50)) is Phase.DISCHARGED


def test_baseline_takes_each_measures_last_value_before_start() -> None:
    rec = record(r(-15, sbp=140, dbp=88, hr=80, cadss6=2), r(-5, sbp=128, dbp=78, spo2=97),
                 start(0), r(5, sbp=150, dbp=90, hr=90))
    base = baseline(rec)
    assert base is not None
    assert (base.sbp, base.dbp, base.hr, base.spo2, base.cadss6) == (128, 78, 80, 97, 2)


def test_baseline_is_the_first_reading_when_none_precedes_the_start() -> None:
    rec = record(start(0), r(3, sbp=125, dbp=75, hr=70), r(10, sbp=150, dbp=90))
    base = baseline(rec)
    assert base is not None
    assert (base.sbp, base.hr) == (125, 70)


def test_infusion_start_and_stop_times() -> None:
    rec = record(start(2), stop(42))
    assert (infusion_started_at(rec), infusion_stopped_at(rec)) == (t(2), t(42))
    restarted = record(start(2), stop(20), start(25))
    assert infusion_stopped_at(restarted) is None


# --- overdue readings ---------------------------------------------------------------------


def infusion_with_readings(*minutes: float) -> list[Reading | Event]:
    return [r(-5, **NORMAL), start(0), *(r(m, **NORMAL) for m in minutes)]


def test_reading_exactly_at_grace_limit_is_not_overdue() -> None:
    rec = record(*infusion_with_readings(0, 12))
    assert flags_at(rec, 12, "overdue") == []


def test_reading_one_second_past_grace_resolves_an_overdue_flag() -> None:
    late = 12 + 1 / 60
    rec = record(*infusion_with_readings(0, late))
    (flag,) = flags_at(rec, late, "overdue")
    assert flag.severity is A
    assert flag.measure is Measure.OVERDUE
    assert flag.time == t(12)
    assert flag.resolved_at == t(late)
    assert not flag.open
    assert flag.id == flag_id(SESSION, "overdue", A, t(10).isoformat())
    assert flag.message == "Reading overdue by > 2 min (due 10:10)"


def test_missing_reading_is_an_open_overdue_flag_once_past_grace() -> None:
    rec = record(*infusion_with_readings(0))
    assert flags_at(rec, 12, "overdue") == []
    (flag,) = flags_at(rec, 12 + 1 / 60, "overdue")
    assert flag.open
    assert flag.resolved_at is None


def test_next_reading_due_by_phase() -> None:
    rec = record(r(-5, **NORMAL), start(0), r(3, **NORMAL), stop(40), r(41, **NORMAL),
                 ev(70, EventKind.DISCHARGE_SIGNED))
    assert next_reading_due(rec, PROTOCOL, t(-1)) is None
    assert next_reading_due(rec, PROTOCOL, t(1)) == t(10)
    assert next_reading_due(rec, PROTOCOL, t(5)) == t(13)
    assert next_reading_due(rec, PROTOCOL, t(40)) == t(55)
    assert next_reading_due(rec, PROTOCOL, t(45)) == t(56)
    assert next_reading_due(rec, PROTOCOL, t(75)) is None


def test_recovery_readings_are_due_every_fifteen_minutes() -> None:
    on_time = record(*infusion_with_readings(10, 20, 30, 40), stop(40), r(57, **NORMAL))
    assert flags_at(on_time, 57, "overdue") == []
    late = record(*infusion_with_readings(10, 20, 30, 40), stop(40), r(57.5, **NORMAL))
    assert [f.time for f in flags_at(late, 58, "overdue")] == [t(57)]


def test_no_reading_is_due_in_baseline_or_after_discharge() -> None:
    assert flags_at(record(r(0, **NORMAL)), 60, "overdue") == []
    rec = record(*infusion_with_readings(10, 20, 30, 40), stop(40), r(55, **NORMAL),
                 ev(60, EventKind.DISCHARGE_SIGNED))
    assert flags_at(rec, 200, "overdue") == []


def test_pause_does_not_restart_the_reading_clock() -> None:
    rec = record(*infusion_with_readings(0), ev(8, EventKind.INFUSION_PAUSE))
    assert next_reading_due(rec, PROTOCOL, t(9)) == t(10)
    assert [f.time for f in flags_at(rec, 13, "overdue")] == [t(12)]


def test_historic_gaps_appear_as_resolved_flags() -> None:
    rec = record(*infusion_with_readings(0, 15, 25, 40))
    flags = flags_at(rec, 41, "overdue")
    assert sorted((f.time, f.resolved_at) for f in flags) == [(t(12), t(15)), (t(37), t(40))]


def test_readings_without_vitals_do_not_count_as_readings() -> None:
    rec = record(*infusion_with_readings(0), r(8, cadss6=6))
    assert [f.time for f in flags_at(rec, 13, "overdue")] == [t(12)]


def test_gap_running_into_recovery_raises_one_flag() -> None:
    rec = record(*infusion_with_readings(10, 20, 30), stop(45), r(70, **NORMAL))
    assert [f.time for f in flags_at(rec, 70, "overdue")] == [t(42)]


# --- the repeat after a BP, HR or SpO2 warning --------------------------------------------


def due_at(rec: SessionRecord, minute: float) -> float | None:
    """Minutes since the start at which the next reading is due at ``minute``."""
    due = next_reading_due(rec, PROTOCOL, t(minute))
    return None if due is None else (due - t(0)).total_seconds() / 60


def test_a_warning_bp_brings_the_next_reading_forward_to_the_repeat_interval() -> None:
    rec = record(*infusion_with_readings(10), r(20, sbp=184, dbp=96))
    assert due_at(rec, 21) == 25  # not 30
    upcoming = next_reading(rec, PROTOCOL, t(21))
    assert upcoming is not None
    assert upcoming.repeat_for == (Measure.BP,)
    (flag,) = flags_at(rec, 21, "bp-high")
    assert flag.message == "BP 184/96: systolic ≥ 180 — repeat within 5 min"


@pytest.mark.parametrize(("values", "measure"), [
    ({"hr": 115}, Measure.HR), ({"hr": 135}, Measure.HR), ({"hr": 38}, Measure.HR),
    ({"spo2": 93}, Measure.SPO2), ({"spo2": 90}, Measure.SPO2),
    ({"sbp": 85, "dbp": 55}, Measure.BP), ({"sbp": 205, "dbp": 100}, Measure.BP),
])
def test_a_warning_or_critical_hr_spo2_or_bp_asks_for_the_repeat(values: dict[str, Any],
                                                                 measure: Measure) -> None:
    rec = record(*infusion_with_readings(10), r(20, **{**NORMAL, **values}))
    upcoming = next_reading(rec, PROTOCOL, t(21))
    assert upcoming is not None
    assert (upcoming.due, upcoming.repeat_for) == (t(25), (measure,))


@pytest.mark.parametrize("values", [
    {"hr": 48}, {"rr": 10}, {"sbp": 170, "dbp": 100}, {"moaas": 3}, {"rr": 22},
    {"cadss6": 18}, {"nausea": 8},
])
def test_advisories_and_other_measures_keep_the_usual_interval(values: dict[str, Any]) -> None:
    rec = record(*infusion_with_readings(10), r(20, **{**NORMAL, **values}))
    assert flags_at(rec, 20, None) != []
    assert due_at(rec, 21) == 30


def test_the_repeat_stays_while_the_condition_does_even_when_acknowledged() -> None:
    base = [*infusion_with_readings(10), r(20, sbp=184, dbp=96)]
    (flag,) = flags_at(record(*base), 20, "bp-high")
    rec = record(*base, ack(flag, 21), r(25, sbp=182, dbp=98))  # still high: critical now
    assert due_at(rec, 26) == 30
    recovered = record(*base, ack(flag, 21), r(25, sbp=150, dbp=90))
    assert due_at(recovered, 26) == 35  # the repeat no longer meets it: back to 10 min


def test_the_repeat_ends_with_a_normal_repeat_even_before_the_acknowledgement() -> None:
    rec = record(*infusion_with_readings(10), r(20, hr=118), r(25, hr=96))
    (flag,) = flags_at(rec, 26, "hr-high")
    assert flag.open  # still to be acknowledged, but the repeat was taken and is normal
    assert due_at(rec, 26) == 35


def test_a_reading_without_the_measure_neither_ends_nor_starts_the_repeat() -> None:
    rec = record(*infusion_with_readings(10), r(20, sbp=184, dbp=96), r(23, hr=80, spo2=97))
    assert due_at(rec, 24) == 28  # 5 min after the last reading, BP still to be repeated


def test_each_measure_ends_its_own_repeat() -> None:
    rec = record(*infusion_with_readings(10), r(20, sbp=184, dbp=96, spo2=92),
                 r(25, sbp=150, dbp=90, spo2=92))
    upcoming = next_reading(rec, PROTOCOL, t(26))
    assert upcoming is not None
    assert (upcoming.due, upcoming.repeat_for) == (t(30), (Measure.SPO2,))


def test_the_repeat_applies_in_recovery_too() -> None:
    rec = record(*infusion_with_readings(10, 20, 30, 40), stop(40), r(55, spo2=93))
    assert due_at(rec, 56) == 60  # not 70


def test_a_warning_just_before_the_stop_is_repeated_from_the_reading() -> None:
    rec = record(*infusion_with_readings(10, 20, 30), r(39, hr=120), stop(40))
    assert due_at(rec, 41) == 44


@pytest.mark.parametrize("change", [EventKind.INFUSION_STOP, EventKind.INFUSION_PAUSE])
def test_a_phase_change_does_not_push_back_a_pending_repeat(change: EventKind) -> None:
    # 186/112 at 10:13 asks for a repeat by 10:18; stopping early at 10:15 keeps it there.
    rec = record(*infusion_with_readings(10), r(13, sbp=186, dbp=112), ev(15, change))
    upcoming = next_reading(rec, PROTOCOL, t(16))
    assert upcoming is not None
    assert (upcoming.due, upcoming.repeat_for) == (t(18), (Measure.BP,))


def test_the_overdue_repeat_after_an_early_stop_counts_from_the_reading() -> None:
    rec = record(*infusion_with_readings(10), r(13, sbp=186, dbp=112), stop(15))
    (flag,) = flags_at(rec, 21, "overdue")
    assert flag.time == t(20)
    assert flag.message == "Repeat BP overdue by > 2 min (due 10:18)"


def test_the_overdue_advisory_follows_the_repeat_due_time() -> None:
    rec = record(*infusion_with_readings(10), r(20, sbp=184, dbp=96))
    assert flags_at(rec, 27, "overdue") == []
    (flag,) = flags_at(rec, 27 + 1 / 60, "overdue")
    assert flag.time == t(27)
    assert flag.message == "Repeat BP overdue by > 2 min (due 10:25)"
    late = record(*infusion_with_readings(10), r(20, sbp=184, dbp=96), r(28, sbp=150, dbp=90))
    (taken,) = flags_at(late, 40, "overdue")
    assert (taken.time, taken.resolved_at) == (t(27), t(28))


def test_the_usual_overdue_returns_after_a_normal_repeat() -> None:
    rec = record(*infusion_with_readings(10), r(20, hr=118), r(25, hr=96), r(35, **NORMAL))
    assert flags_at(rec, 36, "overdue") == []


def test_a_repeat_interval_longer_than_the_usual_one_is_never_used() -> None:
    relaxed = PROTOCOL.with_overrides({"intervals.repeat_after_flag_min": 10})
    rec = record(*infusion_with_readings(10), r(20, hr=118))
    assert next_reading_due(rec, relaxed, t(21)) == t(30)


# --- per-patient overrides ----------------------------------------------------------------


def test_per_patient_override_changes_the_flag() -> None:
    assert during_infusion("hr-high", hr=115) == [W]
    relaxed = PROTOCOL.with_overrides({"hr.high_warning_at_or_above": 120})
    assert during_infusion("hr-high", relaxed, hr=115) == []
    assert during_infusion("hr-high", relaxed, hr=120) == [W]


# --- normal courses raise nothing ---------------------------------------------------------


def normal_course() -> list[Reading | Event]:
    """Baseline 128/78 HR 72, +16/+11 mmHg at 40 min, HR +10, CADSS-6 peaking 10 at 40 min."""
    return [
        ev(-20, EventKind.ESCORT_PRESENT),
        r(-10, sbp=130, dbp=80, hr=74, spo2=98, rr=14, cadss6=0, moaas=5, nausea=0),
        r(-2, sbp=128, dbp=78, hr=72, spo2=97, rr=14, cadss6=0, moaas=5, nausea=0),
        start(0),
        r(10, sbp=134, dbp=82, hr=76, spo2=97, rr=15, cadss6=4, moaas=5),
        r(20, sbp=138, dbp=85, hr=79, spo2=97, rr=15, cadss6=7, moaas=4),
        r(30, sbp=142, dbp=88, hr=81, spo2=97, rr=16, cadss6=9, moaas=4, nausea=2),
        r(40, sbp=144, dbp=89, hr=82, spo2=97, rr=16, cadss6=10, moaas=4),
        stop(40),
        r(55, sbp=136, dbp=84, hr=78, spo2=97, rr=15, cadss6=4, moaas=5, nausea=1),
        r(70, sbp=130, dbp=80, hr=74, spo2=98, rr=14, cadss6=1, moaas=5, nausea=0),
    ]


def test_normal_course_raises_nothing_at_any_minute() -> None:
    rec = record(*normal_course())
    for minute in range(-10, 85):
        assert flags_at(rec, minute) == [], f"false alarm at minute {minute}"


def test_a_fit_slow_pulse_and_slow_breathing_are_advisory_at_most() -> None:
    """A fit adult with a pulse of 48 breathing 10 a minute, through the normal course
    (+16/+11 mmHg at 40 min): NEWS2 gives each 1 point, an advisory, never a warning."""
    items = [replace(item, hr=48, rr=10) if isinstance(item, Reading) else item
             for item in normal_course()]
    rec = record(*items)
    for minute in range(-10, 85):
        flags = flags_at(rec, minute)
        assert all(f.severity is A for f in flags if f.key != "overdue"), minute
        assert {f.key for f in flags} <= {"hr-low", "rr-low"}, minute
    assert {(f.key, f.message) for f in flags_at(rec, 85)} == {("hr-low", "HR 48 ≤ 50"),
                                                                ("rr-low", "RR 10 ≤ 11")}
    upcoming = next_reading(rec, PROTOCOL, t(56))
    assert upcoming is not None
    assert upcoming.repeat_for == ()


def test_normal_course_with_a_pause_and_extra_readings_raises_nothing() -> None:
    rec = record(*normal_course(), ev(15, EventKind.INFUSION_PAUSE),
                 ev(17, EventKind.INFUSION_RESUME), r(33, sbp=143, dbp=88, hr=80))
    assert flags_at(rec, 80) == []


def test_normal_course_with_one_hour_infusion_and_slow_recovery_raises_nothing() -> None:
    items: list[Reading | Event] = [r(-3, sbp=118, dbp=72, hr=64, spo2=99, cadss6=1, moaas=5),
                                    start(0)]
    for minute in range(10, 61, 10):
        items.append(r(minute, sbp=118 + minute // 4, dbp=72 + minute // 6, hr=64 + minute // 6,
                       spo2=98, cadss6=min(14, minute // 4), moaas=4))
    items += [stop(60), r(75, sbp=126, dbp=78, hr=68, spo2=98, cadss6=6, moaas=5),
              r(90, sbp=121, dbp=74, hr=66, spo2=98, cadss6=2, moaas=5)]
    assert flags_at(record(*items), 100) == []


@st.composite
def plausible_normal_courses(draw: st.DrawFn) -> tuple[SessionRecord, float]:
    """A session whose every value stays inside the default limits and on schedule."""
    sbp0 = draw(st.integers(100, 135))
    dbp0 = draw(st.integers(60, min(85, sbp0 - 30)))
    hr0 = draw(st.integers(56, 90))
    items: list[Reading | Event] = [
        r(-5, sbp=sbp0, dbp=dbp0, hr=hr0, spo2=draw(st.integers(95, 100)), cadss6=0, moaas=5),
        start(0),
    ]
    minute = 0.0
    infusion = draw(st.sampled_from([40, 50, 60]))
    while minute < infusion:
        minute = min(infusion, minute + draw(st.floats(3, 12)))
        rise = draw(st.floats(0, 0.25))
        items.append(r(minute, sbp=round(sbp0 * (1 + rise)),
                       dbp=min(105, round(dbp0 * (1 + rise))),
                       hr=min(109, hr0 + draw(st.integers(-4, 15))),
                       spo2=draw(st.integers(94, 100)), rr=draw(st.integers(12, 20)),
                       cadss6=draw(st.integers(0, 15)), moaas=draw(st.integers(4, 5)),
                       nausea=draw(st.integers(0, 6))))
    items.append(stop(minute))
    end = minute + draw(st.integers(30, 60))
    while minute < end:
        minute += draw(st.floats(5, 17))
        items.append(r(minute, sbp=sbp0 + draw(st.integers(-5, 15)), dbp=dbp0,
                       hr=hr0 + draw(st.integers(-4, 10)), spo2=draw(st.integers(94, 100)),
                       cadss6=draw(st.integers(0, 6)), moaas=5, nausea=draw(st.integers(0, 3))))
    return record(*items), minute


@settings(max_examples=60, deadline=None)
@given(plausible_normal_courses())
def test_plausible_normal_courses_raise_no_flag(course: tuple[SessionRecord, float]) -> None:
    rec, last_minute = course
    assert flags_at(rec, last_minute) == []


def test_current_levels_report_the_latest_value_whatever_its_acknowledgement():
    protocol = load_protocol("iv_ketamine")
    base = r(0, sbp=128, dbp=78, hr=72, spo2=98)
    surge = r(20, sbp=188, dbp=106, hr=80, spo2=97)
    rec = record(base, ev(2, EventKind.INFUSION_START), surge)
    (flag,) = [f for f in evaluate_flags(rec, protocol, t(21)) if f.key == "bp-high"]
    acked = record(base, ev(2, EventKind.INFUSION_START), surge, ack(flag, 21))
    # A first reading ≥ 180/110 is a warning (critical only when a repeat confirms it).
    assert current_levels(acked, protocol, t(22))[Measure.BP] is Severity.WARNING
    calm = record(base, ev(2, EventKind.INFUSION_START), surge, ack(flag, 21),
                  r(30, sbp=140, dbp=86))
    levels = current_levels(calm, protocol, t(31))
    assert Measure.BP not in levels
    assert Measure.HR not in levels


def test_an_escalation_takes_over_the_lower_flag_so_one_acknowledgement_covers_the_surge():
    protocol = load_protocol("iv_ketamine")
    base = r(0, sbp=128, dbp=78)
    first = r(20, sbp=184, dbp=104)
    repeat = r(25, sbp=188, dbp=106)
    rec = record(base, ev(2, EventKind.INFUSION_START), first, repeat)
    bp = sorted((f for f in evaluate_flags(rec, protocol, t(26)) if f.key == "bp-high"),
                key=lambda f: f.time)
    assert [(f.severity, f.open) for f in bp] == [(Severity.WARNING, False),
                                                  (Severity.CRITICAL, True)]
    assert bp[0].resolved_at == t(25)
    # Before the repeat the warning was open on its own.
    (alone,) = [f for f in evaluate_flags(rec, protocol, t(22)) if f.key == "bp-high"]
    assert alone.open
    acked = record(base, ev(2, EventKind.INFUSION_START), first, repeat, ack(bp[1], 27))
    assert not [f for f in evaluate_flags(acked, protocol, t(28))
                if f.open and f.severity >= Severity.WARNING]


def test_an_acknowledged_lower_flag_stays_acknowledged_when_the_condition_worsens():
    protocol = load_protocol("iv_ketamine")
    base = r(0, sbp=128, dbp=78)
    first = r(20, sbp=184, dbp=104)
    rec = record(base, ev(2, EventKind.INFUSION_START), first)
    (warning,) = [f for f in evaluate_flags(rec, protocol, t(21)) if f.key == "bp-high"]
    worse = record(base, ev(2, EventKind.INFUSION_START), first, ack(warning, 22),
                   r(25, sbp=205, dbp=110))
    bp = sorted((f for f in evaluate_flags(worse, protocol, t(26)) if f.key == "bp-high"),
                key=lambda f: f.time)
    assert bp[0].acknowledged
    assert bp[0].resolved_at is None
    assert bp[1].severity is Severity.CRITICAL
    assert bp[1].open
