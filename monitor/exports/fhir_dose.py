"""The dose given, as a FHIR R4 MedicationAdministration for the session's Bundle.

One resource once the infusion has stopped: ``completed`` with the planned dose, or
``stopped`` with the dose the nurse recorded on an early stop and its reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from monitor.clinical.domain import CHAIRSIDE_NAMESPACE
from monitor.clinical.rules import infusion_started_at, infusion_stopped_at
from monitor.service.views import SessionView

#: RxNorm ingredient code of ketamine.
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
KETAMINE = ("6130", "ketamine")


def dose_administration(view: SessionView, context: Mapping[str, Any]) -> dict[str, Any] | None:
    """The MedicationAdministration of ``view``'s infusion, or None before it stopped.

    ``context`` holds the ``subject`` and ``encounter`` references of the Bundle.
    """
    delivered = view.dose_delivered
    started = infusion_started_at(view.record)
    stopped = infusion_stopped_at(view.record)
    if delivered is None or delivered.dose_mg is None or started is None or stopped is None:
        return None
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": str(uuid.uuid5(CHAIRSIDE_NAMESPACE, f"dose:{view.info.id}")),
        "status": "stopped" if delivered.early else "completed",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": KETAMINE[0], "display": KETAMINE[1]}],
            "text": "ketamine (IV infusion)"},
        "subject": dict(context["subject"]),
        "context": dict(context["encounter"]),
        "effectivePeriod": {"start": started.isoformat(), "end": stopped.isoformat()},
        "dosage": {"route": {"text": "intravenous"},
                   "dose": {"value": delivered.dose_mg, "unit": "mg",
                            "system": "http://unitsofmeasure.org", "code": "mg"}},
        "note": [{"text": f"Dose delivered: {delivered.words}"}],
    }
    if delivered.early and delivered.reason:
        resource["statusReason"] = [{"text": delivered.reason}]
    return resource


