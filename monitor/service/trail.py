"""The audit trail as staff see it: listing entries, exports, and checking the chain.

Every change appends an entry in its own transaction (:meth:`monitor.service.guard.Guard.audit`);
this part reads the trail back for clinicians and admins, records what leaves the system (an
export, demo data) and verifies that the chain of entries is unbroken.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from monitor.clinical.permissions import Action
from monitor.clock import ensure_utc
from monitor.service.guard import Guard
from monitor.service.views import AuditEntry
from monitor.storage import audit
from monitor.storage.model import AuditLog, Staff
from monitor.storage.records import session_info


class AuditTrail:
    """The audit trail, read and verified."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self.store = guard.store
        self.clock = guard.clock

    def audit_entries(
        self,
        *,
        by: uuid.UUID,
        patient_id: uuid.UUID | None = None,
        session_id: uuid.UUID | None = None,
        staff_id: uuid.UUID | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 500,
    ) -> list[AuditEntry]:
        """Audit entries, newest first, filtered (clinicians and admins only)."""
        self.guard.require(by, Action.VIEW_AUDIT)
        query = (
            select(AuditLog, func.coalesce(Staff.name, ""))
            .outerjoin(Staff, Staff.id == AuditLog.staff_id)
            .order_by(AuditLog.seq.desc())
            .limit(max(1, limit))
        )
        if patient_id is not None:
            query = query.where(AuditLog.patient_id == patient_id)
        if session_id is not None:
            query = query.where(AuditLog.session_id == session_id)
        if staff_id is not None:
            query = query.where(AuditLog.staff_id == staff_id)
        if action is not None:
            query = query.where(AuditLog.action == action)
        if since is not None:
            query = query.where(AuditLog.at >= ensure_utc(since))
        if until is not None:
            query = query.where(AuditLog.at <= ensure_utc(until))
        with self.store.read() as db:
            return [_entry(row, name) for row, name in db.execute(query)]

    def record_export(self, session_id: uuid.UUID, fmt: str, *, by: uuid.UUID) -> str:
        """Audit an export of the session; returns the chain head to print on it."""
        with self.guard.change(by, Action.EXPORT, session_id=session_id) as change:
            info = session_info(change.connection, session_id)
            return change.audit("export", "session", session_id, session_id=session_id,
                                patient_id=info.patient.id, new={"format": fmt})

    def record_demo_data(self, details: Mapping[str, Any], *, by: uuid.UUID) -> None:
        """Audit that synthetic demo data was written, with what regenerates it (the seed,
        the number of sessions and the generation time) and what it holds."""
        with self.guard.write(by) as change:
            change.audit("demo_data", "database", None, new=dict(details))

    def audit_head(self) -> str:
        """The newest audit entry's mac (hex): the chain head."""
        with self.store.read() as db:
            return audit.head(db.connection())

    def verify_audit(self, head: str | None = None) -> audit.Verification:
        """Check the audit chain (and, given ``head``, that it still holds that head)."""
        with self.store.read() as db:
            return audit.verify(db.connection(), self.guard.audit_key, head)


def _entry(row: AuditLog, staff_name: str) -> AuditEntry:
    """An audit row as the screens list it: the tablet apart from the new values."""
    new = json.loads(row.new) if row.new is not None else None
    return AuditEntry(
        seq=row.seq, at=row.at, staff_id=row.staff_id, staff_name=staff_name,
        action=row.action, record_kind=row.record_kind, record_id=row.record_id,
        session_id=row.session_id, patient_id=row.patient_id,
        old=json.loads(row.old) if row.old is not None else None,
        new=audit.without_tablet(new), tablet=audit.tablet_in(new),
    )
