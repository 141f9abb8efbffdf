"""What a session's flags count to: flags readings raised, by tier, those still waiting,
and withdrawn ones apart; reminders without a reading are not counted."""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from monitor.clinical.domain import Flag, Measure, Severity
from monitor.clinical.flag_counts import flag_counts
from tests.monitor.builders import ack, t


def _flag(n: int, severity: Severity, *, reading: bool = True,
          measure: Measure = Measure.SPO2) -> Flag:
    return Flag(id=UUID(int=1000 + n), key="spo2-low", measure=measure, severity=severity,
                time=t(n), message=f"flag {n}", reading_id=UUID(int=2000 + n) if reading else None)


def test_flags_are_counted_by_tier_with_those_still_waiting() -> None:
    warning, critical, advisory = (_flag(1, Severity.WARNING), _flag(2, Severity.CRITICAL),
                                   _flag(3, Severity.ADVISORY))
    acknowledged = replace(critical, acknowledgement=ack(critical, 3))
    escalated = replace(warning, resolved_at=t(2), resolution="escalated")
    counts = flag_counts([escalated, acknowledged, advisory])
    assert dict(counts.by_tier) == {1: 1, 2: 1, 3: 1}
    assert (counts.total, counts.unacknowledged, counts.withdrawn) == (3, 1, 0)
    assert counts.worst is Severity.CRITICAL


def test_reminders_without_a_reading_are_not_counted() -> None:
    overdue = _flag(1, Severity.ADVISORY, reading=False, measure=Measure.OVERDUE)
    silent = _flag(2, Severity.ADVISORY, reading=False, measure=Measure.FEED)
    counts = flag_counts([overdue, silent])
    assert (counts.total, counts.unacknowledged, counts.worst) == (0, 0, None)


def test_withdrawn_flags_are_counted_apart_and_a_flag_listed_twice_once() -> None:
    kept, gone = _flag(1, Severity.WARNING), _flag(2, Severity.CRITICAL)
    counts = flag_counts([kept, kept, gone], withdrawn=[gone])
    assert dict(counts.by_tier) == {2: 1}
    assert (counts.unacknowledged, counts.withdrawn) == (1, 1)
    assert counts.as_dict() == {"critical": 0, "warning": 1, "advisory": 0, "total": 1,
                                "unacknowledged": 1, "withdrawn": 1}
    assert counts.text() == ("Flags raised: 1 (0 critical, 1 warning, 0 advisory); 1 still "
                             "unacknowledged. 1 withdrawn with a voided or amended reading: "
                             "listed, not counted.")
