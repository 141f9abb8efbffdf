"""Corrections: voiding an entry and amending a reading, never erasing either.

A voided entry stays in the record, marked void, with the reason; an amended reading stays,
replaced from the time of the correction by a new row. An entry is corrected once: a second
correction (another tablet's) is refused by the database's unique index and told who
corrected it and when. A correction that closes an open critical flag is an e-signature,
as acknowledging the flag is.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from monitor.clinical.domain import Flag, Reading
from monitor.clinical.permissions import Action, allowed
from monitor.clinical.validation import FieldError
from monitor.clock import ensure_utc
from monitor.service.auth import StaffInfo
from monitor.service.charting import SessionWriter, validated
from monitor.service.conflicts import refuse_changed_retry, refuse_second
from monitor.service.evaluation import criticals_closed
from monitor.service.views import (
    MEANING_CRITICAL_AMEND,
    MEANING_CRITICAL_VOID,
    InvalidEntryError,
    NotFoundError,
)
from monitor.storage import queries
from monitor.storage.model import Correction, EventRow, ReadingRow, TreatmentSession
from monitor.storage.records import reading_values, row_values, session_info


class Corrections(SessionWriter):
    """Voids and amendments of a session's entries."""

    def void(
        self,
        session_id: uuid.UUID,
        target_kind: str,
        target_id: uuid.UUID,
        *,
        reason: str,
        by: uuid.UUID,
        pin: str | None = None,
        correction_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """Void a reading or event; it stays in the record, marked void, with the reason.

        An entry is corrected once: a second correction (another tablet's) is refused with
        :class:`AlreadyDoneError`; a retry with the same ``correction_id`` and values
        returns it unchanged.

        A nurse may void only their own entries (undo); a clinician any. Voiding a reading
        that an open critical flag stands on closes that flag, so it is an e-signature, as
        acknowledging the flag is: ``pin`` is required (:class:`SignatureRequired`).
        """
        role = self.guard.require(by, Action.VOID, session_id=session_id,
                                  record_kind=target_kind, record_id=target_id)
        if not reason.strip():
            raise InvalidEntryError([FieldError("reason", "A correction needs a reason")])
        now = self.clock.now()
        closing = self._criticals_closed_by_void(session_id, target_kind, target_id, now)
        if closing and not allowed(role, Action.VOID_ANY) and not self._entered_by(by, target_id):
            # Refused before the PIN is asked: no signature makes someone else's entry hers.
            self.guard.deny(by, role, Action.VOID_ANY, session_id=session_id,
                            record_kind=target_kind, record_id=target_id)
        signer = self.guard.signer(by, pin, MEANING_CRITICAL_VOID) if closing else None
        cid = correction_id or uuid.uuid4()
        try:
            corrected = self._store_void(session_id, target_kind, target_id, cid, role=role,
                                         reason=reason, by=by, now=now, closing=closing,
                                         signer=signer)
        except IntegrityError:
            with self.store.read() as db:
                refuse_second(db.connection(), queries.CORRECTIONS, "target_id", target_id,
                              own_id=cid, done="corrected", field_name="entry")
            raise AssertionError("unreachable") from None  # pragma: no cover
        if corrected is not None:
            return corrected
        self.guard.deny(by, role, Action.VOID_ANY, session_id=session_id, record_kind=target_kind,
                        record_id=target_id)
        raise AssertionError("unreachable")  # pragma: no cover - deny raises

    def _store_void(self, session_id: uuid.UUID, target_kind: str, target_id: uuid.UUID,
                    cid: uuid.UUID, *, role: str, reason: str, by: uuid.UUID, now: datetime,
                    closing: tuple[Flag, ...], signer: StaffInfo | None) -> uuid.UUID | None:
        """The void's correction id, or None when this staff member may not void it."""
        with self.guard.write(by, now=now, role=role, session_id=session_id) as change:
            db, connection = change.db, change.connection
            if connection.execute(select(queries.CORRECTIONS.c.id).where(
                    queries.CORRECTIONS.c.id == cid)).first() is not None:
                refuse_changed_retry(
                    connection, "correction", queries.CORRECTIONS,
                    {"id": cid, "session_id": session_id, "target_kind": target_kind,
                     "target_id": target_id, "action": "void", "reason": reason.strip()},
                    ("session_id", "target_kind", "target_id", "action", "reason"))
                return cid
            target = self._require_target(db, session_id, target_kind, target_id)
            someone_else = target.entered_by != by and not allowed(role, Action.VOID_ANY)
            if not someone_else:
                refuse_second(connection, queries.CORRECTIONS, "target_id", target_id,
                              own_id=cid, done="corrected", field_name="entry")
                correction = Correction(
                    id=cid, session_id=session_id, time=now, target_kind=target_kind,
                    target_id=target_id, action="void", replacement_id=None,
                    reason=reason.strip(), recorded_at=now, entered_by=by,
                )
                db.add(correction)
                db.flush()
                closes = {"closes_critical": [f.message for f in closing]} if closing else {}
                if signer is not None:
                    self.guard.sign(db, session_id=session_id, signer=signer,
                                    meaning=MEANING_CRITICAL_VOID, record_kind="correction",
                                    record_id=correction.id, now=now)
                change.audit("void", target_kind, target_id, session_id=session_id,
                             patient_id=_patient_of(db, session_id), old=row_values(target),
                             new={"void": True, "reason": reason.strip(), **closes,
                                  "signed": signer is not None})
                return correction.id
        return None

    def _entered_by(self, by: uuid.UUID, reading_id: uuid.UUID) -> bool:
        """Whether ``by`` entered reading ``reading_id``."""
        with self.store.read() as db:
            author = db.connection().execute(select(queries.READINGS.c.entered_by).where(
                queries.READINGS.c.id == reading_id)).scalar()
        return author == by

    def _criticals_closed_by_void(self, session_id: uuid.UUID, target_kind: str,
                                  target_id: uuid.UUID, now: datetime) -> tuple[Flag, ...]:
        """The open critical flags that voiding this entry would close."""
        if target_kind != "reading":
            return ()
        return criticals_closed(self.loading.load(session_id, now), target_id, None, now)

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
        pin: str | None = None,
        correction_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """Replace a reading's values by a new row; the original stays, marked amended.

        Corrected once, and retried by ``correction_id``, as :meth:`void`; returns the
        replacement reading's id.

        When the new values no longer raise an open critical flag of the original, the
        amendment closes it: an e-signature, ``pin`` required, as for :meth:`void`.
        """
        role = self.guard.require(by, Action.AMEND, session_id=session_id,
                                  record_kind="reading", record_id=target_id)
        if not reason.strip():
            raise InvalidEntryError([FieldError("reason", "A correction needs a reason")])
        now = self.clock.now()
        view = self.loading.load(session_id, now)
        shown = next((r for r in view.record.readings if r.id == target_id), None)
        signer = None
        if shown is not None:
            when = ensure_utc(time) if time is not None else shown.time
            values = validated(raw, confirmed, when, now)
            closing = criticals_closed(view, target_id, Reading(
                id=uuid.uuid4(), time=when, on_oxygen=shown.on_oxygen, **values), now)
            signer = self.guard.signer(by, pin, MEANING_CRITICAL_VOID) if closing else None
        cid = correction_id or uuid.uuid4()
        try:
            with self.guard.write(by, now=now, role=role, session_id=session_id) as change:
                db, connection = change.db, change.connection
                stored = connection.execute(select(queries.CORRECTIONS).where(
                    queries.CORRECTIONS.c.id == cid)).first()
                if stored is not None:
                    refuse_changed_retry(
                        connection, "correction", queries.CORRECTIONS,
                        {"id": cid, "session_id": session_id, "target_id": target_id,
                         "action": "amend", "reason": reason.strip()},
                        ("session_id", "target_id", "action", "reason"))
                    return uuid.UUID(str(stored.replacement_id))
                refuse_second(connection, queries.CORRECTIONS, "target_id", target_id,
                              own_id=cid, done="corrected", field_name="entry")
                original = self._require_target(db, session_id, "reading", target_id)
                assert isinstance(original, ReadingRow)
                when = ensure_utc(time) if time is not None else original.time
                values = validated(raw, confirmed, when, now)
                replacement = ReadingRow(**reading_values(
                    rid=uuid.uuid4(), session_id=session_id, when=when, values=values, note=note,
                    on_oxygen=original.on_oxygen, now=now, by=by,
                ))
                db.add(replacement)
                db.add(Correction(
                    id=cid, session_id=session_id, time=now, target_kind="reading",
                    target_id=target_id, action="amend", replacement_id=replacement.id,
                    reason=reason.strip(), recorded_at=now, entered_by=by,
                ))
                db.flush()
                if signer is not None:
                    self.guard.sign(db, session_id=session_id, signer=signer,
                                    meaning=MEANING_CRITICAL_AMEND, record_kind="correction",
                                    record_id=cid, now=now)
                connection = db.connection()
                info = session_info(connection, session_id)
                self.evaluations.raise_flags(connection, session_id,
                                             self.protocols.protocol_of(connection, info), now)
                change.audit("amend", "reading", target_id, session_id=session_id,
                             patient_id=info.patient.id, old=row_values(original),
                             new={**row_values(replacement), "replacement": replacement.id,
                                  "reason": reason.strip(), "signed": signer is not None})
                return replacement.id
        except IntegrityError:
            with self.store.read() as db:
                refuse_second(db.connection(), queries.CORRECTIONS, "target_id", target_id,
                              own_id=cid, done="corrected", field_name="entry")
            raise AssertionError("unreachable") from None  # pragma: no cover

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
        refuse_second(db.connection(), queries.CORRECTIONS, "target_id", target_id,
                      done="corrected", field_name=target_kind)
        return row


def _patient_of(db: Session, session_id: uuid.UUID) -> uuid.UUID | None:
    return db.scalar(select(TreatmentSession.patient_id)
                     .where(TreatmentSession.id == session_id))
