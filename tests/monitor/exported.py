"""A complete session to export: check-in questionnaires, flags, a voided and an amended
reading, medication, discharge. Shared by the CSV, FHIR, batch and command-line tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from monitor.clinical.domain import EventKind
from tests.conftest import TEST_PIN

MIN = timedelta(minutes=1)
BASE = {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98", "rr": "14", "cadss6": "0",
        "moaas": "5", "nausea": "0"}


@dataclass(frozen=True)
class Exported:
    session_id: uuid.UUID
    patient_id: uuid.UUID
    voided: uuid.UUID
    amended: uuid.UUID
    replacement: uuid.UUID


def full_session(service, nurse, clinician, clock, *, mrn="MRN777001") -> Exported:
    sid = service.check_in(
        by=nurse, chair="3", new_patient={"mrn": mrn, "name": "Eve Fisher"},
        weight_kg=64.5, planned_mg_per_kg=0.5, infusion_minutes=40, bag_volume_ml=100.0,
        phq9_items=[2, 2, 2, 2, 2, 2, 2, 2, 0], gad7_items=[1, 1, 1, 1, 1, 1, 2],
        escort_name="Finn Fisher",
    )
    patient_id = service.session_info(sid).patient.id
    clock.advance(5 * MIN)
    service.record_reading(sid, BASE, by=nurse, note="seated, left arm")
    clock.advance(5 * MIN)
    service.record_event(sid, EventKind.INFUSION_START, by=nurse)
    clock.advance(10 * MIN)
    service.record_reading(sid, {**BASE, "sbp": "150", "dbp": "90", "cadss6": "6"}, by=nurse)
    clock.advance(10 * MIN)
    wrong = service.record_reading(sid, {**BASE, "spo2": "85"}, by=nurse)
    service.void(sid, "reading", wrong.id, reason="probe slipped off", by=nurse, pin=TEST_PIN)
    surge = service.record_reading(sid, {**BASE, "sbp": "172", "dbp": "96", "cadss6": "12",
                                         "moaas": "4", "nausea": "3"}, by=nurse)
    typo = service.record_reading(sid, {**BASE, "hr": "118"}, by=nurse)
    replacement = service.amend_reading(sid, typo.id, {**BASE, "hr": "88"},
                                        reason="typed 118 for 88", by=clinician)
    clock.advance(5 * MIN)
    service.record_event(sid, EventKind.MEDICATION, by=nurse, detail="ondansetron 4 mg IV")
    clock.advance(15 * MIN)
    service.record_event(sid, EventKind.INFUSION_STOP, by=nurse)
    service.record_event(sid, EventKind.ESCORT_PRESENT, by=nurse)
    clock.advance(15 * MIN)
    service.record_reading(sid, BASE, by=nurse)
    service.record_event(sid, EventKind.ORIENTED_STEADY_GAIT, by=nurse)
    clock.advance(60 * MIN)
    service.record_reading(sid, BASE, by=nurse)
    view = service.load(sid)
    for flag in view.open_flags:
        service.acknowledge(sid, flag, action="repeated, informed the clinician", by=clinician,
                            pin=TEST_PIN)
    service.sign_discharge(sid, by=nurse, pin=TEST_PIN)
    assert surge.id is not None
    return Exported(sid, patient_id, wrong.id, typo.id, replacement)
