"""The infusion start: held for PHQ-9 item 9 until a clinician acknowledges it, and a start
without a complete baseline keeps what was missing and the nurse's confirmation."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from monitor.clinical.domain import Acknowledgement, EventKind, Phase
from monitor.clinical.permissions import PermissionDenied
from monitor.clinical.protocol import load_protocol
from monitor.clinical.rules import (
    PHQ9_ACK_CHOICES,
    PHQ9_ASSESSED,
    PHQ9_DEFERRED,
    PHQ9_ITEM9_FLAG,
    evaluate_flags,
)
from monitor.clinical.start_gate import (
    BASELINE_BP_DEFERRED,
    BASELINE_BP_REVIEWED,
    BP_HIGH_FLAG,
    CONFIRM_BASELINE,
    DEFERRED_BASELINE_BP,
    DEFERRED_PHQ9,
    WAITING_BASELINE_BP,
    WAITING_PHQ9,
    baseline_bp_hold,
    baseline_question,
    missing_baseline,
    phq9_hold,
    start_hold,
)
from monitor.service.views import InvalidEntryError
from monitor.storage.model import EventRow
from tests.monitor.builders import ev, r, record, t

MIN = timedelta(minutes=1)
FULL_BASELINE = {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98", "cadss6": "0",
                 "moaas": "5"}
SELF_HARM = (1, 1, 1, 1, 1, 1, 1, 1, 1)  # item 9 scored 1


def check_in(service, nurse, phq9_items=None):
    return service.check_in(
        by=nurse, chair="3",
        new_patient={"mrn": "MRN4411", "name": "Ida Moss", "date_of_birth": date(1984, 2, 9)},
        weight_kg=70, planned_mg_per_kg=0.5, infusion_minutes=40, bag_volume_ml=100,
        lot_number="L7", concomitant_medications={}, escort_name="Al Moss",
        phq9_items=phq9_items,
    )


def ack(flag, action):
    return Acknowledgement(flag_id=flag.id, time=t(1), action=action, by="Dr Kim")


def start_data(service, session_id):
    """The stored data of the session's one event (the start)."""
    (event,) = service.load(session_id).record.events
    with service.store.read() as db:
        return dict(db.get(EventRow, event.id).data)


def phq9_flag(service, session_id):
    return next(f for f in service.load(session_id).flags if f.key == PHQ9_ITEM9_FLAG)


# --- the rules, without a database ---------------------------------------------------------


def test_missing_baseline_names_each_measure_not_recorded_before_the_start() -> None:
    rec = record(r(-5, sbp=128, dbp=78, hr=72, spo2=98))
    assert missing_baseline(rec) == ("CADSS-6", "MOAA/S")
    assert missing_baseline(record(r(-5, sbp=128, dbp=78, hr=72, spo2=98, cadss6=0),
                                   r(-2, moaas=5))) == ()
    # Readings after the start are no baseline.
    assert missing_baseline(record(r(-5, sbp=128, dbp=78, hr=72), ev(0, EventKind.INFUSION_START),
                                   r(5, spo2=98, cadss6=0, moaas=5))) == ("SpO2", "CADSS-6",
                                                                         "MOAA/S")
    assert baseline_question(("CADSS-6", "MOAA/S")) == (
        "No baseline CADSS-6 or MOAA/S recorded. Start the infusion without it?")


def test_phq9_hold_clears_only_with_a_clinical_finding() -> None:
    rec = record(r(0, phq9=9, phq9_items=SELF_HARM))
    flags = evaluate_flags(rec, load_protocol("iv_ketamine"), at=rec.readings[0].time)
    (flag,) = flags
    assert phq9_hold(flags, []) == WAITING_PHQ9
    assert phq9_hold(flags, [ack(flag, PHQ9_DEFERRED)]) == DEFERRED_PHQ9
    assert phq9_hold(flags, [ack(flag, f"{PHQ9_ASSESSED}; {PHQ9_DEFERRED}")]) is None
    assert phq9_hold(flags, [ack(flag, "Safety plan in place")]) is None
    assert phq9_hold(flags, [ack(flag, "Informed clinician")]) == WAITING_PHQ9


# --- the service ---------------------------------------------------------------------------


def test_start_is_refused_while_phq9_item9_waits_for_a_clinician(service, nurse, clock):
    session_id = check_in(service, nurse, SELF_HARM)
    service.record_reading(session_id, FULL_BASELINE, by=nurse)
    with pytest.raises(InvalidEntryError) as refused:
        service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    assert "PHQ-9 item 9" in str(refused.value)
    assert service.load(session_id).phase is Phase.BASELINE


def test_a_nurse_cannot_acknowledge_phq9_item9_and_the_start_stays_held(
        service, nurse, clock):
    session_id = check_in(service, nurse, SELF_HARM)
    with pytest.raises(PermissionDenied, match="PHQ-9 item 9; a clinician can"):
        service.acknowledge(session_id, phq9_flag(service, session_id),
                            action=PHQ9_ASSESSED, by=nurse)
    with pytest.raises(InvalidEntryError):
        service.record_event(session_id, EventKind.INFUSION_START, by=nurse)


