"""What the nurse's app and the command line do with the record.

:class:`ClinicService` is the only writer of clinical rows. Each method is one transaction:
validate, insert (never update), raise any new flags, commit. A method returns only after
the database committed, so "Saved" may be shown when it returns; when the environment fails
it raises :class:`monitor.store.NotSavedError` and nothing was stored.

Reading back, :meth:`ClinicService.load` turns the rows into a
:class:`monitor.domain.SessionRecord` of effective entries (voided ones left out, amended
ones replaced) as it stood at a given time, and evaluates flags and discharge on it.

The paths a tablet runs all day — listing a patient's sessions, loading a session, saving a
reading — use SQL Core statements built once at import, with bound parameters, on the
session's connection: building statements per call and going through the ORM's unit of
work cost several times what the database itself spends on those rows.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, String, Table, bindparam, func, insert, select, type_coerce
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from monitor.clock import Clock, ensure_utc
from monitor.discharge import evaluate_discharge
from monitor.domain import (
    Acknowledgement,
    DischargeAssessment,
    Event,
    EventKind,
    Flag,
    Measure,
    Phase,
    Reading,
    SessionRecord,
    Severity,
)
from monitor.dosing import DosePlan, plan_dose
from monitor.model import (
    Acknowledgement as AckRow,
)
from monitor.model import (
    Base,
    Correction,
    EventRow,
    FlagRow,
    Patient,
    ReadingRow,
    Staff,
    TreatmentSession,
)
from monitor.protocol import Protocol, load_protocol
from monitor.rules import current_levels, evaluate_flags, next_reading_due, session_phase
from monitor.store import Store
from monitor.validation import FieldError, validate_reading, validate_time

#: A clinician's override of discharge criteria needs a written reason of at least this length.
MIN_OVERRIDE_REASON = 10

#: Reading columns a caller may set, in the order the record shows them.
READING_FIELDS: tuple[str, ...] = (
    "sbp", "dbp", "hr", "spo2", "rr", "cadss6", "cadss6_items", "moaas",
    "nausea", "anxiety", "pain", "phq9", "phq9_items", "gad7", "gad7_items",
)


class InvalidEntryError(Exception):
    """The entry was refused; ``errors`` name each field and its accepted range.

    ``needs_confirmation`` lists implausible-but-possible values the user must confirm.
    """

    def __init__(self, errors: Sequence[FieldError], needs_confirmation: Sequence[FieldError] = ()):
        self.errors = list(errors)
        self.needs_confirmation = list(needs_confirmation)
        super().__init__("; ".join(e.message for e in [*self.errors, *self.needs_confirmation]))


class NotFoundError(LookupError):
    """No session, patient or entry with that id."""


@dataclass(frozen=True)
class PatientInfo:
    id: uuid.UUID
    mrn: str
    name: str | None
    date_of_birth: date | None
    weight_kg: float | None
    limit_overrides: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionInfo:
    id: uuid.UUID
    patient: PatientInfo
    time: datetime
    chair: str
    profile: str
    weight_kg: float | None
    planned_mg_per_kg: float | None
    infusion_minutes: int | None
    bag_volume_ml: float | None
    dose_mg: float | None
    rate_mg_per_min: float | None
    pump_ml_per_h: float | None
    lot_number: str
    concomitant_medications: Mapping[str, Any]
    escort_name: str
    source: str


@dataclass(frozen=True)
class CorrectionInfo:
    id: uuid.UUID
    time: datetime
    target_kind: str
    target_id: uuid.UUID
    action: str
    replacement_id: uuid.UUID | None
    reason: str
    by: str


@dataclass(frozen=True)
class SessionView:
    """A session as it stood at ``at``: the record, its flags and discharge assessment."""

    info: SessionInfo
    at: datetime
    protocol: Protocol
    record: SessionRecord
    phase: Phase
    flags: tuple[Flag, ...]
    discharge: DischargeAssessment
    next_due: datetime | None
    #: Entries no longer effective (voided or amended away), for the chart's history.
    superseded_readings: tuple[Reading, ...] = ()
    superseded_events: tuple[Event, ...] = ()
    corrections: tuple[CorrectionInfo, ...] = ()
    #: How abnormal each measure's latest value is, acknowledged or not.
    current_levels: Mapping[Measure, Severity] = field(default_factory=dict)
    #: Flags once raised by readings since voided or amended, with any acknowledgement:
    #: closed (resolved when corrected), kept so the action taken is never lost from view.
    superseded_flags: tuple[Flag, ...] = ()

    @property
    def open_flags(self) -> tuple[Flag, ...]:
        return tuple(f for f in self.flags if f.open)


@dataclass(frozen=True)
class SavedReading:
    id: uuid.UUID
    new_flags: tuple[Flag, ...]


@dataclass(frozen=True)
class SessionSummary:
    id: uuid.UUID
    time: datetime
    chair: str
    profile: str
    dose_mg: float | None
    planned_mg_per_kg: float | None
    reading_count: int


@dataclass(frozen=True)
class ImportedRow:
    """One validated time point of an imported session: a reading, an event, or both."""

    time: datetime
    values: Mapping[str, Any] = field(default_factory=dict)
    event: EventKind | None = None
    note: str = ""


class ClinicService:
    """Creates and reads the clinical record. Every public method is one transaction."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._protocols: dict[tuple[str, tuple[tuple[str, Any], ...]], Protocol] = {}

    # -- protocol -------------------------------------------------------------------------

    def protocol_for(self, profile: str, overrides: Mapping[str, Any] | None = None) -> Protocol:
        key = (profile, tuple(sorted((overrides or {}).items())))
        protocol = self._protocols.get(key)
        if protocol is None:
            protocol = load_protocol(profile)
            if overrides:
                protocol = protocol.with_overrides(dict(overrides))
            self._protocols[key] = protocol
        return protocol

    # -- staff and patients ----------------------------------------------------------------

    def ensure_staff(self, name: str, role: str) -> uuid.UUID:
        """The id of the staff member with this name and role, created if missing."""
        with self.store.write() as db:
            found = db.scalar(select(Staff.id).where(Staff.name == name, Staff.role == role))
            if found is not None:
                return found
            staff = Staff(id=uuid.uuid4(), name=name, role=role, created_at=self.clock.now())
            db.add(staff)
            return staff.id

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
            return _patient_info(patient) if patient is not None else None

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
        with self.store.write() as db:
            patient = self._add_patient(
                db, mrn=mrn, by=by, name=name, date_of_birth=date_of_birth,
                weight_kg=weight_kg, patient_id=patient_id,
            )
            return _patient_info(patient)

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
        with self.store.write() as db:
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
    ) -> uuid.UUID:
        """Check a patient in to a chair, in one transaction.

        Either ``patient_id`` (on file) or ``new_patient`` (``mrn``, ``name``,
        ``date_of_birth``) is given. Pre-infusion PHQ-9 and GAD-7 answers are stored as the
        session's first reading, so PHQ-9 item 9 > 0 raises its flag at once.
        """
        now = self.clock.now()
        mood: dict[str, Any] = {}
        if phq9_items is not None:
            mood["phq9_items"] = tuple(phq9_items)
        if gad7_items is not None:
            mood["gad7_items"] = tuple(gad7_items)
        values = self._validated(mood, (), now, now) if mood else None
        with self.store.write() as db:
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
                time=now, session_id=None, source="chair",
            )
            if values is not None:
                db.add(ReadingRow(**_reading_values(
                    rid=uuid.uuid4(), session_id=session.id, when=now, values=values,
                    note="pre-infusion mood scores", on_oxygen=False, now=now, by=by,
                )))
                db.flush()
                protocol = self.protocol_for(session.profile, patient.limit_overrides)
                self._raise_flags(db.connection(), session.id, protocol, now)
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
        protocol = self.protocol_for(profile)
        now = self.clock.now()
        weight = weight_kg if weight_kg is not None else patient.weight_kg
        mg_per_kg = planned_mg_per_kg or protocol.dose.mg_per_kg_default
        minutes = infusion_minutes or protocol.dose.minutes_default
        bag = bag_volume_ml or protocol.dose.bag_volume_ml_default
        plan: DosePlan | None = None
        if weight is not None:
            plan = plan_dose(weight, mg_per_kg, minutes, bag, protocol)
        session = TreatmentSession(
            id=session_id or uuid.uuid4(), patient_id=patient.id,
            time=ensure_utc(time) if time is not None else now,
            chair=chair, profile=profile, protocol_version=protocol.version,
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
    ) -> SavedReading:
        """Validate and save one reading, raising any new flags in the same transaction.

        ``reading_id`` is generated by the caller so that retrying a save whose outcome
        was unknown (connection lost during commit) cannot store the reading twice.
        """
        now = self.clock.now()
        when = ensure_utc(time) if time is not None else now
        values = self._validated(raw, confirmed, when, now)
        rid = reading_id or uuid.uuid4()
        with self.store.write() as db:
            connection = db.connection()
            info = _session_info(connection, session_id)
            row = _reading_values(rid=rid, session_id=session_id, when=when, values=values,
                                  note=note, on_oxygen=on_oxygen, now=now, by=by)
            if connection.execute(_INSERT_READING[connection.dialect.name], row).rowcount == 0:
                return SavedReading(rid, ())  # an earlier attempt did commit
            new_flags = self._raise_flags(connection, session_id, self._protocol_of(info), now)
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
    ) -> uuid.UUID:
        now = self.clock.now()
        when = ensure_utc(time) if time is not None else now
        problem = validate_time(when, now)
        if problem is not None:
            raise InvalidEntryError([problem])
        eid = event_id or uuid.uuid4()
        with self.store.write() as db:
            if db.get(EventRow, eid) is not None:
                return eid
            info = _session_info(db.connection(), session_id)
            db.add(EventRow(
                id=eid, session_id=session_id, time=when, kind=EventKind(kind).value,
                detail=detail, data=dict(data or {}), recorded_at=now, entered_by=by,
            ))
            db.flush()
            self._raise_flags(db.connection(), session_id, self._protocol_of(info), now)
        return eid

    def acknowledge(
        self,
        session_id: uuid.UUID,
        flag: Flag,
        *,
        action: str,
        by: uuid.UUID,
        note: str = "",
        time: datetime | None = None,
    ) -> uuid.UUID:
        """Record who acknowledged ``flag``, when, and the action taken."""
        if not action.strip():
            raise InvalidEntryError([FieldError("action", "Choose the action taken")])
        now = self.clock.now()
        when = ensure_utc(time) if time is not None else now
        with self.store.write() as db:
            self._require_session(db, session_id)
            if db.get(FlagRow, flag.id) is None:
                db.add(_flag_row(session_id, flag, now))
                db.flush()
            ack = AckRow(
                id=uuid.uuid4(), session_id=session_id, flag_id=flag.id, time=when,
                action=action.strip(), note=note.strip(), recorded_at=now, entered_by=by,
            )
            db.add(ack)
            return ack.id

    # -- discharge ---------------------------------------------------------------------------

    def sign_discharge(self, session_id: uuid.UUID, *, by: uuid.UUID) -> uuid.UUID:
        """The nurse's discharge sign-off; refused while any criterion is not met."""
        now = self.clock.now()
        view = self.load(session_id, now)
        if view.phase is Phase.DISCHARGED:
            raise InvalidEntryError([FieldError("discharge", "The patient is already discharged")])
        if not view.discharge.ready:
            raise InvalidEntryError([
                FieldError(c.id, f"Not ready: {c.detail}")
                for c in view.discharge.criteria if not c.met
            ])
        return self.record_event(session_id, EventKind.DISCHARGE_SIGNED, by=by, time=now,
                                 detail=_discharge_summary(view))

    def override_discharge(
        self, session_id: uuid.UUID, *, reason: str, by: uuid.UUID
    ) -> uuid.UUID:
        """A clinician discharges although criteria are not met; the written reason is kept.

        Only a clinician may: a nurse signs discharge when every criterion is met.
        """
        with self.store.read() as db:
            role = db.scalar(select(Staff.role).where(Staff.id == by))
        if role != "clinician":
            raise InvalidEntryError([FieldError(
                "discharge", "Only a clinician can override the discharge criteria; "
                "ask the clinician to sign in")])
        if len(reason.strip()) < MIN_OVERRIDE_REASON:
            raise InvalidEntryError([FieldError(
                "reason", f"Write the reason for the override (at least {MIN_OVERRIDE_REASON} "
                "characters)")])
        now = self.clock.now()
        view = self.load(session_id, now)
        if view.phase is Phase.DISCHARGED:
            raise InvalidEntryError([FieldError("discharge", "The patient is already discharged")])
        unmet = "; ".join(c.id for c in view.discharge.criteria if not c.met) or "none"
        return self.record_event(
            session_id, EventKind.DISCHARGE_OVERRIDE, by=by, time=now,
            detail=reason.strip(), data={"criteria_not_met": unmet},
        )

    # -- corrections -------------------------------------------------------------------------

    def void(
        self,
        session_id: uuid.UUID,
        target_kind: str,
        target_id: uuid.UUID,
        *,
        reason: str,
        by: uuid.UUID,
    ) -> uuid.UUID:
        """Void a reading or event; it stays in the record, marked void, with the reason."""
        if not reason.strip():
            raise InvalidEntryError([FieldError("reason", "A correction needs a reason")])
        now = self.clock.now()
        with self.store.write() as db:
            self._require_target(db, session_id, target_kind, target_id)
            correction = Correction(
                id=uuid.uuid4(), session_id=session_id, time=now, target_kind=target_kind,
                target_id=target_id, action="void", replacement_id=None,
                reason=reason.strip(), recorded_at=now, entered_by=by,
            )
            db.add(correction)
            return correction.id

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
    ) -> uuid.UUID:
        """Replace a reading's values by a new row; the original stays, marked amended."""
        if not reason.strip():
            raise InvalidEntryError([FieldError("reason", "A correction needs a reason")])
        now = self.clock.now()
        with self.store.write() as db:
            original = self._require_target(db, session_id, "reading", target_id)
            assert isinstance(original, ReadingRow)
            when = ensure_utc(time) if time is not None else original.time
            values = self._validated(raw, confirmed, when, now)
            replacement = ReadingRow(**_reading_values(
                rid=uuid.uuid4(), session_id=session_id, when=when, values=values, note=note,
                on_oxygen=original.on_oxygen, now=now, by=by,
            ))
            db.add(replacement)
            db.add(Correction(
                id=uuid.uuid4(), session_id=session_id, time=now, target_kind="reading",
                target_id=target_id, action="amend", replacement_id=replacement.id,
                reason=reason.strip(), recorded_at=now, entered_by=by,
            ))
            db.flush()
            info = _session_info(db.connection(), session_id)
            self._raise_flags(db.connection(), session_id, self._protocol_of(info), now)
            return replacement.id

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
    ) -> uuid.UUID:
        """Store a whole session recorded elsewhere, in one transaction (all or nothing).

        ``rows`` must already be validated (``monitor.csvio`` does that).
        """
        now = self.clock.now()
        ordered = sorted(rows, key=lambda r: r.time)
        with self.store.write() as db:
            patient = db.scalar(select(Patient).where(Patient.mrn == mrn))
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
            for row in ordered:
                if row.values:
                    db.add(ReadingRow(**_reading_values(
                        rid=uuid.uuid4(), session_id=session.id, when=row.time,
                        values=row.values, note=row.note if row.event is None else "",
                        on_oxygen=False, now=now, by=by,
                    )))
                if row.event is not None:
                    db.add(EventRow(
                        id=uuid.uuid4(), session_id=session.id, time=row.time,
                        kind=row.event.value, detail=row.note, data={},
                        recorded_at=now, entered_by=by,
                    ))
            db.flush()
            protocol = self.protocol_for(session.profile, patient.limit_overrides)
            self._raise_flags(db.connection(), session.id, protocol, now)
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
            info = _session_info(connection, session_id)
            record, superseded, corrections = _load_record(connection, session_id, at,
                                                           entered_only=entered_only)
            earlier = _flags_of_superseded(db, session_id, superseded, corrections, at)
        view = _evaluate(info=info, protocol=self._protocol_of(info), record=record, at=at,
                         superseded=superseded, corrections=corrections)
        return replace(view, superseded_flags=earlier) if earlier else view

    def session_info(self, session_id: uuid.UUID) -> SessionInfo:
        with self.store.read() as db:
            return _session_info(db.connection(), session_id)

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
            return [_patient_info(p) for p in db.scalars(query)]

    def patient_sessions(self, patient_id: uuid.UUID) -> list[SessionSummary]:
        """A patient's sessions, newest first, with how many readings each holds."""
        with self.store.read() as db:
            rows = db.connection().execute(_PATIENT_SESSIONS, {"patient_id": patient_id})
            return [SessionSummary(*row) for row in rows]

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
        already = db.scalar(select(Correction.id).where(Correction.target_id == target_id))
        if already is not None:
            raise InvalidEntryError(
                [FieldError(target_kind, f"This {target_kind} was already corrected")]
            )
        return row

    def _protocol_of(self, info: SessionInfo) -> Protocol:
        return self.protocol_for(info.profile, info.patient.limit_overrides)

    def _raise_flags(self, connection: Connection, session_id: uuid.UUID, protocol: Protocol,
                     now: datetime) -> tuple[Flag, ...]:
        """Evaluate the rules and store flags raised by readings that are not stored yet.

        Runs inside the caller's transaction, after its new rows were flushed.
        """
        record, _, _ = _load_record(connection, session_id, now)
        raised = [f for f in evaluate_flags(record, protocol, now) if f.reading_id is not None]
        if not raised:
            return ()  # most saves: nothing to compare with the stored flags
        known = set(connection.scalars(_FLAG_IDS, {"session_id": session_id}))
        new = tuple(f for f in raised if f.id not in known)
        if new:
            connection.execute(insert(_FLAGS), [_flag_values(session_id, f, now) for f in new])
        return new


