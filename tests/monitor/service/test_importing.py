"""Importing a session recorded elsewhere, all in one transaction."""

from __future__ import annotations

from datetime import timedelta

from monitor.clinical.domain import EventKind
from monitor.service.views import ImportedRow
from tests.monitor.service.entries import MIN


def test_import_session_is_all_in_one_transaction(service, nurse, clock):
    start = clock.now() - timedelta(hours=2)
    rows = [
        ImportedRow(time=start, values={"sbp": 128, "dbp": 78, "hr": 72}),
        ImportedRow(time=start + 2 * MIN, event=EventKind.INFUSION_START),
        ImportedRow(time=start + 12 * MIN, values={"sbp": 140, "dbp": 85}),
    ]
    importer = service.ensure_staff("Command-line import", "system")
    session_id = service.import_session(rows, mrn="MRN5", by=importer, name="Bo Lind")
    view = service.load(session_id)
    assert len(view.record.readings) == 2
    assert [e.kind for e in view.record.events] == [EventKind.INFUSION_START]
    assert view.info.source == "import"
