"""The session's phases, its baseline, and when the infusion started and stopped."""

from __future__ import annotations

from monitor.clinical.domain import EventKind, Phase
from monitor.clinical.phases import (
    baseline,
    infusion_started_at,
    infusion_stopped_at,
    session_phase,
)
from tests.monitor.builders import ev, r, record, t
from tests.monitor.clinical.flag_cases import NORMAL, start, stop


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
