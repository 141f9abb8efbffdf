"""The demo chair: a newcomer sees a flag appear and escalate, then discharge become ready."""

from datetime import timedelta

from monitor.clinical.domain import EventKind, Phase, Severity
from monitor.demo.simulate import DemoChair, script_length
from tests.conftest import TEST_PIN


def test_the_demo_chair_runs_from_check_in_to_ready(service, nurse, clock):
    chair = DemoChair(service, nurse, pin=TEST_PIN)
    chair.advance()
    assert chair.session_id is not None
    severities = set()
    ready = False
    while not chair.finished:
        clock.advance(timedelta(minutes=1))
        chair.advance()
        view = service.load(chair.session_id)
        severities |= {f.severity for f in view.flags if f.key == "bp-high"}
        ready |= view.phase is Phase.RECOVERY and view.discharge.ready
        assert not any(f.key == "overdue" for f in view.open_flags), clock.now()
    assert severities == {Severity.WARNING, Severity.CRITICAL}
    assert ready
    assert clock.now() - chair.started == script_length()
    view = service.load(chair.session_id)
    assert view.phase is Phase.DISCHARGED
    assert view.open_flags == ()


def signed_at(view):
    return next(e.time for e in view.record.events if e.kind is EventKind.DISCHARGE_SIGNED)


def test_the_demo_chair_signs_the_discharge_with_no_reading_due(service, nurse, clock):
    chair = DemoChair(service, nurse, pin=TEST_PIN)
    chair.advance()
    while not chair.finished:
        clock.advance(timedelta(minutes=1))
        chair.advance()
    view = service.load(chair.session_id)
    signed = signed_at(view)
    before = service.load(chair.session_id, signed - timedelta(seconds=1))
    assert before.next_due is not None
    assert before.next_due > signed


def test_a_late_tick_takes_the_reading_due_before_signing(service, nurse, clock):
    chair = DemoChair(service, nurse, pin=TEST_PIN)
    chair.advance()
    # The app was asleep: the first tick after the script's end comes 30 minutes late.
    clock.advance(script_length() + timedelta(minutes=30))
    chair.advance()
    view = service.load(chair.session_id)
    assert view.phase is Phase.DISCHARGED
    signed = signed_at(view)
    assert view.record.readings[-1].time == signed
    before = service.load(chair.session_id, signed - timedelta(seconds=1))
    assert before.next_due is not None
    assert before.next_due < signed  # it was overdue


def test_a_late_tick_performs_every_step_that_fell_due(service, nurse, clock):
    chair = DemoChair(service, nurse, pin=TEST_PIN)
    chair.advance()
    clock.advance(timedelta(minutes=25))
    assert chair.advance() == 3


def test_with_next_after_the_chair_checks_the_next_patient_in_after_the_discharge(
        service, nurse, clock):
    chair = DemoChair(service, nurse, pin=TEST_PIN, next_after=timedelta(minutes=10))
    chair.advance()
    first = chair.session_id
    while not chair.finished:
        clock.advance(timedelta(minutes=1))
        chair.advance()
    assert service.load(first).phase is Phase.DISCHARGED
    clock.advance(timedelta(minutes=9))
    chair.advance()
    assert chair.session_id == first, "the discharge is seen for a while"
    clock.advance(timedelta(minutes=1))
    chair.advance()
    assert chair.session_id not in (None, first)
    second = service.load(chair.session_id)
    assert second.info.chair == "1"
    assert second.phase is not Phase.DISCHARGED
    assert second.info.patient.mrn == "DEMO0001-2"
    assert service.active_sessions(["1"]) == {"1": chair.session_id}
