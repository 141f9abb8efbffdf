"""Charting: saving readings and events, flag raising and acknowledgements, on both backends."""

from __future__ import annotations

import uuid

import pytest

from monitor.clinical.domain import EventKind, Measure, Severity
from monitor.service.views import InvalidEntryError, SavedReading
from monitor.storage.model import FlagRow, ReadingRow
from tests.monitor.service.entries import MIN, count_rows, vitals


def test_a_saved_reading_is_read_back_with_who_and_when(service, nurse, session_id, clock):
    saved = service.record_reading(session_id, vitals(128, 78), by=nurse)
    view = service.load(session_id)
    (reading,) = view.record.readings
    assert reading.id == saved.id
    assert (reading.sbp, reading.dbp, reading.hr, reading.spo2) == (128, 78, 72, 98)
    assert reading.time == clock.now()
    with service.store.read() as db:
        row = db.get(ReadingRow, saved.id)
        assert row.entered_by == nurse
        assert row.recorded_at == clock.now()


def test_a_late_entry_keeps_the_time_it_describes_and_when_it_was_entered(
    service, nurse, session_id, clock
):
    clock.advance(20 * MIN)
    described = clock.now() - 12 * MIN
    saved = service.record_reading(session_id, vitals(130, 80), by=nurse, time=described)
    with service.store.read() as db:
        row = db.get(ReadingRow, saved.id)
        assert row.time == described
        assert row.recorded_at == clock.now()


def test_invalid_input_is_refused_naming_the_field_and_nothing_is_stored(
    service, nurse, session_id
):
    with pytest.raises(InvalidEntryError) as refused:
        service.record_reading(session_id, {"sbp": "120", "dbp": "130", "hr": "٧٢"}, by=nurse)
    fields = {e.field for e in refused.value.errors}
    assert {"dbp", "hr"} <= fields
    assert count_rows(service, ReadingRow) == 0


def test_an_implausible_value_needs_confirmation(service, nurse, session_id):
    with pytest.raises(InvalidEntryError) as refused:
        service.record_reading(session_id, vitals(230, 100), by=nurse)
    assert [e.field for e in refused.value.needs_confirmation] == ["sbp"]
    assert count_rows(service, ReadingRow) == 0
    service.record_reading(session_id, vitals(230, 100), by=nurse, confirmed={"sbp"})
    assert count_rows(service, ReadingRow) == 1


def test_a_future_time_is_refused(service, nurse, session_id, clock):
    with pytest.raises(InvalidEntryError) as refused:
        service.record_reading(session_id, vitals(120, 80), by=nurse,
                               time=clock.now() + 5 * MIN)
    assert refused.value.errors[0].field == "time"


def test_a_late_entry_before_the_check_in_is_refused_and_nothing_is_stored(
    service, nurse, session_id, clock
):
    clock.advance(20 * MIN)
    checked_in = service.session_info(session_id).time
    with pytest.raises(InvalidEntryError) as refused:
        service.record_reading(session_id, vitals(120, 80), by=nurse,
                               time=checked_in - 5 * MIN)
    (error,) = refused.value.errors
    assert error.field == "time"
    assert "before the check-in" in error.message
    with pytest.raises(InvalidEntryError):
        service.record_event(session_id, EventKind.NOTE, by=nurse, detail="x",
                             time=checked_in - 5 * MIN)
    assert count_rows(service, ReadingRow) == 0
    assert service.load(session_id).record.events == ()
    # The check-in's own minute is during the session.
    service.record_reading(session_id, vitals(120, 80), by=nurse, time=checked_in)


def test_retrying_a_save_with_the_same_id_stores_it_once(service, nurse, session_id):
    rid = uuid.uuid4()
    service.record_reading(session_id, vitals(128, 78), by=nurse, reading_id=rid)
    service.record_reading(session_id, vitals(128, 78), by=nurse, reading_id=rid)
    assert count_rows(service, ReadingRow) == 1


def test_a_retried_save_returns_its_id_and_raises_nothing_again(
    service, nurse, session_id, clock
):
    rid = uuid.uuid4()
    first = service.record_reading(session_id, vitals(120, 80, hr=131), by=nurse, reading_id=rid)
    clock.advance(MIN)
    again = service.record_reading(session_id, vitals(120, 80, hr=131), by=nurse, reading_id=rid)
    assert [f.key for f in first.new_flags] == ["hr-high"]
    assert again == SavedReading(rid, ())
    assert (count_rows(service, ReadingRow), count_rows(service, FlagRow)) == (1, 1)


def test_a_reading_that_crosses_a_limit_returns_and_stores_its_flag(
    service, nurse, session_id, clock
):
    service.record_reading(session_id, vitals(128, 78), by=nurse)
    clock.advance(2 * MIN)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(10 * MIN)
    saved = service.record_reading(session_id, vitals(150, 90, hr=131), by=nurse)
    (flag,) = saved.new_flags
    assert (flag.measure, flag.severity) == (Measure.HR, Severity.CRITICAL)
    assert flag.reading_id == saved.id
    assert count_rows(service, FlagRow) == 1
    clock.advance(MIN)
    again = service.record_reading(session_id, vitals(150, 90, hr=132), by=nurse)
    assert again.new_flags == ()  # the same unchanged condition does not fire again


def test_a_hypertensive_surge_confirmed_by_a_repeat_escalates(service, nurse, session_id, clock):
    service.record_reading(session_id, vitals(128, 78), by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(20 * MIN)
    first = service.record_reading(session_id, vitals(184, 100), by=nurse)
    # 184 is also > 30 % above the baseline 128: an advisory of its own.
    assert {(f.key, f.severity) for f in first.new_flags} == {
        ("bp-high", Severity.WARNING), ("bp-rise", Severity.ADVISORY)}
    clock.advance(5 * MIN)
    repeat = service.record_reading(session_id, vitals(186, 104), by=nurse)
    assert [(f.key, f.severity) for f in repeat.new_flags] == [("bp-high", Severity.CRITICAL)]


def test_acknowledging_records_who_and_the_action(service, nurse, session_id, clock):
    service.record_reading(session_id, vitals(128, 78), by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(10 * MIN)
    (flag,) = service.record_reading(session_id, vitals(130, 80, spo2=92), by=nurse).new_flags
    clock.advance(MIN)
    service.acknowledge(session_id, flag, action="Repeated reading", note="probe moved",
                        by=nurse)
    view = service.load(session_id)
    (shown,) = view.flags
    assert shown.acknowledged
    assert shown.acknowledgement.action == "Repeated reading"
    assert shown.acknowledgement.by == "Nora Nurse"
    assert view.open_flags == ()


def test_an_acknowledgement_needs_an_action(service, nurse, session_id, clock):
    service.record_reading(session_id, vitals(128, 78, spo2=90), by=nurse)
    (flag,) = service.load(session_id).flags
    with pytest.raises(InvalidEntryError):
        service.acknowledge(session_id, flag, action="  ", by=nurse)
