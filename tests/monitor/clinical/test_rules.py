"""How flags fire: episodes, ids and acknowledgements, per-patient overrides, normal
courses that raise nothing, and the current level of each measure."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.clinical.domain import (
    Event,
    EventKind,
    Measure,
    Reading,
    SessionRecord,
    Severity,
    flag_id,
)
from monitor.clinical.protocol import load_protocol
from monitor.clinical.rules import current_levels, evaluate_flags, next_reading
from tests.monitor.builders import SESSION, ack, ev, r, record, t
from tests.monitor.clinical.flag_cases import (
    NORMAL,
    PROTOCOL,
    A,
    C,
    W,
    during_infusion,
    flags_at,
    start,
    stop,
    tiers,
)

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
