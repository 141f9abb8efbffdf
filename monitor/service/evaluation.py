"""Flags and discharge judged on a record, and the evaluations kept between saves.

:func:`evaluate` turns a session's record as it stood at a moment into the
:class:`~monitor.service.views.SessionView` the screens show: the flags the rules raise, the
next reading due, the discharge assessment (as stored with the sign-off once signed).

:class:`Evaluations` keeps, per session, the evaluation the last save of a reading left
(:meth:`Evaluations.raise_flags`) and the record the last load read
(:meth:`Evaluations.load_evaluated`), so that a long session is not read and evaluated again
row by row on every save and refresh. The rows are counted first (:class:`_Shape`); rows are
only ever added, so the same counts mean the same rows.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection

from monitor.clinical.discharge import evaluate_discharge
from monitor.clinical.domain import (
    Acknowledgement,
    DischargeAssessment,
    Flag,
    Reading,
    SessionRecord,
    Severity,
)
from monitor.clinical.feed_health import feed_lost_flags
from monitor.clinical.latest_value import with_latest
from monitor.clinical.phases import readings_in_order
from monitor.clinical.protocol import Protocol
from monitor.clinical.rules import (
    FlagEvaluation,
    evaluate_flags,
    evaluate_flags_from,
    next_reading,
    session_phase,
)
from monitor.clinical.signing import SignOff, assessment_from, closing_event, entered_by, sign_off
from monitor.service.views import CorrectionInfo, SessionInfo, SessionView, Superseded
from monitor.storage import queries
from monitor.storage.batch import Statement, run_together
from monitor.storage.records import (
    acknowledgements,
    flag_values,
    load_record,
    record_of,
    record_statements,
)


def evaluate(
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
    # the bound monitor silent too long, now or in a silence noted since: one advisory each
    lost = feed_lost_flags(info.id, info.chair, info.monitor, record, protocol, at=at,
                           session_start=info.time)
    if lost:
        flags = tuple(sorted((*flags, *lost), key=lambda f: (not f.open, -f.severity, f.time)))
    flags = with_latest(flags, readings_in_order(record.as_of(at).readings))
    levels = evaluation.current_levels()
    upcoming = next_reading(record, protocol, at, evaluation=evaluation)
    signed = sign_off(record.as_of(at))
    if signed is None:
        discharge = evaluate_discharge(record, protocol, list(flags), at,
                                       escort_name=info.escort_name)
        assessed_at = None
    else:
        discharge, assessed_at = signed_assessment(info, protocol, record, signed)
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


def criticals_closed(view: SessionView, target_id: uuid.UUID, replacement: Reading | None,
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


def signed_assessment(info: SessionInfo, protocol: Protocol, record: SessionRecord,
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


class Evaluations:
    """The evaluations and records kept per session between saves and loads."""

    def __init__(self) -> None:
        self._tails: dict[uuid.UUID, _Tail] = {}  # see _reading_flags
        self._loaded: dict[uuid.UUID, _Loaded] = {}  # see load_evaluated
        #: Calls come from the app's database worker and from other threads (the screens
        #: still read in the GUI thread, a background drain): the kept entries are taken and
        #: put back under this lock, never held across a statement. An entry is taken
        #: (popped) by the one call that uses it, so two calls never extend the same one.
        self._lock = threading.Lock()

    def forget(self, session_id: uuid.UUID) -> None:
        """Drop what is kept of ``session_id`` (its next load reads it whole): after a
        transaction that failed, the kept record may hold rows that were never committed."""
        with self._lock:
            self._loaded.pop(session_id, None)

    def _keep(self, kept: dict[uuid.UUID, Any], session_id: uuid.UUID, value: Any) -> None:
        """Keep ``value`` for ``session_id``, forgetting the oldest beyond the bound."""
        with self._lock:
            kept.pop(session_id, None)
            while len(kept) >= _TAILS_KEPT:
                del kept[next(iter(kept))]
            kept[session_id] = value

    def raise_flags(self, connection: Connection, session_id: uuid.UUID, protocol: Protocol,
                    now: datetime, *, appended: uuid.UUID | None = None) -> tuple[Flag, ...]:
        """Evaluate the rules and store flags raised by readings that are not stored yet.

        Runs inside the caller's transaction, after its new rows were flushed; ``appended``
        is the reading it stored, if that is all it stored.

        Two tablets saving into one session take turns here (a lock held to COMMIT, on
        PostgreSQL), so each evaluates the rows the other committed: evaluating side by side,
        each would raise the first flag of one episode from its own reading, and both
        would be stored.
        """
        queries.take_turns(connection, f"flags:{session_id}")
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

    def reading_reads(self, session_id: uuid.UUID, now: datetime) -> list[Statement]:
        """What a save of a reading reads, before storing it, to raise its flags without
        reading the session again (:meth:`flags_of_reading`): the session's shape, its
        acknowledgements as of ``now`` and the ids of its stored flags. Sent with the save's
        other reads, in one round trip."""
        tail = self._tails.get(session_id)
        return [
            (queries.SHAPE, {"session_id": session_id, "stamp": tail.stamp if tail else None}),
            (queries.ACKNOWLEDGEMENTS_AS_OF, {"session_id": session_id, "at": now}),
            (queries.FLAG_IDS, {"session_id": session_id}),
        ]

    def flags_of_reading(
        self, connection: Connection, session_id: uuid.UUID, protocol: Protocol, now: datetime,
        *, reading: Reading, rows: Sequence[list[Any]], store: Callable[[], None],
    ) -> tuple[tuple[Flag, ...], list[Statement]]:
        """The flags the saved ``reading`` raises, and the statements storing the new ones.

        ``rows`` are the results of :meth:`reading_reads`, read before ``reading`` was
        stored; the shape with it is known without reading it again. When the evaluation
        kept from the last save cannot be extended (:meth:`_reading_flags`), ``store`` is
        called to store the reading first and the whole record is read and evaluated.
        """
        shape_rows, ack_rows, flag_rows = rows
        before = _Shape(*shape_rows[0])
        latest = before.latest_reading
        shape = before._replace(
            readings=before.readings + 1,
            latest_reading=reading.time if latest is None or reading.time > latest else latest)
        acks = [Acknowledgement(flag_id=a.flag_id, time=a.time, action=a.action, note=a.note,
                                by=a.name) for a in ack_rows]
        raised = self._reading_flags(connection, session_id, protocol, now, reading.id,
                                     known=(shape, reading, acks), store=store)
        if not raised:
            return (), []
        stored = {row[0] for row in flag_rows}
        new = tuple(f for f in raised if f.id not in stored)
        if not new:
            return (), []
        # another tablet's save may store the same flags (their ids are their episode's)
        return new, [(queries.insert_once(connection.dialect.name, queries.FLAGS),
                      [flag_values(session_id, f, now) for f in new])]

    def view_reads(self, session_id: uuid.UUID, at: datetime) -> list[Statement]:
        """What :meth:`load_evaluated` reads first (the shape, the acknowledgements as of
        ``at``), to be sent with the caller's other reads; their rows are its ``read``."""
        tail = self._tails.get(session_id)
        return [
            (queries.SHAPE, {"session_id": session_id, "stamp": tail.stamp if tail else None}),
            (queries.ACKNOWLEDGEMENTS_AS_OF, {"session_id": session_id, "at": at}),
        ]

    def flags_of_record(self, connection: Connection, session_id: uuid.UUID,
                        protocol: Protocol, now: datetime, *, record: SessionRecord,
                        stored: list[Any]) -> list[Statement]:
        """The statements storing the flags ``record`` raises that are not ``stored`` (the
        rows of :data:`queries.FLAG_IDS`): :meth:`raise_flags` for a save that added
        something other than a reading after the latest (the whole record is judged), with
        the record the save read and completed, not read again."""
        self._tails.pop(session_id, None)
        raised = FlagEvaluation.of(record.as_of(now), protocol).flags()
        known = {row[0] for row in stored}
        new = [f for f in raised if f.id not in known]
        if not new:
            return []
        # another tablet's save may store the same flags (their ids are their episode's)
        return [(queries.insert_once(connection.dialect.name, queries.FLAGS),
                 [flag_values(session_id, f, now) for f in new])]

    def load_evaluated(
        self, connection: Connection, session_id: uuid.UUID, protocol: Protocol, at: datetime,
        *, read: Sequence[list[Any]] | None = None,
    ) -> tuple[SessionRecord, Superseded, tuple[CorrectionInfo, ...], FlagEvaluation | None]:
        """The record as :func:`~monitor.storage.records.load_record` reads it, and the
        evaluation of its readings if one is kept.

        A long session is not read and evaluated again row by row on every refresh. The rows
        are counted first (:class:`_Shape`); rows are only ever added, so the same counts
        mean the same rows, and the record kept from the last load here is used again with
        the acknowledgements read afresh. When exactly one reading row was added, and it
        is the reading the last save here stored after the latest, only that row is read.
        The evaluation kept by that save (:meth:`_reading_flags`) is used when it evaluated
        exactly these rows. Anything else reads the whole record (in one round trip).

        ``read``: the rows of :meth:`view_reads`, read by the caller with its own.
        """
        with self._lock:
            tail = self._tails.get(session_id)
            kept = self._loaded.pop(session_id, None)
        shape = (_Shape(*read[0][0]) if read is not None
                 else self._shape(connection, session_id, tail))
        record: SessionRecord | None = None
        if kept is not None and shape.settled(at):
            record = kept.record
            if shape[:6] != kept.shape[:6]:
                record = _with_saved_reading(connection, kept, shape, tail)
        if record is not None and kept is not None:
            superseded, corrections = kept.superseded, kept.corrections
            acks = (acknowledgements(connection, session_id, at) if read is None
                    else tuple(Acknowledgement(flag_id=a.flag_id, time=a.time, action=a.action,
                                               note=a.note, by=a.name) for a in read[1]))
            record = replace(record, acknowledgements=acks)
        else:
            rows = run_together(connection, [
                *record_statements(session_id, at),
                (queries.SHAPE, {"session_id": session_id,
                                 "stamp": tail.stamp if tail else None})])
            record, superseded, corrections = record_of(rows, session_id, at)
            if _Shape(*rows[-1][0]) != shape:
                return record, superseded, corrections, None  # rows added meanwhile
        evaluation = None
        if shape.settled(at):
            self._keep(self._loaded, session_id, _Loaded(
                shape, replace(record, acknowledgements=()), superseded, corrections))
            if (tail is not None and tail.protocol is protocol and shape.stamp_stored
                    and shape[:6] == tail.shape[:6]):
                evaluation = tail.evaluation.refreshed(record.acknowledgements)
        return record, superseded, corrections, evaluation

    @staticmethod
    def _shape(connection: Connection, session_id: uuid.UUID, tail: _Tail | None) -> _Shape:
        return _Shape(*connection.execute(
            queries.SHAPE, {"session_id": session_id, "stamp": tail.stamp if tail else None}).one())

    def _reading_flags(self, connection: Connection, session_id: uuid.UUID, protocol: Protocol,
                       now: datetime, appended: uuid.UUID | None, *,
                       known: tuple[_Shape, Reading, list[Acknowledgement]] | None = None,
                       store: Callable[[], None] | None = None) -> list[Flag]:
        """The flags readings raised on the session as it stands at ``now``.

        Saving a reading after the latest, the usual case, evaluates only the readings added
        since the last save here: the evaluation of the record as that save left it is kept
        per session, and extended when the rows show that nothing else changed since — only
        reading rows added (this one, and others' saved meanwhile), all dated after those
        evaluated, the last save's reading committed, the same number of events and
        corrections, nothing dated after now, no acknowledgement dated back among the
        evaluated readings. Anything else (a late entry, a correction, an event, a failed
        commit) evaluates the whole record again. The rows are counted before the record is
        read, so a row committed in between can only cause a needless full evaluation.

        ``known``: the shape with the appended reading, the reading and the
        acknowledgements, read with the save's other reads (nothing is read here then
        unless the whole record is); ``store`` stores the reading before that read.
        """
        with self._lock:
            tail = self._tails.pop(session_id, None)
        shape = known[0] if known is not None else self._shape(connection, session_id, tail)
        evaluation: FlagEvaluation | None = None
        if (appended is not None and tail is not None and tail.protocol is protocol
                and shape.settled(now)):
            if known is not None and shape.follows(tail.shape):
                # the save's own reading alone was added: it and the acknowledgements were
                # read with the save's other reads
                reading: Reading | None = known[1]
                last = tail.evaluation.last_time
                if reading is not None and (last is None or reading.time > last):
                    evaluation = tail.evaluation.extended(reading, known[2])
            elif shape.grew(tail.shape):
                # other tablets' readings too: read those added since, the save's own first
                if store is not None:
                    store()
                    store = None
                evaluation = _extended(connection, session_id, tail, shape, now,
                                       appended=appended)
        if evaluation is None:
            if store is not None:
                store()
            record, _, _ = load_record(connection, session_id, now)
            evaluation = FlagEvaluation.of(record.as_of(now), protocol)
        if appended is not None and shape.settled(now):
            self._keep(self._tails, session_id, _Tail(protocol, shape, appended, evaluation,
                                                      known[1] if known is not None else None))
        return evaluation.flags()


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

    def grew(self, before: _Shape) -> bool:
        """Only reading rows were added since ``before``, and its own reading is stored."""
        return (self.stamp_stored and self.readings > before.readings
                and self.events == before.events and self.corrections == before.corrections)

    def follows(self, before: _Shape) -> bool:
        """Exactly one reading row was added since ``before``, whose own reading is stored."""
        return (self.stamp_stored and self.readings == before.readings + 1
                and self.events == before.events and self.corrections == before.corrections)


