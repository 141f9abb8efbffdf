"""A session as a FHIR R4 Bundle: Patient, Encounter, Practitioners, Observations, the
flags as DetectedIssues (:mod:`monitor.exports.fhir_flags`), CodeSystem.

Built with the ``fhir.resources`` R4B models (R4B shares R4's Patient, Encounter, Observation
and Bundle), and checked in the tests against the official R4 definitions and vital-signs
profiles (docs/fhir.md says what that check covers). The Bundle is a ``collection``; entries
are addressed by ``urn:uuid:`` full URLs derived from the record's own ids, so exporting the
same session twice gives the same identifiers.

Observations, one per measure per reading (LOINC codes, UCUM units, vital-signs profiles):

=================  =====================================================  ===========
blood pressure     panel 85354-9, components 8480-6 systolic, 8462-4       mm[Hg]
                   diastolic (profile ``bp``)
heart rate         8867-4 (``heartrate``)                                  /min
respiratory rate   9279-1 (``resprate``)                                   /min
SpO2               2708-6 and 59408-5 pulse oximetry (``oxygensat``)       %
body weight        29463-7, at check-in (``bodyweight``)                   kg
PHQ-9 total        44261-6                                                 {score}
GAD-7 total        70274-6                                                 {score}
CADSS-6, MOAA/S,   the product's local CodeSystem                          {score}
comfort scores     (:data:`monitor.exports.fhir_codes.SCORES_SYSTEM`)
=================  =====================================================  ===========

Each Observation names its performer, the staff member who entered it (a Practitioner in
the Bundle). A reading's Observations keep the ids of the reading first entered: an amended
reading is exported with its replacement values under the same ids and status ``amended``,
a voided reading with status ``entered-in-error``, and a measure an amendment removed is
``entered-in-error`` too, so a receiver can tell which earlier value each one replaces.

A reading filed from the bedside monitor's feed names the monitor as the Observations'
``device``: a Device in the Bundle identified by its EUI-64 (the IEEE 11073 system id, as
the HL7 device implementation guides write it), or named by the location it sends when it
has none.

The Encounter is ``finished`` once the patient is discharged (or when the session was
imported, a record complete elsewhere), ``in-progress`` before. Vital signs carry the
``vital-signs`` category; the questionnaires and the nurse's scored assessments ``survey``.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.clinical.domain import CHAIRSIDE_NAMESPACE, EventKind, Phase, Reading
from monitor.clinical.lineage import lineage
from monitor.exports.fhir_codes import (
    ACT_CODE,
    LOINC,
    OBSERVATION_CATEGORY,
    SCORES,
    SCORES_SYSTEM,
    UCUM,
    mrn_system,
    scores_code_system,
)
from monitor.exports.fhir_dose import dose_administration
from monitor.exports.fhir_flags import flag_issues, staff_by_name
from monitor.exports.reading_status import VOIDED, reading_statuses
from monitor.service.views import PatientInfo, SessionView

PROFILE = "http://hl7.org/fhir/StructureDefinition/"
#: The identifier system of an IEEE EUI-64 device system id (HL7 PHD and PoCD guides).
EUI64_SYSTEM = "urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680"

#: measure → (codings as (system, code, display), unit, category, vital-signs profile)
_SIMPLE: dict[str, tuple[tuple[tuple[str, str, str], ...], str, str, str | None]] = {
    "hr": (((LOINC, "8867-4", "Heart rate"),), "/min", "vital-signs", "heartrate"),
    "rr": (((LOINC, "9279-1", "Respiratory rate"),), "/min", "vital-signs", "resprate"),
    "spo2": (((LOINC, "2708-6", "Oxygen saturation in Arterial blood"),
              (LOINC, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry")),
             "%", "vital-signs", "oxygensat"),
    "phq9": (((LOINC, "44261-6",
               "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"),),
             "{score}", "survey", None),
    "gad7": (((LOINC, "70274-6",
               "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]"),),
             "{score}", "survey", None),
    **{code: (((SCORES_SYSTEM, code, display),), "{score}", "survey", None)
       for code, (display, _) in SCORES.items()},
}
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
SBP = ("8480-6", "Systolic blood pressure")
DBP = ("8462-4", "Diastolic blood pressure")
WEIGHT = ("29463-7", "Body weight")
#: Every measure a reading's Observations can carry, blood pressure first.
MEASURES: tuple[str, ...] = ("bp", *_SIMPLE)


@dataclass(frozen=True)
class _Context:
    """What every Observation of the session points at."""

    subject: str
    encounter: str


def session_bundle(view: SessionView, patient: PatientInfo, *,
                   mrn_system_uri: str | None = None) -> Any:
    """The session as a validated ``fhir.resources.R4B`` Bundle model.

    ``mrn_system_uri`` is the identifier system of the patient's MRN; without it the
    clinic's setting (:func:`monitor.exports.fhir_codes.mrn_system`).
    """
    from fhir.resources.R4B.bundle import Bundle  # noqa: PLC0415 - only exports need FHIR

    context = _Context(_urn(patient.id), _urn(view.info.id))
    observations = list(_observations(view, context))
    staff = {o["performer"][0]["reference"]: o["performer"][0]["display"]
             for o in observations}
    known = staff_by_name(observations)

    def author(name: str) -> dict[str, str]:
        name = name or "unknown staff member"
        reference = known.get(name) or _performer(None, name)[0]["reference"]
        staff.setdefault(reference, name)
        return {"reference": reference, "display": name}

    issues = list(flag_issues(view, patient=context.subject,
                              observations={o["id"] for o in observations},
                              author=author, narrative=_narrative))
    entries: list[dict[str, Any]] = [
        {"fullUrl": context.subject,
         "resource": _patient(patient, mrn_system_uri or mrn_system())},
        {"fullUrl": context.encounter, "resource": _encounter(view, context.subject)},
        _entry(scores_code_system(str(uuid.uuid5(CHAIRSIDE_NAMESPACE, SCORES_SYSTEM)))),
        *(_entry(_practitioner(url, name)) for url, name in sorted(staff.items())),
        *(_entry(_device(key)) for key in sorted(
            {r.device for r in (*view.record.readings, *view.superseded_readings)
             if r.device is not None})),
        *(_entry(o) for o in observations),
        *(_entry(issue) for issue in issues),
    ]
    given = dose_administration(view, {"subject": {"reference": context.subject},
                                       "encounter": {"reference": context.encounter}})
    if given is not None:
        given["text"] = _narrative(given["note"][0]["text"])
        entries.append(_entry(given))
    return Bundle.model_validate({
        "resourceType": "Bundle",
        "id": str(view.info.id),
        "type": "collection",
        "timestamp": view.at.isoformat(),
        "entry": entries,
    })


def session_json(view: SessionView, patient: PatientInfo, *,
                 mrn_system_uri: str | None = None) -> str:
    """:func:`session_bundle` as FHIR JSON text."""
    bundle = session_bundle(view, patient, mrn_system_uri=mrn_system_uri)
    return str(bundle.model_dump_json(indent=2, exclude_none=True)) + "\n"


def measures_of(reading: Reading) -> list[str]:
    """The measures of :data:`MEASURES` the reading holds."""
    return [m for m in MEASURES
            if (reading.sbp is not None and reading.dbp is not None if m == "bp"
                else getattr(reading, m) is not None)]


def _urn(value: uuid.UUID) -> str:
    return f"urn:uuid:{value}"


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": _urn(uuid.UUID(resource["id"])), "resource": resource}


def _narrative(*lines: str) -> dict[str, str]:
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}


def _patient(patient: PatientInfo, system: str) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(patient.id),
        "text": _narrative(" ".join(filter(None, [
            patient.name, f"MRN {patient.mrn}",
            f"born {patient.date_of_birth.isoformat()}" if patient.date_of_birth else ""]))),
        "identifier": [{"use": "usual",
                        "type": {"coding": [{
                            "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                            "code": "MR", "display": "Medical record number"}]},
                        "system": system, "value": patient.mrn}],
    }
    if patient.name:
        resource["name"] = [{"text": patient.name}]
    if patient.date_of_birth is not None:
        resource["birthDate"] = patient.date_of_birth.isoformat()
    return resource


def _practitioner(url: str, name: str) -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "id": url.removeprefix("urn:uuid:"),
        "text": _narrative(f"{name} (ChairSide staff)"),
        "name": [{"text": name}],
    }


def _device_id(key: str) -> uuid.UUID:
    return uuid.uuid5(CHAIRSIDE_NAMESPACE, f"device:{key}")


def _device(key: str) -> dict[str, Any]:
    """The bedside monitor ``key`` (its EUI-64, else ``location:`` and what it sends in
    PV1-3) as a Device."""
    resource: dict[str, Any] = {"resourceType": "Device", "id": str(_device_id(key))}
    location = key.removeprefix("location:") if key.startswith("location:") else None
    if location is None:
        resource["identifier"] = [{"system": EUI64_SYSTEM, "value": key}]
        name = f"Bedside monitor {key}"
    else:
        name = f"Bedside monitor at {location}"
    return {**resource, "text": _narrative(name),
            "deviceName": [{"name": name, "type": "user-friendly-name"}],
            "type": {"text": "Bedside patient monitor"}}


def _encounter(view: SessionView, patient_url: str) -> dict[str, Any]:
    period: dict[str, str] = {"start": view.info.time.isoformat()}
    closing = [e.time for e in view.record.events
               if e.kind in {EventKind.DISCHARGE_SIGNED, EventKind.DISCHARGE_OVERRIDE}]
    if closing:
        period["end"] = max(closing).isoformat()
    status = _encounter_status(view)
    kind = f"IV ketamine infusion ({view.info.profile})"
    return {
        "resourceType": "Encounter",
        "id": str(view.info.id),
        "text": _narrative(f"{kind}, chair {view.info.chair}, from {period['start']}"
                           + (f" to {period['end']}" if "end" in period else "")
                           + f" ({status})"),
        "status": status,
        "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "type": [{"text": kind}],
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


def _concept(codings: Sequence[tuple[str, str, str]]) -> dict[str, Any]:
    return {"coding": [{"system": s, "code": c, "display": d} for s, c, d in codings],
            "text": codings[-1][2]}


def _performer(staff_id: uuid.UUID | None, name: str) -> list[dict[str, str]]:
    """The staff member as an Observation's performer; an id derived from the name when the
    record carries none (an entry built outside the database)."""
    name = name or "unknown staff member"
    ident = staff_id or uuid.uuid5(CHAIRSIDE_NAMESPACE, f"staff:{name}")
    return [{"reference": _urn(ident), "display": name}]


def _observations(view: SessionView, context: _Context) -> Iterator[dict[str, Any]]:
    if view.info.weight_kg is not None:
        yield _observation(
            uuid.uuid5(view.info.id, "weight"), "final", ((LOINC, *WEIGHT),), "vital-signs",
            "bodyweight", view.info.time, context,
            _performer(view.info.entered_by, view.info.entered_by_name),
            {"valueQuantity": _quantity(view.info.weight_kg, "kg")},
            f"{WEIGHT[1]} {view.info.weight_kg} kg")
    lines = lineage(view.corrections)
    earlier: dict[uuid.UUID, list[Reading]] = {}
    for reading in view.superseded_readings:
        earlier.setdefault(lines.first_entered(reading.id), []).append(reading)
    for reading, status in reading_statuses(view):
        first = lines.first_entered(reading.id)
        yield from _reading_observations(reading, status, first, context, measures_of(reading))
        # A measure an amendment dropped: its last value is withdrawn under its own id.
        dropped: dict[str, Reading] = {}
        for before in sorted(earlier.get(first, ()), key=lambda r: r.recorded_at or r.time):
            if before.id != reading.id:
                dropped.update((m, before) for m in measures_of(before))
        kept = measures_of(reading)
        for measure in (m for m in MEASURES if m in dropped and m not in kept):
            yield from _reading_observations(dropped[measure], VOIDED, first,
                                             context, [measure])


def _observation(  # noqa: PLR0917 - the parts of one resource
    oid: uuid.UUID,
    status: str,
    codings: Sequence[tuple[str, str, str]],
    category: str,
    profile: str | None,
    when: datetime,
    context: _Context,
    performer: list[dict[str, str]],
    value: dict[str, Any],
    summary: str,
) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Observation", "id": str(oid)}
    if profile is not None:
        resource["meta"] = {"profile": [PROFILE + profile]}
    return {
        **resource,
        "text": _narrative(f"{summary} at {when.isoformat()} ({status}), "
                           f"by {performer[0]['display']}"),
        "status": status,
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": category}]}],
        "code": _concept(codings),
        "subject": {"reference": context.subject},
        "encounter": {"reference": context.encounter},
        "effectiveDateTime": when.isoformat(),
        "performer": performer,
        **value,
    }


def _reading_observations(reading: Reading, status: str, first: uuid.UUID, context: _Context,
                          measures: Sequence[str]) -> Iterator[dict[str, Any]]:
    """The Observations of ``measures`` of the reading, under the ids of the reading
    ``first`` entered (which it amends, or is)."""
    performer = _performer(reading.entered_by, reading.by)
    device = ({} if reading.device is None else {"device": {
        "reference": _urn(_device_id(reading.device)), "display": "Bedside monitor"}})
    for measure in measures:
        oid = uuid.uuid5(first, measure)
        if measure == "bp":
            yield _observation(
                oid, status, ((LOINC, *BP_PANEL),), "vital-signs", "bp", reading.time,
                context, performer,
                {"component": [
                    {"code": _concept(((LOINC, *SBP),)),
                     "valueQuantity": _quantity(reading.sbp or 0, "mm[Hg]")},
                    {"code": _concept(((LOINC, *DBP),)),
                     "valueQuantity": _quantity(reading.dbp or 0, "mm[Hg]")},
                ], **device},
                f"Blood pressure {reading.sbp}/{reading.dbp} mm[Hg]")
            continue
        codings, unit, category, profile = _SIMPLE[measure]
        number = getattr(reading, measure)
        yield _observation(oid, status, codings, category, profile, reading.time, context,
                           performer, {"valueQuantity": _quantity(number, unit), **device},
                           f"{codings[-1][2]} {number} {unit}")