def test_phq9_item9_takes_a_clinical_finding_not_an_infusion_action(
        service, nurse, clinician, clock):
    session_id = check_in(service, nurse, SELF_HARM)
    with pytest.raises(InvalidEntryError, match="Assessed by clinician"):
        service.acknowledge(session_id, phq9_flag(service, session_id),
                            action="Infusion paused", by=clinician)
    assert set(PHQ9_ACK_CHOICES) == {"Assessed by clinician", "Safety plan in place",
                                     "Infusion deferred"}


def test_a_clinicians_assessment_lets_the_nurse_start(service, nurse, clinician, clock):
    session_id = check_in(service, nurse, SELF_HARM)
    service.record_reading(session_id, FULL_BASELINE, by=nurse)
    service.acknowledge(session_id, phq9_flag(service, session_id), action=PHQ9_ASSESSED,
                        by=clinician)
    clock.advance(MIN)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    assert service.load(session_id).phase is Phase.INFUSING


def test_infusion_deferred_keeps_the_start_held(service, nurse, clinician, clock):
    session_id = check_in(service, nurse, SELF_HARM)
    service.acknowledge(session_id, phq9_flag(service, session_id), action=PHQ9_DEFERRED,
                        by=clinician)
    with pytest.raises(InvalidEntryError, match="deferred"):
        service.record_event(session_id, EventKind.INFUSION_START, by=nurse)


def test_a_clinician_may_start_with_a_written_reason_kept_with_the_start(
        service, nurse, clinician, clock):
    session_id = check_in(service, nurse, SELF_HARM)
    service.record_reading(session_id, FULL_BASELINE, by=nurse)
    with pytest.raises(PermissionDenied):
        service.record_event(session_id, EventKind.INFUSION_START, by=nurse,
                             override_reason="Seen in clinic this morning")
    with pytest.raises(InvalidEntryError, match="reason"):
        service.record_event(session_id, EventKind.INFUSION_START, by=clinician,
                             override_reason="ok")
    service.record_event(session_id, EventKind.INFUSION_START, by=clinician,
                         override_reason="Seen in clinic this morning")
    assert start_data(service, session_id)["phq9_item9_override"] == "Seen in clinic this morning"
    (entry, *_) = service.audit_entries(by=clinician, action="create")
    assert "Seen in clinic this morning" in str(entry.new)