def _evaluate(
    *,
    info: SessionInfo,
    protocol: Protocol,
    record: SessionRecord,
    at: datetime,
    superseded: Superseded,
    corrections: tuple[CorrectionInfo, ...],
) -> SessionView:
    flags = tuple(evaluate_flags(record, protocol, at))
    return SessionView(
        info=info, at=at, protocol=protocol, record=record,
        phase=session_phase(record, at),
        flags=flags,
        discharge=evaluate_discharge(record, protocol, list(flags), at),
        next_due=next_reading_due(record, protocol, at),
        superseded_readings=superseded.readings,
        superseded_events=superseded.events,
        corrections=corrections,
        current_levels=current_levels(record, protocol, at),
    )


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
    corrected_at = {c.target_id: (c.time, c.action) for c in corrections}
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
        when, action = corrected_at.get(flag_row.reading_id, (at, "void"))
        word = "voided" if action == "void" else "amended"
        flags[flag_row.id] = Flag(
            id=flag_row.id, key=flag_row.key, measure=Measure(flag_row.measure),
            severity=Severity(flag_row.severity), time=flag_row.time,
            message=f"{flag_row.message} (reading since {word})",
            reading_id=flag_row.reading_id,
            acknowledgement=None if ack_row is None else Acknowledgement(
                flag_id=flag_row.id, time=ack_row.time, action=ack_row.action,
                note=ack_row.note, by=by or ""),
            resolved_at=when,
            resolution=f"reading {word}",
        )
    return tuple(flags.values())


