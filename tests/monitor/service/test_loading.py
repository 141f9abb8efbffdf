"""Reading back: a session as it stood, its phase, and a patient's sessions."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from monitor.clinical.domain import EventKind, Phase
from monitor.service.views import NotFoundError
from tests.monitor.service.entries import MIN, vitals


def test_unknown_session_is_not_found(service, nurse):
    with pytest.raises(NotFoundError):
        service.record_reading(uuid.uuid4(), vitals(120, 80), by=nurse)
    with pytest.raises(NotFoundError):
        service.load(uuid.uuid4())


def test_phase_and_next_due_follow_the_infusion(service, nurse, session_id, clock):
    service.record_reading(session_id, vitals(128, 78), by=nurse)
    assert service.load(session_id).phase is Phase.BASELINE
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    view = service.load(session_id)
    assert view.phase is Phase.INFUSING
    assert view.next_due == clock.now() + 10 * MIN


def test_patient_sessions_newest_first_with_reading_counts(service, nurse, patient, clock):
    first = service.start_session(patient.id, by=nurse)
    service.record_reading(first, vitals(120, 80), by=nurse)
    clock.advance(timedelta(days=7))
    second = service.start_session(patient.id, by=nurse)
    summaries = service.patient_sessions(patient.id)
    assert [s.id for s in summaries] == [second, first]
    assert [s.reading_count for s in summaries] == [0, 1]
