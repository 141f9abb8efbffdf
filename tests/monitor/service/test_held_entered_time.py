"""An entry held on the tablet through an outage keeps the moment the nurse saved it.

The server stores the tablet's save time as the entry's entered time (so a reading entered
on time is not a late entry), its audit entry keeps the server's receipt and says the
tablet's time; a tablet time ahead of the server's clock beyond the tolerance, or before the
check-in, is not used. Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from monitor.clinical.domain import EventKind
from monitor.clock import ManualClock
from monitor.service.saves import ENTERED_AHEAD_TOLERANCE
from monitor.service.tablet import READING, TabletService
from monitor.storage.integrity import check_database
from monitor.storage.model import AuditLog
from monitor.storage.outbox import Outbox
from tests.support.outage import Outage

NORMAL = {"sbp": "124", "dbp": "78", "hr": "72", "spo2": "98"}
DAY = datetime(2026, 3, 2, tzinfo=UTC)


def at(hh: int, mm: int, ss: int = 0) -> datetime:
    return DAY.replace(hour=hh, minute=mm, second=ss)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at(22, 30))


@pytest.fixture
def outage(store) -> Iterator[Outage]:
    cut = Outage(store)
    yield cut
    cut.end()


@pytest.fixture
def tablet(service, clock, tmp_path) -> Iterator[TabletService]:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    yield TabletService(service, outbox, clock)
    outbox.close()


def move_to(clock: ManualClock, when: datetime) -> None:
    clock.advance(when - clock.now())


def created(service, record_id: uuid.UUID) -> AuditLog:
    with service.store.read() as db:
        row = db.scalars(select(AuditLog).where(AuditLog.record_id == record_id,
                                                AuditLog.action == "create")).one()
        db.expunge(row)
        return row


def test_a_reading_held_on_time_is_not_late_and_the_review_orders_it_before_its_ack(
    tablet, service, session_id, nurse, clock, outage, db_url
):
    tablet.load(session_id)
    outage.begin()
    move_to(clock, at(23, 0, 47))
    saved = tablet.record_reading(session_id, {**NORMAL, "hr": "115"}, by=nurse)
    [warning] = saved.new_flags
    move_to(clock, at(23, 1, 30))
    ack = tablet.acknowledge(session_id, warning, action="Repeat reading", by=nurse)
    move_to(clock, at(23, 2, 16))
    outage.end()
    assert tablet.drain() == 2
    view = service.load(session_id)
    [reading] = view.record.readings
    assert reading.id == saved.id
    assert reading.time == at(23, 0, 47)
    assert reading.recorded_at == at(23, 0, 47)
    assert not reading.is_late_entry
    [acknowledgement] = view.record.acknowledgements
    assert acknowledgement.time == at(23, 1, 30)
    assert reading.recorded_at < acknowledgement.time  # "Who did what": reading, then ack
    audit = created(service, saved.id)
    assert audit.at == at(23, 2, 16)  # the server's receipt stays known
    new = json.loads(audit.new or "{}")
    assert datetime.fromisoformat(new["entered_on_tablet_at"]) == at(23, 0, 47)
    assert "entered_time_not_used" not in new
    assert ack is not None
    assert check_database(db_url).ok  # the audit chain verifies


def test_a_held_event_keeps_the_tablets_entered_time(
    tablet, service, session_id, nurse, clock, outage
):
    tablet.load(session_id)
    outage.begin()
    move_to(clock, at(23, 0, 5))
    eid = tablet.record_event(session_id, EventKind.MEDICATION, by=nurse,
                              detail="ondansetron 4 mg")
    move_to(clock, at(23, 4))
    outage.end()
    assert tablet.drain() == 1
    [event] = [e for e in service.load(session_id).record.events if e.id == eid]
    assert event.recorded_at == at(23, 0, 5)
    assert created(service, eid).at == at(23, 4)


def test_a_tablet_time_ahead_of_the_server_beyond_the_tolerance_is_not_used(
    service, session_id, nurse, clock
):
    move_to(clock, at(23, 0))
    ahead = clock.now() + ENTERED_AHEAD_TOLERANCE + timedelta(seconds=1)
    saved = service.record_reading(session_id, NORMAL, by=nurse, time=at(22, 59),
                                   entered_at=ahead)
    [reading] = service.load(session_id).record.readings
    assert reading.recorded_at == at(23, 0)  # the server's receipt, not the tablet's claim
    new = json.loads(created(service, saved.id).new or "{}")
    assert datetime.fromisoformat(new["entered_on_tablet_at"]) == ahead
    assert "61 s ahead of the server's clock (more than 60 s)" in new["entered_time_not_used"]


def test_a_tablet_time_within_the_tolerance_counts_as_the_servers_receipt(
    service, session_id, nurse, clock
):
    move_to(clock, at(23, 0))
    service.record_reading(session_id, NORMAL, by=nurse, time=at(22, 59),
                           entered_at=at(23, 0, 30))
    [reading] = service.load(session_id).record.readings
    assert reading.recorded_at == at(23, 0)  # never after the server had it


def test_a_tablet_time_before_the_check_in_is_not_used(service, session_id, nurse, clock):
    move_to(clock, at(23, 0))
    saved = service.record_reading(session_id, NORMAL, by=nurse, time=at(22, 59),
                                   entered_at=at(21, 0))
    [reading] = service.load(session_id).record.readings
    assert reading.recorded_at == at(23, 0)
    assert reading.is_late_entry is False
    new = json.loads(created(service, saved.id).new or "{}")
    assert "before the session's check-in" in new["entered_time_not_used"]


def test_an_entry_held_before_entered_times_were_kept_drains_as_before(
    tablet, service, session_id, nurse, clock
):
    move_to(clock, at(23, 0, 47))
    rid = uuid.uuid4()
    tablet.outbox.hold(rid, READING, session_id, {
        "raw": NORMAL, "by": str(nurse), "time": at(23, 0, 47).isoformat(), "confirmed": [],
        "note": "", "on_oxygen": False, "after_signoff_reason": None}, clock.now())
    move_to(clock, at(23, 2, 16))
    assert tablet.drain() == 1
    [reading] = service.load(session_id).record.readings
    assert reading.id == rid
    assert reading.recorded_at == at(23, 2, 16)  # dated at the server's receipt
    assert reading.is_late_entry
    assert "entered_on_tablet_at" not in json.loads(created(service, rid).new or "{}")
