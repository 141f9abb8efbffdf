"""Round trips to a clinic's PostgreSQL server: what a save, a load and an idle tablet cost.

On the clinic's Wi-Fi each round trip costs 5–10 ms, whatever it carries. The tablets reach
the test server through the fault proxy (:mod:`tests.support.tcpproxy`), which counts the
server's answers that followed something a client sent (``turns``): the round trips as the
wire sees them. SQL statements are counted as SQLAlchemy hears them
(``before_cursor_execute``). Each test saves a few times first: psycopg prepares a
statement after its fifth execution, once per connection, and the counts here are the
steady state of a tablet at work.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from monitor.clinical.domain import EventKind, Flag, Measure, Severity
from monitor.service.clinic import ClinicService
from monitor.storage.changes.feed import open_feed
from monitor.storage.integrity import check_database
from monitor.storage.store import Store, open_store
from tests.conftest import TEST_PIN, TEST_SECRET
from tests.support.pgserver import wait_for
from tests.support.tcpproxy import FaultyProxy

pytestmark = pytest.mark.postgres

MIN = timedelta(minutes=1)
#: Saves made before counting (psycopg prepares a statement at its fifth execution).
WARM_UP = 6

#: The ceilings this module holds the write path to (round trips, statements).
SAVE_READING = (3, 11)
SAVE_READING_RAISING_A_FLAG = (3, 12)
SAVE_READING_WITH_VIEW = (3, 14)
SAVE_EVENT = (3, 13)
#: The acknowledgement loads the session first (is the flag a high baseline BP to review?).
ACKNOWLEDGE = (5, 17)
LOAD = (1, 4)


@dataclass
class Cost:
    turns: int
    statements: list[str]

    def __str__(self) -> str:
        return f"{self.turns} round trips, {len(self.statements)} statements"


class Tablet:
    """A service on a store that reaches the server through a counting proxy."""

    def __init__(self, proxy: FaultyProxy, store: Store, service: ClinicService) -> None:
        self.proxy = proxy
        self.store = store
        self.service = service

    def cost(self, action: Callable[[], Any]) -> Cost:
        statements: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        event.listen(self.store.engine, "before_cursor_execute", count)
        before = self.proxy.counters.turns
        try:
            action()
        finally:
            event.remove(self.store.engine, "before_cursor_execute", count)
        cost = Cost(self.proxy.counters.turns - before, statements)
        print(cost)
        return cost


@pytest.fixture
def tablet(pg_url, clock) -> Iterator[Tablet]:
    url = make_url(pg_url)
    with FaultyProxy(url.port or 5432, url.host or "127.0.0.1") as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port)
        store = open_store(proxied)
        try:
            yield Tablet(proxy, store, ClinicService(store, clock, secret=TEST_SECRET))
        finally:
            store.close()


@pytest.fixture
def chair(tablet, clock) -> tuple[uuid.UUID, uuid.UUID]:
    """A nurse and a session in which they saved a few readings already."""
    service = tablet.service
    nurse = service.ensure_staff("N. Quinn", "nurse", pin=TEST_PIN)
    patient = service.add_patient("MRN500900", by=nurse, weight_kg=70.0)
    session = service.start_session(patient.id, by=nurse, chair="1")
    for _ in range(WARM_UP):
        clock.advance(MIN)
        service.record_reading(session, vitals(), by=nurse, with_view=True)
        service.load(session)
    return nurse, session


def vitals(sbp: int = 120) -> dict[str, str]:
    return {"sbp": str(sbp), "dbp": "80", "hr": "72", "spo2": "98"}


def within(cost: Cost, ceiling: tuple[int, int]) -> None:
    turns, statements = ceiling
    assert cost.turns <= turns, f"{cost}; at most {turns} round trips"
    assert len(cost.statements) <= statements, f"{cost}; at most {statements} statements"


def test_a_reading_is_saved_in_three_round_trips(tablet, chair, clock):
    nurse, session = chair
    clock.advance(MIN)
    within(tablet.cost(lambda: tablet.service.record_reading(session, vitals(), by=nurse)),
           SAVE_READING)
    assert check_database(tablet.store.url).ok
    assert tablet.service.trail.verify_audit().ok


def test_a_reading_that_raises_a_flag_costs_no_more_round_trips(tablet, chair, clock):
    nurse, session = chair
    clock.advance(MIN)
    saved = tablet.cost(lambda: tablet.service.record_reading(session, vitals(sbp=186),
                                                               by=nurse))
    within(saved, SAVE_READING_RAISING_A_FLAG)
    flags = tablet.service.load(session).open_flags
    assert any(f.severity >= Severity.WARNING for f in flags)


def test_the_chair_screen_gets_its_view_with_the_save_in_as_many_round_trips(
    tablet, chair, clock
):
    nurse, session = chair
    clock.advance(MIN)
    result: list[Any] = []
    cost = tablet.cost(lambda: result.append(tablet.service.record_reading(
        session, vitals(sbp=131), by=nurse, with_view=True)))
    within(cost, SAVE_READING_WITH_VIEW)
    view = result[0].view
    assert view.record.readings[-1].sbp == 131
    # What another tablet reads afresh, row by row, is what the save handed over.
    elsewhere = ClinicService(tablet.store, clock, secret=TEST_SECRET)
    assert view == elsewhere.load(session, clock.now())


def test_an_event_and_an_acknowledgement_cost_a_few_round_trips(tablet, chair, clock):
    """Each writes in two round trips after the staff member's role is read; the
    acknowledgement also loads the session."""
    nurse, session = chair
    clock.advance(MIN)
    within(tablet.cost(lambda: tablet.service.record_event(
        session, EventKind.INFUSION_PAUSE, by=nurse)), SAVE_EVENT)
    flag = Flag(id=uuid.uuid4(), key="overdue", measure=Measure.HR, severity=Severity.WARNING,
                time=clock.now(), message="overdue")
    within(tablet.cost(lambda: tablet.service.acknowledge(
        session, flag, action="Repeated reading", by=nurse)), ACKNOWLEDGE)


def test_loading_a_session_is_one_round_trip(tablet, chair, clock):
    _, session = chair
    clock.advance(MIN)
    within(tablet.cost(lambda: tablet.service.load(session)), LOAD)


def test_an_idle_tablet_listening_for_changes_sends_nothing(tablet, chair):
    """A minute of the live feed's waits (120 at its half-second tick) costs no round trip
    and no statement: the server speaks only when another tablet commits."""
    feed = open_feed(tablet.store, tick=0.005)
    with feed:
        assert feed.connected.wait(10)
        turns, statements, waits = tablet.proxy.counters.turns, feed.statements, feed.waits
        wait_for(lambda: feed.waits >= waits + 120, 30, "an idle minute of the feed's waits")
        assert tablet.proxy.counters.turns == turns
        assert feed.statements == statements
