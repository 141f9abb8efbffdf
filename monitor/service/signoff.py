"""The discharge: the nurse's sign-off when every criterion is met, or a clinician's override.

Both are e-signatures (the PIN again), stored with the criteria and scores as they stood, so
the record shows them so from then on; the session then takes no more entries at the chair.
Two tablets signing at once take turns, and the second is told who discharged the patient
and when.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from monitor.clinical.domain import EventKind, Phase
from monitor.clinical.permissions import Action
from monitor.clinical.signing import assessment_data
from monitor.clinical.validation import FieldError
from monitor.service import conflicts
from monitor.service.auth import StaffInfo
from monitor.service.charting import Charting
from monitor.service.conflicts import refuse_changed_retry
from monitor.service.guard import Guard
from monitor.service.loading import Loading
from monitor.service.views import (
    MEANING_DISCHARGE,
    MEANING_OVERRIDE,
    MIN_OVERRIDE_REASON,
    AlreadyDoneError,
    InvalidEntryError,
    SessionView,
)
from monitor.storage import audit, queries

#: The audit actions of a discharge sign-off and of a clinician's override.
SIGN_OFF_ACTIONS = ("sign", "override")


class SignOffs:
    """Discharge sign-offs and overrides."""

    def __init__(self, guard: Guard, loading: Loading, charting: Charting) -> None:
        self.guard = guard
        self.store = guard.store
        self.clock = guard.clock
        self.loading = loading
        self.charting = charting

    def sign_discharge(
        self, session_id: uuid.UUID, *, by: uuid.UUID, pin: str | None = None,
        event_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """The nurse's discharge sign-off, an e-signature; refused while a criterion is unmet.

        ``pin`` is required (:class:`SignatureRequired` without it). The criteria and scores
        as they stand are stored with it: the record shows them so from then on, and the
        session takes no more entries at the chair.
        """
        self.guard.require(by, Action.SIGN_DISCHARGE, session_id=session_id)
        if event_id is not None and self._retried_event(
                session_id, event_id, EventKind.DISCHARGE_SIGNED):
            return event_id  # a retry of a sign-off that did commit
        now = self.clock.now()
        view = self._view_to_sign(session_id, now)
        if not view.discharge.ready:
            raise InvalidEntryError([
                FieldError(c.id, f"Not ready: {c.detail}")
                for c in view.discharge.criteria if not c.met
            ])
        signer = self.guard.signer(by, pin, MEANING_DISCHARGE)
        return self._signed_event(
            session_id, EventKind.DISCHARGE_SIGNED, signer=signer, now=now,
            detail=discharge_summary(view),
            data={"assessment": assessment_data(view.discharge, now)},
            meaning=MEANING_DISCHARGE,
            audit_action="sign", patient_id=view.info.patient.id, event_id=event_id,
        )

    def override_discharge(
        self, session_id: uuid.UUID, *, reason: str, by: uuid.UUID, pin: str | None = None,
        event_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """A clinician discharges although criteria are not met; the written reason is kept.

        Only a clinician may: a nurse signs discharge when every criterion is met. An
        e-signature: ``pin`` is required.
        """
        self.guard.require(by, Action.OVERRIDE_DISCHARGE, session_id=session_id)
        if len(reason.strip()) < MIN_OVERRIDE_REASON:
            raise InvalidEntryError([FieldError(
                "reason", f"Write the reason for the override (at least {MIN_OVERRIDE_REASON} "
                "characters)")])
        if event_id is not None and self._retried_event(
                session_id, event_id, EventKind.DISCHARGE_OVERRIDE):
            return event_id  # a retry of an override that did commit
        now = self.clock.now()
        view = self._view_to_sign(session_id, now)
        signer = self.guard.signer(by, pin, MEANING_OVERRIDE)
        unmet = "; ".join(c.id for c in view.discharge.criteria if not c.met) or "none"
        return self._signed_event(
            session_id, EventKind.DISCHARGE_OVERRIDE, signer=signer, now=now,
            detail=reason.strip(),
            data={"criteria_not_met": unmet, "assessment": assessment_data(view.discharge, now)},
            meaning=MEANING_OVERRIDE,
            audit_action="override", patient_id=view.info.patient.id, event_id=event_id,
        )

    def _view_to_sign(self, session_id: uuid.UUID, now: datetime) -> SessionView:
        """The session at ``now``, refused when it is discharged already."""
        view = self.loading.load(session_id, now)
        if view.phase is Phase.DISCHARGED:
            with self.store.read() as db:
                refuse_discharged(db.connection(), session_id)
            raise InvalidEntryError([FieldError("discharge", "The patient is already discharged")])
        return view

    def _signed_event(
        self,
        session_id: uuid.UUID,
        kind: EventKind,
        *,
        signer: StaffInfo,
        now: datetime,
        detail: str,
        data: Mapping[str, Any] | None,
        meaning: str,
        audit_action: str,
        patient_id: uuid.UUID,
        event_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        eid = event_id or uuid.uuid4()
        with self.guard.write(signer.id, now=now, session_id=session_id) as change:
            db = change.db
            # One sign-off per discharge: two tablets signing at once take turns here, and
            # the second is told who discharged the patient and when.
            queries.take_turns(db.connection(), f"discharge:{session_id}")
            refuse_discharged(db.connection(), session_id)
            self.charting.insert_event(db, session_id, kind, by=signer.id, when=now, now=now,
                                       detail=detail, data=data, event_id=eid)
            signature = self.guard.sign(db, session_id=session_id, signer=signer, meaning=meaning,
                                        record_kind="event", record_id=eid, now=now)
            change.audit(audit_action, "event", eid, session_id=session_id,
                         patient_id=patient_id,
                         new={"meaning": meaning, "detail": detail, "signature": signature,
                              **({"data": dict(data)} if data else {})})
        return eid

    def _retried_event(self, session_id: uuid.UUID, event_id: uuid.UUID,
                       kind: EventKind) -> bool:
        """Whether ``event_id`` is stored as this session's ``kind`` (a retry that did
        commit); :class:`ConflictingRetryError` when it is stored as something else."""
        with self.store.read() as db:
            connection = db.connection()
            if connection.execute(select(queries.EVENTS.c.id).where(
                    queries.EVENTS.c.id == event_id)).first() is None:
                return False
            refuse_changed_retry(connection, "event", queries.EVENTS,
                                 {"id": event_id, "session_id": session_id,
                                  "kind": kind.value}, ("session_id", "kind"))
        return True


def refuse_discharged(connection: Connection, session_id: uuid.UUID) -> None:
    """:class:`AlreadyDoneError` naming who discharged the session, when and on which
    tablet, if anyone did."""
    closed = connection.execute(queries.CLOSING_OF_SESSION, {"session_id": session_id}).first()
    if closed is not None:
        tablet = audit.tablet_of(connection, session_id=session_id, record_id=closed.id,
                                 actions=SIGN_OFF_ACTIONS)
        raise AlreadyDoneError("discharge", conflicts.already_done(
            "discharged", closed.name, closed.recorded_at, tablet))


def discharge_summary(view: SessionView) -> str:
    aldrete, padss = view.discharge.aldrete, view.discharge.padss
    return (f"All discharge criteria met; modified Aldrete {aldrete.total}/{aldrete.max_total}, "
            f"adapted PADSS {padss.total}/{padss.max_total}")
