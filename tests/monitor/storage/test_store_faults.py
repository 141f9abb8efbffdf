"""Saves over a faulty network and to a server that dies: stored, or NOT saved, never lost.

A private server (tests/support/pgserver.py) behind the faulty proxy (tests/support/
tcpproxy.py); the service saves readings as a tablet does. A failure may come at the read
that precedes the write (``StoreUnavailableError``) or at the write (``NotSavedError``):
both are a :class:`StorageError`, which the screens show as NOT saved.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import select

from monitor.clock import ManualClock
from monitor.service.clinic import ClinicService
from monitor.service.outcome import Verdict, settle
from monitor.storage.model import ReadingRow
from monitor.storage.store import OutcomeUnknownError, StorageError, open_store
from tests.conftest import TEST_SECRET
from tests.support.pgserver import PrivateServer, private_server, require_private_server
from tests.support.tcpproxy import FaultyProxy

NORMAL = {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98"}


@dataclass
class Tablet:
    server: PrivateServer
    proxy: FaultyProxy
    service: ClinicService
    clock: ManualClock
    nurse: uuid.UUID
    session_id: uuid.UUID

    def save(self) -> uuid.UUID:
        self.clock.advance(timedelta(minutes=5))
        reading_id = uuid.uuid4()
        self.service.record_reading(self.session_id, NORMAL, by=self.nurse,
                                    reading_id=reading_id)
        return reading_id

    def stored(self) -> set[uuid.UUID]:
        with psycopg.connect(self.server.dsn("chairside")) as connection:
            return {row[0] for row in connection.execute("SELECT id FROM readings")}


@pytest.fixture(scope="module")
def server() -> Iterator[PrivateServer]:
    require_private_server()
    with private_server() as started:
        with psycopg.connect(started.dsn(), autocommit=True) as connection:
            connection.execute("CREATE DATABASE chairside")
        yield started


@pytest.fixture
def tablet(server: PrivateServer) -> Iterator[Tablet]:
    if server.pid is None:
        server.start()
    with FaultyProxy(server.port) as proxy:
        clock = ManualClock()
        store = open_store(proxy.url("chairside"), application_name="Chair 2")
        try:
            service = ClinicService(store, clock, secret=TEST_SECRET)
            nurse = service.ensure_staff("Nora Nurse", "nurse")
            patient = service.add_patient(f"MRN-{uuid.uuid4().hex[:8]}", by=nurse,
                                          name="Pat Example", weight_kg=70.0)
            session_id = service.start_session(patient.id, by=nurse, chair="2")
            yield Tablet(server, proxy, service, clock, nurse, session_id)
        finally:
            store.close()


def test_a_save_after_the_network_dropped_every_connection_reconnects_and_is_stored(
    tablet: Tablet,
) -> None:
    first = tablet.save()
    assert tablet.proxy.drop_all() >= 1
    second = tablet.save()
    assert {first, second} <= tablet.stored()
    assert tablet.proxy.counters.accepted >= 2  # a new connection carried the second save


def test_a_save_while_the_server_is_unreachable_is_not_saved_and_the_next_one_is(
    tablet: Tablet,
) -> None:
    tablet.save()
    tablet.proxy.refuse_new()
    tablet.proxy.drop_all()
    attempt = uuid.uuid4()
    started = time.monotonic()
    # Refused before or during the write: either way nothing is stored and the nurse is told.
    with pytest.raises(StorageError) as refused:
        tablet.service.record_reading(tablet.session_id, NORMAL, by=tablet.nurse,
                                      reading_id=attempt)
    assert refused.value.reason == "unreachable"
    assert time.monotonic() - started < 5
    assert attempt not in tablet.stored()
    tablet.proxy.refuse_new(False)
    assert tablet.save() in tablet.stored()


def test_saves_work_with_five_milliseconds_each_way(tablet: Tablet) -> None:
    tablet.proxy.set_latency(0.005)
    saved = tablet.save()
    assert saved in tablet.stored()
    assert tablet.proxy.counters.chunks_delayed > 0


def test_a_save_to_a_killed_server_is_not_saved_and_saves_resume_after_restart(
    tablet: Tablet,
) -> None:
    kept = tablet.save()
    tablet.server.kill()
    with pytest.raises(StorageError):
        tablet.save()
    tablet.server.start()
    after = tablet.save()
    assert {kept, after} <= tablet.stored()
    with tablet.service.store.read() as db:
        assert kept in set(db.scalars(select(ReadingRow.id)))


def test_a_save_whose_commit_reply_was_lost_is_found_saved_and_its_retry_stored_once(
    tablet: Tablet,
) -> None:
    """The server committed, the link dropped before its answer: the outcome is unknown
    to the tablet, the server says the reading is stored, and saving it again under its
    id stores nothing more."""
    tablet.clock.advance(timedelta(minutes=5))
    reading_id = uuid.uuid4()
    tablet.proxy.drop_on_reply(b"COMMIT\0")
    with pytest.raises(OutcomeUnknownError):
        tablet.service.record_reading(tablet.session_id, NORMAL, by=tablet.nurse,
                                      reading_id=reading_id)
    assert tablet.proxy.counters.dropped == 1
    assert settle(tablet.service.stored, "reading", reading_id).verdict is Verdict.SAVED
    before = len(tablet.stored())
    tablet.service.record_reading(tablet.session_id, NORMAL, by=tablet.nurse,
                                  reading_id=reading_id)
    assert reading_id in tablet.stored()
    assert len(tablet.stored()) == before
