"""ClinicService: saving, flag raising, corrections and reading back, on both backends."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from monitor.clinical.domain import EventKind, Measure, Phase, Severity
from monitor.clinical.permissions import PermissionDenied
from monitor.service.views import ImportedRow, InvalidEntryError, NotFoundError, SavedReading
from monitor.storage.model import Correction, FlagRow, ReadingRow
from tests.conftest import TEST_PIN

MIN = timedelta(minutes=1)


@pytest.fixture
def patient(service, nurse):
    return service.add_patient("MRN100200", by=nurse, name="Ada Byrne",
                               date_of_birth=date(1980, 4, 2), weight_kg=70.0)


@pytest.fixture
def session_id(service, nurse, patient, clock):
    return service.start_session(patient.id, by=nurse, chair="2", lot_number="K-2231",
                                 escort_name="Sam Byrne")


def vitals(sbp, dbp, hr=72, spo2=98):
    return {"sbp": str(sbp), "dbp": str(dbp), "hr": str(hr), "spo2": str(spo2)}


def count_rows(service, model) -> int:
    with service.store.read() as db:
        return db.execute(select(func.count()).select_from(model)).scalar_one()


def test_start_session_computes_dose_and_rates(service, session_id):
    info = service.session_info(session_id)
    assert (info.dose_mg, info.rate_mg_per_min, info.pump_ml_per_h) == (35.0, 0.875, 150.0)
    assert info.chair == "2"
    assert info.patient.mrn == "MRN100200"


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


def test_a_duplicate_mrn_is_refused(service, nurse, patient):
    with pytest.raises(InvalidEntryError) as refused:
        service.add_patient("MRN100200", by=nurse, name="Someone Else")
    assert refused.value.errors[0].field == "mrn"


def test_import_session_is_all_in_one_transaction(service, nurse, clock):
    start = clock.now() - timedelta(hours=2)
    rows = [
        ImportedRow(time=start, values={"sbp": 128, "dbp": 78, "hr": 72}),
        ImportedRow(time=start + 2 * MIN, event=EventKind.INFUSION_START),
        ImportedRow(time=start + 12 * MIN, values={"sbp": 140, "dbp": 85}),
    ]
    importer = service.ensure_staff("Command-line import", "system")
    session_id = service.import_session(rows, mrn="MRN5", by=importer, name="Bo Lind")
    view = service.load(session_id)
    assert len(view.record.readings) == 2
    assert [e.kind for e in view.record.events] == [EventKind.INFUSION_START]
    assert view.info.source == "import"


def test_patient_sessions_newest_first_with_reading_counts(service, nurse, patient, clock):
    first = service.start_session(patient.id, by=nurse)
    service.record_reading(first, vitals(120, 80), by=nurse)
    clock.advance(timedelta(days=7))
    second = service.start_session(patient.id, by=nurse)
    summaries = service.patient_sessions(patient.id)
    assert [s.id for s in summaries] == [second, first]
    assert [s.reading_count for s in summaries] == [0, 1]


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


def test_check_in_adds_the_patient_session_and_mood_scores_at_once(service, nurse):
    session_id = service.check_in(
        by=nurse, chair="4",
        new_patient={"mrn": "MRN777", "name": "Cy Dee", "date_of_birth": date(1990, 5, 5)},
        weight_kg=80, planned_mg_per_kg=0.5, infusion_minutes=40, bag_volume_ml=100,
        lot_number="L1", concomitant_medications={"benzodiazepine": False},
        escort_name="Dee Dee", phq9_items=(2, 2, 2, 1, 1, 1, 1, 1, 1), gad7_items=(1,) * 7,
    )
    view = service.load(session_id)
    assert view.info.chair == "4"
    assert view.info.dose_mg == 40.0
    (reading,) = view.record.readings
    assert (reading.phq9, reading.gad7) == (12, 7)
    (flag,) = view.flags
    assert (flag.measure, flag.severity) == (Measure.PHQ9, Severity.WARNING)


def test_a_refused_check_in_stores_nothing(service, nurse, patient):
    with pytest.raises(InvalidEntryError):
        service.check_in(
            by=nurse, chair="1", new_patient={"mrn": "MRN100200", "name": "Dup"},
            weight_kg=70, planned_mg_per_kg=0.5, infusion_minutes=40, bag_volume_ml=100,
        )
    assert service.active_sessions(["1"]) == {}


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


def test_escort_named_at_check_in_is_named_until_confirmed_present(service, nurse, session_id):
    escort = next(c for c in service.load(session_id).discharge.criteria if c.id == "escort")
    assert (escort.met, escort.detail) == (
        False, "escort (Sam Byrne, named at check-in) not yet confirmed present")
    service.record_event(session_id, EventKind.ESCORT_PRESENT, by=nurse)
    escort = next(c for c in service.load(session_id).discharge.criteria if c.id == "escort")
    assert escort.met
