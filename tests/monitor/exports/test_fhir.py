"""The FHIR export: an R4 Bundle that validates, with the right codes, units and values.

Besides the ``fhir.resources`` models, the Bundles go through the Node validator of the
official R4 definitions and vital-signs profiles (:mod:`tests.monitor.fhir_validation`)."""

from __future__ import annotations

import json
import uuid

import pytest
from fhir.resources.R4B.bundle import Bundle

from monitor.exports.batch import session_fhir
from monitor.exports.fhir_codes import (
    DEFAULT_MRN_SYSTEM,
    MRN_SYSTEM_VARIABLE,
    SCORES_SYSTEM,
    SettingError,
)
from tests.conftest import TEST_PIN
from tests.monitor.exported import full_session
from tests.monitor.fhir_validation import errors, validation_issues

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


@pytest.fixture
def db_url(sqlite_url) -> str:
    """The Bundle is built from the loaded view: one backend is enough."""
    return sqlite_url


@pytest.fixture
def clinician(service) -> uuid.UUID:
    return service.ensure_staff("Cleo Clinician", "clinician", pin=TEST_PIN)


@pytest.fixture(autouse=True)
def _no_clinic_mrn_system(monkeypatch) -> None:
    monkeypatch.delenv(MRN_SYSTEM_VARIABLE, raising=False)


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
            if any((c.system, c.code) == (system, code) for c in o.code.coding)]


def effective(found):
    return [o for o in found if o.status != "entered-in-error"]


def test_the_bundle_validates_as_fhir_r4_with_patient_encounter_and_observations(exported):
    made, view, text = exported
    bundle = Bundle.model_validate_json(text)
    assert bundle.type == "collection"
    (patient,) = resources(bundle, "Patient")
    assert patient.identifier[0].value == "MRN777001"
    assert patient.identifier[0].system == DEFAULT_MRN_SYSTEM
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
    panels = effective(observations(bundle, LOINC, "85354-9"))
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
    found = effective(observations(bundle, LOINC, code))
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
    cadss6 = observations(bundle, SCORES_SYSTEM, "cadss6")
    moaas = observations(bundle, SCORES_SYSTEM, "moaas")
    assert max(o.valueQuantity.value for o in cadss6) == 12
    assert min(o.valueQuantity.value for o in moaas) == 4


def test_an_amended_reading_keeps_its_observation_ids_with_status_amended(exported):
    made, _, text = exported
    bundle = Bundle.model_validate_json(text)
    heart_rates = {o.id: o for o in observations(bundle, LOINC, "8867-4")}
    amended = heart_rates[str(uuid.uuid5(made.amended, "hr"))]
    assert (amended.valueQuantity.value, amended.status) == (88, "amended")
    assert str(made.replacement) not in text
    assert 118 not in {o.valueQuantity.value for o in heart_rates.values()}
    # Measures the amendment kept are amended too, under the first entry's ids.
    blood_pressure = next(o for o in observations(bundle, LOINC, "85354-9")
                          if o.id == str(uuid.uuid5(made.amended, "bp")))
    assert blood_pressure.status == "amended"


def test_a_voided_reading_is_exported_as_entered_in_error(exported):
    made, _, text = exported
    bundle = Bundle.model_validate_json(text)
    (voided,) = [o for o in observations(bundle, LOINC, "59408-5")
                 if o.id == str(uuid.uuid5(made.voided, "spo2"))]
    assert (voided.valueQuantity.value, voided.status) == (85, "entered-in-error")
    statuses = {o.status for o in resources(bundle, "Observation")}
    assert statuses == {"final", "amended", "entered-in-error"}


def test_a_measure_an_amendment_removed_is_withdrawn_under_its_id(service, nurse, clinician):
    patient = service.add_patient("MRN777200", by=nurse, name="Hal Ito")
    sid = service.start_session(patient.id, by=nurse)
    first = service.record_reading(sid, {"hr": "72", "spo2": "97"}, by=nurse)
    service.amend_reading(sid, first.id, {"hr": "74"}, reason="SpO2 was another chair's",
                          by=clinician)
    bundle = Bundle.model_validate_json(session_fhir(service.load(sid), patient))
    (spo2,) = observations(bundle, LOINC, "59408-5")
    assert (spo2.id, spo2.status) == (str(uuid.uuid5(first.id, "spo2")), "entered-in-error")
    (hr,) = observations(bundle, LOINC, "8867-4")
    assert (hr.id, hr.status, hr.valueQuantity.value) == (
        str(uuid.uuid5(first.id, "hr")), "amended", 74)


