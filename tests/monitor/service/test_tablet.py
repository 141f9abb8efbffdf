"""Charting on through an outage: entries held on the tablet, shown evaluated, drained once.

The server's outage is the store failing as an unreachable server makes it fail (the
private-server tests, test_tablet_outage.py, cut a real link); each test runs on SQLite and
on PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from monitor.clinical.domain import EventKind, Severity
from monitor.service.clinic import ClinicService
from monitor.service.tablet import Drainer, TabletService
from monitor.storage.integrity import check_database
from monitor.storage.model import AuditLog, ReadingRow
from monitor.storage.outbox import Outbox
from monitor.storage.store import NotSavedError, StorageError
from tests.conftest import TEST_PIN, TEST_SECRET
from tests.support.outage import Outage

MIN = timedelta(minutes=1)
NORMAL = {"sbp": "124", "dbp": "78", "hr": "72", "spo2": "98"}


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


def reading(tablet: TabletService, session_id, nurse, clock, **values: str):
    clock.advance(5 * MIN)
    return tablet.record_reading(session_id, {**NORMAL, **values}, by=nurse, with_view=True)


def stored_readings(service, session_id) -> list[uuid.UUID]:
    with service.store.read() as db:
        return list(db.scalars(select(ReadingRow.id).where(ReadingRow.session_id == session_id)
                               .order_by(ReadingRow.time)))


def creates(service, record_id: uuid.UUID) -> int:
    with service.store.read() as db:
        return db.execute(select(func.count()).select_from(AuditLog).where(
            AuditLog.record_id == record_id, AuditLog.action == "create")).scalar_one()


def test_a_reading_while_the_server_is_away_is_held_and_its_critical_flag_shown(
    tablet, service, session_id, nurse, clock, outage
):
    tablet.load(session_id)
    reading(tablet, session_id, nurse, clock)
    outage.begin()
    saved = reading(tablet, session_id, nurse, clock, spo2="88")
    assert saved.held == 1
    assert [f.key for f in saved.new_flags] == ["spo2-low"]
    assert saved.new_flags[0].severity is Severity.CRITICAL
    assert saved.view is not None
    assert saved.view.on_tablet
    assert saved.view.held == 1
    assert any(f.key == "spo2-low" and f.open for f in saved.view.flags)
    assert saved.view.record.readings[-1].spo2 == 88
    view = tablet.load(session_id)  # the tablet's copy, while the server is away
    assert view.on_tablet
    assert view.held == 1
    assert view.record.readings[-1].id == saved.id
    outage.end()
    assert saved.id not in stored_readings(service, session_id)


def test_the_drain_stores_each_held_entry_once_in_order_and_flags_are_the_servers(
    tablet, service, session_id, nurse, clock, outage, db_url
):
    tablet.load(session_id)
    outage.begin()
    held = [reading(tablet, session_id, nurse, clock, hr=str(70 + n)).id for n in range(3)]
    clock.advance(MIN)
    medication = tablet.record_event(session_id, EventKind.MEDICATION, by=nurse,
                                     detail="ondansetron 4 mg")
    low = reading(tablet, session_id, nurse, clock, spo2="88")
    assert tablet.held(session_id) == 5
    outage.end()
    assert tablet.drain() == 5
    assert tablet.held(session_id) == 0
    assert stored_readings(service, session_id) == [*held, low.id]
    assert all(creates(service, rid) == 1 for rid in [*held, low.id, medication])
    view = tablet.load(session_id)
    assert not view.on_tablet
    assert view.held == 0
    assert any(f.key == "spo2-low" and f.severity is Severity.CRITICAL for f in view.flags)
    assert any(e.id == medication for e in view.record.events)
    assert tablet.drain() == 0  # nothing twice
    assert check_database(db_url).ok


def test_entries_made_while_others_wait_go_behind_them_even_with_the_server_back(
    tablet, service, session_id, nurse, clock, outage
):
    tablet.load(session_id)
    outage.begin()
    first = reading(tablet, session_id, nurse, clock)
    outage.end()
    second = reading(tablet, session_id, nurse, clock)
    assert second.held == 2  # not given to the server before the one held before it
    assert stored_readings(service, session_id) == []
    tablet.drain()
    assert stored_readings(service, session_id) == [first.id, second.id]


def test_an_entry_the_server_has_already_from_a_drain_cut_short_is_stored_once(
    tablet, service, session_id, nurse, clock, outage
):
    tablet.load(session_id)
    outage.begin()
    saved = reading(tablet, session_id, nurse, clock)
    outage.end()
    # The server committed it, and the tablet died before letting it go from the outbox.
    [entry] = tablet.outbox.waiting()
    tablet._replay(entry)
    assert tablet.drain() == 1
    assert stored_readings(service, session_id) == [saved.id]
    assert creates(service, saved.id) == 1


def test_a_held_entry_the_server_refuses_stays_visible_with_its_words(
    tablet, service, session_id, nurse, clock, outage
):
    tablet.load(session_id)
    outage.begin()
    saved = reading(tablet, session_id, nurse, clock, spo2="96")
    after = reading(tablet, session_id, nurse, clock)
    outage.end()
    # Meanwhile the same id reached the server with other values.
    service.record_reading(session_id, {**NORMAL, "spo2": "97"}, by=nurse,
                           reading_id=saved.id)
    assert tablet.drain() == 1
    assert after.id in stored_readings(service, session_id)  # the drain went on
    [refused] = tablet.outbox.refused(session_id)
    assert refused.entry_id == saved.id
    assert "spo2 97, not 96" in refused.refused
    assert refused.refused.startswith("Reading 09:05 (sbp 124, dbp 78, hr 72, spo2 96): ")
    view = tablet.load(session_id)
    assert view.refused_on_server == (refused.refused,)


def test_what_needs_the_server_is_refused_with_words_that_say_so(
    tablet, service, session_id, nurse, clock, outage
):
    tablet.load(session_id)
    outage.begin()
    with pytest.raises(NotSavedError, match="Sign-off needs the server"):
        tablet.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
    saved = reading(tablet, session_id, nurse, clock, spo2="88")
    [critical] = saved.new_flags
    with pytest.raises(NotSavedError, match="waits until the 1 entries saved on this tablet"):
        tablet.acknowledge(session_id, critical, action="Oxygen given", by=nurse, pin=TEST_PIN)
    with pytest.raises(NotSavedError, match="A correction waits"):
        tablet.void(session_id, "reading", saved.id, reason="wrong chair", by=nurse)
    assert tablet.held(session_id) == 1


def test_a_warning_acknowledged_while_the_server_is_away_is_held_and_closes_the_flag(
    tablet, service, session_id, nurse, clock, outage
):
    tablet.load(session_id)
    outage.begin()
    saved = reading(tablet, session_id, nurse, clock, hr="115")
    [warning] = saved.new_flags
    assert warning.severity is Severity.WARNING
    clock.advance(MIN)
    tablet.acknowledge(session_id, warning, action="Repeat reading", by=nurse)
    view = tablet.load(session_id)
    assert view.held == 2
    assert not any(f.id == warning.id and f.open for f in view.flags)
    outage.end()
    assert tablet.drain() == 2
    assert not any(f.id == warning.id and f.open for f in tablet.load(session_id).flags)


def test_a_session_never_loaded_here_cannot_be_shown_while_the_server_is_away(
    tablet, session_id, outage
):
    outage.begin()
    with pytest.raises(StorageError):
        tablet.load(session_id)


def test_the_drainer_drains_on_its_own_thread_when_poked(
    tablet, service, session_id, nurse, clock, outage
):
    tablet.load(session_id)
    outage.begin()
    saved = reading(tablet, session_id, nurse, clock)
    outage.end()
    drained: list[int] = []
    # As the app does: the drain's thread calls a service of its own on the same store.
    own = TabletService(service, tablet.outbox, clock,
                        drain_service=ClinicService(service.store, clock, secret=TEST_SECRET))
    drainer = Drainer(own, every_s=3600, drained=drained.append)
    drainer.start()
    try:
        drainer.poke()
        assert drainer.idle.wait(30)
    finally:
        drainer.stop()
    assert drained == [1]
    assert stored_readings(service, session_id) == [saved.id]
