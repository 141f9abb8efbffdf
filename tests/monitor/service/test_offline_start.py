"""A tablet started while its PostgreSQL server is stopped: it opens on its copy, a nurse
signs in with her PIN checked against the cached hash, a reading is held on the tablet, and
once the server is started again the reading and the sign-in reach it once, the audit trail
intact.

A private server (tests/support/pgserver.py), stopped and started for real.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from monitor.clock import ManualClock
from monitor.service.clinic import ClinicService
from monitor.service.offline import CachingClinic, TabletCopies, open_clinic_store
from monitor.service.tablet import Drainer, TabletService
from monitor.storage.integrity import check_database
from monitor.storage.outbox import Outbox
from monitor.storage.store import StorageError, open_store
from monitor.storage.tablet_cache import TabletCache
from tests.conftest import TEST_PIN, TEST_SECRET
from tests.support.pgserver import PrivateServer, private_server, require_private_server

NORMAL = {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98"}


@pytest.fixture(scope="module")
def server() -> Iterator[PrivateServer]:
    require_private_server()
    with private_server() as started:
        with psycopg.connect(started.dsn(), autocommit=True) as connection:
            connection.execute("CREATE DATABASE chairside")
        yield started


def first_run(url: str, cache: TabletCache, outbox: Outbox,
              clock: ManualClock) -> tuple[uuid.UUID, uuid.UUID]:
    """A run of the app with its server: the nurse, a session on chair 2, read as the window
    reads them (the sign-in list, the chairs, the session)."""
    store = open_store(url, application_name="Chair 2")
    try:
        clinic = CachingClinic(store, clock, secret=TEST_SECRET, cache=cache, tablet="Chair 2")
        nurse = clinic.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
        patient = clinic.add_patient(f"MRN-{uuid.uuid4().hex[:8]}", by=nurse,
                                     name="Pat Example", weight_kg=70.0)
        session_id = clinic.start_session(patient.id, by=nurse, chair="2")
        tablet = TabletService(clinic, outbox, clock, cached=clinic.cached_view)
        clinic.staff_list()
        clinic.active_sessions(["1", "2", "3", "4"])
        tablet.load(session_id)
    finally:
        store.close()
    return nurse, session_id


def test_a_tablet_started_while_its_server_is_stopped_charts_on_its_copy_and_drains_once_back(
    server: PrivateServer, tmp_path: Path,
) -> None:
    if server.pid is None:
        server.start()
    url = server.url("chairside")
    clock = ManualClock()
    cache = TabletCache(tmp_path / "tablet-cache.sqlite3")
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    try:
        nurse, session_id = first_run(url, cache, outbox, clock)
        server.stop()
        clock.advance(timedelta(minutes=20))

        store, copy_from = open_clinic_store(url, cache, clock, application_name="Chair 2")
        drainer: Drainer | None = None
        try:
            assert copy_from is not None
            assert copy_from < clock.now()
            clinic = CachingClinic(store, clock, secret=TEST_SECRET, cache=cache,
                                   tablet="Chair 2")
            tablet = TabletService(clinic, outbox, clock, cached=clinic.cached_view,
                                   drain_service=ClinicService(store, clock, secret=TEST_SECRET,
                                                               tablet="Chair 2"))
            copies = TabletCopies(clinic, tablet.copy_of, started_offline=copy_from)
            with pytest.raises(StorageError):
                clinic.active_sessions(["1", "2"])  # the server is away
            assert copies.chairs(["1", "2", "3", "4"]) == {"2": session_id}
            assert [s.name for s in clinic.staff_list()] == ["Nora Nurse"]
            assert clinic.login(nurse, TEST_PIN).id == nurse

            saved = tablet.record_reading(session_id, {**NORMAL, "spo2": "88"}, by=nurse,
                                          with_view=True)
            assert saved.held == 1
            assert [f.key for f in saved.new_flags] == ["spo2-low"]
            assert tablet.load(session_id).on_tablet
            assert tablet.drain() == 0  # still away: nothing taken, nothing lost
            assert tablet.held(session_id) == 1

            server.start()
            drainer = Drainer(tablet)
            tablet.on_reachable = drainer.poke
            drainer.start()
            live = tablet.load(session_id)  # a read goes through: the drain is poked
            assert not live.on_tablet
            assert drainer.idle.wait(30), "the drain should finish"
            assert tablet.held(session_id) == 0
            assert tablet.drain() == 0  # nothing left, nothing given twice
            with psycopg.connect(server.dsn("chairside")) as connection:
                readings = [row[0] for row in connection.execute(
                    "SELECT id FROM readings WHERE session_id = %s", (session_id,))]
                creates = connection.execute(
                    "SELECT count(*) FROM audit_log WHERE action = 'create' "
                    "AND record_id = %s", (saved.id,)).fetchone()
                signed_in = connection.execute(
                    "SELECT count(*) FROM audit_log WHERE action = 'login' AND staff_id = %s "
                    "AND new LIKE '%%on_tablet_copy%%'", (nurse,)).fetchone()
            assert readings == [saved.id]
            assert creates == (1,)
            assert signed_in == (1,)  # the sign-in on the copy, in the server's trail
            assert [f.key for f in tablet.load(session_id).flags] == ["spo2-low"]
            verified = clinic.verify_audit()
            assert verified.first_bad is None, verified.message
            assert check_database(url).ok
        finally:
            if drainer is not None:
                drainer.stop()
            store.close()
    finally:
        outbox.close()
        cache.close()
