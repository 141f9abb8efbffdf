"""The statements the clinician's review finds sessions with (:mod:`monitor.service.review`).

A page of sessions is cut by a keyset — the last row's ``(time, id)`` — and filtered by
patient name or MRN, a time range and "flagged only"; each row then counts its stored flags
(:data:`FLAGS_OF_SESSIONS`, counted by :func:`monitor.clinical.flag_counts.flag_counts`, the
one definition the course, the report and ``show --json`` count with too) and tells whether
a signature closed the session. All of it runs on indexes (``sessions (time, id)``,
``flags (session_id, severity)``, ``patients (name)``).

A patient's course reads every session of the patient in five statements, whatever their
number (:func:`course_records`): the sessions with their patient and protocol version, then
the corrections, readings, events and acknowledgements of all of them, each keyed by session
id (``IN`` the patient's sessions, on the ``session_id`` indexes). Each session's rows are
then made into its record exactly as :func:`monitor.storage.records.load_record` makes one.
When a correction or late entry may have changed the flags, a sixth statement reads the
stored flags of them all (:data:`COURSE_FLAGS`).
"""

from __future__ import annotations

import uuid
from collections import namedtuple
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    tuple_,
)

from monitor.clinical.domain import EventKind, Reading, SessionRecord
from monitor.storage import queries
from monitor.storage.queries import (
    ACKNOWLEDGEMENTS,
    CORRECTIONS,
    EVENTS,
    FLAGS,
    PATIENTS,
    READINGS,
    SESSIONS,
    STAFF,
)
from monitor.storage.records import (
    CorrectionInfo,
    SessionInfo,
    Superseded,
    record_of,
    session_info_of,
)

#: Events that close a session with a signature.
SIGNED_EVENTS = (EventKind.DISCHARGE_SIGNED.value, EventKind.DISCHARGE_OVERRIDE.value)


def _not_corrected(session_id: Any, target_id: Any) -> ColumnElement[bool]:
    """No correction (void or amendment) of the entry ``target_id`` of ``session_id``."""
    return ~exists().where(and_(CORRECTIONS.c.session_id == session_id,
                                CORRECTIONS.c.target_id == target_id))


def effective_flags() -> Select[Any]:
    """Stored flags that count (:func:`monitor.clinical.flag_counts.counted`: raised by a
    reading, not an overdue or silent-monitor reminder) whose reading is still effective
    (not voided or amended)."""
    return select(FLAGS.c.session_id).where(
        FLAGS.c.reading_id.is_not(None),
        _not_corrected(FLAGS.c.session_id, FLAGS.c.reading_id))


def patients_matching(needle: str) -> Select[Any]:
    """Patients whose name or MRN holds ``needle`` (lower case), wildcards taken literally."""
    pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return select(PATIENTS.c.id).where(or_(
        func.lower(PATIENTS.c.name).like(pattern, escape="\\"),
        func.lower(PATIENTS.c.mrn).like(pattern, escape="\\"),
    ))


def session_conditions(*, after: tuple[datetime, uuid.UUID] | None, start: datetime | None,
                       end: datetime | None, needle: str, flagged_only: bool) -> list[Any]:
    """Sessions older than the keyset ``after``, timed from ``start`` to before ``end``, of
    a patient matching ``needle`` (when given), with a flag of the effective record."""
    conditions: list[Any] = []
    if after is not None:
        conditions.append(tuple_(SESSIONS.c.time, SESSIONS.c.id) < tuple_(*after))
    if start is not None:
        conditions.append(SESSIONS.c.time >= start)
    if end is not None:
        conditions.append(SESSIONS.c.time < end)
    if needle:
        conditions.append(SESSIONS.c.patient_id.in_(patients_matching(needle)))
    if flagged_only:
        conditions.append(exists(effective_flags().where(
            FLAGS.c.session_id == SESSIONS.c.id)))
    return conditions


def session_page(conditions: list[Any], limit: int) -> Select[Any]:
    """Up to ``limit`` sessions meeting ``conditions``, newest first, with their patient."""
    return (
        select(SESSIONS.c.id, SESSIONS.c.patient_id, PATIENTS.c.mrn, PATIENTS.c.name,
               SESSIONS.c.time, SESSIONS.c.chair, SESSIONS.c.profile)
        .join_from(SESSIONS, PATIENTS, PATIENTS.c.id == SESSIONS.c.patient_id)
        .where(*conditions)
        .order_by(SESSIONS.c.time.desc(), SESSIONS.c.id.desc())
        .limit(limit)
    )


#: Flags of the effective record of the sessions among ``ids``, by session and tier.
#: The stored flags of the sessions ``ids``, each with whether its reading was since voided or
#: amended (``withdrawn``): what :func:`monitor.clinical.flag_counts.flag_counts` counts.
FLAGS_OF_SESSIONS = (
    select(FLAGS.c.session_id, FLAGS.c.id, FLAGS.c.key, FLAGS.c.measure, FLAGS.c.severity,
           FLAGS.c.time, FLAGS.c.message, FLAGS.c.reading_id,
           ~_not_corrected(FLAGS.c.session_id, FLAGS.c.reading_id).label("withdrawn"))
    .where(FLAGS.c.session_id.in_(bindparam("ids", expanding=True)))
)
#: Sessions among ``ids`` closed by a signature (a discharge sign-off or override) that was
#: not voided.
SIGNED = (
    select(EVENTS.c.session_id).distinct()
    .where(EVENTS.c.session_id.in_(bindparam("ids", expanding=True)),
           EVENTS.c.kind.in_(SIGNED_EVENTS),
           _not_corrected(EVENTS.c.session_id, EVENTS.c.id))
)


