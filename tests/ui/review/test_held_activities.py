"""The review's "Who did what" with entries a tablet kept through an outage: each listed at
the time the nurse entered it, saying which tablet kept it and when the server received it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from monitor.clock import ManualClock
from monitor.service.clinic import ClinicService
from monitor.service.tablet import TabletService
from monitor.storage.outbox import Outbox
from tests.conftest import TEST_PIN, TEST_SECRET
from tests.support.outage import Outage
from ui.review.session_tables import activities

DAY = datetime(2026, 3, 2, tzinfo=UTC)


def at(hh: int, mm: int, ss: int = 0) -> datetime:
    return DAY.replace(hour=hh, minute=mm, second=ss)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at(22, 30))


@pytest.fixture
def room1(store, clock) -> ClinicService:
    return ClinicService(store, clock, secret=TEST_SECRET, tablet="Room-1")


@pytest.fixture
def tablet(room1, clock, tmp_path) -> Iterator[TabletService]:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    yield TabletService(room1, outbox, clock)
    outbox.close()


def test_a_held_reading_comes_before_its_acknowledgement_and_says_it_was_kept(
    tablet, room1, store, clock
):
    nurse = room1.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    patient = room1.add_patient("MRN100300", by=nurse, name="Ada Held",
                                date_of_birth=date(1980, 4, 2), weight_kg=70.0)
    session_id = room1.start_session(patient.id, by=nurse, chair="1", escort_name="Sam")
    tablet.load(session_id)
    outage = Outage(store)
    outage.begin()
    clock.advance(at(23, 0, 47) - clock.now())
    saved = tablet.record_reading(session_id, {"sbp": "124", "dbp": "78", "hr": "115",
                                               "spo2": "98"}, by=nurse)
    [warning] = saved.new_flags
    clock.advance(at(23, 1, 30) - clock.now())
    tablet.acknowledge(session_id, warning, action="Repeat reading", by=nurse)
    clock.advance(at(23, 2, 16) - clock.now())
    outage.end()
    assert tablet.drain() == 2
    view = room1.loading.load(session_id, None, entered_only=True)  # as the review reads it
    done = [(a.time, a.what) for a in activities(view)]
    reading = next(i for i, (_, what) in enumerate(done) if what.startswith("Reading"))
    acknowledged = next(i for i, (_, what) in enumerate(done)
                        if what.startswith("Acknowledged"))
    assert reading < acknowledged
    assert done[reading][0] == at(23, 0, 47)
    assert done[reading][1].endswith("(kept on tablet Room-1, reached the server 23:02)")
    assert "describes" not in done[reading][1]  # not a late entry
    assert not done[acknowledged][1].endswith(")")  # the acknowledgement reads as before
