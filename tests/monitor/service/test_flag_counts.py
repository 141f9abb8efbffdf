"""The flags of one session count the same in the review's list, the patient's course, the
PDF report and ``show --json`` (one definition: monitor.clinical.flag_counts), with a flag
withdrawn with its voided reading, acknowledged ones, an open one and an acknowledged
overdue reminder."""

from __future__ import annotations

import pytest

from monitor.cli.main import view_to_json
from monitor.clinical.domain import EventKind, Measure, Severity
from monitor.exports.report import build_report
from monitor.exports.report_blocks import report_text
from monitor.service.review import SessionQuery
from tests.conftest import TEST_PIN
from tests.monitor.service.entries import MIN

BASE = {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98", "rr": "14", "moaas": "5"}


@pytest.fixture
def counted_session(service, nurse, session_id, clock):
    service.record_reading(session_id, BASE, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(10 * MIN)
    (low,) = service.record_reading(session_id, {**BASE, "spo2": "93"}, by=nurse).new_flags
    service.acknowledge(session_id, low, action="Repositioned probe", by=nurse)
    clock.advance(10 * MIN)
    (lower,) = service.record_reading(session_id, {**BASE, "spo2": "88"}, by=nurse).new_flags
    service.acknowledge(session_id, lower, action="Oxygen given", by=nurse, pin=TEST_PIN)
    clock.advance(5 * MIN)
    service.record_reading(session_id, {**BASE, "spo2": "95", "hr": "115"}, by=nurse)
    clock.advance(5 * MIN)
    typo = service.record_reading(session_id, {**BASE, "spo2": "95", "hr": "135"}, by=nurse)
    service.void(session_id, "reading", typo.id, reason="typed 135 for 115", by=nurse,
                 pin=TEST_PIN)
    clock.advance(20 * MIN)
    (overdue,) = [f for f in service.load(session_id).open_flags
                  if f.measure is Measure.OVERDUE]
    service.acknowledge(session_id, overdue, action="Reading taken late", by=nurse)
    return session_id


def test_the_review_list_the_course_the_report_and_show_count_alike(
        service, clinician, counted_session):
    view = service.load(counted_session)
    counts = view.flag_counts
    assert dict(counts.by_tier) == {int(Severity.WARNING): 2, int(Severity.CRITICAL): 1}
    assert counts.unacknowledged == 1  # the HR warning, open again once 135 was voided
    assert counts.withdrawn == 1  # the HR critical of the voided reading
    (row,) = service.review.find_sessions(SessionQuery(), by=clinician).rows
    assert row.flags_by_tier == dict(counts.by_tier)
    assert row.worst is Severity.CRITICAL
    (course,) = service.review.course(view.info.patient.id, by=clinician).rows
    assert course.flags_by_tier == dict(counts.by_tier)
    assert (course.unacknowledged_flags, course.withdrawn_flags) == (1, 1)
    shown = view_to_json(view)["flag_counts"]
    assert shown == {"critical": 1, "warning": 2, "advisory": 0, "total": 3,
                     "unacknowledged": 1, "withdrawn": 1}
    text = report_text(build_report(view, generated_at=view.at, chain_head="00" * 32))
    assert ("Flags raised: 3 (1 critical, 2 warning, 0 advisory); 1 still unacknowledged. "
            "1 withdrawn with a voided or amended reading: listed, not counted.") in text


def test_a_session_with_only_an_acknowledged_reminder_is_not_flagged_in_the_review(
        service, nurse, clinician, session_id, clock):
    service.record_reading(session_id, BASE, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(5 * MIN)
    service.record_reading(session_id, BASE, by=nurse)
    clock.advance(20 * MIN)
    (overdue,) = service.load(session_id).open_flags
    service.acknowledge(session_id, overdue, action="Reading taken late", by=nurse)
    assert service.load(session_id).flag_counts.total == 0
    (row,) = service.review.find_sessions(SessionQuery(), by=clinician).rows
    assert row.flags_by_tier == {}
    assert row.worst is None
    assert service.review.find_sessions(SessionQuery(flagged_only=True), by=clinician).rows == []
