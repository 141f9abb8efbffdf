"""A session's flags in the FHIR Bundle: one DetectedIssue each, with its acknowledgement.

A flag is decision support about the patient's readings, not a patient-level alert, so it is
a ``DetectedIssue`` rather than a ``Flag`` resource: ``severity`` high / moderate / low for
critical / warning / advisory, ``identifiedDateTime`` when it was raised, ``detail`` its
message and what became of it, ``implicated`` the Observation of the reading that raised it
(when that measure is exported), and the acknowledgement as a ``mitigation`` — the action
taken, when and by whom.

Every flag the record holds is exported (:func:`monitor.clinical.flag_counts` decides only
what is counted): a flag withdrawn because its reading was voided or amended keeps its
acknowledgement and has status ``entered-in-error``, as its reading's Observations do; the
others are ``final``. The id is the flag's own, so exporting again names the same resource.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from monitor.clinical.domain import Flag, Measure, Severity
from monitor.clinical.lineage import lineage
from monitor.clinical.wording import MEASURE_NAMES
from monitor.service.views import SessionView

#: A flag's tier as a DetectedIssue's severity.
SEVERITIES: dict[Severity, str] = {Severity.CRITICAL: "high", Severity.WARNING: "moderate",
                                   Severity.ADVISORY: "low"}
#: The Observation measure (``monitor.exports.fhir.MEASURES``) a flag's measure is about.
_OBSERVED: dict[Measure, str] = {Measure.BP: "bp", Measure.HR: "hr", Measure.SPO2: "spo2",
                                 Measure.RR: "rr", Measure.MOAAS: "moaas",
                                 Measure.CADSS6: "cadss6", Measure.NAUSEA: "nausea",
                                 Measure.PHQ9: "phq9"}


def flag_issues(view: SessionView, *, patient: str, observations: set[str],
                author: Callable[[str], dict[str, str]],
                narrative: Callable[..., dict[str, str]]) -> Iterator[dict[str, Any]]:
    """The DetectedIssues of every flag of ``view``, in the order raised.

    ``patient``: the Patient's reference; ``observations``: the ids of the Observations in
    the Bundle; ``author``: the Practitioner reference of a staff member by name;
    ``narrative``: the resource's text made of lines.
    """
    lines = lineage(view.corrections)
    withdrawn = {f.id for f in view.withdrawn_flags}
    for flag in sorted((*view.flags, *view.superseded_flags), key=lambda f: (f.time, f.id)):
        status = "entered-in-error" if flag.id in withdrawn else "final"
        detail = flag.message + _outcome(flag)
        resource: dict[str, Any] = {
            "resourceType": "DetectedIssue",
            "id": str(flag.id),
            "text": narrative(f"{flag.severity.label.capitalize()} flag "
                              f"({MEASURE_NAMES[flag.measure]}): {detail}"),
            "status": status,
            "code": {"text": f"ChairSide {flag.severity.label} flag: {flag.key}"},
            "severity": SEVERITIES[flag.severity],
            "patient": {"reference": patient},
            "identifiedDateTime": flag.time.isoformat(),
            "detail": detail,
        }
        implicated = _implicated(flag, lines.first_entered, observations)
        if implicated is not None:
            resource["implicated"] = [{"reference": implicated}]
        ack = flag.acknowledgement
        if ack is not None:
            action = ack.action + (f" — {ack.note}" if ack.note else "")
            resource["mitigation"] = [{"action": {"text": action},
                                       "date": ack.time.isoformat(),
                                       "author": author(ack.by)}]
        yield resource


def _outcome(flag: Flag) -> str:
    if flag.resolved_at is None:
        return "" if flag.acknowledgement is not None else " (open)"
    return f" ({flag.resolution or 'resolved'} at {flag.resolved_at.isoformat()})"


def _implicated(flag: Flag, first_entered: Callable[[uuid.UUID], uuid.UUID],
                observations: set[str]) -> str | None:
    measure = _OBSERVED.get(flag.measure)
    if flag.reading_id is None or measure is None:
        return None
    oid = str(uuid.uuid5(first_entered(flag.reading_id), measure))
    return f"urn:uuid:{oid}" if oid in observations else None


def staff_by_name(observations: list[dict[str, Any]]) -> Mapping[str, str]:
    """Staff name → Practitioner reference, as the Observations' performers name them."""
    return {o["performer"][0]["display"]: o["performer"][0]["reference"] for o in observations}
