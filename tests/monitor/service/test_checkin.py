"""Check-in: patients, sessions started and their dose, on both backends."""

from __future__ import annotations

from datetime import date

import pytest

from monitor.clinical.domain import EventKind, Measure, Severity
from monitor.service.views import InvalidEntryError


def test_start_session_computes_dose_and_rates(service, session_id):
    info = service.session_info(session_id)
    assert (info.dose_mg, info.rate_mg_per_min, info.pump_ml_per_h) == (35.0, 0.875, 150.0)
    assert info.chair == "2"
    assert info.patient.mrn == "MRN100200"


def test_a_duplicate_mrn_is_refused(service, nurse, patient):
    with pytest.raises(InvalidEntryError) as refused:
        service.add_patient("MRN100200", by=nurse, name="Someone Else")
    assert refused.value.errors[0].field == "mrn"


def test_check_in_adds_the_patient_session_and_mood_scores_at_once(service, nurse):
    session_id = service.check_in(
        by=nurse, chair="4",
        new_patient={"mrn": "MRN777", "name": "Cy Dee", "date_of_birth": date(1990, 5, 5)},
        weight_kg=80, planned_mg_per_kg=0.5, infusion_minutes=40, bag_volume_ml=100,
        lot_number="L1", concomitant_medications={"benzodiazepine": False},
        escort_name="Dee Dee", phq9_items=(2, 2, 2, 1, 1, 1, 1, 1, 1), gad7_items=(1,) * 7,
    )
    view = service.load(session_id)
    assert view.info.chair == "4"
    assert view.info.dose_mg == 40.0
    (reading,) = view.record.readings
    assert (reading.phq9, reading.gad7) == (12, 7)
    (flag,) = view.flags
    assert (flag.measure, flag.severity) == (Measure.PHQ9, Severity.WARNING)


def test_a_refused_check_in_stores_nothing(service, nurse, patient):
    with pytest.raises(InvalidEntryError):
        service.check_in(
            by=nurse, chair="1", new_patient={"mrn": "MRN100200", "name": "Dup"},
            weight_kg=70, planned_mg_per_kg=0.5, infusion_minutes=40, bag_volume_ml=100,
        )
    assert service.active_sessions(["1"]) == {}


def test_escort_named_at_check_in_is_named_until_confirmed_present(service, nurse, session_id):
    escort = next(c for c in service.load(session_id).discharge.criteria if c.id == "escort")
    assert (escort.met, escort.detail) == (
        False, "escort (Sam Byrne, named at check-in) not yet confirmed present")
    service.record_event(session_id, EventKind.ESCORT_PRESENT, by=nurse)
    escort = next(c for c in service.load(session_id).discharge.criteria if c.id == "escort")
    assert escort.met
