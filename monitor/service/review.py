"""The clinician's review: finding sessions across the clinic, and a patient's course.

:func:`find_sessions` lists sessions newest first, filtered by patient name or MRN, a date
range and "flagged only", one page at a time. Pages are cut by a keyset — the last row's
``(time, id)`` — rather than an offset, so a page costs the same however deep the clinician
scrolls, and a session saved meanwhile neither repeats a row nor hides one. The filters and
the per-row flag counts run on indexes (``sessions (time, id)``, ``flags (session_id,
severity)``, ``patients (name)``), so a page is a few milliseconds at clinic scale.

Flags are counted by :func:`monitor.clinical.flag_counts.flag_counts`, the one definition
the PDF report and ``show --json`` count with too: the flags readings raised, by tier, less
those withdrawn because their reading was since voided or amended. Reminders of an overdue
reading are not counted; they concern the chair, not the patient. The list counts the
stored flags (``flags`` rows) without evaluating each session; the course counts its views'.

:func:`course_of` turns a patient's session views into one :class:`CourseRow` per session —
dose, blood-pressure peak and rise over the baseline, the deepest dissociation and sedation,
flags by tier, how long after the infusion stopped the patient was ready to go home, and the
PHQ-9 and GAD-7 answered before the session, the response the treatment is for. The clinical
facts come from :mod:`monitor.clinical.rules` and :mod:`monitor.clinical.discharge`; nothing is
re-derived here. :func:`course_views` reads all of a patient's sessions in a fixed number of
statements, however many there are, and evaluates each on its own, exactly as loading it alone
would.

The database side is reached through :class:`Review` (``service.review``: ``find_sessions``,
``course``), which checks the reviewer's permission first
(:attr:`monitor.clinical.permissions.Action.REVIEW`: clinicians).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection

from monitor.clinical.domain import EventKind, Flag, Measure, Reading, Severity
from monitor.clinical.flag_counts import FlagCounts, flag_counts
from monitor.clinical.permissions import Action
from monitor.clinical.rules import (
    baseline,
    baseline_readings,
    infusion_started_at,
    infusion_stopped_at,
)
from monitor.service.evaluation import evaluate
from monitor.service.guard import Guard
from monitor.service.kept_flags import kept_flags, needs_stored_flags, stored_flag
from monitor.service.session_protocols import SessionProtocols
from monitor.service.views import NotFoundError, PatientInfo, SessionView
from monitor.storage import review_queries
from monitor.storage.model import Patient
from monitor.storage.records import patient_info

#: The most rows one page may hold.
MAX_PAGE = 500


@dataclass(frozen=True)
class SessionQuery:
    """What the clinician looks for; every part optional.

    ``text`` matches a patient's name or MRN anywhere, ignoring case. ``date_from`` and
    ``date_to`` are days on the clinic's (the machine's local) calendar, both included.
    """

    text: str = ""
    date_from: date | None = None
    date_to: date | None = None
    flagged_only: bool = False


@dataclass(frozen=True, order=True)
class Cursor:
    """Where a page ended: the last row's session time and id (newest-first order)."""

    time: datetime
    session_id: uuid.UUID


@dataclass(frozen=True)
class SessionRow:
    session_id: uuid.UUID
    patient_id: uuid.UUID
    mrn: str
    patient_name: str | None
    time: datetime
    chair: str
    profile: str
    #: Flags counted by tier (:class:`Severity` value → count;
    #: :func:`monitor.clinical.flag_counts.flag_counts`); tiers without flags are left out.
    flags_by_tier: dict[int, int]
    worst: Severity | None
    #: Discharge signed, or overridden by a clinician.
    signed: bool


@dataclass(frozen=True)
class Page:
    rows: list[SessionRow]
    #: Pass as ``after`` for the next page; ``None`` on the last page.
    next: Cursor | None


@dataclass(frozen=True)
class CourseRow:
    """One session of a patient's course; ``None`` wherever the record does not say."""

    session_id: uuid.UUID
    time: datetime
    dose_mg_per_kg: float | None
    peak_sbp: int | None
    peak_dbp: int | None
    #: Peak minus the baseline value (mmHg), from the infusion start on.
    sbp_rise: int | None
    dbp_rise: int | None
    peak_cadss6: int | None
    lowest_moaas: int | None
    flags_by_tier: dict[int, int]
    #: Minutes from the infusion stop to the moment every discharge criterion but the
    #: minimum stay held (``would_have_been_ready_at``).
    minutes_to_ready: float | None
    #: Minutes from the infusion stop to the discharge (signed or overridden), beside the
    #: would-have-been-ready figure: a patient ready at 12 min still stays the minimum time.
    minutes_to_discharge: float | None
    #: Answered before the infusion started (at check-in).
    phq9: int | None
    gad7: int | None
    #: The dose the patient received (mg), once the infusion stopped; ``stopped_early``
    #: when it stopped before its planned minutes, with the dose the nurse recorded.
    dose_given_mg: float | None = None
    stopped_early: bool = False
    #: The dose planned at check-in (mg), and whether the infusion was started: a session
    #: started but with no stop recorded received a dose the course cannot leave blank.
    dose_planned_mg: float | None = None
    infusion_started: bool = False
    #: Of the flags counted, those still waiting for an acknowledgement; and the flags
    #: withdrawn with their voided or amended readings (not counted by tier).
    unacknowledged_flags: int = 0
    withdrawn_flags: int = 0


