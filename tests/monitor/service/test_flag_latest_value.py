"""An open flag shows the measure's latest value when a later reading has it, so the card
and the signed acknowledgement never name only the value that raised it."""

from __future__ import annotations

from monitor.clinical.domain import EventKind, clock_time
from tests.conftest import TEST_PIN
from tests.monitor.service.entries import MIN

BASE = {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98"}


def _spo2_flag(flags):
    (flag,) = [f for f in flags if f.key == "spo2-low"]
    return flag


def _started(service, nurse, session_id, clock):
    service.record_reading(session_id, BASE, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(10 * MIN)


def test_the_open_flag_names_the_latest_worse_value_of_its_tier(
        service, nurse, session_id, clock):
    _started(service, nurse, session_id, clock)
    first = _spo2_flag(service.record_reading(session_id, {"spo2": "90"}, by=nurse).new_flags)
    assert first.shown_message == first.message  # nothing later yet
    clock.advance(5 * MIN)
    saved = service.record_reading(session_id, {"spo2": "88"}, by=nurse)
    assert not [f for f in saved.new_flags if f.key == "spo2-low"]  # same tier: no new flag
    flag = _spo2_flag(service.load(session_id).flags)
    assert flag.id == first.id
    assert flag.latest == f"latest 88 % at {clock_time(clock.now())}"
    assert flag.shown_message == f"{first.message} — latest 88 % at {clock_time(clock.now())}"
    assert flag.message == first.message  # the raised message itself is unchanged


def test_a_later_reading_without_the_measure_adds_nothing(service, nurse, session_id, clock):
    _started(service, nurse, session_id, clock)
    service.record_reading(session_id, {"spo2": "90"}, by=nurse)
    clock.advance(5 * MIN)
    service.record_reading(session_id, {"hr": "80"}, by=nurse)
    flag = _spo2_flag(service.load(session_id).flags)
    assert flag.latest == ""
    assert flag.shown_message == flag.message


def test_an_acknowledged_flag_keeps_only_its_own_value(service, nurse, session_id, clock):
    _started(service, nurse, session_id, clock)
    flag = _spo2_flag(service.record_reading(session_id, {"spo2": "90"}, by=nurse).new_flags)
    clock.advance(MIN)
    service.acknowledge(session_id, flag, action="Oxygen given", by=nurse, pin=TEST_PIN)
    clock.advance(5 * MIN)
    service.record_reading(session_id, {"spo2": "88"}, by=nurse)
    closed = _spo2_flag(service.load(session_id).flags)
    assert closed.acknowledged
    assert closed.shown_message == closed.message
