"""Importing a session recorded elsewhere (a CSV from the paper chart or another system).

The rows come validated (:mod:`monitor.exports.csvio`); the whole session is stored in one
transaction, all or nothing, and the audit trail gets a ``create`` entry for every reading and
event as if each had been entered, so the import can be reconstructed from the trail alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date

from sqlalchemy import select

from monitor.clinical.permissions import Action
from monitor.service.checkin import CheckIn
from monitor.service.evaluation import Evaluations
from monitor.service.guard import Guard
from monitor.service.session_protocols import SessionProtocols
from monitor.service.views import ImportedRow
from monitor.storage.model import EventRow, Patient, ReadingRow
from monitor.storage.records import (
    patient_values,
    reading_values,
    row_values,
    session_info,
    session_values,
)


class Importing:
    """Whole sessions stored at once."""

    def __init__(self, guard: Guard, protocols: SessionProtocols, evaluations: Evaluations,
                 checkin: CheckIn) -> None:
        self.guard = guard
        self.store = guard.store
        self.clock = guard.clock
        self.protocols = protocols
        self.evaluations = evaluations
        self.checkin = checkin

    def import_session(
        self,
        rows: Sequence[ImportedRow],
        *,
        mrn: str,
        by: uuid.UUID,
        name: str | None = None,
        date_of_birth: date | None = None,
        weight_kg: float | None = None,
        profile: str = "iv_ketamine",
        origin: Mapping[str, str] | None = None,
    ) -> uuid.UUID:
        """Store a whole session recorded elsewhere, in one transaction (all or nothing).

        ``rows`` must already be validated (``monitor.exports.csvio`` does that). The audit trail
        gets the import (with ``origin``: where it was run from), the new patient if any,
        and a ``create`` entry with the values of every reading and event, as if each had
        been entered: the import can be reconstructed from the trail alone.
        """
        ordered = sorted(rows, key=lambda r: r.time)
        with self.guard.change(by, Action.IMPORT) as change:
            db, now = change.db, change.now
            patient = db.scalar(select(Patient).where(Patient.mrn == mrn))
            new_patient = patient is None
            if patient is None:
                patient = self.checkin.add_patient_row(
                    db, mrn=mrn, by=by, name=name, date_of_birth=date_of_birth,
                    weight_kg=weight_kg,
                )
            session = self.checkin.new_session(
                db, patient, by=by, profile=profile, chair="", weight_kg=weight_kg,
                planned_mg_per_kg=None, infusion_minutes=None, bag_volume_ml=None,
                lot_number="", concomitant_medications=None, escort_name="",
                time=ordered[0].time if ordered else now, session_id=None, source="import",
            )
            created: list[ReadingRow | EventRow] = []
            for row in ordered:
                if row.values:
                    created.append(ReadingRow(**reading_values(
                        rid=uuid.uuid4(), session_id=session.id, when=row.time,
                        values=row.values, note=row.note if row.event is None else "",
                        on_oxygen=False, now=now, by=by,
                    )))
                if row.event is not None:
                    created.append(EventRow(
                        id=uuid.uuid4(), session_id=session.id, time=row.time,
                        kind=row.event.value, detail=row.note, data={},
                        recorded_at=now, entered_by=by,
                    ))
            db.add_all(created)
            db.flush()
            connection = db.connection()
            protocol = self.protocols.protocol_of(connection, session_info(connection, session.id))
            self.evaluations.raise_flags(connection, session.id, protocol, now)
            readings = sum(isinstance(r, ReadingRow) for r in created)
            change.audit("import", "session", session.id, session_id=session.id,
                         patient_id=patient.id,
                         new={**session_values(session), "mrn": mrn, "rows": len(ordered),
                              "readings": readings, "events": len(created) - readings,
                              **dict(origin or {})})
            if new_patient:
                change.audit("create", "patient", patient.id, patient_id=patient.id,
                             new=patient_values(patient))
            for created_row in created:
                kind = "reading" if isinstance(created_row, ReadingRow) else "event"
                change.audit("create", kind, created_row.id, session_id=session.id,
                             patient_id=patient.id,
                             new={**row_values(created_row), "source": "import"})
            return session.id
