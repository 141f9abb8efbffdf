"""A loaded view moved on with the clock says what loading the session then would say."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from monitor.clinical.domain import EventKind, Measure, Phase
from monitor.service.board import tile_for
from monitor.service.live_view import MovingView, view_at
from monitor.service.views import SessionView

MIN = timedelta(minutes=1)
BASELINE = {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98", "cadss6": "0", "moaas": "5"}


def _same(moved: SessionView, loaded: SessionView) -> None:
    assert moved.at == loaded.at
    assert moved.phase is loaded.phase
    assert moved.flags == loaded.flags
    assert moved.next_due == loaded.next_due
    assert moved.repeat_for == loaded.repeat_for
    assert moved.current_levels == loaded.current_levels
    assert moved.discharge == loaded.discharge
    assert tile_for("1", moved) == tile_for("1", loaded)


@pytest.fixture
def infusing(service, nurse, clock):
    patient = service.add_patient("MRN004211", by=nurse, name="Ada Byrne",
                                  date_of_birth=date(1980, 4, 2), weight_kg=70)
    session_id = service.start_session(patient.id, by=nurse, chair="1", escort_name="Sam")
    service.record_reading(session_id, BASELINE, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(2 * MIN)
    service.record_reading(session_id, {"sbp": "150", "dbp": "90", "hr": "112", "spo2": "93"},
                           by=nurse)
    return session_id


def test_a_view_moved_on_matches_a_load_then_through_overdue(service, clock, infusing):
    moving = MovingView(service.load(infusing))
    for step in (timedelta(seconds=1), 3 * MIN, 10 * MIN, 30 * MIN):
        clock.advance(step)
        loaded = service.load(infusing)
        _same(moving.at(clock.now()), loaded)
        _same(view_at(moving.view, clock.now()), loaded)
    # Half an hour without a reading: overdue, and the reading-due flag is raised.
    assert any(f.measure is Measure.OVERDUE and f.open for f in moving.at(clock.now()).flags)


def test_the_observation_time_for_discharge_passes_with_time_alone(service, clock, nurse,
                                                              infusing):
    clock.advance(40 * MIN)
    service.record_event(infusing, EventKind.INFUSION_STOP, by=nurse, confirmed=("early",),
                         data={"reason": "planned", "given_mg": 30})
    for flag in service.load(infusing).open_flags:
        service.acknowledge(infusing, flag, action="reviewed", by=nurse)
    service.record_reading(infusing, BASELINE, by=nurse)
    moving = MovingView(service.load(infusing))
    assert moving.view.phase is Phase.RECOVERY
    assert not _observed(moving.view)
    for _ in range(8):
        clock.advance(10 * MIN)
        _same(moving.at(clock.now()), service.load(infusing))
    assert _observed(moving.at(clock.now()))


def _observed(view: SessionView) -> bool:
    return next(c.met for c in view.discharge.criteria if c.id == "min_observation")


def test_the_same_moment_is_the_view_itself(service, clock, infusing):
    view = service.load(infusing)
    assert view_at(view, clock.now()) is view
    assert MovingView(view).at(clock.now()) is view
