"""The statements the clinician's review finds sessions with (:mod:`monitor.service.review`).

A page of sessions is cut by a keyset — the last row's ``(time, id)`` — and filtered by
patient name or MRN, a time range and "flagged only"; each row then counts the flags of the
effective record (stored flags whose reading was not since voided or amended) and tells
whether a signature closed the session. All of it runs on indexes (``sessions (time, id)``,
``flags (session_id, severity)``, ``patients (name)``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, func, or_, select, tuple_

from monitor.clinical.domain import EventKind
from monitor.storage.queries import CORRECTIONS, EVENTS, FLAGS, PATIENTS, SESSIONS

#: Events that close a session with a signature.
SIGNED_EVENTS = (EventKind.DISCHARGE_SIGNED.value, EventKind.DISCHARGE_OVERRIDE.value)


def _not_corrected(session_id: Any, target_id: Any) -> ColumnElement[bool]:
    """No correction (void or amendment) of the entry ``target_id`` of ``session_id``."""
    return ~exists().where(and_(CORRECTIONS.c.session_id == session_id,
                                CORRECTIONS.c.target_id == target_id))


def effective_flags() -> Select[Any]:
    """Stored flags whose reading is still effective (not voided or amended)."""
    return select(FLAGS.c.session_id).where(
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
FLAG_COUNTS = (
    effective_flags()
    .add_columns(FLAGS.c.severity, func.count())
    .where(FLAGS.c.session_id.in_(bindparam("ids", expanding=True)))
    .group_by(FLAGS.c.session_id, FLAGS.c.severity)
)
#: Sessions among ``ids`` closed by a signature (a discharge sign-off or override) that was
#: not voided.
SIGNED = (
    select(EVENTS.c.session_id).distinct()
    .where(EVENTS.c.session_id.in_(bindparam("ids", expanding=True)),
           EVENTS.c.kind.in_(SIGNED_EVENTS),
           _not_corrected(EVENTS.c.session_id, EVENTS.c.id))
)
