"""The codes and identifier systems of the FHIR export, and the clinic's MRN system setting.

Two identifiers are ChairSide's own and never change:

* :data:`SCORES_SYSTEM`, the canonical URI of the local CodeSystem of the scores LOINC has
  no code for (CADSS-6, MOAA/S, the comfort scores). ChairSide owns no web domain, so a
  made-up ``https://`` address could one day belong to someone else; a ``urn:oid:2.25.``
  OID is built from a UUID (ITU-T X.667), needs no registration, and is unique by
  construction. The Bundle carries the whole CodeSystem (:func:`scores_code_system`).
* :data:`DEFAULT_MRN_SYSTEM`, the identifier system of MRNs when the clinic has not named
  its own. MRNs are the clinic's, so a clinic sets ``CHAIRSIDE_MRN_SYSTEM`` (or
  ``export --mrn-system``) to the system its record system uses (:func:`mrn_system`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

#: The local CodeSystem of CADSS-6, MOAA/S and the comfort scores (OID 2.25 from a UUID).
SCORES_SYSTEM = "urn:oid:2.25.110011293934969516399748253125905542236"
#: Its version: raised when a concept is added or its meaning changes.
SCORES_VERSION = "1"
#: MRNs' identifier system when the clinic has not set one (documented in docs/fhir.md).
DEFAULT_MRN_SYSTEM = "urn:oid:2.25.65320865878256373385634778607182460398"
#: The environment variable that names the clinic's MRN identifier system.
MRN_SYSTEM_VARIABLE = "CHAIRSIDE_MRN_SYSTEM"

#: code → (display, definition) of the local CodeSystem.
SCORES: Mapping[str, tuple[str, str]] = {
    "cadss6": ("CADSS-6 dissociation total (0-24)",
               "Sum of the six items (0-4 each) of the short Clinician-Administered "
               "Dissociative States Scale (Rodrigues et al., J Affect Disord 2021;282:160)."),
    "moaas": ("MOAA/S sedation score (0-5)",
              "Modified Observer's Assessment of Alertness/Sedation: 5 responds readily to "
              "name in normal tone, 0 no response to a painful trapezius squeeze."),
    "nausea": ("Nausea (0-10)", "The patient's nausea on a 0-10 numeric rating scale."),
    "anxiety": ("Anxiety (0-10)", "The patient's anxiety on a 0-10 numeric rating scale."),
    "pain": ("Pain (0-10)", "The patient's pain on a 0-10 numeric rating scale."),
}

_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s|#]+")


class SettingError(ValueError):
    """A clinic setting with a value that cannot be used; the message names the setting."""


def check_mrn_system(value: str, *, setting: str = MRN_SYSTEM_VARIABLE) -> str:
    """``value`` if it is an absolute URI usable as an identifier system, else SettingError."""
    if not _ABSOLUTE_URI.fullmatch(value):
        raise SettingError(
            f"{setting}: {value!r} is not an identifier system; give an absolute URI without "
            "spaces, '|' or '#', e.g. urn:oid:1.2.3.4 or https://clinic.example/mrn")
    return value


def mrn_system(environ: Mapping[str, str] | None = None) -> str:
    """The clinic's MRN identifier system: ``$CHAIRSIDE_MRN_SYSTEM``, else the default."""
    value = (os.environ if environ is None else environ).get(MRN_SYSTEM_VARIABLE, "").strip()
    return check_mrn_system(value) if value else DEFAULT_MRN_SYSTEM


def scores_code_system(resource_id: str) -> dict[str, Any]:
    """The local CodeSystem as a FHIR resource, complete (every concept listed)."""
    rows = "".join(f"<tr><td>{code}</td><td>{display}</td></tr>"
                   for code, (display, _) in SCORES.items())
    return {
        "resourceType": "CodeSystem",
        "id": resource_id,
        "text": {"status": "generated",
                 "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>ChairSide scores</p>'
                        f"<table><tr><th>code</th><th>display</th></tr>{rows}</table></div>"},
        "url": SCORES_SYSTEM,
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": SCORES_SYSTEM}],
        "version": SCORES_VERSION,
        "name": "ChairSideScores",
        "title": "ChairSide bedside scores",
        "status": "active",
        "experimental": False,
        "publisher": "ChairSide",
        "description": "Scores recorded at the infusion chair that LOINC has no code for.",
        "caseSensitive": True,
        "content": "complete",
        "count": len(SCORES),
        "concept": [{"code": code, "display": display, "definition": definition}
                    for code, (display, definition) in SCORES.items()],
    }
