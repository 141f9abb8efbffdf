"""Corrections: voids and amendments keep the original and count from their own time."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from monitor.clinical.domain import EventKind
from monitor.service.views import InvalidEntryError
from monitor.storage.model import Correction, ReadingRow
from tests.conftest import TEST_PIN
from tests.monitor.service.entries import MIN, count_rows, vitals


def test_void_keeps_the_original_and_leaves_it_out_of_the_record(
    service, nurse, session_id, clock
):
    saved = service.record_reading(session_id, vitals(128, 78), by=nurse)
    clock.advance(MIN)
    service.void(session_id, "reading", saved.id, reason="wrong patient's cuff", by=nurse)
    view = service.load(session_id)
    assert view.record.readings == ()
    assert [r.id for r in view.superseded_readings] == [saved.id]
    assert view.corrections[0].reason == "wrong patient's cuff"
    assert count_rows(service, ReadingRow) == 1


def test_amend_replaces_the_value_from_the_time_of_the_correction(
    service, nurse, clinician, session_id, clock
):
    saved = service.record_reading(session_id, vitals(128, 78), by=nurse)
    before = clock.now()
    clock.advance(3 * MIN)
    new_id = service.amend_reading(session_id, saved.id, vitals(138, 78), reason="typo",
                                   by=clinician)
    now_view = service.load(session_id)
    assert [(r.id, r.sbp) for r in now_view.record.readings] == [(new_id, 138)]
    assert [r.sbp for r in now_view.superseded_readings] == [128]
    then_view = service.load(session_id, at=before + MIN)
    assert [(r.id, r.sbp) for r in then_view.record.readings] == [(saved.id, 128)]
    with service.store.read() as db:
        assert db.get(ReadingRow, saved.id).sbp == 128
        assert db.execute(select(func.count()).select_from(Correction)).scalar_one() == 1


def test_an_entry_can_be_corrected_only_once(service, nurse, session_id):
    saved = service.record_reading(session_id, vitals(128, 78), by=nurse)
    service.void(session_id, "reading", saved.id, reason="duplicate", by=nurse)
    with pytest.raises(InvalidEntryError):
        service.void(session_id, "reading", saved.id, reason="again", by=nurse)


def test_a_correction_needs_a_reason(service, nurse, session_id):
    saved = service.record_reading(session_id, vitals(128, 78), by=nurse)
    with pytest.raises(InvalidEntryError):
        service.void(session_id, "reading", saved.id, reason="", by=nurse)


def test_the_flag_of_an_amended_reading_stays_listed_with_its_acknowledgement(
    service, nurse, clinician, session_id, clock
):
    service.record_reading(session_id, vitals(128, 78), by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(10 * MIN)
    saved = service.record_reading(session_id, vitals(130, 80, spo2=90), by=nurse)
    (flag,) = saved.new_flags
    clock.advance(MIN)
    service.acknowledge(session_id, flag, action="Repeated reading", note="probe on ear",
                        by=nurse, pin=TEST_PIN)
    clock.advance(MIN)
    service.amend_reading(session_id, saved.id, vitals(130, 80, spo2=97), reason="Entered in error",
                          by=clinician)
    view = service.load(session_id)
    assert view.open_flags == ()
    (kept,) = view.superseded_flags
    assert kept.id == flag.id
    assert kept.acknowledgement.note == "probe on ear"
    assert kept.resolution == "reading amended (by Cleo Clinician): Entered in error"
    assert kept.resolved_at == clock.now()
    assert not kept.open
