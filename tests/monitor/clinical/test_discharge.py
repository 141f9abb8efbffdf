"""Discharge criteria and the would-have-been-ready time."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from monitor.clinical.discharge import CRITERIA, evaluate_discharge, ready_at
from monitor.clinical.domain import (
    Acknowledgement,
    Criterion,
    DischargeAssessment,
    Event,
    EventKind,
    Flag,
    Reading,
    SessionRecord,
)
from monitor.clinical.phases import infusion_stopped_at
from monitor.clinical.protocol import Protocol
from monitor.clinical.rules import evaluate_flags
from monitor.clock import ManualClock
from monitor.demo import data as demo
from monitor.service.clinic import ClinicService
from monitor.storage.model import TreatmentSession
from monitor.storage.store import open_store
from tests.conftest import TEST_SECRET
from tests.monitor.builders import T0, ack, ev, r, t
from tests.monitor.clinical.discharge_cases import (
    BASELINE,
    PROTOCOL,
    RECOVERED,
    REMS,
    assess,
    infusion,
    ready_course,
    record,
)

#: The end of the demo clinic's history.
DEMO_NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def criterion(assessment: DischargeAssessment, cid: str) -> Criterion:
    return next(c for c in assessment.criteria if c.id == cid)


def unmet(assessment: DischargeAssessment) -> list[str]:
    return [c.id for c in assessment.criteria if not c.met]


# --- all criteria -------------------------------------------------------------------------


def test_ready_course_meets_every_criterion_in_order() -> None:
    assessment = assess(record(*ready_course()), 72)
    assert [c.id for c in assessment.criteria] == list(CRITERIA)
    assert unmet(assessment) == []
    assert assessment.ready


def test_before_infusion_stop_nothing_recovery_based_is_met() -> None:
    rec = record(ev(-20, EventKind.ESCORT_PRESENT), r(-5, **BASELINE),
                 ev(0, EventKind.INFUSION_START), r(10, **BASELINE))
    assessment = assess(rec, 15)
    assert not assessment.ready
    assert criterion(assessment, "min_observation").detail == "infusion not stopped yet"
    assert unmet(assessment) == list(CRITERIA[:7])
    assert assessment.would_have_been_ready_at is None


# --- min_observation ----------------------------------------------------------------------


def test_min_observation_not_met_says_how_long_and_when_ready() -> None:
    c = criterion(assess(record(*ready_course()), 58), "min_observation")
    assert not c.met
    assert c.detail == "18 of 30 min since infusion stop — ready at 11:10"


def test_min_observation_met_at_exactly_thirty_minutes() -> None:
    c = criterion(assess(record(*ready_course()), 70), "min_observation")
    assert c.met
    assert c.detail == "30 min since infusion stop (minimum 30)"


def test_esketamine_profile_needs_two_hours_from_the_dose() -> None:
    rec = record(*ready_course())
    before = criterion(assess(rec, 119, REMS), "min_observation")
    assert not before.met
    assert before.detail == "119 of 120 min since the dose (infusion start) — ready at 12:00"
    assert criterion(assess(rec, 120, REMS), "min_observation").met
    assert not assess(rec, 119, REMS).ready
    assert assess(rec, 120, REMS).ready


# --- vitals_near_baseline -----------------------------------------------------------------


def test_vitals_within_twenty_percent_of_baseline_are_met() -> None:
    c = criterion(assess(record(*ready_course(sbp=144, dbp=96, hr=84)), 72),
                  "vitals_near_baseline")
    assert c.met  # exactly +20 % on SBP, DBP and HR
    assert "within 20 % of baseline 120/80, HR 70" in c.detail


def test_bp_more_than_twenty_percent_above_baseline_is_not_met() -> None:
    c = criterion(assess(record(*ready_course(sbp=150, dbp=92)), 72), "vitals_near_baseline")
    assert not c.met
    assert c.detail == "last BP 150/92 is 25 % above baseline 120/80 (limit 20 %)"


def test_hr_more_than_twenty_percent_below_baseline_is_not_met() -> None:
    c = criterion(assess(record(*ready_course(hr=55)), 72), "vitals_near_baseline")
    assert not c.met
    assert c.detail == "last HR 55 is 21 % below baseline 70 (limit 20 %)"


def test_vitals_need_a_reading_after_stop() -> None:
    rec = record(*infusion(), ev(41, EventKind.ORIENTED_STEADY_GAIT), r(45, cadss6=1))
    c = criterion(assess(rec, 72), "vitals_near_baseline")
    assert not c.met
    assert c.detail == "no BP or HR since infusion stop"


# --- spo2 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "met", "detail"),
    [
        ({"spo2": 94}, True, "last SpO2 94 % on room air (needs ≥ 94 %)"),
        ({"spo2": 93}, False, "last SpO2 93 % is below 94 %"),
        ({"spo2": 98, "on_oxygen": True}, False,
         "last SpO2 98 % was on oxygen — needs ≥ 94 % on room air"),
    ],
)
def test_spo2_criterion(values: dict[str, Any], met: bool, detail: str) -> None:
    c = criterion(assess(record(*ready_course(**values)), 72), "spo2")
    assert (c.met, c.detail) == (met, detail)


def test_spo2_needs_a_value_after_stop() -> None:
    rec = record(*infusion(), r(55, sbp=120, dbp=80, hr=70))
    c = criterion(assess(rec, 72), "spo2")
    assert (c.met, c.detail) == (False, "no SpO2 since infusion stop")


# --- sedation, dissociation, nausea -------------------------------------------------------


def test_sedation_needs_moaas_five() -> None:
    met = criterion(assess(record(*ready_course()), 72), "sedation")
    assert met.met
    assert met.detail == "MOAA/S 5 (responds readily to name in normal tone)"
    c = criterion(assess(record(*ready_course(moaas=4)), 72), "sedation")
    assert (c.met, c.detail) == (False, "MOAA/S 4 (lethargic response to name) — needs 5")


def test_infusion_values_do_not_count_for_discharge() -> None:
    # MOAA/S 5 was last seen during the infusion only; recovery has none.
    rec = record(*infusion(moaas=5), r(55, sbp=120, dbp=80, hr=70, spo2=97))
    c = criterion(assess(rec, 72), "sedation")
    assert (c.met, c.detail) == (False, "no MOAA/S since infusion stop")


@pytest.mark.parametrize(("cadss6", "met"), [(3, True), (4, False)])
def test_dissociation_back_to_baseline_plus_two(cadss6: int, met: bool) -> None:
    c = criterion(assess(record(*ready_course(cadss6=cadss6)), 72), "dissociation")
    assert c.met is met
    sign = "≤" if met else ">"
    assert c.detail == f"CADSS-6 {cadss6} {sign} baseline 1 + 2"


def test_dissociation_without_baseline_score_is_not_assessable_and_not_met() -> None:
    items = [i for i in ready_course() if not (isinstance(i, Reading) and i.time < t(0))]
    rec = record(r(-5, sbp=120, dbp=80, hr=70, spo2=97), *items)
    assessment = assess(rec, 72)
    c = criterion(assessment, "dissociation")
    assert not c.met
    assert not assessment.ready
    assert "no baseline CADSS-6" in c.detail
    assert "not assessable" in c.detail
    assert "taken as 0" not in c.detail


@pytest.mark.parametrize(
    ("nausea", "met", "detail"),
    [(3, True, "nausea 3/10 (limit 3)"), (4, False, "nausea 4/10 is above 3")],
)
def test_nausea_criterion(nausea: int, met: bool, detail: str) -> None:
    c = criterion(assess(record(*ready_course(nausea=nausea)), 72), "nausea")
    assert (c.met, c.detail) == (met, detail)


# --- attestations and flags ---------------------------------------------------------------


def test_gait_attested_before_stop_does_not_count() -> None:
    items = [i for i in ready_course()
             if not (isinstance(i, Event) and i.kind is EventKind.ORIENTED_STEADY_GAIT)]
    rec = record(*items, ev(30, EventKind.ORIENTED_STEADY_GAIT))
    c = criterion(assess(rec, 72), "orientation_gait")
    assert (c.met, c.detail) == (False, "oriented ×3 and steady gait not attested since "
                                        "infusion stop")
    met = criterion(assess(record(*ready_course()), 72), "orientation_gait")
    assert met.detail == "oriented ×3 and steady gait attested at 11:11"


def test_escort_may_be_recorded_any_time_but_must_be_recorded() -> None:
    met = criterion(assess(record(*ready_course()), 72), "escort")
    assert (met.met, met.detail) == (True, "escort present (recorded 09:40)")
    items = [i for i in ready_course()
             if not (isinstance(i, Event) and i.kind is EventKind.ESCORT_PRESENT)]
    c = criterion(assess(record(*items), 72), "escort")
    assert (c.met, c.detail) == (False, "escort not yet confirmed present")


def test_escort_named_at_check_in_is_named_but_not_taken_as_present() -> None:
    items = [i for i in ready_course()
             if not (isinstance(i, Event) and i.kind is EventKind.ESCORT_PRESENT)]
    rec = record(*items)
    at = t(72)
    assessment = evaluate_discharge(rec, PROTOCOL, evaluate_flags(rec, PROTOCOL, at), at,
                                    escort_name="Jane Doe")
    c = criterion(assessment, "escort")
    assert (c.met, c.detail) == (
        False, "escort (Jane Doe, named at check-in) not yet confirmed present")
    assert not assessment.ready


def test_escort_named_at_check_in_and_confirmed_present_is_met() -> None:
    rec = record(*ready_course())
    at = t(72)
    assessment = evaluate_discharge(rec, PROTOCOL, evaluate_flags(rec, PROTOCOL, at), at,
                                    escort_name="Jane Doe")
    c = criterion(assessment, "escort")
    assert (c.met, c.detail) == (True, "escort present (recorded 09:40)")


def test_unacknowledged_warning_blocks_discharge_until_acknowledged() -> None:
    items = [*ready_course(), r(45, hr=115)]
    assessment = assess(record(*items), 72)
    c = criterion(assessment, "flags_acknowledged")
    assert not c.met
    assert c.detail == "1 not acknowledged — warning: HR 115 ≥ 111"
    flag = next(f for f in evaluate_flags(record(*items), PROTOCOL, t(72)) if f.key == "hr-high")
    acknowledged = assess(record(*items, ack(flag, 72)), 72)
    assert criterion(acknowledged, "flags_acknowledged").met
    assert acknowledged.ready


def test_open_advisory_does_not_block_discharge() -> None:
    assessment = assess(record(*ready_course(), r(45, cadss6=17)), 72)
    assert criterion(assessment, "flags_acknowledged").met


# --- would have been ready ----------------------------------------------------------------


def test_would_have_been_ready_is_the_first_moment_all_but_the_minimum_stay_held() -> None:
    rec = record(*infusion(), r(48, **{**RECOVERED, "moaas": 4}), r(50, **RECOVERED),
                 ev(52, EventKind.ORIENTED_STEADY_GAIT))
    assessment = assess(rec, 60)
    assert not assessment.ready
    assert unmet(assessment) == ["min_observation"]
    assert assessment.would_have_been_ready_at == t(52)


def test_would_have_been_ready_waits_for_the_acknowledgement() -> None:
    items = [*infusion(), r(45, hr=115), r(50, **RECOVERED),
             ev(52, EventKind.ORIENTED_STEADY_GAIT)]
    flag = next(f for f in evaluate_flags(record(*items), PROTOCOL, t(60)) if f.key == "hr-high")
    assessment = assess(record(*items, ack(flag, 58)), 75)
    assert assessment.ready
    assert assessment.would_have_been_ready_at == t(58)


def test_would_have_been_ready_is_none_if_never_ready() -> None:
    assessment = assess(record(*ready_course(moaas=4)), 90)
    assert assessment.would_have_been_ready_at is None


def test_ready_at_waits_for_the_minimum_stay_from_its_anchor() -> None:
    rec = record(*infusion(), r(48, **{**RECOVERED, "moaas": 4}), r(50, **RECOVERED),
                 ev(52, EventKind.ORIENTED_STEADY_GAIT))
    stay = PROTOCOL.discharge.min_observation_min
    assert ready_at(rec, PROTOCOL, ()) == t(40 + stay)  # counted from the stop
    assert ready_at(rec, REMS, ()) == t(REMS.discharge.min_observation_min)  # from the dose


def test_ready_at_is_the_first_moment_every_criterion_held_together() -> None:
    stay = PROTOCOL.discharge.min_observation_min
    # Ready but for the stay at 52; sedated again before the stay ends; fine again later.
    rec = record(*infusion(), r(50, **RECOVERED), ev(52, EventKind.ORIENTED_STEADY_GAIT),
                 r(40 + stay - 1, **{**RECOVERED, "moaas": 4}),
                 r(40 + stay + 7, **RECOVERED))
    assert ready_at(rec, PROTOCOL, ()) == t(40 + stay + 7)
    assert ready_at(record(*ready_course(moaas=4)), PROTOCOL, ()) is None


# --- the would-have-been-ready time against its definition -------------------------------
#
# evaluate_discharge finds the time from the flags it is given instead of running the rules
# again for every candidate moment. These tests hold it to the definition: the first moment
# after the stop at which the rules, run on the record as it stood then, leave every
# criterion but the minimum stay met.


class ReadyByDefinition:
    """The would-have-been-ready time of one record, from its definition.

    Whether the criteria held at a moment depends only on the record as it stood then, so
    each moment is judged once, whatever time the question is asked for.
    """

    def __init__(self, rec: SessionRecord, protocol: Protocol) -> None:
        self.rec = rec
        self.protocol = protocol
        self.held: dict[datetime, bool] = {}

    def all_but_min_stay_held(self, when: datetime) -> bool:
        if when not in self.held:
            then = self.rec.as_of(when)
            flags = evaluate_flags(then, self.protocol, when)
            assessment = evaluate_discharge(then, self.protocol, flags, when)
            self.held[when] = all(c.met for c in assessment.criteria
                                  if c.id != "min_observation")
        return self.held[when]

    def at(self, at: datetime) -> datetime | None:
        rec = self.rec.as_of(at)
        stop = infusion_stopped_at(rec)
        if stop is None:
            return None
        entered = (*rec.readings, *rec.events, *rec.acknowledgements)
        return next((when for when in sorted({i.time for i in entered if i.time > stop})
                     if self.all_but_min_stay_held(when)), None)


def random_values(rng: random.Random) -> dict[str, Any]:
    """Mostly values a recovering patient shows, sometimes any value the entry accepts."""
    if rng.random() < 0.9:
        ranges = {"sbp": (115, 130), "dbp": (74, 84), "hr": (65, 76), "spo2": (94, 99),
                  "rr": (12, 18), "moaas": (5, 5), "cadss6": (0, 2), "nausea": (0, 3),
                  "pain": (0, 3)}
    else:
        ranges = {"sbp": (70, 215), "dbp": (40, 125), "hr": (35, 140), "spo2": (85, 100),
                  "rr": (6, 28), "moaas": (0, 5), "cadss6": (0, 30), "nausea": (0, 10),
                  "pain": (0, 10)}
    values: dict[str, Any] = {name: rng.randint(low, high) for name, (low, high) in ranges.items()
                              if rng.random() < 0.8}
    values["on_oxygen"] = rng.random() < 0.05
    if rng.random() < 0.05:
        values["phq9_items"] = (*(rng.randint(0, 3) for _ in range(8)), rng.randint(0, 1))
    return values


def random_course(rng: random.Random) -> SessionRecord:
    """A session with the irregularities the rules must cope with: gaps long enough to be
    overdue, entries at the same minute, no baseline, a pause, a restart, no stop, an
    attestation before the stop, readings after the discharge, late and repeated
    acknowledgements."""
    items: list[Reading | Event | Acknowledgement] = []
    if rng.random() < 0.9:
        items.append(ev(rng.randint(-40, 60), EventKind.ESCORT_PRESENT))
    items.extend(r(-rng.randint(1, 30), **random_values(rng)) for _ in range(rng.randint(0, 2)))
    items.append(ev(0, EventKind.INFUSION_START))
    stop = rng.randint(25, 45)
    if rng.random() < 0.15:
        pause = rng.randint(5, stop - 10)
        items += [ev(pause, EventKind.INFUSION_PAUSE),
                  ev(pause + rng.randint(0, 8), EventKind.INFUSION_RESUME)]
    if rng.random() < 0.9:
        items.append(ev(stop, EventKind.INFUSION_STOP))
    if rng.random() < 0.1:
        items += [ev(stop + 5, EventKind.INFUSION_START), ev(stop + 15, EventKind.INFUSION_STOP)]
    minute = 0
    end = stop + rng.randint(20, 100)
    while minute < end:
        minute += rng.choice((1, 2, 5, 5, 10, 10, 15, 20, 25))
        items.append(r(minute, **random_values(rng)))
    if rng.random() < 0.8:
        items.append(ev(rng.randint(stop - 10, end), EventKind.ORIENTED_STEADY_GAIT))
    if rng.random() < 0.3:
        items.append(ev(rng.randint(stop, end), rng.choice(
            (EventKind.DISCHARGE_SIGNED, EventKind.DISCHARGE_OVERRIDE))))
    unacknowledged = record(*items)
    for flag in evaluate_flags(unacknowledged, PROTOCOL, t(end + 30)):
        for _ in range(rng.choice((0, 1, 1, 1, 1, 2))):
            delay = rng.choice((0, 0, 1, 3, 10, 30)) + rng.random() * 2
            items.append(ack_at(flag, flag.time + timedelta(minutes=delay)))
    return record(*items)


def ack_at(flag: Flag, when: datetime) -> Acknowledgement:
    return Acknowledgement(flag_id=flag.id, time=when, action="checked", by="nurse")


def assess_at(rec: SessionRecord, at: datetime, protocol: Protocol) -> DischargeAssessment:
    return evaluate_discharge(rec, protocol, evaluate_flags(rec, protocol, at), at)


def test_would_have_been_ready_matches_the_rules_rerun_at_each_moment() -> None:
    rng = random.Random(20260302)
    found = 0
    for _ in range(150):
        rec = random_course(rng)
        entered = sorted({i.time for i in (*rec.readings, *rec.events, *rec.acknowledgements)})
        moments = [*rng.sample(entered, min(6, len(entered))), entered[-1] + timedelta(hours=2),
                   T0 + timedelta(minutes=rng.uniform(-10, 150))]
        for protocol in (PROTOCOL, REMS):
            definition = ReadyByDefinition(rec, protocol)
            for at in moments:
                expected = definition.at(at)
                found += expected is not None
                assert assess_at(rec, at, protocol).would_have_been_ready_at == expected, (
                    rec, at)
    assert found > 150, "the random courses should often become ready"


@pytest.mark.slow
def test_would_have_been_ready_of_demo_sessions_matches_the_rules_rerun_at_each_moment(
    tmp_path: Path,
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    try:
        demo.generate(store, sessions=200, seed=7, clock_now=DEMO_NOW)
        service = ClinicService(store, ManualClock(DEMO_NOW), secret=TEST_SECRET)
        with store.read() as db:
            sessions = list(db.scalars(select(TreatmentSession.id)))
        assert len(sessions) == 200
        found = 0
        for session_id in sessions:
            whole = service.load(session_id)
            definition = ReadyByDefinition(whole.record, whole.protocol)
            entered = sorted({i.time for i in (*whole.record.readings, *whole.record.events,
                                               *whole.record.acknowledgements)})
            # Through the observation and the discharge, and after it; as the service loads
            # the session at a few of those moments.
            moments = [*entered[len(entered) * 2 // 3:], DEMO_NOW]
            for at in moments[::4]:
                view = service.load(session_id, at)
                assert view.record == whole.record.as_of(at)
                assert view.discharge.would_have_been_ready_at == definition.at(at)
            for at in moments:
                expected = definition.at(at)
                assert assess_at(whole.record, at, whole.protocol).would_have_been_ready_at == (
                    expected), (session_id, at)
                found += expected is not None
        assert found > 500
    finally:
        store.close()