def _discharge_summary(view: SessionView) -> str:
    aldrete, padss = view.discharge.aldrete, view.discharge.padss
    return (f"All discharge criteria met; modified Aldrete {aldrete.total}/{aldrete.max_total}, "
            f"adapted PADSS {padss.total}/{padss.max_total}")


def _reading_values(
    *,
    rid: uuid.UUID,
    session_id: uuid.UUID,
    when: datetime,
    values: Mapping[str, Any],
    note: str,
    on_oxygen: bool,
    now: datetime,
    by: uuid.UUID,
) -> dict[str, Any]:
    """The columns of a new reading row."""
    columns = {name: values.get(name) for name in READING_FIELDS}
    for items in ("cadss6_items", "phq9_items", "gad7_items"):
        sequence = columns[items]
        if sequence is not None:
            columns[items] = list(sequence)
    return {"id": rid, "session_id": session_id, "time": when, "note": note,
            "on_oxygen": on_oxygen, "recorded_at": now, "entered_by": by, **columns}


def _flag_values(session_id: uuid.UUID, flag: Flag, now: datetime) -> dict[str, Any]:
    """The columns of a new flag row."""
    return {"id": flag.id, "session_id": session_id, "key": flag.key,
            "measure": flag.measure.value, "severity": int(flag.severity), "time": flag.time,
            "message": flag.message, "reading_id": flag.reading_id, "raised_at": now}


