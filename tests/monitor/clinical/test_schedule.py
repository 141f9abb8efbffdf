"""When the next reading is due, the repeat after a BP, HR or SpO2 warning, and the
overdue advisory."""

from __future__ import annotations

from typing import Any

import pytest

from monitor.clinical.domain import Event, EventKind, Measure, Reading, SessionRecord, flag_id
from monitor.clinical.rules import next_reading, next_reading_due
from tests.monitor.builders import SESSION, ack, ev, r, record, t
from tests.monitor.clinical.flag_cases import NORMAL, PROTOCOL, A, flags_at, start, stop

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
