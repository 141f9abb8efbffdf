"""Patients and check-in: finding or adding a patient, and starting a session on a chair.

A session's dose, rate and pump setting are worked out from the weight and the protocol
version it starts under, which is stored with it (:mod:`monitor.storage.protocol_store`). A
chair, or a patient, with a session not yet discharged is refused, naming who checked in
there and when; two tablets checking in at once take turns.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from monitor.clinical.dosing import DosePlan, plan_dose
from monitor.clinical.permissions import Action
from monitor.clinical.signing import CLOSING_EVENTS
from monitor.clinical.validation import FieldError
from monitor.clock import ensure_utc
from monitor.service import conflicts
from monitor.service.charting import validated
from monitor.service.conflicts import refuse_changed_retry
from monitor.service.evaluation import Evaluations
from monitor.service.guard import Guard
from monitor.service.session_protocols import SessionProtocols
from monitor.service.views import AlreadyDoneError, InvalidEntryError, NotFoundError, PatientInfo
from monitor.storage import audit, protocol_store, queries
from monitor.storage.model import Patient, ReadingRow, TreatmentSession
from monitor.storage.records import (
    patient_info,
    patient_values,
    reading_values,
    session_info,
    session_values,
)

#: A session begun this long ago or more no longer holds its chair or its patient.
OCCUPIED_WITHIN = timedelta(hours=12)


class CheckIn:
    """Patients, and the sessions started for them."""

    def __init__(self, guard: Guard, protocols: SessionProtocols,
                 evaluations: Evaluations) -> None:
        self.guard = guard
        self.store = guard.store
        self.clock = guard.clock
        self.protocols = protocols
        self.evaluations = evaluations

    def find_patient(self, mrn: str) -> PatientInfo | None:
        with self.store.read() as db:
            patient = db.scalar(select(Patient).where(Patient.mrn == mrn))
            return patient_info(patient) if patient is not None else None

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
        with self.guard.change(by, Action.CHECK_IN, patient_id=patient_id) as change:
            db = change.db
            patient = self.add_patient_row(
                db, mrn=mrn, by=by, name=name, date_of_birth=date_of_birth,
                weight_kg=weight_kg, patient_id=patient_id,
            )
            change.audit("create", "patient", patient.id, patient_id=patient.id,
                         new=patient_values(patient), at=patient.recorded_at)
            return patient_info(patient)

    def add_patient_row(
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
        with self.guard.change(by, Action.CHECK_IN, patient_id=patient_id) as change:
            db = change.db
            if session_id is not None and db.get(TreatmentSession, session_id) is not None:
                refuse_changed_retry(change.connection, "session", queries.SESSIONS,
                                     {"id": session_id, "patient_id": patient_id,
                                      "chair": chair, "profile": profile},
                                     ("patient_id", "chair", "profile"))
                return session_id  # a retry of a start that did commit
            patient = db.get(Patient, patient_id)
            if patient is None:
                raise NotFoundError(f"no patient {patient_id}")
            session = self.new_session(
                db, patient, by=by, profile=profile, chair=chair, weight_kg=weight_kg,
                planned_mg_per_kg=planned_mg_per_kg, infusion_minutes=infusion_minutes,
                bag_volume_ml=bag_volume_ml, lot_number=lot_number,
                concomitant_medications=concomitant_medications, escort_name=escort_name,
                time=time, session_id=session_id, source="chair",
            )
            change.audit("create", "session", session.id, session_id=session.id,
                         patient_id=patient.id, new=session_values(session),
                         at=session.recorded_at)
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
        self.guard.require(by, Action.CHECK_IN, patient_id=patient_id)
        now = self.clock.now()
        mood: dict[str, Any] = {}
        if phq9_items is not None:
            mood["phq9_items"] = tuple(phq9_items)
        if gad7_items is not None:
            mood["gad7_items"] = tuple(gad7_items)
        values = validated(mood, (), now, now) if mood else None
        with self.guard.write(by, now=now) as change:
            db = change.db
            if session_id is not None and db.get(TreatmentSession, session_id) is not None:
                refuse_changed_retry(db.connection(), "check-in", queries.SESSIONS,
                                     {"id": session_id, "chair": chair, "profile": profile},
                                     ("chair", "profile"))
                return session_id  # a retry of a check-in that did commit
            refuse_occupied(db.connection(), chair=chair, patient_id=patient_id, now=now)
            if new_patient is not None:
                patient = self.add_patient_row(
                    db, mrn=new_patient["mrn"], by=by, name=new_patient.get("name"),
                    date_of_birth=new_patient.get("date_of_birth"), weight_kg=weight_kg,
                )
            else:
                found = db.get(Patient, patient_id) if patient_id is not None else None
                if found is None:
                    raise NotFoundError(f"no patient {patient_id}")
                patient = found
            session = self.new_session(
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
                info = session_info(connection, session.id)
                protocol = self.protocols.protocol_of(connection, info)
                self.evaluations.raise_flags(connection, session.id, protocol, now)
            change.audit("create", "session", session.id, session_id=session.id,
                         patient_id=patient.id,
                         new={**session_values(session), "mrn": patient.mrn,
                              "new_patient": new_patient is not None,
                              **({"mood": mood} if mood else {})})
            return session.id

    def new_session(
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
        protocol = self.protocols.current(db.connection(), profile)
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
            limit_overrides=dict(patient.limit_overrides or {}),
        )
        db.add(session)
        db.flush()
        return session


def refuse_occupied(connection: Connection, *, chair: str, patient_id: uuid.UUID | None,
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
            select(queries.STAFF.c.name, queries.SESSIONS.c.recorded_at, queries.SESSIONS.c.id)
            .join(queries.STAFF, queries.STAFF.c.id == queries.SESSIONS.c.entered_by)
            .where(where, queries.SESSIONS.c.time >= now - OCCUPIED_WITHIN,
                   ~select(queries.EVENTS.c.id).where(
                       queries.EVENTS.c.session_id == queries.SESSIONS.c.id,
                       queries.EVENTS.c.kind.in_([k.value for k in CLOSING_EVENTS])).exists())
            .order_by(queries.SESSIONS.c.recorded_at.desc()).limit(1)).first()
        if row is not None:
            tablet = audit.tablet_of(connection, session_id=row[2], record_id=row[2],
                                     actions=("create",))
            raise AlreadyDoneError(field_name, f"{subject} in a session not yet discharged: "
                                   + conflicts.already_done("checked in", row[0], row[1],
                                                            tablet))