def _flag_row(session_id: uuid.UUID, flag: Flag, now: datetime) -> FlagRow:
    return FlagRow(**_flag_values(session_id, flag, now))


def _patient_info(patient: Patient) -> PatientInfo:
    return PatientInfo(
        id=patient.id, mrn=patient.mrn, name=patient.name, date_of_birth=patient.date_of_birth,
        weight_kg=patient.weight_kg, limit_overrides=dict(patient.limit_overrides or {}),
    )


def _session_info(connection: Connection, session_id: uuid.UUID) -> SessionInfo:
    """The session and its patient, in one query; :class:`NotFoundError` if there is none."""
    row = connection.execute(_SESSION_WITH_PATIENT, {"session_id": session_id}).first()
    if row is None:
        raise NotFoundError(f"no session {session_id}")
    patient = PatientInfo(
        id=row.patient_id, mrn=row.mrn, name=row.patient_name, date_of_birth=row.date_of_birth,
        weight_kg=row.patient_weight_kg, limit_overrides=dict(row.limit_overrides or {}),
    )
    return SessionInfo(
        id=row.id, patient=patient, time=row.time, chair=row.chair, profile=row.profile,
        weight_kg=row.weight_kg, planned_mg_per_kg=row.planned_mg_per_kg,
        infusion_minutes=row.infusion_minutes, bag_volume_ml=row.bag_volume_ml,
        dose_mg=row.dose_mg, rate_mg_per_min=row.rate_mg_per_min,
        pump_ml_per_h=row.pump_ml_per_h, lot_number=row.lot_number,
        concomitant_medications=dict(row.concomitant_medications or {}),
        escort_name=row.escort_name, source=row.source,
    )


