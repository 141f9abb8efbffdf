"""The FHIR export: an R4 Bundle that validates, with the right codes, units and values."""

from __future__ import annotations

import json
import uuid

import pytest
from fhir.resources.R4B.bundle import Bundle

from monitor.domain import CHAIRSIDE_URI
from monitor.exports import session_fhir
from monitor.fhir import SCORES_SYSTEM
from tests.conftest import TEST_PIN
from tests.monitor.exported import full_session

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


@pytest.fixture
def db_url(sqlite_url) -> str:
    """The Bundle is built from the loaded view: one backend is enough."""
    return sqlite_url


@pytest.fixture
def clinician(service) -> uuid.UUID:
    return service.ensure_staff("Cleo Clinician", "clinician", pin=TEST_PIN)


@pytest.fixture
def exported(service, nurse, clinician, clock):
    made = full_session(service, nurse, clinician, clock)
    view = service.load(made.session_id)
    text = session_fhir(view, view.info.patient)
    return made, view, text


def resources(bundle, kind):
    return [e.resource for e in bundle.entry if e.resource.get_resource_type() == kind]


def observations(bundle, system, code):
    return [o for o in resources(bundle, "Observation")
            if (o.code.coding[0].system, o.code.coding[0].code) == (system, code)]


def test_the_bundle_validates_as_fhir_r4_with_patient_encounter_and_observations(exported):
    made, view, text = exported
    bundle = Bundle.model_validate_json(text)
    assert bundle.type == "collection"
    (patient,) = resources(bundle, "Patient")
    assert patient.identifier[0].value == "MRN777001"
    assert patient.identifier[0].system.startswith(CHAIRSIDE_URI)
    assert patient.name[0].text == "Eve Fisher"
    (encounter,) = resources(bundle, "Encounter")
    assert encounter.status == "finished"
    assert encounter.subject.reference == f"urn:uuid:{made.patient_id}"
    assert encounter.period.start == view.info.time
    urls = {e.fullUrl for e in bundle.entry}
    for observation in resources(bundle, "Observation"):
        assert observation.subject.reference in urls
        assert observation.encounter.reference == f"urn:uuid:{made.session_id}"


def test_blood_pressure_is_a_panel_with_systolic_and_diastolic_in_mmhg(exported):
    _, view, text = exported
    bundle = Bundle.model_validate_json(text)
    panels = observations(bundle, LOINC, "85354-9")
    with_bp = [r for r in view.record.readings if r.sbp is not None]
    assert len(panels) == len(with_bp)
    peak = next(p for p in panels if p.component[0].valueQuantity.value == 172)
    systolic, diastolic = peak.component
    assert systolic.code.coding[0].code == "8480-6"
    assert diastolic.code.coding[0].code == "8462-4"
    assert diastolic.valueQuantity.value == 96
    for quantity in (systolic.valueQuantity, diastolic.valueQuantity):
        assert (quantity.system, quantity.code, quantity.unit) == (UCUM, "mm[Hg]", "mm[Hg]")
    assert peak.category[0].coding[0].code == "vital-signs"


@pytest.mark.parametrize(("code", "unit", "measure"), [
    ("8867-4", "/min", "hr"),
    ("9279-1", "/min", "rr"),
    ("59408-5", "%", "spo2"),
])
def test_vital_signs_carry_loinc_codes_and_ucum_units(exported, code, unit, measure):
    _, view, text = exported
    bundle = Bundle.model_validate_json(text)
    found = observations(bundle, LOINC, code)
    expected = [(r.time, getattr(r, measure)) for r in view.record.readings
                if getattr(r, measure) is not None]
    assert sorted((o.effectiveDateTime, o.valueQuantity.value) for o in found) == sorted(expected)
    for observation in found:
        assert (observation.valueQuantity.system, observation.valueQuantity.code) == (UCUM, unit)
        assert observation.category[0].coding[0].code == "vital-signs"


def test_weight_and_the_questionnaires_are_exported(exported):
    _, _, text = exported
    bundle = Bundle.model_validate_json(text)
    (weight,) = observations(bundle, LOINC, "29463-7")
    assert (weight.valueQuantity.value, weight.valueQuantity.code) == (64.5, "kg")
    (phq9,) = observations(bundle, LOINC, "44261-6")
    (gad7,) = observations(bundle, LOINC, "70274-6")
    assert (phq9.valueQuantity.value, gad7.valueQuantity.value) == (16, 8)
    assert phq9.category[0].coding[0].code == "survey"


def test_cadss6_and_moaas_use_the_products_local_code_system(exported):
    _, _, text = exported
    bundle = Bundle.model_validate_json(text)
    assert SCORES_SYSTEM.startswith(CHAIRSIDE_URI)
    cadss6 = observations(bundle, SCORES_SYSTEM, "cadss6")
    moaas = observations(bundle, SCORES_SYSTEM, "moaas")
    assert max(o.valueQuantity.value for o in cadss6) == 12
    assert min(o.valueQuantity.value for o in moaas) == 4


def test_voided_readings_are_left_out_and_amended_ones_carry_the_replacement(exported):
    made, _, text = exported
    bundle = Bundle.model_validate_json(text)
    spo2 = [o.valueQuantity.value for o in observations(bundle, LOINC, "59408-5")]
    assert 85 not in spo2
    heart_rates = {o.valueQuantity.value: o.status for o in observations(bundle, LOINC, "8867-4")}
    assert 118 not in heart_rates
    assert heart_rates[88] == "amended"
    assert {o.status for o in resources(bundle, "Observation")} == {"final", "amended"}
    assert str(made.voided) not in text


def test_the_same_session_exports_the_same_identifiers(service, exported):
    made, view, text = exported
    again = session_fhir(service.load(made.session_id, view.at), view.info.patient)
    assert json.loads(again) == json.loads(text)


def test_an_unfinished_session_is_in_progress_and_an_imported_one_finished(
    service, nurse, clock
):
    from monitor.csvio import parse_session_csv  # noqa: PLC0415
    from monitor.exports import session_csv  # noqa: PLC0415

    patient = service.add_patient("MRN777100", by=nurse, name="Gil Hart")
    live = service.start_session(patient.id, by=nurse)
    service.record_reading(live, {"sbp": "120", "dbp": "80"}, by=nurse)
    view = service.load(live)
    (encounter,) = resources(Bundle.model_validate_json(session_fhir(view, patient)), "Encounter")
    assert encounter.status == "in-progress"
    rows = parse_session_csv(session_csv(view), now=clock.now()).rows
    system = service.ensure_staff("Command-line import", "system")
    imported = service.load(service.import_session(rows, mrn="MRN777100", by=system))
    (encounter,) = resources(
        Bundle.model_validate_json(session_fhir(imported, patient)), "Encounter")
    assert encounter.status == "finished"
