"""A voided reading may end its flag's episode, but no flag vanishes: the flag and its
acknowledgement stay in the record, withdrawn with its reading; a flag whose only reading
was voided no longer holds up the discharge; a stored flag a correction joined to an
earlier one stays, with its acknowledgement."""

from __future__ import annotations

from monitor.cli.main import view_to_json
from monitor.clinical.domain import EventKind, Severity
from monitor.exports.report import build_report
from monitor.exports.report_blocks import report_text
from monitor.service.kept_flags import NO_LONGER_RAISED
from tests.conftest import TEST_PIN
from tests.monitor.service.entries import MIN

BASE = {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98", "rr": "14", "moaas": "5"}


def _started(service, nurse, session_id, clock):
    service.record_reading(session_id, BASE, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(10 * MIN)


def _criterion(view, criterion_id):
    (found,) = [c for c in view.discharge.criteria if c.id == criterion_id]
    return found


def test_an_acknowledged_critical_stays_withdrawn_with_its_voided_reading(
        service, nurse, session_id, clock):
    _started(service, nurse, session_id, clock)
    saved = service.record_reading(session_id, {**BASE, "spo2": "86"}, by=nurse)
    (flag,) = saved.new_flags
    clock.advance(MIN)
    service.acknowledge(session_id, flag, action="Oxygen given", by=nurse, pin=TEST_PIN)
    clock.advance(MIN)
    service.void(session_id, "reading", saved.id, reason="probe on the wrong finger", by=nurse)
    view = service.load(session_id)
    assert view.flags == ()
    (kept,) = view.withdrawn_flags
    assert (kept.id, kept.severity, kept.reading_id) == (flag.id, Severity.CRITICAL, saved.id)
    assert kept.acknowledgement.action == "Oxygen given"
    assert kept.resolution == "reading voided (by Nora Nurse): probe on the wrong finger"
    assert (view.flag_counts.total, view.flag_counts.withdrawn) == (0, 1)
    (shown,) = view_to_json(view)["flags"]
    assert (shown["id"], shown["reading_corrected"]) == (str(flag.id), True)
    assert shown["acknowledgement"]["action"] == "Oxygen given"
    text = report_text(build_report(view, generated_at=view.at, chain_head="00" * 32))
    assert ("Acknowledged 09:11 by Nora Nurse: Oxygen given. Withdrawn 09:12: reading voided "
            "(by Nora Nurse): probe on the wrong finger") in text


def test_an_open_flag_whose_only_reading_was_voided_no_longer_holds_up_discharge(
        service, nurse, session_id, clock):
    _started(service, nurse, session_id, clock)
    saved = service.record_reading(session_id, {**BASE, "hr": "118"}, by=nurse)
    (flag,) = saved.new_flags
    assert not _criterion(service.load(session_id), "flags_acknowledged").met
    clock.advance(MIN)
    service.void(session_id, "reading", saved.id, reason="typed 118 for 78", by=nurse)
    view = service.load(session_id)
    assert _criterion(view, "flags_acknowledged").met
    (kept,) = view.withdrawn_flags
    assert kept.id == flag.id
    assert not kept.open
    assert kept.acknowledgement is None
    assert kept.message.endswith("(reading since voided)")


def test_an_acknowledged_critical_a_void_joined_to_an_earlier_one_stays_with_its_action(
        service, nurse, session_id, clock):
    _started(service, nurse, session_id, clock)
    (first,) = service.record_reading(session_id, {**BASE, "spo2": "88"}, by=nurse).new_flags
    service.acknowledge(session_id, first, action="Oxygen given", by=nurse, pin=TEST_PIN)
    clock.advance(5 * MIN)
    between = service.record_reading(session_id, {**BASE, "spo2": "96"}, by=nurse)
    clock.advance(5 * MIN)
    (second,) = service.record_reading(session_id, {**BASE, "spo2": "87"}, by=nurse).new_flags
    service.acknowledge(session_id, second, action="Called the clinician", by=nurse,
                        pin=TEST_PIN)
    clock.advance(MIN)
    # 96 was typed for 86: without it the two lows are one episode, and the second no
    # longer fires; it was raised and answered, so it stays.
    service.void(session_id, "reading", between.id, reason="typed 96 for 86", by=nurse)
    view = service.load(session_id)
    assert [f.id for f in view.flags if f.key == "spo2-low"] == [first.id]
    (kept,) = view.superseded_flags
    assert kept.id == second.id
    assert kept.acknowledgement.action == "Called the clinician"
    assert kept.resolution == NO_LONGER_RAISED
    assert view.withdrawn_flags == ()
    assert dict(view.flag_counts.by_tier) == {int(Severity.CRITICAL): 2}
    assert {str(first.id), str(second.id)} <= {f["id"] for f in view_to_json(view)["flags"]}