class Superseded(NamedTuple):
    """Entries no longer effective: voided, or amended by a later row."""

    readings: tuple[Reading, ...]
    events: tuple[Event, ...]


def _load_record(
    connection: Connection, session_id: uuid.UUID, at: datetime, *, entered_only: bool = False
) -> tuple[SessionRecord, Superseded, tuple[CorrectionInfo, ...]]:
    """Effective entries of a session as they stood at ``at``.

    A correction counts from the time it was made: before then the original value stands,
    and an amending row made later is not in the record yet. With ``entered_only``, an
    entry entered after ``at`` (a late entry) is not in it either.
    """
    of_session = {"session_id": session_id}
    as_of = {"session_id": session_id, "at": at}
    corrections: list[CorrectionInfo] = []
    replacements_later: set[uuid.UUID] = set()
    for c in connection.execute(_CORRECTIONS_OF_SESSION, of_session):
        if c.time <= at:
            corrections.append(CorrectionInfo(
                id=c.id, time=c.time, target_kind=c.target_kind, target_id=c.target_id,
                action=c.action, replacement_id=c.replacement_id, reason=c.reason, by=c.name,
            ))
        elif c.replacement_id is not None:
            replacements_later.add(c.replacement_id)
    hidden = {c.target_id for c in corrections}
    readings: list[Reading] = []
    superseded: list[Reading] = []
    for r in connection.execute(_READINGS_AS_OF, as_of):
        if r.id in replacements_later or (entered_only and r.recorded_at > at):
            continue
        (superseded if r.id in hidden else readings).append(Reading(*r))
    events: list[Event] = []
    superseded_events: list[Event] = []
    for e in connection.execute(_EVENTS_AS_OF, as_of):
        if e.id in replacements_later or (entered_only and e.recorded_at > at):
            continue
        event = Event(id=e.id, time=e.time, kind=EventKind(e.kind), detail=e.detail,
                      recorded_at=e.recorded_at, by=e.by_name)
        (superseded_events if e.id in hidden else events).append(event)
    acknowledgements = tuple(
        Acknowledgement(flag_id=a.flag_id, time=a.time, action=a.action, note=a.note,
                        by=a.name)
        for a in connection.execute(_ACKNOWLEDGEMENTS_AS_OF, as_of)
    )
    record = SessionRecord(
        session_id=session_id, readings=tuple(readings), events=tuple(events),
        acknowledgements=acknowledgements,
    )
    return (record, Superseded(tuple(superseded), tuple(superseded_events)),
            tuple(corrections))


