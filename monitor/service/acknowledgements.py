"""Acknowledgements of flags: who acknowledged a flag, when, and the action taken.

A plain acknowledgement is stored in two round trips to PostgreSQL; acknowledging a critical
flag is an e-signature (the PIN again), and an acknowledgement may record the infusion pause
in the same transaction (both, or neither). A flag is acknowledged once: another tablet's
second acknowledgement is refused naming who and when, and a retry with the same id and
values returns it unchanged. PHQ-9 item 9 and a high BP before the start are acknowledged by
a clinician, with a clinical choice (:mod:`monitor.clinical.start_gate`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.clinical import start_gate
from monitor.clinical.domain import EventKind, Flag, Severity
from monitor.clinical.permissions import Action
from monitor.clinical.rules import PHQ9_ACK_CHOICES, PHQ9_ITEM9_FLAG
from monitor.clinical.validation import FieldError
from monitor.clock import ensure_utc
from monitor.service import saves
from monitor.service.auth import StaffInfo
from monitor.service.charting import Charting
from monitor.service.conflicts import refuse_changed_retry, refuse_second
from monitor.service.guard import Guard
from monitor.service.loading import Loading
from monitor.service.views import MEANING_CRITICAL_ACK, InvalidEntryError, NotFoundError
from monitor.storage import audit, queries
from monitor.storage.model import Acknowledgement as AckRow
from monitor.storage.model import TreatmentSession
from monitor.storage.records import flag_values


class Acknowledgements:
    """Acknowledgements of a session's flags, plain and signed."""

    def __init__(self, guard: Guard, loading: Loading, charting: Charting) -> None:
        self.guard = guard
        self.store = guard.store
        self.clock = guard.clock
        self.loading = loading
        #: Records the infusion pause an acknowledgement is given with.
        self.charting = charting

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
        role = self.guard.require(by, Action.ACKNOWLEDGE, session_id=session_id)
        if not action.strip():
            raise InvalidEntryError([FieldError("action", "Choose the action taken")])
        if flag.key == PHQ9_ITEM9_FLAG:
            self._check_phq9_acknowledgement(by, action, session_id=session_id)
        elif start_gate.needs_baseline_bp_review(flag, self.loading.load(session_id).phase):
            self._check_baseline_bp_review(by, action, session_id=session_id)
        critical = flag.severity >= Severity.CRITICAL
        signer = self.guard.signer(by, pin, MEANING_CRITICAL_ACK) if critical else None
        now = self.clock.now()
        when = ensure_utc(time) if time is not None else now
        aid = acknowledgement_id or uuid.uuid4()
        try:
            return self._store_acknowledgement(session_id, flag, aid, action=action, by=by,
                                               role=role, note=note, when=when, now=now,
                                               signer=signer, record_pause=record_pause)
        except IntegrityError:
            pass  # another tablet acknowledged it between our look and our insert
        with self.store.read() as db:
            refuse_second(db.connection(), queries.ACKNOWLEDGEMENTS, "flag_id", flag.id,
                          own_id=aid, done="acknowledged", field_name="flag")
        raise AssertionError("unreachable")  # pragma: no cover - refuse_second raises

    def _store_acknowledgement(self, session_id: uuid.UUID, flag: Flag, aid: uuid.UUID, *,
                               action: str, by: uuid.UUID, role: str, note: str,
                               when: datetime, now: datetime, signer: StaffInfo | None,
                               record_pause: bool = False) -> uuid.UUID:
        if signer is None and not record_pause:
            return self._store_plain_acknowledgement(session_id, flag, aid, action=action,
                                                     by=by, role=role, note=note, when=when,
                                                     now=now)
        with self.guard.write(by, now=now, role=role, session_id=session_id) as change:
            db = change.db
            session = self._require_session(db, session_id)
            connection = db.connection()
            given = {"id": aid, "session_id": session_id, "flag_id": flag.id, "time": when,
                     "action": action.strip(), "note": note.strip()}
            if connection.execute(select(queries.ACKNOWLEDGEMENTS.c.id).where(
                    queries.ACKNOWLEDGEMENTS.c.id == aid)).first() is not None:
                refuse_changed_retry(connection, "acknowledgement", queries.ACKNOWLEDGEMENTS,
                                     given, ("session_id", "flag_id", "action", "note"))
                return aid
            refuse_second(connection, queries.ACKNOWLEDGEMENTS, "flag_id", flag.id,
                          own_id=aid, done="acknowledged", field_name="flag")
            connection.execute(queries.insert_once(connection.dialect.name, queries.FLAGS),
                               flag_values(session_id, flag, now))
            ack = AckRow(**given, recorded_at=now, entered_by=by)
            db.add(ack)
            db.flush()
            if signer is not None:
                self.guard.sign(db, session_id=session_id, signer=signer,
                                meaning=MEANING_CRITICAL_ACK, record_kind="acknowledgement",
                                record_id=ack.id, now=now)
            if record_pause:
                pause_id = uuid.uuid4()
                self.charting.insert_event(db, session_id, EventKind.INFUSION_PAUSE, by=by,
                                           when=when, now=now, detail="", data=None,
                                           event_id=pause_id)
                change.audit("create", "event", pause_id, session_id=session_id,
                             patient_id=session.patient_id,
                             new={"time": when, "kind": EventKind.INFUSION_PAUSE.value,
                                  "detail": "", "acknowledgement": str(ack.id)})
            change.audit("acknowledge", "flag", flag.id, session_id=session_id,
                         patient_id=session.patient_id,
                         new={"time": when, "flag": flag.key, "severity": int(flag.severity),
                              "message": flag.message, "action": action.strip(),
                              "note": note.strip(), "signed": signer is not None})
            return ack.id

    def _store_plain_acknowledgement(self, session_id: uuid.UUID, flag: Flag, aid: uuid.UUID,
                                     *, action: str, by: uuid.UUID, role: str, note: str,
                                     when: datetime, now: datetime) -> uuid.UUID:
        """An acknowledgement without signature or pause, in two round trips to PostgreSQL:
        the session, the retry by id, another tablet's acknowledgement of the flag and the
        audit head read together; the flag, the acknowledgement and the audit entry stored
        with the COMMIT. A second acknowledgement committed in between is refused by the
        unique index (``IntegrityError``, handled by :meth:`acknowledge`)."""
        with self.guard.write(by, now=now, role=role, session_id=session_id) as change:
            connection = change.connection
            dialect = connection.dialect.name
            found = saves.read_together(connection, [
                (saves.ACKNOWLEDGEMENT_CHECKS, {"session_id": session_id, "ack_id": aid,
                                                "flag_id": flag.id}),
                (saves.OTHER_ACKNOWLEDGEMENT, {"flag_id": flag.id, "ack_id": aid}),
                *saves.head_reads(dialect),
            ])
            patient_id, stored_already = found[0][0]
            if patient_id is None:
                raise NotFoundError(f"no session {session_id}")
            given = {"id": aid, "session_id": session_id, "flag_id": flag.id, "time": when,
                     "action": action.strip(), "note": note.strip()}
            if stored_already:
                refuse_changed_retry(connection, "acknowledgement", queries.ACKNOWLEDGEMENTS,
                                     given, ("session_id", "flag_id", "action", "note"))
                return aid
            if found[1]:  # the refusal names who, when and on which tablet
                refuse_second(connection, queries.ACKNOWLEDGEMENTS, "flag_id", flag.id,
                              own_id=aid, done="acknowledged", field_name="flag")
            saves.commit_with_entry(connection, [
                (queries.insert_once(dialect, queries.FLAGS), flag_values(session_id, flag, now)),
                (saves.INSERT_ACKNOWLEDGEMENT, {**given, "recorded_at": now, "entered_by": by}),
            ], lambda head: audit.entry_statement(
                dialect, self.guard.audit_key, head, at=now, staff_id=by,
                tablet=self.guard.tablet, action="acknowledge", record_kind="flag",
                record_id=flag.id, session_id=session_id, patient_id=patient_id,
                new={"time": when, "flag": flag.key, "severity": int(flag.severity),
                     "message": flag.message, "action": action.strip(),
                     "note": note.strip(), "signed": False})[0],
                saves.head_rows(dialect, found))
            return aid

    def _check_baseline_bp_review(self, by: uuid.UUID, action: str, *,
                                  session_id: uuid.UUID) -> None:
        """A high BP before the start is reviewed by a clinician, with a clinical choice."""
        self.guard.require_clinician(by, Action.ACKNOWLEDGE, session_id=session_id,
                                     refused="cannot review a high baseline BP; a clinician can.")
        chosen = [part.strip() for part in action.split(";") if part.strip()]
        if not chosen or any(c not in start_gate.BASELINE_BP_CHOICES for c in chosen):
            raise InvalidEntryError([FieldError(
                "action", "A high baseline BP is reviewed with " + ", ".join(
                    f'"{c}"' for c in start_gate.BASELINE_BP_CHOICES))])

    def _check_phq9_acknowledgement(self, by: uuid.UUID, action: str, *,
                                    session_id: uuid.UUID) -> None:
        """PHQ-9 item 9 is acknowledged by a clinician, with a clinical finding."""
        self.guard.require_clinician(
            by, Action.ACKNOWLEDGE, session_id=session_id,
            refused="cannot acknowledge PHQ-9 item 9; a clinician can.")
        chosen = [part.strip() for part in action.split(";") if part.strip()]
        if not chosen or any(c not in PHQ9_ACK_CHOICES for c in chosen):
            raise InvalidEntryError([FieldError(
                "action", "PHQ-9 item 9 is acknowledged with " + ", ".join(
                    f'"{c}"' for c in PHQ9_ACK_CHOICES))])

    def _require_session(self, db: Session, session_id: uuid.UUID) -> TreatmentSession:
        session = db.get(TreatmentSession, session_id)
        if session is None:
            raise NotFoundError(f"no session {session_id}")
        return session