@dataclass(frozen=True)
class Course:
    """A patient's sessions, oldest first: the table and the charts across sessions."""

    patient: PatientInfo
    rows: list[CourseRow] = field(default_factory=list)

    def series(self, name: str) -> list[tuple[datetime, float]]:
        """``(session time, value)`` of one :class:`CourseRow` column, sessions without a
        value left out: the points of a chart across sessions."""
        points: list[tuple[datetime, float]] = []
        for row in self.rows:
            value = getattr(row, name)
            if value is not None:
                points.append((row.time, float(value)))
        return points


# -- finding sessions --------------------------------------------------------------------------


def find_sessions(
    connection: Connection,
    query: SessionQuery,
    *,
    after: Cursor | None = None,
    limit: int = 50,
) -> Page:
    """One page of the sessions ``query`` matches, newest first, after ``after``."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be from 1 to {MAX_PAGE}, not {limit}")
    statement = review_queries.session_page(_conditions(query, after), limit + 1)
    found = list(connection.execute(statement))
    more = len(found) > limit
    found = found[:limit]
    ids = [row.id for row in found]
    counts = stored_flag_counts(connection, ids)
    signed = _signed(connection, ids)
    rows = [
        SessionRow(
            session_id=row.id, patient_id=row.patient_id, mrn=row.mrn, patient_name=row.name,
            time=row.time, chair=row.chair, profile=row.profile,
            flags_by_tier=dict(counts.get(row.id, FlagCounts()).by_tier),
            worst=counts.get(row.id, FlagCounts()).worst,
            signed=row.id in signed,
        )
        for row in found
    ]
    last = rows[-1] if rows else None
    cursor = Cursor(last.time, last.session_id) if more and last is not None else None
    return Page(rows=rows, next=cursor)


def _conditions(query: SessionQuery, after: Cursor | None) -> list[Any]:
    return review_queries.session_conditions(
        after=(after.time, after.session_id) if after is not None else None,
        start=_day_start(query.date_from) if query.date_from is not None else None,
        end=_day_start(query.date_to + timedelta(days=1)) if query.date_to is not None else None,
        needle=query.text.strip().lower(), flagged_only=query.flagged_only)


def _day_start(day: date) -> datetime:
    """Local midnight at the start of ``day``, as an aware datetime."""
    return datetime.combine(day, time()).astimezone()


def stored_flag_counts(connection: Connection,
                       session_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, FlagCounts]:
    """The stored flags of each session counted (:func:`flag_counts`); sessions without a
    stored flag left out. Only the counts by tier and of the withdrawn ones are known here:
    whether a flag is still open is the rules' to say, on the session's view."""
    raised: dict[uuid.UUID, list[Flag]] = {}
    withdrawn: dict[uuid.UUID, list[Flag]] = {}
    if session_ids:
        for row in connection.execute(review_queries.FLAGS_OF_SESSIONS,
                                      {"ids": list(session_ids)}):
            flag = Flag(id=row.id, key=row.key, measure=Measure(row.measure),
                        severity=Severity(row.severity), time=row.time, message=row.message,
                        reading_id=row.reading_id)
            raised.setdefault(row.session_id, []).append(flag)
            if row.withdrawn:
                withdrawn.setdefault(row.session_id, []).append(flag)
    return {session_id: flag_counts(flags, withdrawn.get(session_id, ()))
            for session_id, flags in raised.items()}


def _signed(connection: Connection, session_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    if not session_ids:
        return set()
    return set(connection.scalars(review_queries.SIGNED, {"ids": list(session_ids)}))


# -- course of treatment -----------------------------------------------------------------------


def course_of(patient: PatientInfo, views: Iterable[SessionView]) -> Course:
    """The course table of ``patient`` from its sessions' views (any order), oldest first."""
    ordered = sorted(views, key=lambda v: (v.info.time, v.info.id))
    return Course(patient=patient, rows=[course_row(v) for v in ordered])