# -- statements -----------------------------------------------------------------------------


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


_SESSIONS = _table(TreatmentSession)
_PATIENTS = _table(Patient)
_READINGS = _table(ReadingRow)
_EVENTS = _table(EventRow)
_ACKNOWLEDGEMENTS = _table(AckRow)
_CORRECTIONS = _table(Correction)
_FLAGS = _table(FlagRow)
_STAFF = _table(Staff)

_READING_COUNTS = (
    select(_READINGS.c.session_id, func.count().label("n"))
    .join(_SESSIONS, _SESSIONS.c.id == _READINGS.c.session_id)
    .where(_SESSIONS.c.patient_id == bindparam("patient_id"))
    .group_by(_READINGS.c.session_id)
    .subquery()
)
_PATIENT_SESSIONS = (
    select(_SESSIONS.c.id, _SESSIONS.c.time, _SESSIONS.c.chair, _SESSIONS.c.profile,
           _SESSIONS.c.dose_mg, _SESSIONS.c.planned_mg_per_kg,
           func.coalesce(_READING_COUNTS.c.n, 0))
    .outerjoin(_READING_COUNTS, _READING_COUNTS.c.session_id == _SESSIONS.c.id)
    .where(_SESSIONS.c.patient_id == bindparam("patient_id"))
    .order_by(_SESSIONS.c.time.desc())
)

