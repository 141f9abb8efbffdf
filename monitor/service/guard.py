"""Who may do what, and the trail it leaves: how every change to the record begins and ends.

Each change follows the same steps: check that the acting staff member may (an unknown,
disabled or unauthorised one is refused, and the refusal itself audited), read the clock
once, write in one transaction, and append the audit entry in that same transaction, so the
entry and its trail are stored together or not at all. :meth:`Guard.change` is those steps;
the :class:`Change` it yields is what the write is given.

An e-signature asks for the PIN again (:meth:`Guard.signer`; a wrong one counts towards the
lock, as at sign-in) and binds the hash of the session's content as it stands
(:meth:`Guard.sign`, :func:`signed_content_hash`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from monitor.clinical.domain import EventKind, SessionRecord
from monitor.clinical.permissions import STAFF_ROLES, Action, PermissionDenied, allowed
from monitor.clock import Clock
from monitor.service.auth import (
    LOCK_DURATION,
    MAX_FAILURES,
    AccountLocked,
    LoginRefused,
    SignatureRequired,
    StaffInfo,
    audit_key,
    hash_pin,
    lock_remaining,
    verify_pin,
)
from monitor.service.views import NotFoundError
from monitor.storage import audit
from monitor.storage.model import Signature, Staff
from monitor.storage.records import READING_FIELDS, load_record
from monitor.storage.store import Store

#: Who is refused, at the start of a sentence.
ARTICLE_CAP = {"nurse": "A nurse", "admin": "An admin", "system": "The system identity"}


class NeedsClinician(Exception):  # noqa: N818 - a signal, turned into PermissionDenied
    """An entry after sign-off by someone who may not add one (audited outside the write)."""


@dataclass
class Change:
    """One write in progress: its transaction, its moment and who makes it."""

    db: Session
    now: datetime
    by: uuid.UUID
    role: str | None
    guard: Guard

    @property
    def connection(self) -> Connection:
        return self.db.connection()

    def audit(self, action: str, record_kind: str = "", record_id: uuid.UUID | None = None,
              *, session_id: uuid.UUID | None = None, patient_id: uuid.UUID | None = None,
              old: Mapping[str, Any] | None = None,
              new: Mapping[str, Any] | None = None, at: datetime | None = None) -> str:
        """Append the change's audit entry, by its staff member at its moment.

        ``at`` times the entry as a row written in the change is timed, when that row took
        its own reading of the clock (a patient added at check-in).
        """
        return self.guard.audit(self.db, self.by, action, record_kind, record_id,
                                now=self.now if at is None else at, session_id=session_id,
                                patient_id=patient_id, old=old, new=new)


class Guard:
    """Permission checks, PIN checks, the audit trail and e-signatures, for every part."""

    def __init__(self, store: Store, clock: Clock, *, secret: bytes,
                 tablet: str | None = None) -> None:
        """``tablet``: the name of the tablet, recorded with every audit entry it writes
        (None for the command line, whose entries name the OS account and host)."""
        if len(secret) < 16:
            raise ValueError(
                "the secret must be at least 16 bytes (monitor.service.auth.load_secret)")
        self.store = store
        self.clock = clock
        self.tablet = tablet or None
        self._secret = secret
        self.audit_key = audit_key(secret)
        #: Locks this process saw begin or observed: (stored start, monotonic start).
        self._locks_seen: dict[uuid.UUID, tuple[datetime, float]] = {}

    # -- one change ------------------------------------------------------------------------

    @contextmanager
    def change(self, by: uuid.UUID, action: Action, *, session_id: uuid.UUID | None = None,
               patient_id: uuid.UUID | None = None, record_kind: str = "",
               record_id: uuid.UUID | None = None) -> Iterator[Change]:
        """Require ``action`` of ``by``, read the clock, and write in one transaction."""
        role = self.require(by, action, session_id=session_id, patient_id=patient_id,
                            record_kind=record_kind, record_id=record_id)
        with self.write(by, role=role, session_id=session_id) as change:
            yield change

    @contextmanager
    def write(self, by: uuid.UUID, *, now: datetime | None = None, role: str | None = None,
              session_id: uuid.UUID | None = None) -> Iterator[Change]:
        """One transaction at ``now`` (default the clock's), by ``by`` already allowed.

        An entry after sign-off refused inside it (:class:`NeedsClinician`) is rolled back,
        then the refusal is audited and raised as :class:`PermissionDenied`.
        """
        now = self.clock.now() if now is None else now
        try:
            with self.store.write() as db:
                yield Change(db, now, by, role, self)
        except NeedsClinician:
            self.deny(by, role, Action.ENTER_AFTER_SIGNOFF, session_id=session_id)
            raise AssertionError("unreachable") from None  # pragma: no cover - deny raises

    # -- permissions -----------------------------------------------------------------------

    def role(self, staff_id: uuid.UUID) -> str | None:
        """The role of an active staff member, or None (unknown or disabled).

        Read afresh for every action, so a person disabled on another tablet can no longer
        act on this one.
        """
        with self.store.read() as db:
            row = db.execute(
                select(Staff.role, Staff.active).where(Staff.id == staff_id)).first()
        if row is None or not row.active:
            return None
        return str(row.role)

    def require(
        self,
        by: uuid.UUID,
        action: Action,
        *,
        session_id: uuid.UUID | None = None,
        patient_id: uuid.UUID | None = None,
        record_kind: str = "",
        record_id: uuid.UUID | None = None,
    ) -> str:
        """``by``'s role if it allows ``action``; else the refusal is audited and raised."""
        role = self.role(by)
        if role is None or not allowed(role, action):
            self.deny(by, role, action, session_id=session_id, patient_id=patient_id,
                      record_kind=record_kind, record_id=record_id)
        assert role is not None
        return role

    def deny(
        self,
        by: uuid.UUID,
        role: str | None,
        action: Action,
        *,
        session_id: uuid.UUID | None = None,
        patient_id: uuid.UUID | None = None,
        record_kind: str = "",
        record_id: uuid.UUID | None = None,
        message: str | None = None,
    ) -> None:
        """Audit the refusal of ``action`` to ``by`` in a transaction of its own, and raise it."""
        refused = PermissionDenied(role, action, message)
        now = self.clock.now()
        with self.store.write() as db:
            self.audit(db, by, "denied", record_kind, record_id, now=now,
                       session_id=session_id, patient_id=patient_id,
                       new={"action": Action(action).value, "role": role or "",
                            "message": str(refused)})
        raise refused

    def require_clinician(self, by: uuid.UUID, action: Action, *, session_id: uuid.UUID,
                          refused: str) -> None:
        """Refuse (and audit) ``action`` to anyone but a clinician: "<A nurse> <refused>"."""
        role = self.role(by)
        if role != "clinician":
            self.deny(by, role, action, session_id=session_id,
                      message=f"{ARTICLE_CAP.get(role or '', 'This staff member')} {refused}")

    # -- the audit trail -------------------------------------------------------------------

    def audit(
        self,
        db: Session,
        staff_id: uuid.UUID | None,
        action: str,
        record_kind: str = "",
        record_id: uuid.UUID | None = None,
        *,
        now: datetime,
        session_id: uuid.UUID | None = None,
        patient_id: uuid.UUID | None = None,
        old: Mapping[str, Any] | None = None,
        new: Mapping[str, Any] | None = None,
    ) -> str:
        """Append an audit entry in the caller's transaction, naming this tablet; returns
        the new chain head."""
        return audit.append(
            db.connection(), self.audit_key, at=now, staff_id=staff_id, action=action,
            record_kind=record_kind, record_id=record_id, session_id=session_id,
            patient_id=patient_id, old=old, new=new, tablet=self.tablet,
        )

    # -- PINs ------------------------------------------------------------------------------

    def pin_hash(self, pin: str) -> str:
        """The stored form of ``pin`` (salted, and peppered with the clinic's secret)."""
        return hash_pin(pin, self._secret)

    def staff_row(self, db: Session, staff_id: uuid.UUID) -> Staff:
        row = db.get(Staff, staff_id)
        if row is None:
            raise NotFoundError(f"no staff member {staff_id}")
        return row

    def forget_lock(self, staff_id: uuid.UUID) -> None:
        """The staff member's lock was lifted (a new PIN)."""
        self._locks_seen.pop(staff_id, None)

    def lock_left(self, staff_id: uuid.UUID, locked_at: datetime | None) -> timedelta:
        """How long the stored lock still runs (zero when none), noting it as seen."""
        if locked_at is None:
            return timedelta(0)
        mono = self.clock.monotonic()
        state = lock_remaining(locked_at, self.clock.now(), mono, self._locks_seen.get(staff_id))
        if state.remaining > timedelta(0) and state.restarted_at is None:
            seen = self._locks_seen.get(staff_id)
            if seen is None or seen[0] != locked_at:
                elapsed = (LOCK_DURATION - state.remaining).total_seconds()
                self._locks_seen[staff_id] = (locked_at, mono - elapsed)
        return state.remaining

    def staff_info(self, row: Staff) -> StaffInfo:
        """The staff member as the screens show them, with when their lock runs out."""
        left = timedelta(0)
        if row.locked_at is not None:
            state = lock_remaining(row.locked_at, self.clock.now(), self.clock.monotonic(),
                                   self._locks_seen.get(row.id))
            left = state.remaining
        return StaffInfo(
            id=row.id, name=row.name, role=row.role, active=row.active,
            locked_until=self.clock.now() + left if left > timedelta(0) else None,
        )

    def check_pin(self, staff_id: uuid.UUID, pin: str) -> StaffInfo:
        """The staff member if ``pin`` is theirs; else the failure is stored, audited, raised."""
        now = self.clock.now()
        with self.store.read() as db:
            row = db.get(Staff, staff_id)
            if row is not None:
                stored, locked_at, active = row.pin_hash, row.locked_at, row.active
                name, role = row.name, row.role
        if row is None or not active or role not in STAFF_ROLES:
            with self.store.write() as db:
                self.audit(db, staff_id, "login_failed", "staff", staff_id, now=now,
                           new={"reason": "unknown or disabled"})
            raise LoginRefused(0, "This account cannot sign in (unknown or disabled); "
                                  "ask an admin.")
        if locked_at is not None:
            mono = self.clock.monotonic()
            state = lock_remaining(locked_at, now, mono, self._locks_seen.get(staff_id))
            if state.remaining > timedelta(0):
                with self.store.write() as db:
                    if state.restarted_at is not None:
                        # The wall clock is before the lock began: start the 15 minutes again.
                        fresh = self.staff_row(db, staff_id)
                        fresh.locked_at = state.restarted_at
                        self._locks_seen[staff_id] = (state.restarted_at, mono)
                    else:
                        self.lock_left(staff_id, locked_at)
                    self.audit(db, staff_id, "login_failed", "staff", staff_id, now=now,
                               new={"reason": "locked"})
                raise AccountLocked(now + state.remaining)
        if verify_pin(stored, pin, self._secret):
            with self.store.write() as db:
                fresh = self.staff_row(db, staff_id)
                if fresh.failed_logins or fresh.locked_at is not None:
                    fresh.failed_logins = 0
                    fresh.locked_at = None
            self._locks_seen.pop(staff_id, None)
            return StaffInfo(id=staff_id, name=name, role=role, active=True, locked_until=None)
        with self.store.write() as db:
            fresh = self.staff_row(db, staff_id)
            lock_over = fresh.locked_at is not None  # a lock that ran out: count afresh
            failures = (0 if lock_over else fresh.failed_logins) + 1
            fresh.failed_logins = failures
            locks = failures >= MAX_FAILURES
            fresh.locked_at = now if locks else None
            self.audit(db, staff_id, "lock" if locks else "login_failed", "staff", staff_id,
                       now=now, new={"failures": failures})
        if locks:
            self._locks_seen[staff_id] = (now, self.clock.monotonic())
            raise AccountLocked(now + LOCK_DURATION)
        raise LoginRefused(MAX_FAILURES - failures)

    # -- e-signatures ----------------------------------------------------------------------

    def signer(self, by: uuid.UUID, pin: str | None, meaning: str) -> StaffInfo:
        """The signer, after PIN re-entry; an e-signature needs the PIN."""
        if pin is None:
            raise SignatureRequired(
                f"Enter your PIN to sign ({meaning}): a signature needs it again.")
        return self.check_pin(by, pin)

    def sign(
        self,
        db: Session,
        *,
        session_id: uuid.UUID,
        signer: StaffInfo,
        meaning: str,
        record_kind: str,
        record_id: uuid.UUID,
        now: datetime,
    ) -> uuid.UUID:
        """Store an e-signature bound to the hash of the session's content as it stands."""
        record, _, _ = load_record(db.connection(), session_id, now)
        signature = Signature(
            id=uuid.uuid4(), session_id=session_id, meaning=meaning, signer_id=signer.id,
            signer_name=signer.name, signer_role=signer.role, signed_at=now,
            record_kind=record_kind, record_id=record_id,
            content_hash=signed_content_hash(record, now),
        )
        db.add(signature)
        db.flush()
        return signature.id


#: Events that are signatures themselves, left out of what a signature covers.
_SIGNATURE_EVENTS = frozenset({EventKind.DISCHARGE_SIGNED, EventKind.DISCHARGE_OVERRIDE})


def signed_content_hash(record: SessionRecord, signed_at: datetime) -> str:
    """SHA-256 of the session's effective readings and events timed up to ``signed_at``.

    Computed again on every load: an amendment, a void or a late entry before the signing
    time changes it, and the signature then shows as superseded.
    """
    readings = [
        [str(r.id), r.time.isoformat(), *(repr(getattr(r, name, None)) for name in
                                          READING_FIELDS)]
        for r in record.readings if r.time <= signed_at
    ]
    events = [
        [str(e.id), e.time.isoformat(), e.kind.value, e.detail]
        for e in record.events if e.time <= signed_at and e.kind not in _SIGNATURE_EVENTS
    ]
    content = json.dumps([readings, events], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(content.encode("utf-8")).hexdigest()