def test_spo2_carries_both_loinc_codes_the_oxygen_saturation_profile_requires(exported):
    _, _, text = exported
    bundle = Bundle.model_validate_json(text)
    for observation in observations(bundle, LOINC, "59408-5"):
        assert {c.code for c in observation.code.coding} == {"2708-6", "59408-5"}
        assert observation.meta.profile == ["http://hl7.org/fhir/StructureDefinition/oxygensat"]


def test_every_observation_names_its_performer_as_a_practitioner_in_the_bundle(exported):
    made, _, text = exported
    bundle = Bundle.model_validate_json(text)
    practitioners = {f"urn:uuid:{p.id}": p.name[0].text
                     for p in resources(bundle, "Practitioner")}
    assert sorted(practitioners.values()) == ["Cleo Clinician", "Nora Nurse"]
    for observation in resources(bundle, "Observation"):
        (performer,) = observation.performer
        assert practitioners[performer.reference] == performer.display
    (amended,) = [o for o in resources(bundle, "Observation")
                  if o.id == str(uuid.uuid5(made.amended, "hr"))]
    assert amended.performer[0].display == "Cleo Clinician"


def test_the_mrn_system_is_the_clinics_setting(service, nurse, exported, monkeypatch):
    _, view, _ = exported
    monkeypatch.setenv(MRN_SYSTEM_VARIABLE, "urn:oid:1.2.840.99999.1.2")
    (patient,) = resources(Bundle.model_validate_json(session_fhir(view, view.info.patient)),
                           "Patient")
    assert patient.identifier[0].system == "urn:oid:1.2.840.99999.1.2"
    assert patient.identifier[0].type.coding[0].code == "MR"
    given = session_fhir(view, view.info.patient, mrn_system="https://clinic.test/mrn")
    (patient,) = resources(Bundle.model_validate_json(given), "Patient")
    assert patient.identifier[0].system == "https://clinic.test/mrn"
    monkeypatch.setenv(MRN_SYSTEM_VARIABLE, "clinic mrn")
    with pytest.raises(SettingError, match=MRN_SYSTEM_VARIABLE):
        session_fhir(view, view.info.patient)


def test_the_local_code_system_travels_in_the_bundle_complete_and_active(exported):
    _, _, text = exported
    bundle = Bundle.model_validate_json(text)
    (code_system,) = resources(bundle, "CodeSystem")
    assert (code_system.url, code_system.status, code_system.content) == (
        SCORES_SYSTEM, "active", "complete")
    assert not SCORES_SYSTEM.startswith("https://chairside.example.org")
    defined = {c.code for c in code_system.concept}
    used = {c.code for o in resources(bundle, "Observation") for c in o.code.coding
            if c.system == SCORES_SYSTEM}
    assert used == {"cadss6", "moaas", "nausea"}
    assert used <= defined == {"cadss6", "moaas", "nausea", "anxiety", "pain"}


def test_questionnaire_displays_are_loincs_names_and_every_resource_has_a_narrative(exported):
    _, _, text = exported
    bundle = Bundle.model_validate_json(text)
    (phq9,) = observations(bundle, LOINC, "44261-6")
    (gad7,) = observations(bundle, LOINC, "70274-6")
    assert phq9.code.coding[0].display == (
        "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]")
    assert gad7.code.coding[0].display == (
        "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]")
    for entry in bundle.entry:
        assert entry.resource.text.status == "generated"
        assert entry.resource.text.div.startswith('<div xmlns="http://www.w3.org/1999/xhtml">')


def test_the_export_passes_the_r4_validator_with_the_vital_signs_profiles(exported, tmp_path):
    _, _, text = exported
    issues = validation_issues({"session": text}, tmp_path)["session"]
    assert errors(issues) == []


def test_the_validator_catches_spo2_coded_59408_5_alone_and_a_bp_without_diastolic(
    exported, tmp_path
):
    _, _, text = exported
    bundle = json.loads(text)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        codes = {c["code"] for c in resource.get("code", {}).get("coding", [])}
        if "59408-5" in codes:
            resource["code"]["coding"] = [c for c in resource["code"]["coding"]
                                          if c["code"] == "59408-5"]
        if "85354-9" in codes:
            resource["component"] = resource["component"][:1]
        if "8867-4" in codes:
            resource["valueQuantity"]["code"] = "/mn"
            resource["status"] = "done"
    found = errors(validation_issues({"bad": json.dumps(bundle)}, tmp_path)["bad"])
    assert any("slice 'OxygenSatCode'" in e for e in found), found
    assert any("slice 'DiastolicBP'" in e for e in found), found
    assert any("'/mn' is not a valid UCUM code" in e for e in found), found
    assert any("Observation.status" in e and "required value set" in e for e in found), found


