"""A tablet charting through a real outage of its PostgreSQL server, and drains killed midway.

A private server (tests/support/pgserver.py) behind the faulty proxy (tests/support/
tcpproxy.py): the server stopped, the link refused, the reply to COMMIT lost. Entries are
held on the tablet, flagged on the tablet's copy, and reach the server once each, in order,
however often the draining process is killed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from monitor.clinical.domain import EventKind, Severity
from monitor.clock import ManualClock
from monitor.service.clinic import ClinicService
from monitor.service.tablet import TabletService
from monitor.storage.integrity import check_database
from monitor.storage.outbox import Outbox
from monitor.storage.store import open_store
from tests.conftest import TEST_SECRET
from tests.support.pgserver import PrivateServer, private_server, require_private_server
from tests.support.tcpproxy import FaultyProxy

NORMAL = {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98"}
ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Rig:
    server: PrivateServer
    proxy: FaultyProxy
    service: ClinicService
    tablet: TabletService
    clock: ManualClock
    nurse: uuid.UUID
    session_id: uuid.UUID
    outbox_path: Path

    def reading(self, **values: str):
        self.clock.advance(timedelta(minutes=5))
        return self.tablet.record_reading(self.session_id, {**NORMAL, **values}, by=self.nurse,
                                          with_view=True)

    def rows(self, table: str) -> list[uuid.UUID]:
        with psycopg.connect(self.server.dsn("chairside")) as connection:
            return [row[0] for row in connection.execute(
                f"SELECT id FROM {table} WHERE session_id = %s ORDER BY time",
                (self.session_id,))]

    def creates(self) -> dict[uuid.UUID, int]:
        with psycopg.connect(self.server.dsn("chairside")) as connection:
            return {row[0]: row[1] for row in connection.execute(
                "SELECT record_id, count(*) FROM audit_log WHERE action = 'create' "
                "AND session_id = %s GROUP BY record_id", (self.session_id,))}


@pytest.fixture(scope="module")
def server() -> Iterator[PrivateServer]:
    require_private_server()
    with private_server() as started:
        with psycopg.connect(started.dsn(), autocommit=True) as connection:
            connection.execute("CREATE DATABASE chairside")
        yield started


@pytest.fixture
def rig(server: PrivateServer, tmp_path: Path) -> Iterator[Rig]:
    if server.pid is None:
        server.start()
    with FaultyProxy(server.port) as proxy:
        clock = ManualClock()
        store = open_store(proxy.url("chairside"), application_name="Chair 2")
        outbox = Outbox(tmp_path / "outbox.sqlite3")
        try:
            service = ClinicService(store, clock, secret=TEST_SECRET)
            nurse = service.ensure_staff("Nora Nurse", "nurse")
            patient = service.add_patient(f"MRN-{uuid.uuid4().hex[:8]}", by=nurse,
                                          name="Pat Example", weight_kg=70.0)
            session_id = service.start_session(patient.id, by=nurse, chair="2")
            tablet = TabletService(service, outbox, clock)
            tablet.load(session_id)
            yield Rig(server, proxy, service, tablet, clock, nurse, session_id,
                      tmp_path / "outbox.sqlite3")
        finally:
            outbox.close()
            store.close()


def test_entries_made_while_the_server_is_stopped_are_flagged_here_and_stored_once_after(
    rig: Rig,
) -> None:
    rig.reading()
    rig.server.stop()
    low = rig.reading(spo2="88")
    assert low.held == 1
    assert [(f.key, f.severity) for f in low.new_flags] == [("spo2-low", Severity.CRITICAL)]
    rig.clock.advance(timedelta(minutes=1))
    given = rig.tablet.record_event(rig.session_id, EventKind.MEDICATION, by=rig.nurse,
                                    detail="ondansetron 4 mg")
    later = rig.reading(spo2="95")
    view = rig.tablet.load(rig.session_id)
    assert view.on_tablet
    assert view.held == 3
    assert any(f.key == "spo2-low" and f.open for f in view.flags)
    assert rig.tablet.drain() == 0  # the server is still away: nothing taken, nothing lost
    assert rig.tablet.held(rig.session_id) == 3

    rig.server.start()
    assert rig.tablet.drain() == 3
    assert rig.rows("readings")[-2:] == [low.id, later.id]
    assert given in rig.rows("events")
    assert all(n == 1 for n in rig.creates().values())
    view = rig.tablet.load(rig.session_id)
    assert not view.on_tablet
    assert view.held == 0
    assert any(f.key == "spo2-low" and f.severity is Severity.CRITICAL for f in view.flags)
    assert check_database(rig.server.url("chairside")).ok


def test_an_entry_whose_commit_reply_was_lost_while_the_link_went_down_is_held_and_stored_once(
    rig: Rig,
) -> None:
    rig.proxy.drop_on_reply(b"COMMIT\0")
    rig.proxy.refuse_new()  # the server cannot be asked whether it stored it
    saved = rig.reading()
    assert saved.held == 1
    rig.proxy.refuse_new(False)
    assert rig.rows("readings") == [saved.id]  # the server had committed it after all
    assert rig.tablet.drain() == 1
    assert rig.rows("readings") == [saved.id]
    assert rig.creates()[saved.id] == 1


def test_a_link_refused_holds_the_entries_and_the_drain_stops_at_the_first_failure(
    rig: Rig,
) -> None:
    rig.proxy.refuse_new()
    rig.proxy.drop_all()
    first, second = rig.reading(), rig.reading()
    assert second.held == 2
    assert rig.tablet.drain() == 0
    assert [e.attempts for e in rig.tablet.outbox.waiting()] == [1, 0]
    rig.proxy.refuse_new(False)
    assert rig.tablet.drain() == 2
    assert rig.rows("readings") == [first.id, second.id]


def drain_killed_rounds(rig: Rig, rounds: int, seed: int) -> None:
    chance = random.Random(seed)
    expected: list[uuid.UUID] = []
    cut_short = 0  # rounds whose drain the kill interrupted
    for _ in range(rounds):
        rig.proxy.refuse_new()
        rig.proxy.drop_all()
        expected += [rig.reading(hr=str(60 + n)).id for n in range(6)]
        rig.proxy.refuse_new(False)
        kill_after = chance.randint(0, 5)  # entries seen leaving the outbox (0: none)
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.monitor.service.drain_child",
             rig.server.url("chairside"), str(rig.outbox_path), rig.clock.now().isoformat()],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert child.stdout is not None
        seen = 0
        for line in child.stdout:
            if line.strip() != "ready":
                seen += 1
            if seen >= kill_after:
                break
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
        child.stdout.close()
        cut_short += bool(rig.tablet.outbox.waiting())
        # What the killed tablet left is drained by the next run.
        rig.tablet.drain()
        assert rig.tablet.outbox.waiting() == []
        assert rig.tablet.outbox.refused() == []
        assert rig.rows("readings") == expected, f"seed {seed}"
        assert set(rig.creates().values()) == {1}, f"seed {seed}"
    assert cut_short >= rounds // 2, "the kills should land mid-drain"
    assert check_database(rig.server.url("chairside")).ok


def test_a_drain_killed_at_random_points_leaves_no_duplicate_and_loses_nothing(rig: Rig) -> None:
    drain_killed_rounds(rig, rounds=20, seed=20261206)


@pytest.mark.slow
@pytest.mark.long
def test_a_drain_killed_fifty_times_leaves_no_duplicate_and_loses_nothing(rig: Rig) -> None:
    drain_killed_rounds(rig, rounds=50, seed=50)
