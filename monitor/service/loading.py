"""Reading a session back: as it stood at a moment, with its flags, discharge and signatures.

:meth:`Loading.load` turns the rows into a :class:`monitor.clinical.domain.SessionRecord` of
effective entries (voided ones left out, amended ones replaced) as it stood at a given time,
and evaluates flags and discharge on it (:mod:`monitor.service.evaluation`, which keeps the
evaluation between saves). Stored flags the rules no longer raise — those of readings since
voided or amended, and those a correction or late entry joined to an earlier flag — are kept
in view, closed (:mod:`monitor.service.kept_flags`), and each e-signature is checked against
the record it signed.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from monitor.clinical.domain import Flag, SessionRecord
from monitor.clock import ensure_utc
from monitor.service.evaluation import Evaluations, evaluate
from monitor.service.guard import signed_content_hash
from monitor.service.kept_flags import kept_flags, needs_stored_flags, stored_flag
from monitor.service.session_protocols import SessionProtocols
from monitor.service.views import (
    CorrectionInfo,
    HeldReceipt,
    SessionInfo,
    SessionSummary,
    SessionView,
    SignatureInfo,
    Superseded,
)
from monitor.storage import audit, queries
from monitor.storage.batch import Statement, run_together
from monitor.storage.model import AuditLog, TreatmentSession
from monitor.storage.records import load_record, session_info, session_info_of
from monitor.storage.store import Store

_AUDIT = AuditLog.__table__
#: The audit entries of a session's readings and events a tablet kept through an outage
#: (their new values name the tablet's time, :func:`monitor.service.saves.entered_time`).
_HELD_CREATES = (
    select(_AUDIT.c.record_id, _AUDIT.c.at, _AUDIT.c.new)
    .where(_AUDIT.c.session_id == bindparam("session_id"), _AUDIT.c.action == "create",
           _AUDIT.c.record_kind.in_(("reading", "event")), _AUDIT.c.at <= bindparam("at"),
           _AUDIT.c.new.like('%"entered_on_tablet_at"%')))


def held_receipts(connection: Connection, session_id: uuid.UUID, at: datetime
                  ) -> dict[uuid.UUID, HeldReceipt]:
    """When the server received each entry a tablet kept through an outage, by the time
    ``at``, and which tablet kept it (the audit entry's time and tablet)."""
    return {row.record_id: HeldReceipt(at=ensure_utc(row.at), tablet=audit.tablet_in(row.new))
            for row in connection.execute(_HELD_CREATES, {"session_id": session_id, "at": at})}


class Loading:
    """Sessions read back, one transaction each."""

    def __init__(self, store: Store, protocols: SessionProtocols,
                 evaluations: Evaluations) -> None:
        self.store = store
        self.clock = protocols.clock
        self.protocols = protocols
        self.evaluations = evaluations

    def load(self, session_id: uuid.UUID, at: datetime | None = None, *,
             entered_only: bool = False) -> SessionView:
        """The session as it stood at ``at`` (default now), with flags and discharge.

        ``entered_only``: leave out readings and events entered after ``at`` even when they
        describe an earlier time (late entries), so that the view is what staff could see
        at ``at`` — the review's replay.
        """
        at = ensure_utc(at) if at is not None else self.clock.now()
        with self.store.read() as db:
            return self.view(db, session_id, at, entered_only=entered_only)

    def view(self, db: Session, session_id: uuid.UUID, at: datetime, *,
             entered_only: bool = False) -> SessionView:
        """:meth:`load`, in the caller's transaction.

        The session, what the kept evaluation needs to know and the signatures are read
        together (one round trip to PostgreSQL); a session read whole costs one more.
        """
        connection = db.connection()
        of_session = {"session_id": session_id}
        first = run_together(connection, [
            (queries.SESSION_WITH_PATIENT, of_session),
            (queries.SIGNATURES_AS_OF, {"session_id": session_id, "at": at}),
            *(() if entered_only else self.evaluations.view_reads(session_id, at)),
        ])
        info = session_info_of(first[0][0] if first[0] else None, session_id)
        return self._view_of(db, info, at, first[1], None if entered_only else first[2:],
                             entered_only=entered_only)

    def view_after_save(self, db: Session, info: SessionInfo, at: datetime,
                        rows: Sequence[list[Any]]) -> SessionView:
        """:meth:`view` of a session a save just wrote to, from the rows of
        :meth:`view_reads_after_save` the save read with its writes."""
        return self._view_of(db, info, at, rows[0], rows[1:])

    def view_reads_after_save(self, session_id: uuid.UUID, at: datetime) -> list[Statement]:
        """What :meth:`view_after_save` needs read (after the save's own rows)."""
        return [(queries.SIGNATURES_AS_OF, {"session_id": session_id, "at": at}),
                *self.evaluations.view_reads(session_id, at)]

    def _view_of(self, db: Session, info: SessionInfo, at: datetime, signature_rows: list[Any],
                 read: Sequence[list[Any]] | None, *, entered_only: bool = False) -> SessionView:
        connection = db.connection()
        session_id = info.id
        protocol = self.protocols.protocol_of(connection, info)
        if entered_only:
            record, superseded, corrections = load_record(connection, session_id, at,
                                                          entered_only=True)
            evaluation = None
        else:
            record, superseded, corrections, evaluation = self.evaluations.load_evaluated(
                connection, session_id, protocol, at, read=read)
        signatures = signatures_of(connection, session_id, record, at, rows=signature_rows)
        view = evaluate(info=info, protocol=protocol, record=record, at=at,
                        superseded=superseded, corrections=corrections, evaluation=evaluation)
        earlier = flags_kept(db, view, superseded, corrections, at)
        if signatures:
            view = replace(view, signatures=signatures)
        if entered_only:
            receipts = held_receipts(connection, session_id, at)
            view = replace(view, reached_server=receipts) if receipts else view
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

    def patient_sessions(self, patient_id: uuid.UUID) -> list[SessionSummary]:
        """A patient's sessions, newest first, with how many readings each holds."""
        with self.store.read() as db:
            rows = db.connection().execute(queries.PATIENT_SESSIONS, {"patient_id": patient_id})
            return [SessionSummary(*row) for row in rows]

    def stored(self, kind: str, record_id: uuid.UUID) -> bool:
        """Whether the server has the entry ``record_id`` of ``kind`` (a key of
        :data:`monitor.storage.queries.STORED_KINDS`): after a save failed around COMMIT
        (:class:`StorageError`), it tells whether that save is Saved or NOT saved. Raises
        :class:`StoreUnavailableError` while the server cannot be asked."""
        table = queries.STORED_KINDS.get(kind)
        if table is None:
            raise ValueError(f"no kind of entry {kind!r}; one of {', '.join(queries.STORED_KINDS)}")
        with self.store.read() as db:
            return db.execute(select(table.c.id).where(table.c.id == record_id)).first() \
                is not None


def flags_kept(db: Session, view: SessionView, superseded: Superseded,
               corrections: tuple[CorrectionInfo, ...], at: datetime) -> tuple[Flag, ...]:
    """The stored flags the rules no longer raise on ``view``'s record, closed
    (:func:`monitor.service.kept_flags.kept_flags`): read only when a correction or a late
    entry may have changed what they raise (one round trip)."""
    if not needs_stored_flags(view.record, superseded):
        return ()
    of_session = {"session_id": view.info.id, "at": at}
    signers, stored = run_together(db.connection(), [
        (queries.CORRECTION_SIGNERS, of_session), (queries.STORED_FLAGS, of_session)])
    return kept_flags(map(stored_flag, stored), raised=view.flags, record=view.record,
                      superseded=superseded, corrections=corrections,
                      at=at, signed_by={row.record_id: row.signer_name for row in signers})


def signatures_of(
    connection: Connection, session_id: uuid.UUID, record: SessionRecord, at: datetime,
    *, rows: Sequence[Any] | None = None,
) -> tuple[SignatureInfo, ...]:
    """The session's signatures given by ``at``, each checked against the record
    (``rows``: those of :data:`queries.SIGNATURES_AS_OF`, read already)."""
    if rows is None:
        rows = connection.execute(queries.SIGNATURES_AS_OF,
                                  {"session_id": session_id, "at": at}).all()
    return tuple(
        SignatureInfo(
            id=row.id, meaning=row.meaning, signer_name=row.signer_name,
            signer_role=row.signer_role, signed_at=row.signed_at,
            content_hash=row.content_hash,
            valid=signed_content_hash(record, row.signed_at) == row.content_hash,
        )
        for row in rows
    )