def _extended(connection: Connection, session_id: uuid.UUID, tail: _Tail, shape: _Shape,
              now: datetime, *, appended: uuid.UUID) -> FlagEvaluation | None:
    """The tail's evaluation extended by the readings added since (``appended``, and any
    other tablets saved meanwhile), when they all come after those it evaluated; else None.
    Two tablets saving into one session so each evaluate a few readings, not the whole
    record, on every save."""
    last = tail.evaluation.last_time
    if last is None:
        return None
    # Readings voided or amended before the tail are counted in both shapes, never returned.
    rows = connection.execute(queries.READINGS_AFTER,
                              {"session_id": session_id, "after": last}).all()
    if (len(rows) != shape.readings - tail.shape.readings
            or all(row.id != appended for row in rows)):
        return None  # one was added among the readings evaluated: evaluate them all again
    acks = [Acknowledgement(flag_id=a.flag_id, time=a.time, action=a.action, note=a.note,
                            by=a.name)
            for a in connection.execute(queries.ACKNOWLEDGEMENTS_AS_OF,
                                        {"session_id": session_id, "at": now})]
    evaluation: FlagEvaluation | None = tail.evaluation
    for row in rows:
        assert evaluation is not None
        evaluation = evaluation.extended(Reading(*row), acks)
        if evaluation is None:
            return None
    return evaluation


@dataclass(frozen=True)
class _Tail:
    """A session's flag evaluation as the last save of a reading (``stamp``) left it."""

    protocol: Protocol
    shape: _Shape
    stamp: uuid.UUID
    evaluation: FlagEvaluation
    #: The reading ``stamp`` as the save stored it, when the save had it at hand: a load
    #: that finds it committed takes it from here instead of reading it again.
    reading: Reading | None = None


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
    reading = tail.reading
    if reading is None:
        row = connection.execute(queries.READING_BY_ID, {"reading_id": tail.stamp}).first()
        reading = None if row is None else Reading(*row)
    if reading is None or any(r.id == tail.stamp
                              for r in (*record.readings, *kept.superseded.readings)):
        return None
    if record.readings and reading.time <= record.readings[-1].time:
        return None
    return replace(record, readings=(*record.readings, reading))
