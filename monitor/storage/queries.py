"""The statements the record is read and written with, built once at import.

The paths a tablet runs all day — listing a patient's sessions, loading a session, saving a
reading — use SQL Core statements with bound parameters, on the session's connection:
building statements per call and going through the ORM's unit of work cost several times
what the database itself spends on those rows. The table handles are here too, so that every
statement names a table the same way.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    Connection,
    Select,
    String,
    Table,
    bindparam,
    func,
    literal,
    select,
    text,
    type_coerce,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from monitor.clinical.domain import Reading
from monitor.clinical.signing import CLOSING_EVENTS
from monitor.storage.model import Acknowledgement as AckRow
from monitor.storage.model import (
    Base,
    Correction,
    DeviceReading,
    EventRow,
    FeedBinding,
    FeedDevice,
    FlagRow,
    Patient,
    ProtocolVersion,
    ReadingRow,
    Signature,
    Staff,
    TreatmentSession,
)


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


SESSIONS = _table(TreatmentSession)
PATIENTS = _table(Patient)
READINGS = _table(ReadingRow)
EVENTS = _table(EventRow)
ACKNOWLEDGEMENTS = _table(AckRow)
CORRECTIONS = _table(Correction)
FLAGS = _table(FlagRow)
STAFF = _table(Staff)
VERSIONS = _table(ProtocolVersion)
SIGNATURES = _table(Signature)
DEVICE_READINGS = _table(DeviceReading)
FEED_BINDINGS = _table(FeedBinding)
FEED_DEVICES = _table(FeedDevice)

_READING_COUNTS = (
    select(READINGS.c.session_id, func.count().label("n"))
    .join(SESSIONS, SESSIONS.c.id == READINGS.c.session_id)
    .where(SESSIONS.c.patient_id == bindparam("patient_id"))
    .group_by(READINGS.c.session_id)
    .subquery()
)
#: A patient's sessions, newest first, with how many readings each holds.
PATIENT_SESSIONS = (
    select(SESSIONS.c.id, SESSIONS.c.time, SESSIONS.c.chair, SESSIONS.c.profile,
           SESSIONS.c.dose_mg, SESSIONS.c.planned_mg_per_kg,
           func.coalesce(_READING_COUNTS.c.n, 0))
    .outerjoin(_READING_COUNTS, _READING_COUNTS.c.session_id == SESSIONS.c.id)
    .where(SESSIONS.c.patient_id == bindparam("patient_id"))
    .order_by(SESSIONS.c.time.desc())
)

#: The session's own columns that :class:`monitor.storage.records.SessionInfo` holds.
SESSION_COLUMNS = (
    "id", "time", "chair", "profile", "weight_kg", "planned_mg_per_kg", "infusion_minutes",
    "bag_volume_ml", "dose_mg", "rate_mg_per_min", "pump_ml_per_h", "lot_number",
    "concomitant_medications", "escort_name", "source", "entered_by", "protocol_version_id",
)
#: The patient's own limits a session is judged by: those it started with (the patient's now
#: for a row written without them).
_SESSION_LIMITS = func.coalesce(SESSIONS.c.limit_overrides, PATIENTS.c.limit_overrides,
                                type_=SESSIONS.c.limit_overrides.type)

#: The monitor bound to the session's chair now, and its last message (NULL: none bound,
#: or it never sent): the session's view shows the monitor's state from them.
_CHAIR_MONITOR = (FEED_BINDINGS.c.chair == SESSIONS.c.chair) & FEED_BINDINGS.c.unbound_at.is_(None)
_MONITOR_DEVICE = (select(FEED_BINDINGS.c.device_key).where(_CHAIR_MONITOR)
                   .order_by(FEED_BINDINGS.c.bound_at.desc()).limit(1)
                   .scalar_subquery().label("monitor_device"))
_MONITOR_LAST_MESSAGE = (
    select(FEED_DEVICES.c.last_message_at)
    .join(FEED_BINDINGS, FEED_BINDINGS.c.device_key == FEED_DEVICES.c.key)
    .where(_CHAIR_MONITOR).order_by(FEED_BINDINGS.c.bound_at.desc()).limit(1)
    .scalar_subquery().label("monitor_last_message_at"))

#: Sessions' columns, their patient's, their protocol version's (the label the stored
#: version declares, else the one the session recorded) and their chair's monitor;
#: :data:`SESSION_WITH_PATIENT` picks one.
SESSIONS_WITH_PATIENT = (
    select(
        *(SESSIONS.c[name] for name in SESSION_COLUMNS),
        PATIENTS.c.id.label("patient_id"), PATIENTS.c.mrn,
        PATIENTS.c.name.label("patient_name"), PATIENTS.c.date_of_birth,
        PATIENTS.c.weight_kg.label("patient_weight_kg"), PATIENTS.c.limit_overrides,
        _SESSION_LIMITS.label("session_limit_overrides"),
        STAFF.c.name.label("entered_by_name"),
        func.coalesce(VERSIONS.c.version, SESSIONS.c.protocol_version)
        .label("protocol_version"),
        func.coalesce(VERSIONS.c.hash, "").label("protocol_hash"),
        _MONITOR_DEVICE, _MONITOR_LAST_MESSAGE,
    )
    .join(PATIENTS, PATIENTS.c.id == SESSIONS.c.patient_id)
    .outerjoin(STAFF, STAFF.c.id == SESSIONS.c.entered_by)
    .outerjoin(VERSIONS, VERSIONS.c.id == SESSIONS.c.protocol_version_id)
)
SESSION_WITH_PATIENT = SESSIONS_WITH_PATIENT.where(SESSIONS.c.id == bindparam("session_id"))

#: All of a session's corrections: those made by the moment loaded apply, later ones only
#: keep their amending rows out of the record.
CORRECTIONS_OF_SESSION = (
    select(CORRECTIONS.c.id, CORRECTIONS.c.time, CORRECTIONS.c.target_kind,
           CORRECTIONS.c.target_id, CORRECTIONS.c.action, CORRECTIONS.c.replacement_id,
           CORRECTIONS.c.reason, STAFF.c.name)
    .join(STAFF, STAFF.c.id == CORRECTIONS.c.entered_by)
    .where(CORRECTIONS.c.session_id == bindparam("session_id"))
    .order_by(CORRECTIONS.c.time)
)


class ItemAnswers(TypeDecorator[tuple[int, ...]]):
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
_ENTERED_BY_NAME = func.coalesce(STAFF.c.name, "").label("by_name")


#: The monitor a reading was filed from (its device reading's), NULL for a typed one.
_DEVICE_OF_READING = (
    select(DEVICE_READINGS.c.device_key)
    .where(DEVICE_READINGS.c.reading_id == READINGS.c.id)
    .scalar_subquery().label("device")
)


def reading_columns(*, named: bool = True) -> list[Any]:
    """One column per field of :class:`Reading`, in order, so that a row makes a Reading
    positionally (by far the cheapest way to build one). ``named``: who entered it, by
    name (the statement then joins the staff); else an empty name, for the rules alone."""
    columns: list[Any] = []
    for name in (f.name for f in fields(Reading)):
        if name == "by":
            columns.append(_ENTERED_BY_NAME if named else literal("").label(name))
        elif name == "device":
            columns.append(_DEVICE_OF_READING)
        elif name.endswith("_items"):
            columns.append(type_coerce(READINGS.c[name], ItemAnswers).label(name))
        else:
            columns.append(READINGS.c[name])
    return columns


READINGS_AS_OF = (
    select(*reading_columns())
    .outerjoin(STAFF, STAFF.c.id == READINGS.c.entered_by)
    .where(READINGS.c.session_id == bindparam("session_id"),
           READINGS.c.time <= bindparam("at"))
    .order_by(READINGS.c.time, READINGS.c.recorded_at)
)
#: A session's readings dated after ``after`` and not voided or amended, in the record's
#: order: those other tablets saved since this one last evaluated the session, and its own.
READINGS_AFTER = (
    select(*reading_columns())
    .outerjoin(STAFF, STAFF.c.id == READINGS.c.entered_by)
    .where(READINGS.c.session_id == bindparam("session_id"),
           READINGS.c.time > bindparam("after"),
           READINGS.c.id.not_in(select(CORRECTIONS.c.target_id).where(
               CORRECTIONS.c.session_id == bindparam("session_id"))))
    .order_by(READINGS.c.time, READINGS.c.recorded_at)
)
EVENTS_AS_OF = (
    select(EVENTS.c.id, EVENTS.c.time, EVENTS.c.kind, EVENTS.c.detail,
           EVENTS.c.recorded_at, _ENTERED_BY_NAME, EVENTS.c.data)
    .outerjoin(STAFF, STAFF.c.id == EVENTS.c.entered_by)
    .where(EVENTS.c.session_id == bindparam("session_id"), EVENTS.c.time <= bindparam("at"))
    .order_by(EVENTS.c.time, EVENTS.c.recorded_at)
)
ACKNOWLEDGEMENTS_AS_OF = (
    select(ACKNOWLEDGEMENTS.c.flag_id, ACKNOWLEDGEMENTS.c.time, ACKNOWLEDGEMENTS.c.action,
           ACKNOWLEDGEMENTS.c.note, STAFF.c.name)
    .join(STAFF, STAFF.c.id == ACKNOWLEDGEMENTS.c.entered_by)
    .where(ACKNOWLEDGEMENTS.c.session_id == bindparam("session_id"),
           ACKNOWLEDGEMENTS.c.time <= bindparam("at"))
    .order_by(ACKNOWLEDGEMENTS.c.time)
)


def _count_and_latest(table: Table) -> tuple[Any, Any]:
    of_session = table.c.session_id == bindparam("session_id")
    return (select(func.count()).where(of_session).scalar_subquery(),
            select(func.max(table.c.time)).where(of_session).scalar_subquery())


#: How many readings, events and corrections a session has, the latest time of each, and
#: whether the reading ``stamp`` is stored.
SHAPE = select(
    *_count_and_latest(READINGS), *_count_and_latest(EVENTS),
    *_count_and_latest(CORRECTIONS),
    select(READINGS.c.id).where(READINGS.c.id == bindparam("stamp")).exists(),
)
READING_BY_ID = (
    select(*reading_columns())
    .outerjoin(STAFF, STAFF.c.id == READINGS.c.entered_by)
    .where(READINGS.c.id == bindparam("reading_id"))
)

SIGNATURES_AS_OF = (
    select(SIGNATURES.c.id, SIGNATURES.c.meaning, SIGNATURES.c.signer_name,
           SIGNATURES.c.signer_role, SIGNATURES.c.signed_at, SIGNATURES.c.content_hash)
    .where(SIGNATURES.c.session_id == bindparam("session_id"),
           SIGNATURES.c.signed_at <= bindparam("at"))
    .order_by(SIGNATURES.c.signed_at)
)

FLAG_IDS = select(FLAGS.c.id).where(FLAGS.c.session_id == bindparam("session_id"))
#: Who signed each of the session's corrections that closed a critical flag: correction id
#: and the signer's name.
CORRECTION_SIGNERS = (
    select(SIGNATURES.c.record_id, SIGNATURES.c.signer_name)
    .where(SIGNATURES.c.session_id == bindparam("session_id"),
           SIGNATURES.c.record_kind == "correction")
)
#: The flags readings raised on the session and stored, raised by ``at``, in time order.
STORED_FLAGS = (
    select(FLAGS.c.id, FLAGS.c.key, FLAGS.c.measure, FLAGS.c.severity, FLAGS.c.time,
           FLAGS.c.message, FLAGS.c.reading_id)
    .where(FLAGS.c.session_id == bindparam("session_id"), FLAGS.c.reading_id.is_not(None),
           FLAGS.c.time <= bindparam("at"))
    .order_by(FLAGS.c.time, FLAGS.c.id)
)

#: The session's discharge sign-off, if one stands (not voided): it closes the session.
CLOSING_OF_SESSION = (
    select(EVENTS.c.recorded_at, EVENTS.c.kind, STAFF.c.name, EVENTS.c.id)
    .join(STAFF, STAFF.c.id == EVENTS.c.entered_by)
    .where(EVENTS.c.session_id == bindparam("session_id"),
           EVENTS.c.kind.in_([k.value for k in CLOSING_EVENTS]),
           EVENTS.c.id.not_in(select(CORRECTIONS.c.target_id).where(
               CORRECTIONS.c.session_id == bindparam("session_id"))))
    .order_by(EVENTS.c.recorded_at)
    .limit(1)
)

#: Stores a reading unless one with its id is stored already: a retried save whose first
#: attempt did commit. One statement instead of a look-up before every insert.
#: Built for the database in use on first save: importing the PostgreSQL dialect (and
#: asyncio with it) on a tablet that only ever opens SQLite would slow every start-up.
_INSERT_READING: dict[str, Any] = {}


def insert_reading(dialect_name: str) -> Any:
    """The insert of a reading row that returns its id, or nothing when it is stored."""
    statement = _INSERT_READING.get(dialect_name)
    if statement is None:
        statement = insert_once(dialect_name, READINGS).returning(READINGS.c.id)
        _INSERT_READING[dialect_name] = statement
    return statement


#: The tables :meth:`monitor.service.clinic.ClinicService.stored` asks about, by kind of entry.
STORED_KINDS: dict[str, Table] = {
    "reading": READINGS, "event": EVENTS, "acknowledgement": ACKNOWLEDGEMENTS,
    "correction": CORRECTIONS, "session": SESSIONS, "flag": FLAGS,
}

_INSERT_ONCE: dict[tuple[str, str], Any] = {}


def insert_once(dialect_name: str, table: Table) -> Any:
    """An insert that stores nothing where a row with the same id is stored already."""
    statement = _INSERT_ONCE.get((dialect_name, table.name))
    if statement is None:
        dialect = importlib.import_module(f"sqlalchemy.dialects.{dialect_name}")
        statement = dialect.insert(table).on_conflict_do_nothing(index_elements=[table.c.id])
        _INSERT_ONCE[(dialect_name, table.name)] = statement
    return statement


def take_turns(connection: Connection, key: str) -> None:
    """Hold, until the transaction ends, PostgreSQL's advisory lock named by ``key``, so
    that two tablets doing the same once-only thing take turns. SQLite has one writer."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