# -- a patient's course: every session's record, a fixed number of statements -----------------

#: The ids of the patient ``patient_id``'s sessions: what the course's statements are keyed by.
_PATIENT_SESSION_IDS = select(SESSIONS.c.id).where(
    SESSIONS.c.patient_id == bindparam("patient_id"))
_OF_PATIENT = {
    table: table.c.session_id.in_(_PATIENT_SESSION_IDS)
    for table in (CORRECTIONS, READINGS, EVENTS, ACKNOWLEDGEMENTS)
}
#: The patient's sessions with their patient and protocol version
#: (:data:`monitor.storage.queries.SESSION_WITH_PATIENT`'s columns), oldest first.
COURSE_SESSIONS = (
    queries.SESSIONS_WITH_PATIENT
    .where(SESSIONS.c.patient_id == bindparam("patient_id"))
    .order_by(SESSIONS.c.time, SESSIONS.c.id)
)
#: The rows of ``CORRECTIONS_OF_SESSION``, ``READINGS_AS_OF``, ``EVENTS_AS_OF`` and
#: ``ACKNOWLEDGEMENTS_AS_OF`` (:mod:`monitor.storage.queries`) for all the patient's sessions
#: at once, the same columns followed by the session id, in the same order within a session.
COURSE_CORRECTIONS = (
    select(*queries.CORRECTIONS_OF_SESSION.selected_columns, CORRECTIONS.c.session_id)
    .join_from(CORRECTIONS, STAFF, STAFF.c.id == CORRECTIONS.c.entered_by)
    .where(_OF_PATIENT[CORRECTIONS])
    .order_by(CORRECTIONS.c.time)
)
COURSE_READINGS = (
    select(*queries.READINGS_AS_OF.selected_columns, READINGS.c.session_id)
    .outerjoin_from(READINGS, STAFF, STAFF.c.id == READINGS.c.entered_by)
    .where(_OF_PATIENT[READINGS], READINGS.c.time <= bindparam("at"))
    .order_by(READINGS.c.time, READINGS.c.recorded_at)
)
COURSE_EVENTS = (
    select(*queries.EVENTS_AS_OF.selected_columns, EVENTS.c.session_id)
    .outerjoin_from(EVENTS, STAFF, STAFF.c.id == EVENTS.c.entered_by)
    .where(_OF_PATIENT[EVENTS], EVENTS.c.time <= bindparam("at"))
    .order_by(EVENTS.c.time, EVENTS.c.recorded_at)
)
COURSE_ACKNOWLEDGEMENTS = (
    select(*queries.ACKNOWLEDGEMENTS_AS_OF.selected_columns, ACKNOWLEDGEMENTS.c.session_id)
    .join_from(ACKNOWLEDGEMENTS, STAFF, STAFF.c.id == ACKNOWLEDGEMENTS.c.entered_by)
    .where(_OF_PATIENT[ACKNOWLEDGEMENTS], ACKNOWLEDGEMENTS.c.time <= bindparam("at"))
    .order_by(ACKNOWLEDGEMENTS.c.time)
)
#: The stored flags of readings of all the patient's sessions, raised by ``at``
#: (:data:`monitor.storage.queries.STORED_FLAGS`'s columns, then the session id).
COURSE_FLAGS = (
    select(*queries.STORED_FLAGS.selected_columns, FLAGS.c.session_id)
    .where(FLAGS.c.session_id.in_(_PATIENT_SESSION_IDS), FLAGS.c.reading_id.is_not(None),
           FLAGS.c.time <= bindparam("at"))
    .order_by(FLAGS.c.time, FLAGS.c.id)
)
_COURSE_ENTRIES = (COURSE_CORRECTIONS, COURSE_READINGS, COURSE_EVENTS, COURSE_ACKNOWLEDGEMENTS)

#: A reading row without its session id: what ``READINGS_AS_OF`` gives, by name and in order.
_ReadingRow = namedtuple("_ReadingRow", [f.name for f in fields(Reading)])  # type: ignore[misc]
_READING_WIDTH = len(fields(Reading))

CourseRecord = tuple[SessionInfo, SessionRecord, Superseded, tuple[CorrectionInfo, ...]]


def course_records(connection: Connection, patient_id: uuid.UUID,
                   at: datetime) -> list[CourseRecord]:
    """Every session of the patient, oldest first, with its record as it stood at ``at``
    (what :func:`monitor.storage.records.session_info` and
    :func:`~monitor.storage.records.load_record` give for each), in five statements."""
    infos = [session_info_of(row, row.id) for row in connection.execute(
        COURSE_SESSIONS, {"patient_id": patient_id})]
    if not infos:
        return []
    params = {"patient_id": patient_id, "at": at}
    # Rows of each session, by kind of entry, in the statements' order.
    rows: dict[uuid.UUID, list[list[Any]]] = {info.id: [[], [], [], []] for info in infos}
    for kind, statement in enumerate(_COURSE_ENTRIES):
        reading = statement is COURSE_READINGS
        for row in connection.execute(statement, params):
            # A session begun after the first statement is not in the course.
            of_session = rows.get(row.session_id)
            if of_session is not None:
                of_session[kind].append(_ReadingRow._make(row[:_READING_WIDTH]) if reading
                                        else row)
    return [(info, *record_of(rows[info.id], info.id, at)) for info in infos]