def test_the_same_session_exports_the_same_identifiers(service, exported):
    made, view, text = exported
    again = session_fhir(service.load(made.session_id, view.at), view.info.patient)
    assert json.loads(again) == json.loads(text)


def test_an_unfinished_session_is_in_progress_and_an_imported_one_finished(
    service, nurse, clock
):
    from monitor.exports.batch import session_csv  # noqa: PLC0415
    from monitor.exports.csvio import parse_session_csv  # noqa: PLC0415

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


MONITOR = "0012A3FFFE4B5C6D"


def from_monitor(view, *, device=MONITOR):
    """``view`` with its first BP reading as filed from the bedside monitor ``device``."""
    import dataclasses  # noqa: PLC0415

    first = next(r for r in view.record.readings if r.sbp is not None)
    record = dataclasses.replace(view.record, readings=tuple(
        dataclasses.replace(r, device=device) if r is first else r
        for r in view.record.readings))
    return dataclasses.replace(view, record=record), first


def test_a_reading_from_the_monitor_names_the_device_by_its_eui64(exported, tmp_path):
    _, view, _ = exported
    view, reading = from_monitor(view)
    text = session_fhir(view, view.info.patient)
    bundle = Bundle.model_validate_json(text)
    (device,) = resources(bundle, "Device")
    assert [(i.system, i.value) for i in device.identifier] == [
        ("urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680", MONITOR)]
    from monitor.exports.fhir import measures_of  # noqa: PLC0415

    ids = {str(uuid.uuid5(reading.id, m)) for m in measures_of(reading)}
    found = [o for o in resources(bundle, "Observation") if o.id in ids]
    assert len(found) == len(ids) >= 4
    assert {o.device.reference for o in found} == {f"urn:uuid:{device.id}"}
    typed = [o for o in resources(bundle, "Observation") if o.id not in ids]
    assert typed
    assert all(o.device is None for o in typed)
    assert errors(validation_issues({"device": text}, tmp_path)["device"]) == []


def test_a_monitor_known_by_its_location_is_a_named_device(exported, tmp_path):
    _, view, _ = exported
    view, _ = from_monitor(view, device="location:INFUSION^^CHAIR3")
    text = session_fhir(view, view.info.patient)
    (device,) = resources(Bundle.model_validate_json(text), "Device")
    assert device.identifier is None
    assert device.deviceName[0].name == "Bedside monitor at INFUSION^^CHAIR3"
    assert errors(validation_issues({"location": text}, tmp_path)["location"]) == []


def test_every_flag_is_a_detected_issue_with_its_acknowledgement_as_mitigation(exported):
    _, view, text = exported
    bundle = Bundle.model_validate_json(text)
    issues = {i.id: i for i in resources(bundle, "DetectedIssue")}
    every = (*view.flags, *view.superseded_flags)
    assert set(issues) == {str(f.id) for f in every}
    urls = {e.fullUrl for e in bundle.entry}
    for flag in every:
        issue = issues[str(flag.id)]
        assert issue.severity == {3: "high", 2: "moderate", 1: "low"}[int(flag.severity)]
        assert issue.identifiedDateTime == flag.time
        assert issue.patient.reference in urls
        assert flag.message in issue.detail
        if flag.acknowledgement is None:
            assert issue.mitigation is None
            continue
        (mitigation,) = issue.mitigation
        assert mitigation.action.text.startswith(flag.acknowledgement.action)
        assert mitigation.date == flag.acknowledgement.time
        assert mitigation.author.reference in urls
        assert mitigation.author.display == flag.acknowledgement.by


def test_the_flag_of_a_voided_reading_stays_entered_in_error_with_its_reading(exported):
    made, view, text = exported
    bundle = Bundle.model_validate_json(text)
    (withdrawn,) = [f for f in view.withdrawn_flags if f.reading_id == made.voided]
    issue = next(i for i in resources(bundle, "DetectedIssue") if i.id == str(withdrawn.id))
    assert issue.status == "entered-in-error"
    assert issue.severity == "high"
    assert "reading voided" in issue.detail
    (implicated,) = issue.implicated
    observation = next(o for o in resources(bundle, "Observation")
                       if f"urn:uuid:{o.id}" == implicated.reference)
    assert observation.status == "entered-in-error"
    assert observation.valueQuantity.value == 85
    standing = [i for i in resources(bundle, "DetectedIssue") if i.status == "final"]
    assert {i.id for i in standing} == {str(f.id) for f in view.flags} | {
        str(f.id) for f in view.superseded_flags if f not in view.withdrawn_flags}
