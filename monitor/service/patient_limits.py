"""A patient's own limits: the protocol's flag limits a clinician sets for one patient.

Each limit of the flag sections (baseline BP, BP, HR, SpO2, RR, MOAA/S, CADSS-6, nausea) may
be set for a patient, with a written reason. A value is checked as typed (its type and
accepted range, with the unit) and the patient's limits as a whole against the protocol
(:meth:`monitor.clinical.protocol.Protocol.with_overrides`: a warning limit not beyond its
critical limit, a low limit below the high one, …), and refused whole when anything is
wrong. Clinicians set them (the refusal of anyone else is audited); everyone reads them.
Every change is audited with the old and the new value of each limit it changed.

The protocol a patient's limits are shown against is the current version of the profile
of the patient's latest session (IV ketamine for a patient never treated).

A session keeps the limits its patient had when it started (``sessions.limit_overrides``),
as it keeps its protocol version: limits set now apply to the sessions started from now on,
and never re-judge a running or past session.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from monitor.clinical.permissions import Action
from monitor.clinical.protocol import Protocol, ProtocolError
from monitor.clinical.protocol_changes import (
    MIN_REASON,
    ProtocolChangeError,
    checked_reason,
    checked_value,
)
from monitor.clinical.protocol_schema import SECTIONS, field_types
from monitor.clinical.validation import FieldError
from monitor.service.guard import Guard
from monitor.service.session_protocols import SessionProtocols
from monitor.service.views import InvalidEntryError, NotFoundError
from monitor.storage.model import Patient, TreatmentSession

#: The sections whose limits may be set per patient: those that raise flags.
LIMIT_SECTIONS: tuple[str, ...] = ("baseline_bp", "bp", "hr", "spo2", "rr", "moaas", "cadss6",
                                   "nausea")
DEFAULT_PROFILE = "iv_ketamine"


@dataclass(frozen=True, slots=True)
class LimitRow:
    """One limit: the protocol's value and the patient's own (None: the protocol's holds)."""

    section: str
    key: str
    unit: str
    protocol_value: int | float
    source: str
    patient_value: int | float | None

    @property
    def field(self) -> str:
        return f"{self.section}.{self.key}"


@dataclass(frozen=True, slots=True)
class PatientLimitsView:
    patient_id: uuid.UUID
    name: str
    mrn: str
    profile: str
    protocol_version: str
    rows: tuple[LimitRow, ...]
    reason: str


def overridable(protocol: Protocol) -> list[str]:
    """The fields that may be set per patient, in file order."""
    return [p.field for p in protocol.parameters if p.section in LIMIT_SECTIONS
            and field_types(SECTIONS[p.section])[p.key] in (int, float)]


class PatientLimits:
    """A patient's own limits, read and set; one transaction per public method."""

    def __init__(self, guard: Guard, protocols: SessionProtocols) -> None:
        self.guard = guard
        self.store = guard.store
        self.protocols = protocols

    def view(self, patient_id: uuid.UUID) -> PatientLimitsView:
        with self.store.read() as db:
            patient = db.get(Patient, patient_id)
            if patient is None:
                raise NotFoundError(f"no patient {patient_id}")
            profile = db.execute(
                select(TreatmentSession.profile).where(TreatmentSession.patient_id == patient_id)
                .order_by(TreatmentSession.time.desc()).limit(1)).scalar() or DEFAULT_PROFILE
            own = dict(patient.limit_overrides or {})
            reason = patient.limit_override_reason or ""
            name, mrn = patient.name or "", patient.mrn
            base = self.protocols.current(db.connection(), profile)
        fields = set(overridable(base))
        rows = tuple(
            LimitRow(p.section, p.key, p.unit, p.value, p.source, own.get(p.field))
            for p in base.parameters
            if p.field in fields and isinstance(p.value, (int, float)))
        return PatientLimitsView(patient_id, name, mrn, profile, base.version, rows, reason)

    def check(self, profile: str, values: Mapping[str, object]) -> list[FieldError]:
        """The refusals of the patient's limits as typed (``{field: text}``, empty text:
        the protocol's value): each value on its own, then all of them against the
        protocol. Empty when they may be saved."""
        base = self.protocols.protocol_for(profile)
        errors, parsed = self._parsed(base, values)
        if errors:
            return errors
        try:
            base.with_overrides(parsed)
        except ProtocolError as exc:
            return [FieldError(exc.field or "limits", f"{exc.field}: {exc.problem}")]
        return []

    def set_limits(self, patient_id: uuid.UUID, values: Mapping[str, object], *,
                   reason: str, by: uuid.UUID) -> PatientLimitsView:
        """Set the patient's limits to ``values`` (``{field: value or text}``; a field left
        out or empty takes the protocol's value). Refused whole if any is invalid."""
        with self.guard.change(by, Action.SET_PATIENT_LIMITS, patient_id=patient_id,
                               record_kind="patient", record_id=patient_id) as change:
            patient = change.db.get(Patient, patient_id)
            if patient is None:
                raise NotFoundError(f"no patient {patient_id}")
            why = _reason(reason)
            view = self.view(patient_id)
            base = self.protocols.protocol_for(view.profile)
            errors, parsed = self._parsed(base, values)
            if not errors:
                try:
                    base.with_overrides(parsed)
                except ProtocolError as exc:
                    errors = [FieldError(exc.field or "limits", f"{exc.field}: {exc.problem}")]
            if errors:
                raise InvalidEntryError(errors)
            old = dict(patient.limit_overrides or {})
            changed = sorted(f for f in {*old, *parsed} if old.get(f) != parsed.get(f))
            if not changed:
                return view
            patient.limit_overrides = parsed
            patient.limit_override_reason = why
            change.db.flush()
            change.audit("patient_limits_set", "patient", patient_id, patient_id=patient_id,
                         old={f: old.get(f) for f in changed},
                         new={**{f: parsed.get(f) for f in changed}, "reason": why,
                              "profile": view.profile,
                              "protocol_version": view.protocol_version})
        return self.view(patient_id)

    @staticmethod
    def _parsed(base: Protocol, values: Mapping[str, object]
                ) -> tuple[list[FieldError], dict[str, Any]]:
        allowed = set(overridable(base))
        errors: list[FieldError] = []
        parsed: dict[str, Any] = {}
        for field, raw in values.items():
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            if field not in allowed:
                errors.append(FieldError(field, f"{field}: not a limit that may be set for "
                                                "a patient"))
                continue
            section, key = field.split(".", 1)
            try:
                parsed[field] = checked_value(field, raw, base.parameter(section, key).unit)
            except ProtocolChangeError as exc:
                errors.extend(exc.errors)
        return errors, parsed


def _reason(reason: str) -> str:
    try:
        return checked_reason(reason)
    except ProtocolChangeError as exc:
        raise InvalidEntryError([FieldError(
            "reason", "Write why this patient's limits differ from the protocol (at least "
                      f"{MIN_REASON} characters)")]) from exc