#: The session's columns that :class:`SessionInfo` holds, and its patient's.
_SESSION_WITH_PATIENT = (
    select(
        *(_SESSIONS.c[f.name] for f in fields(SessionInfo) if f.name != "patient"),
        _PATIENTS.c.id.label("patient_id"), _PATIENTS.c.mrn,
        _PATIENTS.c.name.label("patient_name"), _PATIENTS.c.date_of_birth,
        _PATIENTS.c.weight_kg.label("patient_weight_kg"), _PATIENTS.c.limit_overrides,
    )
    .join(_PATIENTS, _PATIENTS.c.id == _SESSIONS.c.patient_id)
    .where(_SESSIONS.c.id == bindparam("session_id"))
)

#: All of a session's corrections: those made by the moment loaded apply, later ones only
#: keep their amending rows out of the record.
_CORRECTIONS_OF_SESSION = (
    select(_CORRECTIONS.c.id, _CORRECTIONS.c.time, _CORRECTIONS.c.target_kind,
           _CORRECTIONS.c.target_id, _CORRECTIONS.c.action, _CORRECTIONS.c.replacement_id,
           _CORRECTIONS.c.reason, _STAFF.c.name)
    .join(_STAFF, _STAFF.c.id == _CORRECTIONS.c.entered_by)
    .where(_CORRECTIONS.c.session_id == bindparam("session_id"))
    .order_by(_CORRECTIONS.c.time)
)