def course_row(view: SessionView) -> CourseRow:
    """One session's line of the course, from its view (the rules' and discharge's facts)."""
    record = view.record
    base = baseline(record)
    started = infusion_started_at(record)
    treated = [r for r in record.readings if started is None or r.time >= started]
    before = baseline_readings(record)
    peak_sbp = _extreme(treated, "sbp", max)
    peak_dbp = _extreme(treated, "dbp", max)
    stopped = infusion_stopped_at(record)
    ready_at = view.discharge.would_have_been_ready_at
    minutes = ((ready_at - stopped).total_seconds() / 60
               if ready_at is not None and stopped is not None else None)
    discharged = [e.time for e in record.events
                  if e.kind in (EventKind.DISCHARGE_SIGNED, EventKind.DISCHARGE_OVERRIDE)]
    left = ((min(discharged) - stopped).total_seconds() / 60
            if discharged and stopped is not None else None)
    counts = view.flag_counts
    delivered = view.dose_delivered
    return CourseRow(
        dose_given_mg=delivered.dose_mg if delivered is not None else None,
        stopped_early=delivered is not None and delivered.early,
        dose_planned_mg=view.info.dose_mg,
        infusion_started=started is not None,
        session_id=view.info.id,
        time=view.info.time,
        dose_mg_per_kg=view.info.planned_mg_per_kg,
        peak_sbp=peak_sbp,
        peak_dbp=peak_dbp,
        sbp_rise=_rise(peak_sbp, base.sbp if base is not None else None),
        dbp_rise=_rise(peak_dbp, base.dbp if base is not None else None),
        peak_cadss6=_extreme(record.readings, "cadss6", max),
        lowest_moaas=_extreme(record.readings, "moaas", min),
        flags_by_tier=dict(counts.by_tier),
        unacknowledged_flags=counts.unacknowledged,
        withdrawn_flags=counts.withdrawn,
        minutes_to_ready=minutes,
        minutes_to_discharge=left,
        phq9=_last(before, "phq9"),
        gad7=_last(before, "gad7"),
    )


def _extreme(readings: Iterable[Reading], name: str,
             pick: Callable[[list[int]], int]) -> int | None:
    values = [v for v in (getattr(r, name) for r in readings) if v is not None]
    return pick(values) if values else None


def _rise(peak: int | None, base: int | None) -> int | None:
    return peak - base if peak is not None and base is not None else None


def _last(readings: Sequence[Reading], name: str) -> int | None:
    return next((v for v in (getattr(r, name) for r in reversed(readings)) if v is not None),
                None)


# -- the review part of the service ------------------------------------------------------------


class Review:
    """The clinician's review, one read each, after the reviewer's permission is checked."""

    def __init__(self, guard: Guard, protocols: SessionProtocols) -> None:
        self.guard = guard
        self.store = guard.store
        self.clock = guard.clock
        self.protocols = protocols

    def find_sessions(
        self,
        query: SessionQuery,
        *,
        by: uuid.UUID,
        after: Cursor | None = None,
        limit: int = 50,
    ) -> Page:
        """One page of the clinic's sessions matching ``query``, newest first (clinicians).

        Pass the page's ``next`` as ``after`` for the following page.
        """
        self.guard.require(by, Action.REVIEW)
        with self.store.read() as db:
            return find_sessions(db.connection(), query, after=after, limit=limit)

    def course(self, patient_id: uuid.UUID, *, by: uuid.UUID) -> Course:
        """The patient's course of treatment, one row per session, oldest first (clinicians)."""
        self.guard.require(by, Action.REVIEW, patient_id=patient_id)
        at = self.clock.now()
        with self.store.read() as db:
            connection = db.connection()
            patient = db.get(Patient, patient_id)
            if patient is None:
                raise NotFoundError(f"no patient {patient_id}")
            views = course_views(connection, self.protocols, patient_id, at)
            return course_of(patient_info(patient), views)


def course_views(connection: Connection, protocols: SessionProtocols, patient_id: uuid.UUID,
                 at: datetime) -> list[SessionView]:
    """The views of the patient's sessions as they stood at ``at``, oldest first: every
    session's rows read together in a fixed number of statements
    (:func:`monitor.storage.review_queries.course_records`), then each session evaluated
    on its own, as loading it would (:func:`monitor.service.evaluation.evaluate`)."""
    loaded = review_queries.course_records(connection, patient_id, at)
    judged_by = protocols.protocols_of(connection, [info for info, *_ in loaded])
    views = [evaluate(info=info, protocol=protocol, record=record, at=at,
                      superseded=superseded, corrections=corrections)
             for (info, record, superseded, corrections), protocol in zip(
                 loaded, judged_by, strict=True)]
    if not any(needs_stored_flags(v.record, superseded)
               for v, (_, _, superseded, _) in zip(views, loaded, strict=True)):
        return views
    stored: dict[uuid.UUID, list[Flag]] = {}
    for row in connection.execute(review_queries.COURSE_FLAGS,
                                  {"patient_id": patient_id, "at": at}):
        stored.setdefault(row.session_id, []).append(stored_flag(row))
    return [replace(view, superseded_flags=kept_flags(
                stored.get(view.info.id, ()), raised=view.flags, record=view.record,
                superseded=superseded, corrections=corrections, at=at))
            for view, (_, _, superseded, corrections) in zip(views, loaded, strict=True)]

