"""The discharge: the nurse's sign-off when ready, a clinician's override with a reason."""

from __future__ import annotations

import pytest

from monitor.clinical.domain import EventKind, Phase
from monitor.clinical.permissions import PermissionDenied
from monitor.service.views import InvalidEntryError
from tests.conftest import TEST_PIN
from tests.monitor.service.entries import MIN


def run_to_ready(service, nurse, session_id, clock):
    """A normal session up to the point where every discharge criterion holds."""
    base = {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98", "cadss6": "0", "moaas": "5",
            "nausea": "0"}
    service.record_reading(session_id, base, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    for _ in range(4):
        clock.advance(10 * MIN)
        service.record_reading(session_id, {**base, "sbp": "140", "cadss6": "8", "moaas": "4"},
                               by=nurse)
    service.record_event(session_id, EventKind.INFUSION_STOP, by=nurse)
    service.record_event(session_id, EventKind.ESCORT_PRESENT, by=nurse)
    clock.advance(15 * MIN)
    service.record_reading(session_id, base, by=nurse)


def test_sign_discharge_is_refused_with_the_reasons_until_ready(service, nurse, session_id, clock):
    run_to_ready(service, nurse, session_id, clock)
    with pytest.raises(InvalidEntryError) as refused:
        service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
    reasons = {e.field for e in refused.value.errors}
    assert reasons == {"min_observation", "orientation_gait"}
    service.record_event(session_id, EventKind.ORIENTED_STEADY_GAIT, by=nurse)
    clock.advance(15 * MIN)
    service.record_reading(session_id, {"sbp": "126", "dbp": "78", "hr": "70", "spo2": "98",
                                        "cadss6": "0", "moaas": "5", "nausea": "0"}, by=nurse)
    service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
    assert service.load(session_id).phase is Phase.DISCHARGED
    with pytest.raises(InvalidEntryError):
        service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)


def test_only_a_clinician_may_override(service, nurse, session_id, clock):
    run_to_ready(service, nurse, session_id, clock)
    with pytest.raises(PermissionDenied) as refused:
        service.override_discharge(session_id, reason="Transfer to ED for review", by=nurse,
                                   pin=TEST_PIN)
    assert "clinician" in str(refused.value)
    assert service.load(session_id).phase is not Phase.DISCHARGED


def test_override_needs_a_written_reason_and_keeps_what_was_not_met(
    service, nurse, session_id, clock
):
    run_to_ready(service, nurse, session_id, clock)
    clinician = service.ensure_staff("Dr Lee", "clinician", pin=TEST_PIN)
    with pytest.raises(InvalidEntryError):
        service.override_discharge(session_id, reason="ok", by=clinician, pin=TEST_PIN)
    service.override_discharge(session_id, reason="Transfer to ED for review", by=clinician,
                               pin=TEST_PIN)
    view = service.load(session_id)
    assert view.phase is Phase.DISCHARGED
    assert view.record.events[-1].detail == "Transfer to ED for review"
