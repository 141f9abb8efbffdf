"""Rows of the record turned into the values the service and the rules work with.

:func:`load_record` reads a session's effective entries as they stood at a moment (voided ones
left out, amended ones replaced, each correction counting from the time it was made);
:func:`load_records` reads many sessions as they stand now, with four queries, for a replay.
:func:`session_info` reads a session with its patient and protocol version in one query. The
``*_values`` functions go the other way: the columns of a new row, and what an audit entry
keeps of one.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection

from monitor.clinical.domain import Acknowledgement, Event, EventKind, Flag, Reading, SessionRecord
from monitor.clinical.feed_health import MonitorLink
from monitor.storage import queries
from monitor.storage.model import EventRow, Patient, ReadingRow, TreatmentSession

#: Reading columns a caller may set, in the order the record shows them.
READING_FIELDS: tuple[str, ...] = (
    "sbp", "dbp", "hr", "spo2", "rr", "cadss6", "cadss6_items", "moaas",
    "nausea", "anxiety", "pain", "phq9", "phq9_items", "gad7", "gad7_items",
)


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
    #: Who checked the patient in (staff id and name), e.g. for the FHIR export's weight.
    entered_by: uuid.UUID | None = None
    entered_by_name: str = ""
    #: The stored protocol version the session is judged by (:mod:`monitor.storage.protocol_store`):
    #: its id, the version it declares and the SHA-256 of its content.
    protocol_version_id: uuid.UUID | None = None
    protocol_version: str = ""
    protocol_hash: str = ""
    #: The bedside monitor bound to the chair, as loaded with the session (None: none).
    monitor: MonitorLink | None = None
    #: The patient's own limits the session started with, by which it is judged.
    limit_overrides: Mapping[str, Any] = field(default_factory=dict)


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


class Superseded(NamedTuple):
    """Entries no longer effective: voided, or amended by a later row."""

    readings: tuple[Reading, ...]
    events: tuple[Event, ...]


def patient_info(patient: Patient) -> PatientInfo:
    return PatientInfo(
        id=patient.id, mrn=patient.mrn, name=patient.name, date_of_birth=patient.date_of_birth,
        weight_kg=patient.weight_kg, limit_overrides=dict(patient.limit_overrides or {}),
    )


def session_info(connection: Connection, session_id: uuid.UUID) -> SessionInfo:
    """The session and its patient, in one query; :class:`NotFoundError` if there is none."""
    row = connection.execute(queries.SESSION_WITH_PATIENT, {"session_id": session_id}).first()
    return session_info_of(row, session_id)


def session_info_of(row: Any, session_id: uuid.UUID) -> SessionInfo:
    """The session from its row of :data:`queries.SESSION_WITH_PATIENT` (None: there is no
    session ``session_id``, :class:`NotFoundError`)."""
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
        entered_by=row.entered_by, entered_by_name=row.entered_by_name or "",
        protocol_version_id=row.protocol_version_id, protocol_version=row.protocol_version,
        protocol_hash=row.protocol_hash,
        monitor=None if row.monitor_device is None else MonitorLink(
            row.monitor_device, row.monitor_last_message_at),
        limit_overrides=dict(row.session_limit_overrides or {}),
    )


def acknowledgements(connection: Connection, session_id: uuid.UUID,
                     at: datetime) -> tuple[Acknowledgement, ...]:
    return tuple(
        Acknowledgement(flag_id=a.flag_id, time=a.time, action=a.action, note=a.note,
                        by=a.name)
        for a in connection.execute(queries.ACKNOWLEDGEMENTS_AS_OF,
                                    {"session_id": session_id, "at": at})
    )


def load_record(
    connection: Connection, session_id: uuid.UUID, at: datetime, *, entered_only: bool = False
) -> tuple[SessionRecord, Superseded, tuple[CorrectionInfo, ...]]:
    """Effective entries of a session as they stood at ``at``.

    A correction counts from the time it was made: before then the original value stands,
    and an amending row made later is not in the record yet. With ``entered_only``, an
    entry entered after ``at`` (a late entry) is not in it either.
    """
    return record_of([list(connection.execute(statement, params))
                      for statement, params in record_statements(session_id, at)],
                     session_id, at, entered_only=entered_only)


def record_statements(session_id: uuid.UUID, at: datetime) -> list[tuple[Any, dict[str, Any]]]:
    """The reads :func:`record_of` makes a record of."""
    of_session = {"session_id": session_id}
    as_of = {"session_id": session_id, "at": at}
    return [(queries.CORRECTIONS_OF_SESSION, of_session), (queries.READINGS_AS_OF, as_of),
            (queries.EVENTS_AS_OF, as_of), (queries.ACKNOWLEDGEMENTS_AS_OF, as_of)]


def record_of(
    rows: Sequence[Sequence[Any]], session_id: uuid.UUID, at: datetime, *,
    entered_only: bool = False,
) -> tuple[SessionRecord, Superseded, tuple[CorrectionInfo, ...]]:
    """:func:`load_record` from the rows of :func:`record_statements` (corrections,
    readings, events, acknowledgements, each in its statement's order), or of the same
    columns read for many sessions at once (:mod:`monitor.storage.review_queries`)."""
    correction_rows, reading_rows, event_rows, ack_rows = rows[:4]
    corrections: list[CorrectionInfo] = []
    replacements_later: set[uuid.UUID] = set()
    for c in correction_rows:
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
    for r in reading_rows:
        if r.id in replacements_later or (entered_only and r.recorded_at > at):
            continue
        (superseded if r.id in hidden else readings).append(Reading(*r))
    events: list[Event] = []
    superseded_events: list[Event] = []
    for e in event_rows:
        if e.id in replacements_later or (entered_only and e.recorded_at > at):
            continue
        event = Event(id=e.id, time=e.time, kind=EventKind(e.kind), detail=e.detail,
                      recorded_at=e.recorded_at, by=e.by_name, data=e.data or {})
        (superseded_events if e.id in hidden else events).append(event)
    acknowledgements = tuple(
        Acknowledgement(flag_id=a.flag_id, time=a.time, action=a.action, note=a.note,
                        by=a.name)
        for a in ack_rows
    )
    record = SessionRecord(
        session_id=session_id, readings=tuple(readings), events=tuple(events),
        acknowledgements=acknowledgements,
    )
    return (record, Superseded(tuple(superseded), tuple(superseded_events)),
            tuple(corrections))


def load_records(connection: Connection,
                 session_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, SessionRecord]:
    """The records of these sessions as they stand now (every correction applied), with
    four queries: the effective entries, as :func:`load_record` reads them (who entered
    each, events' data and corrections' details left out: the rules do not need them)."""
    ids = list(session_ids)
    given = {"session_ids": ids}
    hidden = set(connection.scalars(queries.CORRECTED_IN_SESSIONS, given))
    readings: dict[uuid.UUID, list[Reading]] = {i: [] for i in ids}
    for row in connection.execute(queries.READINGS_OF_SESSIONS, given):
        if row.id not in hidden:
            readings[row.session_id].append(Reading(*row[1:]))
    events: dict[uuid.UUID, list[Event]] = {i: [] for i in ids}
    for row in connection.execute(queries.EVENTS_OF_SESSIONS, given):
        if row.id not in hidden:
            events[row.session_id].append(Event(id=row.id, time=row.time,
                                                kind=EventKind(row.kind), detail=row.detail,
                                                recorded_at=row.recorded_at))
    acks: dict[uuid.UUID, list[Acknowledgement]] = {i: [] for i in ids}
    for row in connection.execute(queries.ACKNOWLEDGEMENTS_OF_SESSIONS, given):
        acks[row.session_id].append(Acknowledgement(flag_id=row.flag_id, time=row.time,
                                                    action=row.action, note=row.note))
    return {i: SessionRecord(session_id=i, readings=tuple(readings[i]),
                             events=tuple(events[i]), acknowledgements=tuple(acks[i]))
            for i in ids}


# -- new rows, and what the audit trail keeps of them --------------------------------------


def reading_values(
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


def flag_values(session_id: uuid.UUID, flag: Flag, now: datetime) -> dict[str, Any]:
    """The columns of a new flag row."""
    return {"id": flag.id, "session_id": session_id, "key": flag.key,
            "measure": flag.measure.value, "severity": int(flag.severity), "time": flag.time,
            "message": flag.message, "reading_id": flag.reading_id, "raised_at": now}


def patient_values(patient: Patient) -> dict[str, Any]:
    return {"mrn": patient.mrn, "name": patient.name, "date_of_birth": patient.date_of_birth,
            "weight_kg": patient.weight_kg}


def session_values(session: TreatmentSession) -> dict[str, Any]:
    return {"time": session.time, "chair": session.chair, "profile": session.profile,
            "weight_kg": session.weight_kg, "planned_mg_per_kg": session.planned_mg_per_kg,
            "infusion_minutes": session.infusion_minutes, "dose_mg": session.dose_mg,
            "lot_number": session.lot_number, "source": session.source,
            "protocol_version": session.protocol_version,
            "protocol_version_id": session.protocol_version_id}


def row_values(row: ReadingRow | EventRow) -> dict[str, Any]:
    """What an audit entry keeps of a reading or event: its time and values."""
    if isinstance(row, ReadingRow):
        values = {name: getattr(row, name) for name in READING_FIELDS
                  if getattr(row, name) is not None}
        return {"time": row.time, "note": row.note, **values}
    return {"time": row.time, "kind": row.kind, "detail": row.detail}