# -- many sessions at once (the what-if replay) ---------------------------------------------


def sessions_started(since: datetime | None, until: datetime | None) -> Select[Any]:
    """The sessions begun in ``[since, until)``, oldest first, with their profile, pinned
    version and the patient's own limits it started with."""
    query = (select(SESSIONS.c.id, SESSIONS.c.time, SESSIONS.c.profile,
                    SESSIONS.c.protocol_version_id,
                    _SESSION_LIMITS.label("limit_overrides"))
             .join(PATIENTS, PATIENTS.c.id == SESSIONS.c.patient_id)
             .order_by(SESSIONS.c.time, SESSIONS.c.id))
    if since is not None:
        query = query.where(SESSIONS.c.time >= since)
    if until is not None:
        query = query.where(SESSIONS.c.time < until)
    return query


_IN_SESSIONS: BindParameter[Any] = bindparam("session_ids", expanding=True)
#: Readings, events and acknowledgements of the sessions ``session_ids``, each row led by its
#: session; who entered them does not matter to the rules (no staff join).
READINGS_OF_SESSIONS = (
    select(READINGS.c.session_id, *reading_columns(named=False))
    .where(READINGS.c.session_id.in_(_IN_SESSIONS))
    .order_by(READINGS.c.time, READINGS.c.recorded_at)
)
EVENTS_OF_SESSIONS = (
    select(EVENTS.c.session_id, EVENTS.c.id, EVENTS.c.time, EVENTS.c.kind, EVENTS.c.detail,
           EVENTS.c.recorded_at)
    .where(EVENTS.c.session_id.in_(_IN_SESSIONS))
    .order_by(EVENTS.c.time, EVENTS.c.recorded_at)
)
ACKNOWLEDGEMENTS_OF_SESSIONS = (
    select(ACKNOWLEDGEMENTS.c.session_id, ACKNOWLEDGEMENTS.c.flag_id, ACKNOWLEDGEMENTS.c.time,
           ACKNOWLEDGEMENTS.c.action, ACKNOWLEDGEMENTS.c.note)
    .where(ACKNOWLEDGEMENTS.c.session_id.in_(_IN_SESSIONS))
    .order_by(ACKNOWLEDGEMENTS.c.time)
)
#: The entries of the sessions ``session_ids`` that a correction took out of the record.
CORRECTED_IN_SESSIONS = select(CORRECTIONS.c.target_id).where(
    CORRECTIONS.c.session_id.in_(_IN_SESSIONS))
