"""The demo chair: a newcomer sees a flag appear and escalate, then discharge become ready."""

from datetime import timedelta

from monitor.domain import Phase, Severity
from monitor.simulate import DemoChair, script_length
from tests.conftest import TEST_PIN


def test_the_demo_chair_runs_from_check_in_to_ready(service, nurse, clock):
    chair = DemoChair(service, nurse, pin=TEST_PIN)
    chair.advance()
    assert chair.session_id is not None
    severities = set()
    while not chair.finished:
        clock.advance(timedelta(minutes=1))
        chair.advance()
        view = service.load(chair.session_id)
        severities |= {f.severity for f in view.flags if f.key == "bp-high"}
    assert severities == {Severity.WARNING, Severity.CRITICAL}
    assert clock.now() - chair.started == script_length()
    view = service.load(chair.session_id)
    assert view.phase is Phase.RECOVERY
    assert view.discharge.ready, [c for c in view.discharge.criteria if not c.met]
    assert view.open_flags == ()


def test_a_late_tick_performs_every_step_that_fell_due(service, nurse, clock):
    chair = DemoChair(service, nurse, pin=TEST_PIN)
    chair.advance()
    clock.advance(timedelta(minutes=25))
    assert chair.advance() == 3