class _Items(TypeDecorator[tuple[int, ...]]):
    """A reading's answers to a questionnaire's items (a JSON list column), as a tuple.

    Most readings have none, stored as JSON ``null``. SQLite hands the column back as text,
    and the JSON type would decode every value where only lists need it; PostgreSQL's driver
    decodes JSON itself.
    """

    impl = String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> tuple[int, ...] | None:
        if isinstance(value, str):
            value = None if value == "null" else json.loads(value)
        return tuple(value) if value is not None else None


#: Who entered a reading or event, by name, from an outer join to the staff: a missing
#: staff row shows as no name rather than hiding the entry.
_ENTERED_BY_NAME = func.coalesce(_STAFF.c.name, "").label("by_name")


def _reading_column(name: str) -> Any:
    """The column for the field ``name`` of :class:`Reading`."""
    if name == "by":
        return _ENTERED_BY_NAME
    column = _READINGS.c[name]
    return type_coerce(column, _Items).label(name) if name.endswith("_items") else column


#: One column per field of Reading, in order, so that a row makes a Reading positionally
#: (by far the cheapest way to build one).
_READINGS_AS_OF = (
    select(*(_reading_column(f.name) for f in fields(Reading)))
    .outerjoin(_STAFF, _STAFF.c.id == _READINGS.c.entered_by)
    .where(_READINGS.c.session_id == bindparam("session_id"),
           _READINGS.c.time <= bindparam("at"))
    .order_by(_READINGS.c.time, _READINGS.c.recorded_at)
)
_EVENTS_AS_OF = (
    select(_EVENTS.c.id, _EVENTS.c.time, _EVENTS.c.kind, _EVENTS.c.detail,
           _EVENTS.c.recorded_at, _ENTERED_BY_NAME)
    .outerjoin(_STAFF, _STAFF.c.id == _EVENTS.c.entered_by)
    .where(_EVENTS.c.session_id == bindparam("session_id"), _EVENTS.c.time <= bindparam("at"))
    .order_by(_EVENTS.c.time, _EVENTS.c.recorded_at)
)
_ACKNOWLEDGEMENTS_AS_OF = (
    select(_ACKNOWLEDGEMENTS.c.flag_id, _ACKNOWLEDGEMENTS.c.time, _ACKNOWLEDGEMENTS.c.action,
           _ACKNOWLEDGEMENTS.c.note, _STAFF.c.name)
    .join(_STAFF, _STAFF.c.id == _ACKNOWLEDGEMENTS.c.entered_by)
    .where(_ACKNOWLEDGEMENTS.c.session_id == bindparam("session_id"),
           _ACKNOWLEDGEMENTS.c.time <= bindparam("at"))
    .order_by(_ACKNOWLEDGEMENTS.c.time)
)

_FLAG_IDS = select(_FLAGS.c.id).where(_FLAGS.c.session_id == bindparam("session_id"))

#: Stores a reading unless one with its id is stored already: a retried save whose first
#: attempt did commit. One statement instead of a look-up before every insert.
_INSERT_READING = {
    "sqlite": sqlite.insert(_READINGS).on_conflict_do_nothing(index_elements=[_READINGS.c.id]),
    "postgresql": postgresql.insert(_READINGS).on_conflict_do_nothing(
        index_elements=[_READINGS.c.id]),
}
