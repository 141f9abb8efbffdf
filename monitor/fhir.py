"""A session as a FHIR R4 Bundle: the Patient, the Encounter and its Observations.

Built with the ``fhir.resources`` R4B models (R4B shares R4's Patient, Encounter, Observation
and Bundle), so what is written validates against them. The Bundle is a ``collection``;
entries are addressed by ``urn:uuid:`` full URLs derived from the record's own ids, so
exporting the same session twice gives the same identifiers.

Observations, one per measure per effective reading (LOINC codes, UCUM units):

=================  =====================================================  ===========
blood pressure     panel 85354-9, components 8480-6 systolic, 8462-4       mm[Hg]
                   diastolic
heart rate         8867-4                                                  /min
respiratory rate   9279-1                                                  /min
SpO2               59408-5 (pulse oximetry)                                %
body weight        29463-7, at check-in                                    kg
PHQ-9 total        44261-6                                                 {score}
GAD-7 total        70274-6                                                 {score}
CADSS-6, MOAA/S    the product's local CodeSystem (:data:`SCORES_SYSTEM`)  {score}
=================  =====================================================  ===========

The Encounter is ``finished`` once the patient is discharged (or when the session was
imported, a record complete elsewhere), ``in-progress`` before. Vital signs carry the
``vital-signs`` category; the questionnaires and the nurse's scored
assessments the ``survey`` category. The record's corrections decide what is exported:
a voided reading is left out (the Bundle holds the effective record only, like the CSV), and
an amended reading is exported with its replacement values and status ``amended``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from monitor.domain import CHAIRSIDE_URI, EventKind, Phase, Reading
from monitor.fhir_dose import dose_administration
from monitor.service import PatientInfo, SessionView

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
#: The local CodeSystem of the scores LOINC has no code for.
SCORES_SYSTEM = f"{CHAIRSIDE_URI}/fhir/CodeSystem/scores"
#: Where patients' MRNs come from.
MRN_SYSTEM = f"{CHAIRSIDE_URI}/fhir/NamingSystem/mrn"

#: measure → (system, code, display, unit, category)
_SIMPLE: dict[str, tuple[str, str, str, str, str]] = {
    "hr": (LOINC, "8867-4", "Heart rate", "/min", "vital-signs"),
    "rr": (LOINC, "9279-1", "Respiratory rate", "/min", "vital-signs"),
    "spo2": (LOINC, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%",
             "vital-signs"),
    "phq9": (LOINC, "44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score",
             "{score}", "survey"),
    "gad7": (LOINC, "70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score",
             "{score}", "survey"),
    "cadss6": (SCORES_SYSTEM, "cadss6", "CADSS-6 dissociation total (0-24)", "{score}",
               "survey"),
    "moaas": (SCORES_SYSTEM, "moaas", "MOAA/S sedation score (0-5)", "{score}", "survey"),
}
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
SBP = ("8480-6", "Systolic blood pressure")
DBP = ("8462-4", "Diastolic blood pressure")
WEIGHT = ("29463-7", "Body weight")


def session_bundle(view: SessionView, patient: PatientInfo) -> Any:
    """The session as a validated ``fhir.resources.R4B`` Bundle model."""
    from fhir.resources.R4B.bundle import Bundle  # noqa: PLC0415 - only exports need FHIR

    patient_url = _urn(patient.id)
    encounter_url = _urn(view.info.id)
    entries: list[dict[str, Any]] = [
        {"fullUrl": patient_url, "resource": _patient(patient)},
        {"fullUrl": encounter_url, "resource": _encounter(view, patient_url)},
    ]
    amended = {c.replacement_id for c in view.corrections
               if c.action == "amend" and c.replacement_id is not None}
    context = {"subject": {"reference": patient_url},
               "encounter": {"reference": encounter_url}}
    if view.info.weight_kg is not None:
        entries.append(_entry(_observation(
            _name(view.info.id, "weight"), "final", "vital-signs", LOINC, *WEIGHT,
            view.info.time, context,
            value={"valueQuantity": _quantity(view.info.weight_kg, "kg")})))
    for reading in view.record.readings:
        status = "amended" if reading.id in amended else "final"
        entries.extend(_entry(o) for o in _reading_observations(reading, status, context))
    given = dose_administration(view, context)
    if given is not None:
        entries.append(_entry(given))
    return Bundle.model_validate({
        "resourceType": "Bundle",
        "id": str(view.info.id),
        "type": "collection",
        "timestamp": view.at.isoformat(),
        "entry": entries,
    })


def session_json(view: SessionView, patient: PatientInfo) -> str:
    """:func:`session_bundle` as FHIR JSON text."""
    return str(session_bundle(view, patient).model_dump_json(indent=2, exclude_none=True)) + "\n"


def _urn(value: uuid.UUID) -> str:
    return f"urn:uuid:{value}"


def _name(base: uuid.UUID, measure: str) -> uuid.UUID:
    """A stable id for the observation of ``measure`` in the reading (or session) ``base``."""
    return uuid.uuid5(base, measure)


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": _urn(uuid.UUID(resource["id"])), "resource": resource}


def _patient(patient: PatientInfo) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.id),
        "identifier": [{"system": MRN_SYSTEM, "value": patient.mrn}],
    }
    if patient.name:
        resource["name"] = [{"text": patient.name}]
    if patient.date_of_birth is not None:
        resource["birthDate"] = patient.date_of_birth.isoformat()
    return resource


def _encounter(view: SessionView, patient_url: str) -> dict[str, Any]:
    period: dict[str, str] = {"start": view.info.time.isoformat()}
    closing = [e.time for e in view.record.events
               if e.kind in {EventKind.DISCHARGE_SIGNED, EventKind.DISCHARGE_OVERRIDE}]
    if closing:
        period["end"] = max(closing).isoformat()
    return {
        "resourceType": "Encounter",
        "id": str(view.info.id),
        "status": _encounter_status(view),
        "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "type": [{"text": f"IV ketamine infusion ({view.info.profile})"}],
        "subject": {"reference": patient_url},
        "period": period,
    }


def _encounter_status(view: SessionView) -> str:
    """Finished once discharged, and a session imported from elsewhere is a finished record."""
    if view.phase is Phase.DISCHARGED or view.info.source == "import":
        return "finished"
    return "in-progress"


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _coding(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _observation(  # noqa: PLR0917 - the parts of one resource
    oid: uuid.UUID,
    status: str,
    category: str,
    system: str,
    code: str,
    display: str,
    when: datetime,
    context: dict[str, Any],
    *,
    value: dict[str, Any],
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": str(oid),
        "status": status,
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": category}]}],
        "code": _coding(system, code, display),
        **context,
        "effectiveDateTime": when.isoformat(),
        **value,
    }


def _reading_observations(reading: Reading, status: str,
                          context: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if reading.sbp is not None and reading.dbp is not None:
        yield _observation(
            _name(reading.id, "bp"), status, "vital-signs", LOINC, *BP_PANEL, reading.time,
            context,
            value={"component": [
                {"code": _coding(LOINC, *SBP), "valueQuantity": _quantity(reading.sbp, "mm[Hg]")},
                {"code": _coding(LOINC, *DBP), "valueQuantity": _quantity(reading.dbp, "mm[Hg]")},
            ]},
        )
    for measure, (system, code, display, unit, category) in _SIMPLE.items():
        number = getattr(reading, measure)
        if number is None:
            continue
        yield _observation(_name(reading.id, measure), status, category, system, code, display,
                           reading.time, context,
                           value={"valueQuantity": _quantity(number, unit)})
