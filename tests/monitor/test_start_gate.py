"""The infusion start: held for PHQ-9 item 9 until a clinician acknowledges it, and a start
without a complete baseline keeps what was missing and the nurse's confirmation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from monitor.domain import Acknowledgement, EventKind, Phase
from monitor.model import EventRow
from monitor.permissions import PermissionDenied
from monitor.protocol import load_protocol
from monitor.rules import (
    PHQ9_ACK_CHOICES,
    PHQ9_ASSESSED,
    PHQ9_DEFERRED,
    PHQ9_ITEM9_FLAG,
    evaluate_flags,
)
from monitor.service import InvalidEntryError
from monitor.start_gate import (
    CONFIRM_BASELINE,
    DEFERRED_PHQ9,
    WAITING_PHQ9,
    baseline_question,
    missing_baseline,
    phq9_hold,
)
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
