"""A worse condition after an acknowledgement raises a new flag through the service's saves
(each save extends the evaluation the last one kept), for every measure with tiers."""

from __future__ import annotations

import pytest

from monitor.clinical.domain import EventKind, Severity
from tests.conftest import TEST_PIN
from tests.monitor.service.entries import MIN

BASE = {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98", "rr": "14", "moaas": "5"}
#: Condition, values in its lower tier, values in its critical tier.
TIERED = [
    ("spo2-low", {"spo2": "93"}, {"spo2": "88"}),
    ("bp-high", {"sbp": "185"}, {"sbp": "205"}),
    ("bp-high", {"dbp": "112"}, {"dbp": "122"}),
    ("bp-low", {"sbp": "88", "dbp": "60"}, {"sbp": "76", "dbp": "50"}),
    ("hr-high", {"hr": "115"}, {"hr": "135"}),
    ("hr-low", {"hr": "48"}, {"hr": "38"}),
    ("rr-high", {"rr": "22"}, {"rr": "26"}),
    ("rr-low", {"rr": "10"}, {"rr": "7"}),
    ("moaas-low", {"moaas": "3"}, {"moaas": "1"}),
]
IDS = [f"{key}-{'-'.join(lower)}" for key, lower, _ in TIERED]


def _started(service, nurse, session_id, clock):
    service.record_reading(session_id, BASE, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(10 * MIN)


def _of(flags, key):
    return [(f.severity, f.open) for f in sorted(flags, key=lambda f: f.time) if f.key == key]


@pytest.mark.parametrize(("key", "lower", "critical"), TIERED, ids=IDS)
def test_critical_after_the_acknowledged_lower_flag_is_a_new_critical_flag(
        service, nurse, session_id, clock, key, lower, critical):
    _started(service, nurse, session_id, clock)
    (flag,) = [f for f in service.record_reading(session_id, {**BASE, **lower},
                                                 by=nurse).new_flags if f.key == key]
    clock.advance(MIN)
    service.acknowledge(session_id, flag, action="Repeated reading", by=nurse, pin=TEST_PIN)
    clock.advance(15 * MIN)
    saved = service.record_reading(session_id, {**BASE, **critical}, by=nurse)
    assert _of(saved.new_flags, key) == [(Severity.CRITICAL, True)]
    assert _of(service.load(session_id).flags, key) == [(flag.severity, False),
                                                        (Severity.CRITICAL, True)]


@pytest.mark.parametrize(("key", "lower", "critical"), TIERED, ids=IDS)
def test_back_to_critical_after_the_acknowledged_critical_eased_is_a_new_critical_flag(
        service, nurse, session_id, clock, key, lower, critical):
    _started(service, nurse, session_id, clock)
    (flag,) = [f for f in service.record_reading(session_id, {**BASE, **critical},
                                                 by=nurse).new_flags if f.key == key]
    clock.advance(MIN)
    service.acknowledge(session_id, flag, action="Oxygen given", by=nurse, pin=TEST_PIN)
    clock.advance(15 * MIN)
    eased = service.record_reading(session_id, {**BASE, **lower}, by=nurse)
    assert _of(eased.new_flags, key) == []
    clock.advance(15 * MIN)
    again = service.record_reading(session_id, {**BASE, **critical}, by=nurse)
    assert _of(again.new_flags, key) == [(Severity.CRITICAL, True)]
    assert _of(service.load(session_id).flags, key) == [(Severity.CRITICAL, False),
                                                        (Severity.CRITICAL, True)]