def test_a_start_without_a_complete_baseline_keeps_what_was_missing_and_the_confirmation(
        service, nurse, clinician, clock):
    session_id = check_in(service, nurse)
    service.record_reading(session_id, {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98"},
                           by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse,
                         confirmed={CONFIRM_BASELINE})
    data = start_data(service, session_id)
    assert data["baseline_missing"] == "CADSS-6, MOAA/S"
    assert data["baseline_missing_confirmed"] is True
    (entry, *_) = service.audit_entries(by=clinician, action="create")
    assert "baseline_missing" in str(entry.new)


def test_a_start_with_a_complete_baseline_carries_no_baseline_note(service, nurse, clock):
    session_id = check_in(service, nurse)
    service.record_reading(session_id, FULL_BASELINE, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    assert "baseline_missing" not in start_data(service, session_id)


# --- a high baseline BP --------------------------------------------------------------------

HIGH_BASELINE = {**FULL_BASELINE, "sbp": "165", "dbp": "102", "hr": "80", "spo2": "98"}


def bp_flags(service, session_id):
    return [f for f in service.load(session_id).flags if f.key == BP_HIGH_FLAG]


def test_baseline_bp_hold_clears_only_with_a_clinicians_review() -> None:
    rec = record(r(0, sbp=165, dbp=102))
    flags = evaluate_flags(rec, load_protocol("iv_ketamine"), at=rec.readings[0].time)
    (flag,) = flags
    assert baseline_bp_hold(flags, []) == WAITING_BASELINE_BP
    assert start_hold(flags, []) == WAITING_BASELINE_BP
    assert baseline_bp_hold(flags, [ack(flag, BASELINE_BP_DEFERRED)]) == DEFERRED_BASELINE_BP
    assert baseline_bp_hold(flags, [ack(flag, BASELINE_BP_REVIEWED)]) is None
    assert baseline_bp_hold(flags, [ack(flag, "Clinician called to the chair")]) == (
        WAITING_BASELINE_BP)


def test_a_worse_baseline_bp_does_not_close_the_warning_waiting_for_review() -> None:
    rec = record(r(0, sbp=165, dbp=102), r(3, sbp=205, dbp=122))
    flags = evaluate_flags(rec, load_protocol("iv_ketamine"), at=t(3))
    warning = next(f for f in flags if f.message.startswith("Baseline BP"))
    assert warning.open
    assert warning.resolution == ""
    critical = next(f for f in flags if f.key == BP_HIGH_FLAG and f is not warning)
    # Reviewing the worse reading alone does not review the first.
    assert baseline_bp_hold(flags, [ack(critical, BASELINE_BP_REVIEWED)]) == WAITING_BASELINE_BP
    assert baseline_bp_hold(flags, [ack(critical, BASELINE_BP_REVIEWED),
                                    ack(warning, BASELINE_BP_REVIEWED)]) is None


def test_an_escalated_baseline_bp_flag_still_holds_the_start() -> None:
    rec = record(r(0, sbp=165, dbp=102))
    (flag,) = evaluate_flags(rec, load_protocol("iv_ketamine"), at=t(0))
    closed = replace(flag, resolved_at=t(3), resolution="escalated")
    assert baseline_bp_hold([closed], []) == WAITING_BASELINE_BP
    voided = replace(flag, resolved_at=t(3), resolution="reading voided")
    assert baseline_bp_hold([voided], []) is None


def test_start_is_refused_while_a_high_baseline_bp_waits_for_review(service, nurse, clock):
    session_id = check_in(service, nurse, (0,) * 9)
    service.record_reading(session_id, HIGH_BASELINE, by=nurse)
    with pytest.raises(InvalidEntryError) as refused:
        service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    assert "baseline BP" in str(refused.value)
    assert service.load(session_id).phase is Phase.BASELINE


def test_a_later_baseline_reading_does_not_lift_the_hold(service, nurse, clock):
    session_id = check_in(service, nurse, (0,) * 9)
    service.record_reading(session_id, HIGH_BASELINE, by=nurse)
    clock.advance(MIN * 3)
    service.record_reading(session_id, {"sbp": "188", "dbp": "114"}, by=nurse)
    clock.advance(MIN * 2)
    service.record_reading(session_id, {"sbp": "186", "dbp": "112"}, by=nurse)
    assert all(f.open for f in bp_flags(service, session_id))
    with pytest.raises(InvalidEntryError, match="baseline BP"):
        service.record_event(session_id, EventKind.INFUSION_START, by=nurse)


def test_a_nurse_cannot_review_a_high_baseline_bp(service, nurse, clinician, clock):
    session_id = check_in(service, nurse, (0,) * 9)
    service.record_reading(session_id, HIGH_BASELINE, by=nurse)
    (flag,) = bp_flags(service, session_id)
    with pytest.raises(PermissionDenied, match="baseline BP; a clinician can"):
        service.acknowledge(session_id, flag, action=BASELINE_BP_REVIEWED, by=nurse)
    with pytest.raises(InvalidEntryError, match="Reviewed — proceed"):
        service.acknowledge(session_id, flag, action="Infusion paused", by=clinician)


def test_a_clinicians_review_of_the_baseline_bp_lets_the_nurse_start(
        service, nurse, clinician, clock):
    session_id = check_in(service, nurse, (0,) * 9)
    service.record_reading(session_id, HIGH_BASELINE, by=nurse)
    (flag,) = bp_flags(service, session_id)
    service.acknowledge(session_id, flag, action=BASELINE_BP_REVIEWED, by=clinician)
    clock.advance(MIN)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    assert service.load(session_id).phase is Phase.INFUSING


def test_a_deferral_holds_the_start_until_a_clinician_starts_with_a_reason(
        service, nurse, clinician, clock):
    """A flag is acknowledged once: after "Infusion deferred" the start waits for a
    clinician, who may start later with a written reason (kept with the start)."""
    session_id = check_in(service, nurse, (0,) * 9)
    service.record_reading(session_id, HIGH_BASELINE, by=nurse)
    (flag,) = bp_flags(service, session_id)
    service.acknowledge(session_id, flag, action=BASELINE_BP_DEFERRED, by=clinician)
    with pytest.raises(InvalidEntryError, match="deferred"):
        service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(MIN)
    service.record_reading(session_id, {"sbp": "138", "dbp": "84"}, by=nurse)
    with pytest.raises(InvalidEntryError, match="deferred"):
        service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=clinician,
                         override_reason="Re-assessed: BP 138/84 on repeat, proceed")
    assert service.load(session_id).phase is Phase.INFUSING


def test_a_clinician_may_start_over_a_high_baseline_bp_with_a_reason(
        service, nurse, clinician, clock):
    session_id = check_in(service, nurse, (0,) * 9)
    service.record_reading(session_id, HIGH_BASELINE, by=nurse)
    with pytest.raises(PermissionDenied):
        service.record_event(session_id, EventKind.INFUSION_START, by=nurse,
                             override_reason="Known white-coat hypertension")
    service.record_event(session_id, EventKind.INFUSION_START, by=clinician,
                         override_reason="Known white-coat hypertension")
    data = start_data(service, session_id)
    assert data["baseline_bp_override"] == "Known white-coat hypertension"
    assert "phq9_item9_override" not in data
