"""What the nurse's app and the command line do with the record.

:class:`ClinicService` is the only writer of clinical rows. Each method is one transaction:
validate, insert (never update), raise any new flags, commit. A method returns only after
the database committed, so "Saved" may be shown when it returns; when the environment fails
it raises :class:`monitor.storage.store.NotSavedError` and nothing was stored.

Reading back, :meth:`ClinicService.load` turns the rows into a
:class:`monitor.clinical.domain.SessionRecord` of effective entries (voided ones left out, amended
ones replaced) as it stood at a given time, and evaluates flags and discharge on it.

The paths a tablet runs all day — listing a patient's sessions, loading a session, saving a
reading — use SQL Core statements built once at import, with bound parameters, on the
session's connection: building statements per call and going through the ORM's unit of
work cost several times what the database itself spends on those rows.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.clinical import start_gate
from monitor.clinical.discharge import evaluate_discharge
from monitor.clinical.domain import (
    Acknowledgement,
    DischargeAssessment,
    EventKind,
    Flag,
    Measure,
    Phase,
    Reading,
    SessionRecord,
    Severity,
)
from monitor.clinical.dosing import DosePlan, plan_dose
from monitor.clinical.infusion import (
    EARLY_STOP_KEYS,
    EarlyStopError,
    check_early_stop,
    early_stop,
    early_stop_detail,
)
from monitor.clinical.permissions import STAFF_ROLES, Action, PermissionDenied, allowed
from monitor.clinical.protocol import Protocol, load_protocol
from monitor.clinical.rules import (
    PHQ9_ACK_CHOICES,
    PHQ9_ITEM9_FLAG,
    FlagEvaluation,
    evaluate_flags,
    evaluate_flags_from,
    infusion_started_at,
    next_reading,
    session_phase,
)
from monitor.clinical.signing import (
    AFTER_SIGNOFF_PREFIX,
    CLOSING_EVENTS,
    MIN_AFTER_SIGNOFF_REASON,
    SignOff,
    after_signoff_note,
    assessment_data,
    assessment_from,
    closing_event,
    entered_by,
    sign_off,
)
from monitor.clinical.validation import (
    FieldError,
    validate_after_check_in,
    validate_reading,
    validate_time,
)
from monitor.clock import Clock, ensure_utc
from monitor.service import conflicts
from monitor.service.auth import (
    LOCK_DURATION,
    MAX_FAILURES,
    AccountLocked,
    InvalidPin,
    LoginRefused,
    SignatureRequired,
    StaffInfo,
    audit_key,
    check_new_pin,
    hash_pin,
    lock_remaining,
    verify_pin,
)
from monitor.service.conflicts import refuse_changed_retry, refuse_second
from monitor.service.protocol_admin import ProtocolAdmin, active_version_id
from monitor.service.views import (
    MEANING_CRITICAL_ACK,
    MEANING_CRITICAL_AMEND,
    MEANING_CRITICAL_VOID,
    MEANING_DISCHARGE,
    MEANING_OVERRIDE,
    MIN_OVERRIDE_REASON,
    READING_FIELDS,
    AlreadyDoneError,
    AuditEntry,
    CorrectionInfo,
    ImportedRow,
    InvalidEntryError,
    NotFoundError,
    PatientInfo,
    SavedReading,
    SessionClosedError,
    SessionInfo,
    SessionSummary,
    SessionView,
    SignatureInfo,
    Superseded,
    infusion_plan,
)
from monitor.storage import audit, protocol_store, queries
from monitor.storage.model import (
    Acknowledgement as AckRow,
)
from monitor.storage.model import (
    AuditLog,
    Correction,
    EventRow,
    FlagRow,
    Patient,
    ReadingRow,
    Signature,
    Staff,
    TreatmentSession,
)
from monitor.storage.records import (
    acknowledgements,
    flag_values,
    load_record,
    patient_info,
    patient_values,
    reading_values,
    row_values,
    session_info,
    session_values,
)
from monitor.storage.store import Store

if TYPE_CHECKING:  # the review queries load with the first review, not at start-up
    from monitor.service import review

#: Who is refused, at the start of a sentence.
_ARTICLE_CAP = {"nurse": "A nurse", "admin": "An admin", "system": "The system identity"}


class _NeedsClinician(Exception):  # noqa: N818 - internal signal, turned into PermissionDenied
    """An entry after sign-off by someone who may not add one (audited outside the write)."""


class ClinicService:
    """Creates and reads the clinical record. Every public method is one transaction.

    A session is judged by the protocol version stored when it started, whatever the
    protocol files (``protocol_dir``, default the shipped ones) say now.
    """

    def __init__(self, store: Store, clock: Clock, *, secret: bytes,
                 protocol_dir: Path | None = None) -> None:
        if len(secret) < 16:
            raise ValueError(
                "the secret must be at least 16 bytes (monitor.service.auth.load_secret)")
        self.store = store
        self.clock = clock
        self._secret = secret
        self._audit_key = audit_key(secret)
        self._protocols: dict[tuple[str, tuple[tuple[str, Any], ...]], Protocol] = {}
        self._protocol_dir = protocol_dir
        #: Stored protocol versions (immutable) and, with a patient's overrides, as applied.
        self._versions = protocol_store.VersionCache(protocol_dir)
        self._pinned: dict[tuple[uuid.UUID, tuple[tuple[str, Any], ...]], Protocol] = {}
        self._protocol_admin: ProtocolAdmin | None = None
        self._tails: dict[uuid.UUID, _Tail] = {}  # see _reading_flags
        self._loaded: dict[uuid.UUID, _Loaded] = {}  # see _load_evaluated
        #: Locks this process saw begin or observed: (stored start, monotonic start).
        self._locks_seen: dict[uuid.UUID, tuple[datetime, float]] = {}

    # -- protocol -------------------------------------------------------------------------

    def protocol_for(self, profile: str, overrides: Mapping[str, Any] | None = None) -> Protocol:
        """What a session started now runs under: the profile's version the clinic approved
        last (:mod:`monitor.service.protocol_admin`), else its file.

        A session already started is judged by its own version (:meth:`session_protocol`).
        """
        with self.store.read() as db:
            return self._current_protocol(db.connection(), profile, overrides)

    @property
    def protocols(self) -> ProtocolAdmin:
        """Protocol drafts, approval and the active version of each profile."""
        if self._protocol_admin is None:
            self._protocol_admin = ProtocolAdmin(
                self.store, self.clock, require=self._require, signer=self._signer,
                audit=self._audit, versions=self._versions, protocol_dir=self._protocol_dir)
        return self._protocol_admin

    def _current_protocol(self, connection: Connection, profile: str,
                          overrides: Mapping[str, Any] | None = None) -> Protocol:
        active = active_version_id(connection, profile)
        if active is None:
            return self._file_protocol(profile, overrides)
        key = (active, tuple(sorted((overrides or {}).items())))
        protocol = self._pinned.get(key)
        if protocol is None:
            protocol = self._versions.protocol(connection, active)
            if overrides:
                protocol = protocol.with_overrides(dict(overrides))
            self._pinned[key] = protocol
        return protocol

    def _file_protocol(self, profile: str, overrides: Mapping[str, Any] | None = None
                       ) -> Protocol:
        """The profile's protocol as its file says now."""
        key = (profile, tuple(sorted((overrides or {}).items())))
        protocol = self._protocols.get(key)
        if protocol is None:
            protocol = load_protocol(profile, self._protocol_dir)
            if overrides:
                protocol = protocol.with_overrides(dict(overrides))
            self._protocols[key] = protocol
        return protocol

    def session_protocol(self, session_id: uuid.UUID) -> Protocol:
        """The protocol the session is judged by: its stored version, with the patient's limits."""
        with self.store.read() as db:
            connection = db.connection()
            return self._protocol_of(connection, session_info(connection, session_id))

    # -- staff and patients ----------------------------------------------------------------

    def ensure_staff(self, name: str, role: str, *, pin: str | None = None) -> uuid.UUID:
        """The id of the staff member with this name and role, created if missing.

        For system identities (imports, the command line), demo data and tests; people are
        added by an admin with :meth:`add_staff`. ``pin`` sets a PIN where there is none.
        """
        pin_hash = hash_pin(check_new_pin(pin), self._secret) if pin is not None else None
        now = self.clock.now()
        with self.store.write() as db:
            found = db.scalar(select(Staff).where(Staff.name == name, Staff.role == role))
            if found is not None:
                if pin_hash is not None and found.pin_hash is None:
                    found.pin_hash = pin_hash
                    self._audit(db, found.id, "pin_reset", "staff", found.id, now=now)
                return found.id
            staff = Staff(id=uuid.uuid4(), name=name, role=role, created_at=now,
                          pin_hash=pin_hash, failed_logins=0)
            db.add(staff)
            db.flush()
            self._audit(db, staff.id, "staff_add", "staff", staff.id, now=now,
                        new={"name": name, "role": role})
            return staff.id

    # -- sign-in and staff management ------------------------------------------------------

    def needs_first_admin(self) -> bool:
        """True until an admin who can sign in exists (the first start asks for one)."""
        with self.store.read() as db:
            found = db.scalar(select(Staff.id).where(
                Staff.role == "admin", Staff.active.is_(True), Staff.pin_hash.is_not(None)
            ).limit(1))
        return found is None

    def create_first_admin(self, name: str, pin: str) -> uuid.UUID:
        """Create the first admin; refused once any admin exists."""
        clean = self._staff_name(name)
        pin_hash = self._new_pin_hash(pin)
        now = self.clock.now()
        with self.store.write() as db:
            if db.scalar(select(Staff.id).where(Staff.role == "admin").limit(1)) is not None:
                raise PermissionDenied(None, Action.MANAGE_STAFF, (
                    "An admin already exists; ask an admin to add staff."))
            staff = Staff(id=uuid.uuid4(), name=clean, role="admin", created_at=now,
                          pin_hash=pin_hash, failed_logins=0, active=True)
            db.add(staff)
            db.flush()
            self._audit(db, staff.id, "staff_add", "staff", staff.id, now=now,
                        new={"name": clean, "role": "admin", "first_admin": True})
        return staff.id

    def add_staff(self, name: str, role: str, pin: str, *, by: uuid.UUID) -> uuid.UUID:
        """An admin adds a nurse, clinician or admin with their first PIN."""
        self._require(by, Action.MANAGE_STAFF)
        clean = self._staff_name(name)
        if role not in STAFF_ROLES:
            raise InvalidEntryError([FieldError(
                "role", f"Role: one of {', '.join(STAFF_ROLES)} (got {role!r})")])
        pin_hash = self._new_pin_hash(pin)
        now = self.clock.now()
        with self.store.write() as db:
            taken = db.scalar(select(Staff.id).where(
                func.lower(Staff.name) == clean.lower(), Staff.active.is_(True)).limit(1))
            if taken is not None:
                raise InvalidEntryError([FieldError(
                    "name", f"Name: {clean} is already on the staff list; add a middle "
                    "initial or a surname to tell them apart")])
            staff = Staff(id=uuid.uuid4(), name=clean, role=role, created_at=now,
                          pin_hash=pin_hash, failed_logins=0, active=True)
            db.add(staff)
            db.flush()
            self._audit(db, by, "staff_add", "staff", staff.id, now=now,
                        new={"name": clean, "role": role})
        return staff.id

    def disable_staff(self, staff_id: uuid.UUID, *, by: uuid.UUID) -> None:
        """An admin disables a staff member: they can no longer sign in. Rows stay."""
        self._require(by, Action.MANAGE_STAFF)
        now = self.clock.now()
        with self.store.write() as db:
            staff = self._staff_row(db, staff_id)
            if staff.role == "admin" and staff.active:
                others = db.scalar(select(func.count()).select_from(Staff).where(
                    Staff.role == "admin", Staff.active.is_(True), Staff.id != staff_id))
                if not others:
                    raise InvalidEntryError([FieldError(
                        "staff", "The last active admin cannot be disabled; add another "
                        "admin first")])
            if staff.active:
                staff.active = False
                self._audit(db, by, "staff_disable", "staff", staff_id, now=now,
                            old={"active": True}, new={"active": False})

    def reset_pin(self, staff_id: uuid.UUID, new_pin: str, *, by: uuid.UUID) -> None:
        """An admin sets a new PIN; this also lifts a lock."""
        self._require(by, Action.MANAGE_STAFF)
        pin_hash = self._new_pin_hash(new_pin)
        now = self.clock.now()
        with self.store.write() as db:
            staff = self._staff_row(db, staff_id)
            staff.pin_hash = pin_hash
            staff.failed_logins = 0
            staff.locked_at = None
            self._audit(db, by, "pin_reset", "staff", staff_id, now=now)
        self._locks_seen.pop(staff_id, None)

    def staff_list(self, *, include_disabled: bool = False) -> list[StaffInfo]:
        """Everyone who can sign in (and, asked, the disabled), by name."""
        query = select(Staff).where(Staff.role.in_(STAFF_ROLES)).order_by(Staff.name)
        if not include_disabled:
            query = query.where(Staff.active.is_(True))
        with self.store.read() as db:
            rows = list(db.scalars(query))
            return [self._staff_info(row) for row in rows]

    def staff_info(self, staff_id: uuid.UUID) -> StaffInfo:
        with self.store.read() as db:
            return self._staff_info(self._staff_row(db, staff_id))

    def login(self, staff_id: uuid.UUID, pin: str) -> StaffInfo:
        """Check a staff member's PIN: the signed-in :class:`StaffInfo`, or refused.

        A wrong PIN raises :class:`LoginRefused` (saying how many tries are left); the
        fifth in a row locks the account for 15 minutes (:class:`AccountLocked`). Every
        attempt is audited.
        """
        info = self._check_pin(staff_id, pin)
        now = self.clock.now()
        with self.store.write() as db:
            self._audit(db, staff_id, "login", "staff", staff_id, now=now)
        return info

    def record_lock(self, staff_id: uuid.UUID, *, reason: str = "idle") -> None:
        """Audit that the screen locked for this staff member (idle or by hand)."""
        now = self.clock.now()
        with self.store.write() as db:
            self._audit(db, staff_id, "screen_lock", "staff", staff_id, now=now,
                        new={"reason": reason})

    def set_demo_pins(self, pin: str, *, by: uuid.UUID | None = None) -> int:
        """Give every person without a PIN ``pin``: demo databases only (``--demo``).

        ``by``: who set them (the command line's identity); each person by default.
        """
        self._new_pin_hash(pin)  # refuses a PIN that breaks the rules
        now = self.clock.now()
        with self.store.write() as db:
            rows = list(db.scalars(select(Staff).where(
                Staff.pin_hash.is_(None), Staff.role.in_(STAFF_ROLES))))
            for row in rows:
                row.pin_hash = hash_pin(pin, self._secret)  # a salt of its own each
                self._audit(db, by or row.id, "pin_reset", "staff", row.id, now=now,
                            new={"demo": True})
            return len(rows)

    def record_demo_data(self, details: Mapping[str, Any], *, by: uuid.UUID) -> None:
        """Audit that synthetic demo data was written, with what regenerates it (the seed,
        the number of sessions and the generation time) and what it holds."""
        with self.store.write() as db:
            self._audit(db, by, "demo_data", "database", None, now=self.clock.now(),
                        new=dict(details))

    def record_protocol_change(
        self, profile: str, *, by: uuid.UUID, old: Mapping[str, Any], new: Mapping[str, Any],
    ) -> None:
        """Audit a change of the clinic protocol (admins only)."""
        self._require(by, Action.CHANGE_PROTOCOL)
        now = self.clock.now()
        with self.store.write() as db:
            self._audit(db, by, "protocol_change", "protocol", None, now=now,
                        old={"profile": profile, **old}, new={"profile": profile, **new})
        self._protocols.clear()

    # -- audit -------------------------------------------------------------------------------

    def audit_entries(
        self,
        *,
        by: uuid.UUID,
        patient_id: uuid.UUID | None = None,
        session_id: uuid.UUID | None = None,
        staff_id: uuid.UUID | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 500,
    ) -> list[AuditEntry]:
        """Audit entries, newest first, filtered (clinicians and admins only)."""
        self._require(by, Action.VIEW_AUDIT)
        query = (
            select(AuditLog, func.coalesce(Staff.name, ""))
            .outerjoin(Staff, Staff.id == AuditLog.staff_id)
            .order_by(AuditLog.seq.desc())
            .limit(max(1, limit))
        )
        if patient_id is not None:
            query = query.where(AuditLog.patient_id == patient_id)
        if session_id is not None:
            query = query.where(AuditLog.session_id == session_id)
        if staff_id is not None:
            query = query.where(AuditLog.staff_id == staff_id)
        if action is not None:
            query = query.where(AuditLog.action == action)
        if since is not None:
            query = query.where(AuditLog.at >= ensure_utc(since))
        if until is not None:
            query = query.where(AuditLog.at <= ensure_utc(until))
        with self.store.read() as db:
            return [
                AuditEntry(
                    seq=row.seq, at=row.at, staff_id=row.staff_id, staff_name=name,
                    action=row.action, record_kind=row.record_kind, record_id=row.record_id,
                    session_id=row.session_id, patient_id=row.patient_id,
                    old=json.loads(row.old) if row.old is not None else None,
                    new=json.loads(row.new) if row.new is not None else None,
                )
                for row, name in db.execute(query)
            ]

    def record_export(self, session_id: uuid.UUID, fmt: str, *, by: uuid.UUID) -> str:
        """Audit an export of the session; returns the chain head to print on it."""
        self._require(by, Action.EXPORT, session_id=session_id)
        now = self.clock.now()
        with self.store.write() as db:
            info = session_info(db.connection(), session_id)
            return self._audit(db, by, "export", "session", session_id, now=now,
                               session_id=session_id, patient_id=info.patient.id,
                               new={"format": fmt})

    def audit_head(self) -> str:
        """The newest audit entry's mac (hex): the chain head."""
        with self.store.read() as db:
            return audit.head(db.connection())

    def verify_audit(self, head: str | None = None) -> audit.Verification:
        """Check the audit chain (and, given ``head``, that it still holds that head)."""
        with self.store.read() as db:
            return audit.verify(db.connection(), self._audit_key, head)

    def active_staff(self) -> list[tuple[uuid.UUID, str, str]]:
        """``(id, name, role)`` of every active person who may enter records, by name."""
        query = (
            select(Staff.id, Staff.name, Staff.role)
            .where(Staff.active.is_(True), Staff.role.in_(("nurse", "clinician")))
            .order_by(Staff.name)
        )
        with self.store.read() as db:
            return [(row[0], row[1], row[2]) for row in db.execute(query)]

    def find_patient(self, mrn: str) -> PatientInfo | None:
        with self.store.read() as db:
            patient = db.scalar(select(Patient).where(Patient.mrn == mrn))
            return patient_info(patient) if patient is not None else None

    def add_patient(
        self,
        mrn: str,
        *,
        by: uuid.UUID,
        name: str | None = None,
        date_of_birth: date | None = None,
        weight_kg: float | None = None,
        patient_id: uuid.UUID | None = None,
    ) -> PatientInfo:
        self._require(by, Action.CHECK_IN, patient_id=patient_id)
        with self.store.write() as db:
            patient = self._add_patient(
                db, mrn=mrn, by=by, name=name, date_of_birth=date_of_birth,
                weight_kg=weight_kg, patient_id=patient_id,
            )
            self._audit(db, by, "create", "patient", patient.id, now=patient.recorded_at,
                        patient_id=patient.id, new=patient_values(patient))
            return patient_info(patient)

    def _add_patient(
        self,
        db: Session,
        *,
        mrn: str,
        by: uuid.UUID,
        name: str | None,
        date_of_birth: date | None,
        weight_kg: float | None,
        patient_id: uuid.UUID | None = None,
    ) -> Patient:
        if db.scalar(select(Patient.id).where(Patient.mrn == mrn)) is not None:
            raise InvalidEntryError([FieldError("mrn", f"MRN {mrn} already belongs to a patient")])
        patient = Patient(
            id=patient_id or uuid.uuid4(), mrn=mrn, name=name, date_of_birth=date_of_birth,
            weight_kg=weight_kg, limit_overrides={}, limit_override_reason="",
            recorded_at=self.clock.now(), entered_by=by,
        )
        db.add(patient)
        db.flush()
        return patient

    # -- sessions --------------------------------------------------------------------------

    def start_session(
        self,
        patient_id: uuid.UUID,
        *,
        by: uuid.UUID,
        profile: str = "iv_ketamine",
        chair: str = "",
        weight_kg: float | None = None,
        planned_mg_per_kg: float | None = None,
        infusion_minutes: int | None = None,
        bag_volume_ml: float | None = None,
        lot_number: str = "",
        concomitant_medications: Mapping[str, Any] | None = None,
        escort_name: str = "",
        time: datetime | None = None,
        session_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        self._require(by, Action.CHECK_IN, patient_id=patient_id)
        with self.store.write() as db:
            if session_id is not None and db.get(TreatmentSession, session_id) is not None:
                refuse_changed_retry(db.connection(), "session", queries.SESSIONS,
                                      {"id": session_id, "patient_id": patient_id,
                                       "chair": chair, "profile": profile},
                                      ("patient_id", "chair", "profile"))
                return session_id  # a retry of a start that did commit
            patient = db.get(Patient, patient_id)
            if patient is None:
                raise NotFoundError(f"no patient {patient_id}")
            session = self._new_session(
                db, patient, by=by, profile=profile, chair=chair, weight_kg=weight_kg,
                planned_mg_per_kg=planned_mg_per_kg, infusion_minutes=infusion_minutes,
                bag_volume_ml=bag_volume_ml, lot_number=lot_number,
                concomitant_medications=concomitant_medications, escort_name=escort_name,
                time=time, session_id=session_id, source="chair",
            )
            self._audit(db, by, "create", "session", session.id, now=session.recorded_at,
                        session_id=session.id, patient_id=patient.id,
                        new=session_values(session))
            return session.id

    def check_in(
        self,
        *,
        by: uuid.UUID,
        chair: str,
        patient_id: uuid.UUID | None = None,
        new_patient: Mapping[str, Any] | None = None,
        profile: str = "iv_ketamine",
        weight_kg: float,
        planned_mg_per_kg: float,
        infusion_minutes: int,
        bag_volume_ml: float,
        lot_number: str = "",
        concomitant_medications: Mapping[str, Any] | None = None,
        escort_name: str = "",
        phq9_items: Sequence[int] | None = None,
        gad7_items: Sequence[int] | None = None,
        session_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """Check a patient in to a chair, in one transaction.

        Either ``patient_id`` (on file) or ``new_patient`` (``mrn``, ``name``,
        ``date_of_birth``) is given. A chair, or a patient, with a session not yet discharged
        (begun in the last 12 hours) is refused with :class:`AlreadyDoneError` naming who
        checked in there and when; two tablets checking in at once are serialised by a lock
        on the chair (PostgreSQL) or the single writer (SQLite). ``session_id`` retries.
        Pre-infusion PHQ-9 and GAD-7 answers are stored as the
        session's first reading, so PHQ-9 item 9 > 0 raises its flag at once.
        """
        self._require(by, Action.CHECK_IN, patient_id=patient_id)
        now = self.clock.now()
        mood: dict[str, Any] = {}
        if phq9_items is not None:
            mood["phq9_items"] = tuple(phq9_items)
        if gad7_items is not None:
            mood["gad7_items"] = tuple(gad7_items)
        values = self._validated(mood, (), now, now) if mood else None
        with self.store.write() as db:
            if session_id is not None and db.get(TreatmentSession, session_id) is not None:
                refuse_changed_retry(db.connection(), "check-in", queries.SESSIONS,
                                      {"id": session_id, "chair": chair, "profile": profile},
                                      ("chair", "profile"))
                return session_id  # a retry of a check-in that did commit
            _refuse_occupied(db.connection(), chair=chair, patient_id=patient_id, now=now)
            if new_patient is not None:
                patient = self._add_patient(
                    db, mrn=new_patient["mrn"], by=by, name=new_patient.get("name"),
                    date_of_birth=new_patient.get("date_of_birth"), weight_kg=weight_kg,
                )
            else:
                found = db.get(Patient, patient_id) if patient_id is not None else None
                if found is None:
                    raise NotFoundError(f"no patient {patient_id}")
                patient = found
            session = self._new_session(
                db, patient, by=by, profile=profile, chair=chair, weight_kg=weight_kg,
                planned_mg_per_kg=planned_mg_per_kg, infusion_minutes=infusion_minutes,
                bag_volume_ml=bag_volume_ml, lot_number=lot_number,
                concomitant_medications=concomitant_medications, escort_name=escort_name,
                time=now, session_id=session_id, source="chair",
            )
            if values is not None:
                db.add(ReadingRow(**reading_values(
                    rid=uuid.uuid4(), session_id=session.id, when=now, values=values,
                    note="pre-infusion mood scores", on_oxygen=False, now=now, by=by,
                )))
                db.flush()
                connection = db.connection()
                protocol = self._protocol_of(connection, session_info(connection, session.id))
                self._raise_flags(connection, session.id, protocol, now)
            self._audit(db, by, "create", "session", session.id, now=now,
                        session_id=session.id, patient_id=patient.id,
                        new={**session_values(session), "mrn": patient.mrn,
                             "new_patient": new_patient is not None,
                             **({"mood": mood} if mood else {})})
            return session.id

    def _new_session(
        self,
        db: Session,
        patient: Patient,
        *,
        by: uuid.UUID,
        profile: str,
        chair: str,
        weight_kg: float | None,
        planned_mg_per_kg: float | None,
        infusion_minutes: int | None,
        bag_volume_ml: float | None,
        lot_number: str,
        concomitant_medications: Mapping[str, Any] | None,
        escort_name: str,
        time: datetime | None,
        session_id: uuid.UUID | None,
        source: str,
    ) -> TreatmentSession:
        protocol = self._current_protocol(db.connection(), profile)
        now = self.clock.now()
        weight = weight_kg if weight_kg is not None else patient.weight_kg
        mg_per_kg = planned_mg_per_kg or protocol.dose.mg_per_kg_default
        minutes = infusion_minutes or protocol.dose.minutes_default
        bag = bag_volume_ml or protocol.dose.bag_volume_ml_default
        plan: DosePlan | None = None
        if weight is not None:
            plan = plan_dose(weight, mg_per_kg, minutes, bag, protocol)
        version = protocol_store.store(db.connection(), protocol, profile=profile, now=now)
        session = TreatmentSession(
            id=session_id or uuid.uuid4(), patient_id=patient.id,
            time=ensure_utc(time) if time is not None else now,
            chair=chair, profile=profile, protocol_version=protocol.version,
            protocol_version_id=version.id,
            weight_kg=weight, planned_mg_per_kg=mg_per_kg, infusion_minutes=minutes,
            bag_volume_ml=bag,
            dose_mg=plan.dose_mg if plan else None,
            rate_mg_per_min=plan.rate_mg_per_min if plan else None,
            pump_ml_per_h=plan.pump_ml_per_h if plan else None,
            lot_number=lot_number, concomitant_medications=dict(concomitant_medications or {}),
            escort_name=escort_name, source=source, recorded_at=now, entered_by=by,
        )
        db.add(session)
        db.flush()
        return session

    # -- readings and events ----------------------------------------------------------------

    def record_reading(
        self,
        session_id: uuid.UUID,
        raw: Mapping[str, Any],
        *,
        by: uuid.UUID,
        time: datetime | None = None,
        confirmed: Collection[str] = (),
        note: str = "",
        on_oxygen: bool = False,
        reading_id: uuid.UUID | None = None,
        after_signoff_reason: str | None = None,
    ) -> SavedReading:
        """Validate and save one reading, raising any new flags in the same transaction.

        ``reading_id`` is generated by the caller so that retrying a save whose outcome
        was unknown (connection lost during commit) cannot store the reading twice.
        Once the discharge is signed the session is closed (:class:`SessionClosedError`);
        a clinician adds an entry then with ``after_signoff_reason``, kept in its note.
        """
        role = self._require(by, Action.ENTER_READING, session_id=session_id)
        now = self.clock.now()
        when = ensure_utc(time) if time is not None else now
        values = self._validated(raw, confirmed, when, now)
        rid = reading_id or uuid.uuid4()
        try:
            with self.store.write() as db:
                connection = db.connection()
                info = session_info(connection, session_id)
                _refuse_before_check_in(when, info)
                note = _open_or_reason(connection, session_id, role, after_signoff_reason, note)
                saved = self._store_reading(db, info, rid, when, values, note=note,
                                            on_oxygen=on_oxygen, now=now, by=by,
                                            time_given=time is not None)
        except _NeedsClinician:
            self._deny(by, role, Action.ENTER_AFTER_SIGNOFF, session_id=session_id)
            raise AssertionError("unreachable") from None  # pragma: no cover
        return saved

    def _store_reading(self, db: Session, info: SessionInfo, rid: uuid.UUID, when: datetime,
                       values: Mapping[str, Any], *, note: str, on_oxygen: bool,
                       now: datetime, by: uuid.UUID, time_given: bool = True) -> SavedReading:
        """Insert one reading row in the caller's transaction, with its flags and audit.

        A reading whose id is stored already is a retry: the same values return it as
        stored; other values raise :class:`ConflictingRetryError`. Its time is compared
        only when given (a retry without one is timed by the retry's clock).
        """
        connection = db.connection()
        row = reading_values(rid=rid, session_id=info.id, when=when, values=values,
                              note=note, on_oxygen=on_oxygen, now=now, by=by)
        # RETURNING, not rowcount: psycopg reports -1 rows for an insert that did nothing
        if connection.execute(queries.insert_reading(connection.dialect.name), row).first() is None:
            refuse_changed_retry(connection, "reading", queries.READINGS, row,
                                  ("session_id", *(("time",) if time_given else ()), "note",
                                   "on_oxygen", *READING_FIELDS))
            return SavedReading(rid, ())  # an earlier attempt did commit, with these values
        new_flags = self._raise_flags(connection, info.id, self._protocol_of(connection, info), now,
                                      appended=rid)
        self._audit(db, by, "create", "reading", rid, now=now, session_id=info.id,
                    patient_id=info.patient.id,
                    new={"time": when, "note": note, "on_oxygen": on_oxygen, **values})
        return SavedReading(rid, new_flags)

    def record_event(
        self,
        session_id: uuid.UUID,
        kind: EventKind,
        *,
        by: uuid.UUID,
        time: datetime | None = None,
        detail: str = "",
        data: Mapping[str, Any] | None = None,
        event_id: uuid.UUID | None = None,
        confirmed: Collection[str] = (),
        override_reason: str = "",
        after_signoff_reason: str | None = None,
    ) -> uuid.UUID:
        """Record one event. The infusion start is held while PHQ-9 item 9 waits for a
        clinician (:mod:`monitor.clinical.start_gate`), unless a clinician starts with a written
        ``override_reason``; a start without a complete baseline keeps, in its data, what
        was missing and whether the nurse confirmed it (``confirmed`` holds "baseline").
        Stopping the infusion before its planned duration needs the reason and the dose (or
        volume) given in ``data`` (:mod:`monitor.clinical.infusion`). Once the discharge is signed,
        as :meth:`record_reading`."""
        role = self._require(by, Action.ENTER_EVENT, session_id=session_id)
        now = self.clock.now()
        when = ensure_utc(time) if time is not None else now
        problem = validate_time(when, now)
        if problem is not None:
            raise InvalidEntryError([problem])
        if EventKind(kind) in CLOSING_EVENTS:
            raise InvalidEntryError([FieldError(
                "kind", "A discharge is signed from the discharge panel, with a PIN")])
        if EventKind(kind) is EventKind.INFUSION_START:
            data = self._start_data(session_id, by, now, data=data, confirmed=confirmed,
                                    override_reason=override_reason, at=when)
        eid = event_id or uuid.uuid4()
        try:
            with self.store.write() as db:
                connection = db.connection()
                if db.get(EventRow, eid) is not None:
                    refuse_changed_retry(
                        connection, "event", queries.EVENTS,
                        {"id": eid, "session_id": session_id, "kind": EventKind(kind).value,
                         "time": when},
                        ("session_id", "kind", *(("time",) if time is not None else ())))
                    return eid
                info = session_info(connection, session_id)
                detail = _open_or_reason(connection, session_id, role, after_signoff_reason,
                                         detail)
                if after_signoff_reason is not None and detail.startswith(
                        AFTER_SIGNOFF_PREFIX):
                    data = {**(data or {}), "after_signoff_reason": after_signoff_reason.strip()}
                if EventKind(kind) is EventKind.INFUSION_STOP:
                    detail, data = _stop_detail(connection, info, when, detail, data)
                self._insert_event(db, session_id, kind, by=by, when=when, now=now,
                                   detail=detail, data=data, event_id=eid)
                self._audit(db, by, "create", "event", eid, now=now, session_id=session_id,
                            patient_id=info.patient.id,
                            new={"time": when, "kind": EventKind(kind).value, "detail": detail,
                                 **({"data": dict(data)} if data else {})})
        except _NeedsClinician:
            self._deny(by, role, Action.ENTER_AFTER_SIGNOFF, session_id=session_id)
            raise AssertionError("unreachable") from None  # pragma: no cover
        return eid

    def _start_data(
        self,
        session_id: uuid.UUID,
        by: uuid.UUID,
        now: datetime,
        *,
        data: Mapping[str, Any] | None,
        confirmed: Collection[str],
        override_reason: str,
        at: datetime,
    ) -> dict[str, Any]:
        """The start event's data, with what the start went ahead without; refused while
        PHQ-9 item 9, or a high BP before the start (``at``), waits for a clinician and no
        clinician overrides with a reason."""
        view = self.load(session_id, now)
        result = dict(data or {})
        with self.store.read() as db:
            clinicians = [
                Acknowledgement(flag_id=row.flag_id, time=row.time, action=row.action)
                for row in db.execute(
                    select(AckRow.flag_id, AckRow.time, AckRow.action)
                    .join(Staff, Staff.id == AckRow.entered_by)
                    .where(AckRow.session_id == session_id, Staff.role == "clinician"))]
        phq9 = start_gate.phq9_hold(view.flags, clinicians)
        before = [f for f in view.flags if f.time <= at]
        bp = (start_gate.baseline_bp_hold(before, clinicians)
              if infusion_started_at(view.record) is None else None)
        hold = phq9 or bp
        reason = override_reason.strip()
        if hold is not None and not reason:
            raise InvalidEntryError([FieldError(
                "phq9_item9" if phq9 else "baseline_bp", f"The infusion waits for {hold} (or "
                "a clinician's start with a written reason)")])
        if hold is not None:
            role = self._role(by)
            if role != "clinician":
                self._deny(by, role, Action.ENTER_EVENT, session_id=session_id,
                           message=f"{_ARTICLE_CAP.get(role or '', 'This staff member')} "
                                   f"cannot start the infusion while it waits for {hold}; "
                                   "a clinician can, with a reason.")
            if len(reason) < MIN_OVERRIDE_REASON:
                raise InvalidEntryError([FieldError(
                    "override_reason", "Write the reason for starting (at least "
                    f"{MIN_OVERRIDE_REASON} characters)")])
            if phq9 is not None:
                result["phq9_item9_override"] = reason
            if bp is not None:
                result["baseline_bp_override"] = reason
        missing = start_gate.missing_baseline(view.record)
        if missing:
            result["baseline_missing"] = ", ".join(missing)
            result["baseline_missing_confirmed"] = start_gate.CONFIRM_BASELINE in confirmed
        return result

    def _insert_event(
        self,
        db: Session,
        session_id: uuid.UUID,
        kind: EventKind,
        *,
        by: uuid.UUID,
        when: datetime,
        now: datetime,
        detail: str,
        data: Mapping[str, Any] | None,
        event_id: uuid.UUID,
    ) -> SessionInfo:
        info = session_info(db.connection(), session_id)
        _refuse_before_check_in(when, info)
        db.add(EventRow(
            id=event_id, session_id=session_id, time=when, kind=EventKind(kind).value,
            detail=detail, data=dict(data or {}), recorded_at=now, entered_by=by,
        ))
        db.flush()
        self._raise_flags(db.connection(), session_id, self._protocol_of(db.connection(), info),
                          now)
        return info

    def acknowledge(
        self,
        session_id: uuid.UUID,
        flag: Flag,
        *,
        action: str,
        by: uuid.UUID,
        note: str = "",
        time: datetime | None = None,
        pin: str | None = None,
        acknowledgement_id: uuid.UUID | None = None,
        record_pause: bool = False,
    ) -> uuid.UUID:
        """Record who acknowledged ``flag``, when, and the action taken.

        Acknowledging a critical flag is an e-signature: ``pin`` is required
        (:class:`SignatureRequired` without it) and a wrong one counts towards the lock.
        A flag is acknowledged once: a second acknowledgement (another tablet's, at the same
        moment or later) is refused with :class:`AlreadyDoneError` naming who and when. A
        retry with the same ``acknowledgement_id`` and values returns it unchanged.
        With ``record_pause``, the infusion pause is recorded at the same time, in the same
        transaction: both are recorded, or neither (a cancelled or refused signature records
        no pause).
        """
        self._require(by, Action.ACKNOWLEDGE, session_id=session_id)
        if not action.strip():
            raise InvalidEntryError([FieldError("action", "Choose the action taken")])
        if flag.key == PHQ9_ITEM9_FLAG:
            self._check_phq9_acknowledgement(by, action, session_id=session_id)
        elif start_gate.needs_baseline_bp_review(flag, self.load(session_id).phase):
            self._check_baseline_bp_review(by, action, session_id=session_id)
        critical = flag.severity >= Severity.CRITICAL
        signer = self._signer(by, pin, MEANING_CRITICAL_ACK) if critical else None
        now = self.clock.now()
        when = ensure_utc(time) if time is not None else now
        aid = acknowledgement_id or uuid.uuid4()
        try:
            return self._store_acknowledgement(session_id, flag, aid, action=action, by=by,
                                               note=note, when=when, now=now, signer=signer,
                                               record_pause=record_pause)
        except IntegrityError:
            pass  # another tablet acknowledged it between our look and our insert
        with self.store.read() as db:
            refuse_second(db.connection(), queries.ACKNOWLEDGEMENTS, "flag_id", flag.id,
                                own_id=aid, done="acknowledged", field_name="flag")
        raise AssertionError("unreachable")  # pragma: no cover - _refuse_second raises

    def _store_acknowledgement(self, session_id: uuid.UUID, flag: Flag, aid: uuid.UUID, *,
                               action: str, by: uuid.UUID, note: str, when: datetime,
                               now: datetime, signer: StaffInfo | None,
                               record_pause: bool = False) -> uuid.UUID:
        with self.store.write() as db:
            session = self._require_session(db, session_id)
            connection = db.connection()
            given = {"id": aid, "session_id": session_id, "flag_id": flag.id, "time": when,
                     "action": action.strip(), "note": note.strip()}
            if connection.execute(select(queries.ACKNOWLEDGEMENTS.c.id).where(
                    queries.ACKNOWLEDGEMENTS.c.id == aid)).first() is not None:
                refuse_changed_retry(connection, "acknowledgement", queries.ACKNOWLEDGEMENTS, given,
                                      ("session_id", "flag_id", "action", "note"))
                return aid
            refuse_second(connection, queries.ACKNOWLEDGEMENTS, "flag_id", flag.id,
                                own_id=aid, done="acknowledged", field_name="flag")
            connection.execute(queries.insert_once(connection.dialect.name, queries.FLAGS),
                               flag_values(session_id, flag, now))
            ack = AckRow(**given, recorded_at=now, entered_by=by)
            db.add(ack)
            db.flush()
            if signer is not None:
                self._sign(db, session_id=session_id, signer=signer,
                           meaning=MEANING_CRITICAL_ACK, record_kind="acknowledgement",
                           record_id=ack.id, now=now)
            if record_pause:
                pause_id = uuid.uuid4()
                self._insert_event(db, session_id, EventKind.INFUSION_PAUSE, by=by, when=when,
                                   now=now, detail="", data=None, event_id=pause_id)
                self._audit(db, by, "create", "event", pause_id, now=now,
                            session_id=session_id, patient_id=session.patient_id,
                            new={"time": when, "kind": EventKind.INFUSION_PAUSE.value,
                                 "detail": "", "acknowledgement": str(ack.id)})
            self._audit(db, by, "acknowledge", "flag", flag.id, now=now, session_id=session_id,
                        patient_id=session.patient_id,
                        new={"time": when, "flag": flag.key, "severity": int(flag.severity),
                             "message": flag.message, "action": action.strip(),
                             "note": note.strip(), "signed": signer is not None})
            return ack.id

    def _check_baseline_bp_review(self, by: uuid.UUID, action: str, *,
                                  session_id: uuid.UUID) -> None:
        """A high BP before the start is reviewed by a clinician, with a clinical choice."""
        role = self._role(by)
        if role != "clinician":
            self._deny(by, role, Action.ACKNOWLEDGE, session_id=session_id,
                       message=f"{_ARTICLE_CAP.get(role or '', 'This staff member')} cannot "
                               "review a high baseline BP; a clinician can.")
        chosen = [part.strip() for part in action.split(";") if part.strip()]
        if not chosen or any(c not in start_gate.BASELINE_BP_CHOICES for c in chosen):
            raise InvalidEntryError([FieldError(
                "action", "A high baseline BP is reviewed with " + ", ".join(
                    f'"{c}"' for c in start_gate.BASELINE_BP_CHOICES))])

    def _check_phq9_acknowledgement(self, by: uuid.UUID, action: str, *,
                                    session_id: uuid.UUID) -> None:
        """PHQ-9 item 9 is acknowledged by a clinician, with a clinical finding."""
        role = self._role(by)
        if role != "clinician":
            self._deny(by, role, Action.ACKNOWLEDGE, session_id=session_id,
                       message=f"{_ARTICLE_CAP.get(role or '', 'This staff member')} cannot "
                               "acknowledge PHQ-9 item 9; a clinician can.")
        chosen = [part.strip() for part in action.split(";") if part.strip()]
        if not chosen or any(c not in PHQ9_ACK_CHOICES for c in chosen):
            raise InvalidEntryError([FieldError(
                "action", "PHQ-9 item 9 is acknowledged with " + ", ".join(
                    f'"{c}"' for c in PHQ9_ACK_CHOICES))])

    # -- discharge ---------------------------------------------------------------------------

    def sign_discharge(
        self, session_id: uuid.UUID, *, by: uuid.UUID, pin: str | None = None,
        event_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """The nurse's discharge sign-off, an e-signature; refused while a criterion is unmet.

        ``pin`` is required (:class:`SignatureRequired` without it). The criteria and scores
        as they stand are stored with it: the record shows them so from then on, and the
        session takes no more entries at the chair.
        """
        self._require(by, Action.SIGN_DISCHARGE, session_id=session_id)
        if event_id is not None and self._retried_event(
                session_id, event_id, EventKind.DISCHARGE_SIGNED):
            return event_id  # a retry of a sign-off that did commit
        now = self.clock.now()
        view = self.load(session_id, now)
        if view.phase is Phase.DISCHARGED:
            with self.store.read() as db:
                _refuse_discharged(db.connection(), session_id)
            raise InvalidEntryError([FieldError("discharge", "The patient is already discharged")])
        if not view.discharge.ready:
            raise InvalidEntryError([
                FieldError(c.id, f"Not ready: {c.detail}")
                for c in view.discharge.criteria if not c.met
            ])
        signer = self._signer(by, pin, MEANING_DISCHARGE)
        return self._signed_event(
            session_id, EventKind.DISCHARGE_SIGNED, signer=signer, now=now,
            detail=_discharge_summary(view),
            data={"assessment": assessment_data(view.discharge, now)},
            meaning=MEANING_DISCHARGE,
            audit_action="sign", patient_id=view.info.patient.id, event_id=event_id,
        )

    def override_discharge(
        self, session_id: uuid.UUID, *, reason: str, by: uuid.UUID, pin: str | None = None,
        event_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """A clinician discharges although criteria are not met; the written reason is kept.

        Only a clinician may: a nurse signs discharge when every criterion is met. An
        e-signature: ``pin`` is required.
        """
        self._require(by, Action.OVERRIDE_DISCHARGE, session_id=session_id)
        if len(reason.strip()) < MIN_OVERRIDE_REASON:
            raise InvalidEntryError([FieldError(
                "reason", f"Write the reason for the override (at least {MIN_OVERRIDE_REASON} "
                "characters)")])
        if event_id is not None and self._retried_event(
                session_id, event_id, EventKind.DISCHARGE_OVERRIDE):
            return event_id  # a retry of an override that did commit
        now = self.clock.now()
        view = self.load(session_id, now)
        if view.phase is Phase.DISCHARGED:
            with self.store.read() as db:
                _refuse_discharged(db.connection(), session_id)
            raise InvalidEntryError([FieldError("discharge", "The patient is already discharged")])
        signer = self._signer(by, pin, MEANING_OVERRIDE)
        unmet = "; ".join(c.id for c in view.discharge.criteria if not c.met) or "none"
        return self._signed_event(
            session_id, EventKind.DISCHARGE_OVERRIDE, signer=signer, now=now,
            detail=reason.strip(),
            data={"criteria_not_met": unmet, "assessment": assessment_data(view.discharge, now)},
            meaning=MEANING_OVERRIDE,
            audit_action="override", patient_id=view.info.patient.id, event_id=event_id,
        )

    def _signed_event(
        self,
        session_id: uuid.UUID,
        kind: EventKind,
        *,
        signer: StaffInfo,
        now: datetime,
        detail: str,
        data: Mapping[str, Any] | None,
        meaning: str,
        audit_action: str,
        patient_id: uuid.UUID,
        event_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        eid = event_id or uuid.uuid4()
        with self.store.write() as db:
            # One sign-off per discharge: two tablets signing at once take turns here, and
            # the second is told who discharged the patient and when.
            queries.take_turns(db.connection(), f"discharge:{session_id}")
            _refuse_discharged(db.connection(), session_id)
            self._insert_event(db, session_id, kind, by=signer.id, when=now, now=now,
                               detail=detail, data=data, event_id=eid)
            signature = self._sign(db, session_id=session_id, signer=signer, meaning=meaning,
                                   record_kind="event", record_id=eid, now=now)
            self._audit(db, signer.id, audit_action, "event", eid, now=now,
                        session_id=session_id, patient_id=patient_id,
                        new={"meaning": meaning, "detail": detail, "signature": signature,
                             **({"data": dict(data)} if data else {})})
        return eid

    # -- corrections -------------------------------------------------------------------------

    def void(
        self,
        session_id: uuid.UUID,
        target_kind: str,
        target_id: uuid.UUID,
        *,
        reason: str,
        by: uuid.UUID,
        pin: str | None = None,
        correction_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """Void a reading or event; it stays in the record, marked void, with the reason.

        An entry is corrected once: a second correction (another tablet's) is refused with
        :class:`AlreadyDoneError`; a retry with the same ``correction_id`` and values
        returns it unchanged.

        A nurse may void only their own entries (undo); a clinician any. Voiding a reading
        that an open critical flag stands on closes that flag, so it is an e-signature, as
        acknowledging the flag is: ``pin`` is required (:class:`SignatureRequired`).
        """
        role = self._require(by, Action.VOID, session_id=session_id,
                             record_kind=target_kind, record_id=target_id)
        if not reason.strip():
            raise InvalidEntryError([FieldError("reason", "A correction needs a reason")])
        now = self.clock.now()
        closing = self._criticals_closed_by_void(session_id, target_kind, target_id, now)
        signer = self._signer(by, pin, MEANING_CRITICAL_VOID) if closing else None
        cid = correction_id or uuid.uuid4()
        try:
            corrected = self._store_void(session_id, target_kind, target_id, cid, role=role,
                                         reason=reason, by=by, now=now, closing=closing,
                                         signer=signer)
        except IntegrityError:
            with self.store.read() as db:
                refuse_second(db.connection(), queries.CORRECTIONS, "target_id", target_id,
                                    own_id=cid, done="corrected", field_name="entry")
            raise AssertionError("unreachable") from None  # pragma: no cover
        if corrected is not None:
            return corrected
        self._deny(by, role, Action.VOID_ANY, session_id=session_id, record_kind=target_kind,
                   record_id=target_id)
        raise AssertionError("unreachable")  # pragma: no cover - _deny raises

    def _store_void(self, session_id: uuid.UUID, target_kind: str, target_id: uuid.UUID,
                    cid: uuid.UUID, *, role: str, reason: str, by: uuid.UUID, now: datetime,
                    closing: tuple[Flag, ...], signer: StaffInfo | None) -> uuid.UUID | None:
        """The void's correction id, or None when this staff member may not void it."""
        with self.store.write() as db:
            connection = db.connection()
            if connection.execute(select(queries.CORRECTIONS.c.id).where(
                    queries.CORRECTIONS.c.id == cid)).first() is not None:
                refuse_changed_retry(
                    connection, "correction", queries.CORRECTIONS,
                    {"id": cid, "session_id": session_id, "target_kind": target_kind,
                     "target_id": target_id, "action": "void", "reason": reason.strip()},
                    ("session_id", "target_kind", "target_id", "action", "reason"))
                return cid
            target = self._require_target(db, session_id, target_kind, target_id)
            someone_else = target.entered_by != by and not allowed(role, Action.VOID_ANY)
            if not someone_else:
                refuse_second(connection, queries.CORRECTIONS, "target_id", target_id,
                                    own_id=cid, done="corrected", field_name="entry")
                correction = Correction(
                    id=cid, session_id=session_id, time=now, target_kind=target_kind,
                    target_id=target_id, action="void", replacement_id=None,
                    reason=reason.strip(), recorded_at=now, entered_by=by,
                )
                db.add(correction)
                db.flush()
                closes = {"closes_critical": [f.message for f in closing]} if closing else {}
                if signer is not None:
                    self._sign(db, session_id=session_id, signer=signer,
                               meaning=MEANING_CRITICAL_VOID, record_kind="correction",
                               record_id=correction.id, now=now)
                self._audit(db, by, "void", target_kind, target_id, now=now,
                            session_id=session_id, patient_id=_patient_of(db, session_id),
                            old=row_values(target),
                            new={"void": True, "reason": reason.strip(), **closes,
                                 "signed": signer is not None})
                return correction.id
        return None

    def _criticals_closed_by_void(self, session_id: uuid.UUID, target_kind: str,
                                  target_id: uuid.UUID, now: datetime) -> tuple[Flag, ...]:
        """The open critical flags that voiding this entry would close."""
        if target_kind != "reading":
            return ()
        return _criticals_closed(self.load(session_id, now), target_id, None, now)

    def amend_reading(
        self,
        session_id: uuid.UUID,
        target_id: uuid.UUID,
        raw: Mapping[str, Any],
        *,
        reason: str,
        by: uuid.UUID,
        time: datetime | None = None,
        confirmed: Collection[str] = (),
        note: str = "",
        pin: str | None = None,
        correction_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """Replace a reading's values by a new row; the original stays, marked amended.

        Corrected once, and retried by ``correction_id``, as :meth:`void`; returns the
        replacement reading's id.

        When the new values no longer raise an open critical flag of the original, the
        amendment closes it: an e-signature, ``pin`` required, as for :meth:`void`.
        """
        self._require(by, Action.AMEND, session_id=session_id, record_kind="reading",
                      record_id=target_id)
        if not reason.strip():
            raise InvalidEntryError([FieldError("reason", "A correction needs a reason")])
        now = self.clock.now()
        view = self.load(session_id, now)
        shown = next((r for r in view.record.readings if r.id == target_id), None)
        signer = None
        if shown is not None:
            when = ensure_utc(time) if time is not None else shown.time
            values = self._validated(raw, confirmed, when, now)
            closing = _criticals_closed(view, target_id, Reading(
                id=uuid.uuid4(), time=when, on_oxygen=shown.on_oxygen, **values), now)
            signer = self._signer(by, pin, MEANING_CRITICAL_VOID) if closing else None
        cid = correction_id or uuid.uuid4()
        try:
            with self.store.write() as db:
                connection = db.connection()
                stored = connection.execute(select(queries.CORRECTIONS).where(
                    queries.CORRECTIONS.c.id == cid)).first()
                if stored is not None:
                    refuse_changed_retry(
                        connection, "correction", queries.CORRECTIONS,
                        {"id": cid, "session_id": session_id, "target_id": target_id,
                         "action": "amend", "reason": reason.strip()},
                        ("session_id", "target_id", "action", "reason"))
                    return uuid.UUID(str(stored.replacement_id))
                refuse_second(connection, queries.CORRECTIONS, "target_id", target_id,
                                    own_id=cid, done="corrected", field_name="entry")
                original = self._require_target(db, session_id, "reading", target_id)
                assert isinstance(original, ReadingRow)
                when = ensure_utc(time) if time is not None else original.time
                values = self._validated(raw, confirmed, when, now)
                replacement = ReadingRow(**reading_values(
                    rid=uuid.uuid4(), session_id=session_id, when=when, values=values, note=note,
                    on_oxygen=original.on_oxygen, now=now, by=by,
                ))
                db.add(replacement)
                db.add(Correction(
                    id=cid, session_id=session_id, time=now, target_kind="reading",
                    target_id=target_id, action="amend", replacement_id=replacement.id,
                    reason=reason.strip(), recorded_at=now, entered_by=by,
                ))
                db.flush()
                if signer is not None:
                    self._sign(db, session_id=session_id, signer=signer,
                               meaning=MEANING_CRITICAL_AMEND, record_kind="correction",
                               record_id=cid, now=now)
                info = session_info(db.connection(), session_id)
                self._raise_flags(db.connection(), session_id,
                                  self._protocol_of(db.connection(), info), now)
                self._audit(db, by, "amend", "reading", target_id, now=now, session_id=session_id,
                            patient_id=info.patient.id, old=row_values(original),
                            new={**row_values(replacement), "replacement": replacement.id,
                                 "reason": reason.strip(), "signed": signer is not None})
                return replacement.id
        except IntegrityError:
            with self.store.read() as db:
                refuse_second(db.connection(), queries.CORRECTIONS, "target_id", target_id,
                                    own_id=cid, done="corrected", field_name="entry")
            raise AssertionError("unreachable") from None  # pragma: no cover

    # -- import ------------------------------------------------------------------------------

    def import_session(
        self,
        rows: Sequence[ImportedRow],
        *,
        mrn: str,
        by: uuid.UUID,
        name: str | None = None,
        date_of_birth: date | None = None,
        weight_kg: float | None = None,
        profile: str = "iv_ketamine",
        origin: Mapping[str, str] | None = None,
    ) -> uuid.UUID:
        """Store a whole session recorded elsewhere, in one transaction (all or nothing).

        ``rows`` must already be validated (``monitor.exports.csvio`` does that). The audit trail
        gets the import (with ``origin``: where it was run from), the new patient if any,
        and a ``create`` entry with the values of every reading and event, as if each had
        been entered: the import can be reconstructed from the trail alone.
        """
        self._require(by, Action.IMPORT)
        now = self.clock.now()
        ordered = sorted(rows, key=lambda r: r.time)
        with self.store.write() as db:
            patient = db.scalar(select(Patient).where(Patient.mrn == mrn))
            new_patient = patient is None
            if patient is None:
                patient = self._add_patient(
                    db, mrn=mrn, by=by, name=name, date_of_birth=date_of_birth,
                    weight_kg=weight_kg,
                )
            session = self._new_session(
                db, patient, by=by, profile=profile, chair="", weight_kg=weight_kg,
                planned_mg_per_kg=None, infusion_minutes=None, bag_volume_ml=None,
                lot_number="", concomitant_medications=None, escort_name="",
                time=ordered[0].time if ordered else now, session_id=None, source="import",
            )
            created: list[ReadingRow | EventRow] = []
            for row in ordered:
                if row.values:
                    created.append(ReadingRow(**reading_values(
                        rid=uuid.uuid4(), session_id=session.id, when=row.time,
                        values=row.values, note=row.note if row.event is None else "",
                        on_oxygen=False, now=now, by=by,
                    )))
                if row.event is not None:
                    created.append(EventRow(
                        id=uuid.uuid4(), session_id=session.id, time=row.time,
                        kind=row.event.value, detail=row.note, data={},
                        recorded_at=now, entered_by=by,
                    ))
            db.add_all(created)
            db.flush()
            connection = db.connection()
            protocol = self._protocol_of(connection, session_info(connection, session.id))
            self._raise_flags(connection, session.id, protocol, now)
            readings = sum(isinstance(r, ReadingRow) for r in created)
            self._audit(db, by, "import", "session", session.id, now=now,
                        session_id=session.id, patient_id=patient.id,
                        new={**session_values(session), "mrn": mrn, "rows": len(ordered),
                             "readings": readings, "events": len(created) - readings,
                             **dict(origin or {})})
            if new_patient:
                self._audit(db, by, "create", "patient", patient.id, now=now,
                            patient_id=patient.id, new=patient_values(patient))
            for created_row in created:
                kind = "reading" if isinstance(created_row, ReadingRow) else "event"
                self._audit(db, by, "create", kind, created_row.id, now=now,
                            session_id=session.id, patient_id=patient.id,
                            new={**row_values(created_row), "source": "import"})
            return session.id

    # -- reading back ------------------------------------------------------------------------

    def load(self, session_id: uuid.UUID, at: datetime | None = None, *,
             entered_only: bool = False) -> SessionView:
        """The session as it stood at ``at`` (default now), with flags and discharge.

        ``entered_only``: leave out readings and events entered after ``at`` even when they
        describe an earlier time (late entries), so that the view is what staff could see
        at ``at`` — the review's replay.
        """
        at = ensure_utc(at) if at is not None else self.clock.now()
        with self.store.read() as db:
            connection = db.connection()
            info = session_info(connection, session_id)
            protocol = self._protocol_of(connection, info)
            if entered_only:
                record, superseded, corrections = load_record(connection, session_id, at,
                                                               entered_only=True)
                evaluation = None
            else:
                record, superseded, corrections, evaluation = self._load_evaluated(
                    connection, session_id, protocol, at)
            earlier = _flags_of_superseded(db, session_id, superseded, corrections, at)
            signatures = _signatures(connection, session_id, record, at)
        view = _evaluate(info=info, protocol=protocol, record=record, at=at,
                         superseded=superseded, corrections=corrections, evaluation=evaluation)
        if signatures:
            view = replace(view, signatures=signatures)
        return replace(view, superseded_flags=earlier) if earlier else view

    def session_info(self, session_id: uuid.UUID) -> SessionInfo:
        with self.store.read() as db:
            return session_info(db.connection(), session_id)

    def active_sessions(
        self, chairs: Collection[str], *, within: timedelta = timedelta(hours=12)
    ) -> dict[str, uuid.UUID]:
        """The latest session on each chair begun in the last ``within`` (default 12 h).

        A discharged session stays on its chair until the next check-in there, so the
        nurse still sees it on the overview.
        """
        since = self.clock.now() - within
        query = (
            select(TreatmentSession.chair, TreatmentSession.id)
            .where(TreatmentSession.chair.in_(list(chairs)), TreatmentSession.time >= since)
            .order_by(TreatmentSession.time, TreatmentSession.recorded_at)
        )
        with self.store.read() as db:
            return {row[0]: row[1] for row in db.execute(query)}

    def search_patients(self, text: str, *, limit: int = 20) -> list[PatientInfo]:
        """Patients whose MRN or name contains ``text`` (case-insensitive), by name."""
        needle = f"%{text.strip().lower()}%"
        query = (
            select(Patient)
            .where(func.lower(Patient.mrn).like(needle) | func.lower(Patient.name).like(needle))
            .order_by(Patient.name, Patient.mrn)
            .limit(limit)
        )
        with self.store.read() as db:
            return [patient_info(p) for p in db.scalars(query)]

    def patient_sessions(self, patient_id: uuid.UUID) -> list[SessionSummary]:
        """A patient's sessions, newest first, with how many readings each holds."""
        with self.store.read() as db:
            rows = db.connection().execute(queries.PATIENT_SESSIONS, {"patient_id": patient_id})
            return [SessionSummary(*row) for row in rows]

    # -- unknown outcomes and races ---------------------------------------------------------

    def stored(self, kind: str, record_id: uuid.UUID) -> bool:
        """Whether the server has the entry ``record_id`` of ``kind`` (a key of
        :data:`queries.STORED_KINDS`): after a save failed around COMMIT (:class:`StorageError`),
        it tells whether that save is Saved or NOT saved. Raises
        :class:`StoreUnavailableError` while the server cannot be asked."""
        table = queries.STORED_KINDS.get(kind)
        if table is None:
            raise ValueError(f"no kind of entry {kind!r}; one of {', '.join(queries.STORED_KINDS)}")
        with self.store.read() as db:
            return db.execute(select(table.c.id).where(table.c.id == record_id)).first() \
                is not None

    def _retried_event(self, session_id: uuid.UUID, event_id: uuid.UUID,
                       kind: EventKind) -> bool:
        """Whether ``event_id`` is stored as this session's ``kind`` (a retry that did
        commit); :class:`ConflictingRetryError` when it is stored as something else."""
        with self.store.read() as db:
            connection = db.connection()
            if connection.execute(select(queries.EVENTS.c.id).where(
                    queries.EVENTS.c.id == event_id)).first() is None:
                return False
            refuse_changed_retry(connection, "event", queries.EVENTS,
                                  {"id": event_id, "session_id": session_id,
                                   "kind": kind.value}, ("session_id", "kind"))
        return True

    # -- internals: permissions, audit, PINs -------------------------------------------------

    def _audit(
        self,
        db: Session,
        staff_id: uuid.UUID | None,
        action: str,
        record_kind: str = "",
        record_id: uuid.UUID | None = None,
        *,
        now: datetime,
        session_id: uuid.UUID | None = None,
        patient_id: uuid.UUID | None = None,
        old: Mapping[str, Any] | None = None,
        new: Mapping[str, Any] | None = None,
    ) -> str:
        """Append an audit entry in the caller's transaction; returns the new chain head."""
        return audit.append(
            db.connection(), self._audit_key, at=now, staff_id=staff_id, action=action,
            record_kind=record_kind, record_id=record_id, session_id=session_id,
            patient_id=patient_id, old=old, new=new,
        )

    def _role(self, staff_id: uuid.UUID) -> str | None:
        """The role of an active staff member, or None (unknown or disabled).

        Read afresh for every action, so a person disabled on another tablet can no longer
        act on this one.
        """
        with self.store.read() as db:
            row = db.execute(
                select(Staff.role, Staff.active).where(Staff.id == staff_id)).first()
        if row is None or not row.active:
            return None
        return str(row.role)

    def _require(
        self,
        by: uuid.UUID,
        action: Action,
        *,
        session_id: uuid.UUID | None = None,
        patient_id: uuid.UUID | None = None,
        record_kind: str = "",
        record_id: uuid.UUID | None = None,
    ) -> str:
        """``by``'s role if it allows ``action``; else the refusal is audited and raised."""
        role = self._role(by)
        if role is None or not allowed(role, action):
            self._deny(by, role, action, session_id=session_id, patient_id=patient_id,
                       record_kind=record_kind, record_id=record_id)
        assert role is not None
        return role

    def _deny(
        self,
        by: uuid.UUID,
        role: str | None,
        action: Action,
        *,
        session_id: uuid.UUID | None = None,
        patient_id: uuid.UUID | None = None,
        record_kind: str = "",
        record_id: uuid.UUID | None = None,
        message: str | None = None,
    ) -> None:
        refused = PermissionDenied(role, action, message)
        now = self.clock.now()
        with self.store.write() as db:
            self._audit(db, by, "denied", record_kind, record_id, now=now,
                        session_id=session_id, patient_id=patient_id,
                        new={"action": Action(action).value, "role": role or "",
                             "message": str(refused)})
        raise refused

    def _staff_row(self, db: Session, staff_id: uuid.UUID) -> Staff:
        row = db.get(Staff, staff_id)
        if row is None:
            raise NotFoundError(f"no staff member {staff_id}")
        return row

    def _staff_name(self, name: str) -> str:
        clean = " ".join((name or "").split())
        if not clean or len(clean) > 120:
            raise InvalidEntryError([FieldError("name", "Name: 1 to 120 characters")])
        return clean

    def _new_pin_hash(self, pin: str) -> str:
        try:
            return hash_pin(check_new_pin(pin), self._secret)
        except InvalidPin as exc:
            raise InvalidEntryError([FieldError("pin", str(exc))]) from None

    def _lock_left(self, staff_id: uuid.UUID, locked_at: datetime | None) -> timedelta:
        """How long the stored lock still runs (zero when none), noting it as seen."""
        if locked_at is None:
            return timedelta(0)
        mono = self.clock.monotonic()
        state = lock_remaining(locked_at, self.clock.now(), mono, self._locks_seen.get(staff_id))
        if state.remaining > timedelta(0) and state.restarted_at is None:
            seen = self._locks_seen.get(staff_id)
            if seen is None or seen[0] != locked_at:
                elapsed = (LOCK_DURATION - state.remaining).total_seconds()
                self._locks_seen[staff_id] = (locked_at, mono - elapsed)
        return state.remaining

    def _staff_info(self, row: Staff) -> StaffInfo:
        left = timedelta(0)
        if row.locked_at is not None:
            state = lock_remaining(row.locked_at, self.clock.now(), self.clock.monotonic(),
                                   self._locks_seen.get(row.id))
            left = state.remaining
        return StaffInfo(
            id=row.id, name=row.name, role=row.role, active=row.active,
            locked_until=self.clock.now() + left if left > timedelta(0) else None,
        )

    def _check_pin(self, staff_id: uuid.UUID, pin: str) -> StaffInfo:
        """The staff member if ``pin`` is theirs; else the failure is stored, audited, raised."""
        now = self.clock.now()
        with self.store.read() as db:
            row = db.get(Staff, staff_id)
            if row is not None:
                stored, locked_at, active = row.pin_hash, row.locked_at, row.active
                name, role = row.name, row.role
        if row is None or not active or role not in STAFF_ROLES:
            with self.store.write() as db:
                self._audit(db, staff_id, "login_failed", "staff", staff_id, now=now,
                            new={"reason": "unknown or disabled"})
            raise LoginRefused(0, "This account cannot sign in (unknown or disabled); "
                                  "ask an admin.")
        if locked_at is not None:
            mono = self.clock.monotonic()
            state = lock_remaining(locked_at, now, mono, self._locks_seen.get(staff_id))
            if state.remaining > timedelta(0):
                with self.store.write() as db:
                    if state.restarted_at is not None:
                        # The wall clock is before the lock began: start the 15 minutes again.
                        fresh = self._staff_row(db, staff_id)
                        fresh.locked_at = state.restarted_at
                        self._locks_seen[staff_id] = (state.restarted_at, mono)
                    else:
                        self._lock_left(staff_id, locked_at)
                    self._audit(db, staff_id, "login_failed", "staff", staff_id, now=now,
                                new={"reason": "locked"})
                raise AccountLocked(now + state.remaining)
        if verify_pin(stored, pin, self._secret):
            with self.store.write() as db:
                fresh = self._staff_row(db, staff_id)
                if fresh.failed_logins or fresh.locked_at is not None:
                    fresh.failed_logins = 0
                    fresh.locked_at = None
            self._locks_seen.pop(staff_id, None)
            return StaffInfo(id=staff_id, name=name, role=role, active=True, locked_until=None)
        with self.store.write() as db:
            fresh = self._staff_row(db, staff_id)
            lock_over = fresh.locked_at is not None  # a lock that ran out: count afresh
            failures = (0 if lock_over else fresh.failed_logins) + 1
            fresh.failed_logins = failures
            locks = failures >= MAX_FAILURES
            fresh.locked_at = now if locks else None
            self._audit(db, staff_id, "lock" if locks else "login_failed", "staff", staff_id,
                        now=now, new={"failures": failures})
        if locks:
            self._locks_seen[staff_id] = (now, self.clock.monotonic())
            raise AccountLocked(now + LOCK_DURATION)
        raise LoginRefused(MAX_FAILURES - failures)

    def _signer(self, by: uuid.UUID, pin: str | None, meaning: str) -> StaffInfo:
        """The signer, after PIN re-entry; an e-signature needs the PIN."""
        if pin is None:
            raise SignatureRequired(
                f"Enter your PIN to sign ({meaning}): a signature needs it again.")
        return self._check_pin(by, pin)

    def _sign(
        self,
        db: Session,
        *,
        session_id: uuid.UUID,
        signer: StaffInfo,
        meaning: str,
        record_kind: str,
        record_id: uuid.UUID,
        now: datetime,
    ) -> uuid.UUID:
        """Store an e-signature bound to the hash of the session's content as it stands."""
        record, _, _ = load_record(db.connection(), session_id, now)
        signature = Signature(
            id=uuid.uuid4(), session_id=session_id, meaning=meaning, signer_id=signer.id,
            signer_name=signer.name, signer_role=signer.role, signed_at=now,
            record_kind=record_kind, record_id=record_id,
            content_hash=signed_content_hash(record, now),
        )
        db.add(signature)
        db.flush()
        return signature.id

    # -- internals ---------------------------------------------------------------------------

    def _validated(
        self, raw: Mapping[str, Any], confirmed: Collection[str], when: datetime, now: datetime
    ) -> dict[str, Any]:
        check = validate_reading(raw, confirmed=confirmed)
        errors = list(check.errors)
        problem = validate_time(when, now)
        if problem is not None:
            errors.append(problem)
        if errors or check.needs_confirmation:
            raise InvalidEntryError(errors, check.needs_confirmation)
        if not check.values:
            raise InvalidEntryError([FieldError("reading", "Enter at least one value")])
        return dict(check.values)

    def _require_session(self, db: Session, session_id: uuid.UUID) -> TreatmentSession:
        session = db.get(TreatmentSession, session_id)
        if session is None:
            raise NotFoundError(f"no session {session_id}")
        return session

    def _require_target(
        self, db: Session, session_id: uuid.UUID, target_kind: str, target_id: uuid.UUID
    ) -> ReadingRow | EventRow:
        row: ReadingRow | EventRow | None
        if target_kind == "reading":
            row = db.get(ReadingRow, target_id)
        elif target_kind == "event":
            row = db.get(EventRow, target_id)
        else:
            raise ValueError(f"target_kind must be 'reading' or 'event', not {target_kind!r}")
        if row is None or row.session_id != session_id:
            raise NotFoundError(f"no {target_kind} {target_id} in session {session_id}")
        refuse_second(db.connection(), queries.CORRECTIONS, "target_id", target_id,
                            done="corrected", field_name=target_kind)
        return row

    def _protocol_of(self, connection: Connection, info: SessionInfo) -> Protocol:
        """The session's stored protocol version with the patient's limits applied.

        The same object each time for the same version and limits (the kept evaluations
        compare protocols by identity). A session an upgrade could not pin is judged by
        its profile's file.
        """
        overrides = info.patient.limit_overrides
        if info.protocol_version_id is None:
            return self._file_protocol(info.profile, overrides)
        key = (info.protocol_version_id, tuple(sorted(overrides.items())))
        protocol = self._pinned.get(key)
        if protocol is None:
            protocol = self._versions.protocol(connection, info.protocol_version_id)
            if overrides:
                protocol = protocol.with_overrides(dict(overrides))
            self._pinned[key] = protocol
        return protocol

    def _raise_flags(self, connection: Connection, session_id: uuid.UUID, protocol: Protocol,
                     now: datetime, *, appended: uuid.UUID | None = None) -> tuple[Flag, ...]:
        """Evaluate the rules and store flags raised by readings that are not stored yet.

        Runs inside the caller's transaction, after its new rows were flushed; ``appended``
        is the reading it stored, if that is all it stored.
        """
        raised = self._reading_flags(connection, session_id, protocol, now, appended)
        if not raised:
            return ()  # most saves: nothing to compare with the stored flags
        known = set(connection.scalars(queries.FLAG_IDS, {"session_id": session_id}))
        new = tuple(f for f in raised if f.id not in known)
        if new:
            # another tablet's save may store the same flags (their ids are their episode's)
            connection.execute(queries.insert_once(connection.dialect.name, queries.FLAGS),
                               [flag_values(session_id, f, now) for f in new])
        return new

    def _load_evaluated(
        self, connection: Connection, session_id: uuid.UUID, protocol: Protocol, at: datetime
    ) -> tuple[SessionRecord, Superseded, tuple[CorrectionInfo, ...], FlagEvaluation | None]:
        """:func:`_load_record`, and the evaluation of its readings if one is kept.

        A long session is not read and evaluated again row by row on every refresh. The rows
        are counted first (:class:`_Shape`); rows are only ever added, so the same counts
        mean the same rows, and the record kept from the last load here is used again with
        the acknowledgements read afresh. When exactly one reading row was added, and it
        is the reading the last save here stored after the latest, only that row is read.
        The evaluation kept by that save (:meth:`_reading_flags`) is used when it evaluated
        exactly these rows. Anything else reads the whole record.
        """
        tail = self._tails.get(session_id)
        shape = self._shape(connection, session_id, tail)
        kept = self._loaded.pop(session_id, None)
        record: SessionRecord | None = None
        if kept is not None and shape.settled(at):
            record = kept.record
            if shape[:6] != kept.shape[:6]:
                record = _with_saved_reading(connection, kept, shape, tail)
        if record is not None and kept is not None:
            superseded, corrections = kept.superseded, kept.corrections
            record = replace(record, acknowledgements=acknowledgements(connection, session_id,
                                                                        at))
        else:
            record, superseded, corrections = load_record(connection, session_id, at)
            if self._shape(connection, session_id, tail) != shape:
                return record, superseded, corrections, None  # rows added meanwhile
        evaluation = None
        if shape.settled(at):
            while len(self._loaded) >= _TAILS_KEPT:
                del self._loaded[next(iter(self._loaded))]
            self._loaded[session_id] = _Loaded(shape, replace(record, acknowledgements=()),
                                               superseded, corrections)
            if (tail is not None and tail.protocol is protocol and shape.stamp_stored
                    and shape[:6] == tail.shape[:6]):
                evaluation = tail.evaluation.refreshed(record.acknowledgements)
        return record, superseded, corrections, evaluation

    @staticmethod
    def _shape(connection: Connection, session_id: uuid.UUID, tail: _Tail | None) -> _Shape:
        return _Shape(*connection.execute(
            queries.SHAPE, {"session_id": session_id, "stamp": tail.stamp if tail else None}).one())

    def _reading_flags(self, connection: Connection, session_id: uuid.UUID, protocol: Protocol,
                       now: datetime, appended: uuid.UUID | None) -> list[Flag]:
        """The flags readings raised on the session as it stands at ``now``.

        Saving a reading after the latest, the usual case, evaluates only that reading: the
        evaluation of the record as the last save here left it is kept per session, and
        extended when the rows show that nothing else changed since — one more reading
        row, the last save's reading committed, the same number of events and corrections,
        nothing dated after now, no acknowledgement dated back among the evaluated readings.
        Anything else (a late entry, a correction, an event, another tablet's entry, a failed
        commit) evaluates the whole record again. The rows are counted before the record is
        read, so a row committed in between can only cause a needless full evaluation.
        """
        tail = self._tails.pop(session_id, None)
        shape = self._shape(connection, session_id, tail)
        evaluation: FlagEvaluation | None = None
        if (appended is not None and tail is not None and tail.protocol is protocol
                and shape.settled(now) and shape.follows(tail.shape)):
            row = connection.execute(queries.READING_BY_ID, {"reading_id": appended}).first()
            last = tail.evaluation.last_time
            if row is not None and (last is None or row.time > last):
                acks = [Acknowledgement(flag_id=a.flag_id, time=a.time, action=a.action,
                                        note=a.note, by=a.name)
                        for a in connection.execute(queries.ACKNOWLEDGEMENTS_AS_OF,
                                                    {"session_id": session_id, "at": now})]
                evaluation = tail.evaluation.extended(Reading(*row), acks)
        if evaluation is None:
            record, _, _ = load_record(connection, session_id, now)
            evaluation = FlagEvaluation.of(record.as_of(now), protocol)
        if appended is not None and shape.settled(now):
            while len(self._tails) >= _TAILS_KEPT:
                del self._tails[next(iter(self._tails))]
            self._tails[session_id] = _Tail(protocol, shape, appended, evaluation)
        return evaluation.flags()

    # -- review ------------------------------------------------------------------------------

    def find_sessions(
        self,
        query: review.SessionQuery,
        *,
        by: uuid.UUID,
        after: review.Cursor | None = None,
        limit: int = 50,
    ) -> review.Page:
        """One page of the clinic's sessions matching ``query``, newest first (clinicians).

        Pass the page's ``next`` as ``after`` for the following page.
        """
        from monitor.service import review  # noqa: PLC0415 - loaded on first use

        self._require(by, Action.REVIEW)
        with self.store.read() as db:
            return review.find_sessions(db.connection(), query, after=after, limit=limit)

    def course(self, patient_id: uuid.UUID, *, by: uuid.UUID) -> review.Course:
        """The patient's course of treatment, one row per session, oldest first (clinicians)."""
        from monitor.service import review  # noqa: PLC0415 - loaded on first use

        self._require(by, Action.REVIEW, patient_id=patient_id)
        at = self.clock.now()
        with self.store.read() as db:
            connection = db.connection()
            patient = db.get(Patient, patient_id)
            if patient is None:
                raise NotFoundError(f"no patient {patient_id}")
            views = []
            for summary in connection.execute(queries.PATIENT_SESSIONS, {"patient_id": patient_id}):
                info = session_info(connection, summary.id)
                record, superseded, corrections = load_record(connection, summary.id, at)
                views.append(_evaluate(info=info, protocol=self._protocol_of(connection, info),
                                       record=record, at=at, superseded=superseded,
                                       corrections=corrections))
            return review.course_of(patient_info(patient), views)


def _evaluate(
    *,
    info: SessionInfo,
    protocol: Protocol,
    record: SessionRecord,
    at: datetime,
    superseded: Superseded,
    corrections: tuple[CorrectionInfo, ...],
    evaluation: FlagEvaluation | None = None,
) -> SessionView:
    """The view of ``record``; ``evaluation``, if given, is that of its readings as of ``at``."""
    if evaluation is None:
        evaluation = FlagEvaluation.of(record.as_of(at), protocol)
    flags = tuple(evaluate_flags_from(evaluation, record, protocol, at))
    levels = evaluation.current_levels()
    upcoming = next_reading(record, protocol, at, evaluation=evaluation)
    signed = sign_off(record.as_of(at))
    if signed is None:
        discharge = evaluate_discharge(record, protocol, list(flags), at,
                                       escort_name=info.escort_name)
        assessed_at = None
    else:
        discharge, assessed_at = _signed_assessment(info, protocol, record, signed)
    return SessionView(
        info=info, at=at, protocol=protocol, record=record,
        phase=session_phase(record, at),
        flags=flags,
        discharge=discharge,
        sign_off=signed,
        discharge_assessed_at=assessed_at,
        next_due=upcoming.due if upcoming is not None else None,
        repeat_for=upcoming.repeat_for if upcoming is not None else (),
        superseded_readings=superseded.readings,
        superseded_events=superseded.events,
        corrections=corrections,
        current_levels=levels,
    )


def _criticals_closed(view: SessionView, target_id: uuid.UUID, replacement: Reading | None,
                      now: datetime) -> tuple[Flag, ...]:
    """The open critical flags that taking the reading ``target_id`` out of the record
    (voided) or putting ``replacement`` in its place (amended) would close."""
    open_critical = [f for f in view.open_flags if f.severity >= Severity.CRITICAL]
    if not open_critical or not any(r.id == target_id for r in view.record.readings):
        return ()
    readings = [r for r in view.record.readings if r.id != target_id]
    if replacement is not None:
        readings = sorted([*readings, replacement], key=lambda r: r.time)
    changed = replace(view.record, readings=tuple(readings))
    still = [f for f in evaluate_flags(changed, view.protocol, now) if f.open]
    # An amendment that is just as critical raises the same condition again, still open.
    ids = {f.id for f in still}
    conditions = {(f.key, f.severity) for f in still}
    return tuple(f for f in open_critical
                 if f.id not in ids and (f.key, f.severity) not in conditions)


def _signed_assessment(info: SessionInfo, protocol: Protocol, record: SessionRecord,
                       signed: SignOff) -> tuple[DischargeAssessment, datetime]:
    """The discharge criteria as they stood at the sign-off: as stored with it, or (signed
    before they were stored) assessed again on what had been entered by then."""
    event = closing_event(record)
    stored = assessment_from(event.data) if event is not None else None
    if stored is not None:
        return stored
    then = entered_by(record, signed.time)
    flags = evaluate_flags(then, protocol, signed.time)
    return (evaluate_discharge(then, protocol, flags, signed.time, escort_name=info.escort_name),
            signed.time)


def _flags_of_superseded(
    db: Session,
    session_id: uuid.UUID,
    superseded: Superseded,
    corrections: tuple[CorrectionInfo, ...],
    at: datetime,
) -> tuple[Flag, ...]:
    """The stored flags of readings no longer effective, closed at their correction."""
    if not superseded.readings:
        return ()
    corrected_at = {c.target_id: c for c in corrections}
    signed_by = {row.record_id: row.signer_name for row in db.execute(
        select(Signature.record_id, Signature.signer_name)
        .where(Signature.session_id == session_id, Signature.record_kind == "correction"))}
    ids = [r.id for r in superseded.readings]
    rows = db.execute(
        select(FlagRow, AckRow, Staff.name)
        .outerjoin(AckRow, (AckRow.flag_id == FlagRow.id) & (AckRow.time <= at))
        .outerjoin(Staff, Staff.id == AckRow.entered_by)
        .where(FlagRow.session_id == session_id, FlagRow.reading_id.in_(ids))
        .order_by(FlagRow.time)
    ).all()
    flags: dict[uuid.UUID, Flag] = {}
    for flag_row, ack_row, by in rows:
        if flag_row.id in flags or flag_row.reading_id is None:
            continue
        correction = corrected_at.get(flag_row.reading_id)
        when = correction.time if correction is not None else at
        word = "voided" if correction is None or correction.action == "void" else "amended"
        resolution = f"reading {word}"
        if correction is not None:
            signer = signed_by.get(correction.id)
            who = f"signed by {signer}" if signer else f"by {correction.by}"
            resolution = f"reading {word} ({who}): {correction.reason}"
        flags[flag_row.id] = Flag(
            id=flag_row.id, key=flag_row.key, measure=Measure(flag_row.measure),
            severity=Severity(flag_row.severity), time=flag_row.time,
            message=f"{flag_row.message} (reading since {word})",
            reading_id=flag_row.reading_id,
            acknowledgement=None if ack_row is None else Acknowledgement(
                flag_id=flag_row.id, time=ack_row.time, action=ack_row.action,
                note=ack_row.note, by=by or ""),
            resolved_at=when,
            resolution=resolution,
        )
    return tuple(flags.values())


#: Events that are signatures themselves, left out of what a signature covers.
_SIGNATURE_EVENTS = frozenset({EventKind.DISCHARGE_SIGNED, EventKind.DISCHARGE_OVERRIDE})


def signed_content_hash(record: SessionRecord, signed_at: datetime) -> str:
    """SHA-256 of the session's effective readings and events timed up to ``signed_at``.

    Computed again on every load: an amendment, a void or a late entry before the signing
    time changes it, and the signature then shows as superseded.
    """
    readings = [
        [str(r.id), r.time.isoformat(), *(repr(getattr(r, name, None)) for name in
                                          READING_FIELDS)]
        for r in record.readings if r.time <= signed_at
    ]
    events = [
        [str(e.id), e.time.isoformat(), e.kind.value, e.detail]
        for e in record.events if e.time <= signed_at and e.kind not in _SIGNATURE_EVENTS
    ]
    content = json.dumps([readings, events], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def _signatures(
    connection: Connection, session_id: uuid.UUID, record: SessionRecord, at: datetime
) -> tuple[SignatureInfo, ...]:
    """The session's signatures given by ``at``, each checked against the record."""
    rows = connection.execute(queries.SIGNATURES_AS_OF, {"session_id": session_id, "at": at}).all()
    return tuple(
        SignatureInfo(
            id=row.id, meaning=row.meaning, signer_name=row.signer_name,
            signer_role=row.signer_role, signed_at=row.signed_at,
            content_hash=row.content_hash,
            valid=signed_content_hash(record, row.signed_at) == row.content_hash,
        )
        for row in rows
    )


def _open_or_reason(connection: Connection, session_id: uuid.UUID, role: str,
                    reason: str | None, note: str) -> str:
    """``note`` while the session is open; once the discharge is signed, the note of a
    clinician's entry after sign-off (the reason first). Refused otherwise:
    :class:`SessionClosedError` without a reason, :class:`_NeedsClinician` for a nurse."""
    row = connection.execute(queries.CLOSING_OF_SESSION, {"session_id": session_id}).first()
    if row is None:
        return note
    if reason is None:
        raise SessionClosedError(SignOff(time=row.recorded_at, by=row.name,
                                         override=row.kind == EventKind.DISCHARGE_OVERRIDE))
    if not allowed(role, Action.ENTER_AFTER_SIGNOFF):
        raise _NeedsClinician
    if len(reason.strip()) < MIN_AFTER_SIGNOFF_REASON:
        raise InvalidEntryError([FieldError(
            "reason", f"Reason for an entry after sign-off: at least {MIN_AFTER_SIGNOFF_REASON} "
            "characters")])
    return after_signoff_note(reason, note)


def _stop_detail(connection: Connection, info: SessionInfo, when: datetime, detail: str,
                 data: Mapping[str, Any] | None) -> tuple[str, Mapping[str, Any] | None]:
    """A stop's detail and data: checked and described when the stop is early."""
    record, _, _ = load_record(connection, info.id, when)
    stop = early_stop(record, infusion_plan(info), when)
    if stop is None:
        kept = {k: v for k, v in (data or {}).items() if k not in EARLY_STOP_KEYS}
        return detail, kept or None
    try:
        checked = check_early_stop(data, stop)
    except EarlyStopError as refused:
        raise InvalidEntryError(refused.errors) from None
    words = early_stop_detail(checked, stop)
    return (f"{words} · {detail}" if detail else words), checked


def _discharge_summary(view: SessionView) -> str:
    aldrete, padss = view.discharge.aldrete, view.discharge.padss
    return (f"All discharge criteria met; modified Aldrete {aldrete.total}/{aldrete.max_total}, "
            f"adapted PADSS {padss.total}/{padss.max_total}")


def _patient_of(db: Session, session_id: uuid.UUID) -> uuid.UUID | None:
    return db.scalar(select(TreatmentSession.patient_id)
                     .where(TreatmentSession.id == session_id))


def _refuse_before_check_in(when: datetime, info: SessionInfo) -> None:
    problem = validate_after_check_in(when, info.time)
    if problem is not None:
        raise InvalidEntryError([problem])


class _Shape(NamedTuple):
    """How many rows of each kind a session has, and the latest time among them."""

    readings: int
    latest_reading: datetime | None
    events: int
    latest_event: datetime | None
    corrections: int
    latest_correction: datetime | None
    stamp_stored: bool

    def settled(self, now: datetime) -> bool:
        """Nothing is dated after ``now`` (such rows join the record later, unannounced)."""
        return all(t is None or t <= now
                   for t in (self.latest_reading, self.latest_event, self.latest_correction))

    def follows(self, before: _Shape) -> bool:
        """Exactly one reading row was added since ``before``, whose own reading is stored."""
        return (self.stamp_stored and self.readings == before.readings + 1
                and self.events == before.events and self.corrections == before.corrections)


@dataclass(frozen=True)
class _Tail:
    """A session's flag evaluation as the last save of a reading (``stamp``) left it."""

    protocol: Protocol
    shape: _Shape
    stamp: uuid.UUID
    evaluation: FlagEvaluation


#: Sessions whose evaluation is kept (the chairs of a clinic, with room to spare).
_TAILS_KEPT = 32


@dataclass(frozen=True)
class _Loaded:
    """A session's effective entries as the last load read them (acknowledgements apart)."""

    shape: _Shape
    record: SessionRecord
    superseded: Superseded
    corrections: tuple[CorrectionInfo, ...]


def _with_saved_reading(connection: Connection, kept: _Loaded, shape: _Shape,
                        tail: _Tail | None) -> SessionRecord | None:
    """The record ``kept`` with the one reading row added since, if that is the reading of
    the last save (``tail``) and it is the latest; else None."""
    record = kept.record
    if (tail is None or not shape.stamp_stored or not shape.follows(kept.shape)
            or shape[:6] != tail.shape[:6]):
        return None
    row = connection.execute(queries.READING_BY_ID, {"reading_id": tail.stamp}).first()
    if row is None or any(r.id == tail.stamp
                          for r in (*record.readings, *kept.superseded.readings)):
        return None
    if record.readings and row.time <= record.readings[-1].time:
        return None
    return replace(record, readings=(*record.readings, Reading(*row)))


#: A session begun this long ago or more no longer holds its chair or its patient.
OCCUPIED_WITHIN = timedelta(hours=12)


def _refuse_occupied(connection: Connection, *, chair: str, patient_id: uuid.UUID | None,
                     now: datetime) -> None:
    """Refuse a check-in on a chair, or of a patient, whose session is not discharged.

    On PostgreSQL a transaction-scoped advisory lock per chair (and per patient) makes two
    tablets' check-ins take turns, so the second sees the first's session once it commits.
    """
    keys = [f"chair:{chair}"] if chair else []
    if patient_id is not None:
        keys.append(f"patient:{patient_id}")
    for key in sorted(keys):
        queries.take_turns(connection, key)
    holding = []
    if chair:
        holding.append(("chair", queries.SESSIONS.c.chair == chair, f"Chair {chair} is"))
    if patient_id is not None:
        holding.append(("patient", queries.SESSIONS.c.patient_id == patient_id,
                        "This patient is"))
    for field_name, where, subject in holding:
        row = connection.execute(
            select(queries.STAFF.c.name, queries.SESSIONS.c.recorded_at)
            .join(queries.STAFF, queries.STAFF.c.id == queries.SESSIONS.c.entered_by)
            .where(where, queries.SESSIONS.c.time >= now - OCCUPIED_WITHIN,
                   ~select(queries.EVENTS.c.id).where(
                       queries.EVENTS.c.session_id == queries.SESSIONS.c.id,
                       queries.EVENTS.c.kind.in_([k.value for k in CLOSING_EVENTS])).exists())
            .order_by(queries.SESSIONS.c.recorded_at.desc()).limit(1)).first()
        if row is not None:
            raise AlreadyDoneError(field_name, f"{subject} in a session not yet discharged: "
                                   + conflicts.already_done("checked in", row[0], row[1]))


def _refuse_discharged(connection: Connection, session_id: uuid.UUID) -> None:
    """:class:`AlreadyDoneError` naming who discharged the session and when, if anyone."""
    closed = connection.execute(queries.CLOSING_OF_SESSION, {"session_id": session_id}).first()
    if closed is not None:
        raise AlreadyDoneError("discharge", conflicts.already_done(
            "discharged", closed.name, closed.recorded_at))
