"""A signed discharge closes the session; voiding behind a critical flag is signed; an early
stop records the dose given. On both backends."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from monitor.clinical.domain import EventKind, Severity
from monitor.clinical.infusion import DOSE_GIVEN_MG, STOP_REASON, VOLUME_GIVEN_ML
from monitor.clinical.permissions import PermissionDenied
from monitor.exports.report import build_report
from monitor.exports.report_blocks import report_text
from monitor.service.auth import SignatureRequired
from monitor.service.clinic import ClinicService
from monitor.service.views import MEANING_CRITICAL_VOID, InvalidEntryError, SessionClosedError
from monitor.storage.model import Correction, EventRow, ReadingRow, Signature
from tests.conftest import TEST_PIN

MIN = timedelta(minutes=1)
CALM = {"sbp": "126", "dbp": "80", "hr": "72", "spo2": "98", "moaas": "5", "cadss6": "0",
        "nausea": "0"}


@pytest.fixture
def session_id(service, nurse):
    patient = service.add_patient("MRN300400", by=nurse, name="Ada Byrne",
                                  date_of_birth=date(1980, 4, 2), weight_kg=70.0)
    return service.start_session(patient.id, by=nurse, chair="2", escort_name="Sam Byrne",
                                 planned_mg_per_kg=0.5, infusion_minutes=40,
                                 bag_volume_ml=100.0)


def ready(service: ClinicService, session_id: uuid.UUID, nurse: uuid.UUID, clock) -> None:
    """Baseline, a 40-minute infusion, calm recovery, gait and escort: ready to go home."""
    service.record_reading(session_id, CALM, by=nurse)
    clock.advance(MIN)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(40 * MIN)
    service.record_event(session_id, EventKind.INFUSION_STOP, by=nurse)
    clock.advance(31 * MIN)
    service.record_reading(session_id, CALM, by=nurse)
    service.record_event(session_id, EventKind.ORIENTED_STEADY_GAIT, by=nurse)
    service.record_event(session_id, EventKind.ESCORT_PRESENT, by=nurse)
    clock.advance(MIN)


def count(service: ClinicService, model) -> int:
    with service.store.read() as db:
        return db.execute(select(func.count()).select_from(model)).scalar_one()


# -- A: a signed discharge closes the session ---------------------------------------------


def test_after_sign_off_the_chair_takes_no_reading_or_event_and_says_why(
    service, nurse, session_id, clock
):
    ready(service, session_id, nurse, clock)
    service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
    readings, events = count(service, ReadingRow), count(service, EventRow)
    clock.advance(5 * MIN)
    with pytest.raises(SessionClosedError) as closed:
        service.record_reading(session_id, {**CALM, "spo2": "88"}, by=nurse)
    (error,) = closed.value.errors
    assert error.field == "session"
    assert "Session closed: discharge signed" in error.message
    assert "by Nora Nurse" in error.message
    with pytest.raises(SessionClosedError):
        service.record_event(session_id, EventKind.NOTE, by=nurse, detail="left the room")
    assert (count(service, ReadingRow), count(service, EventRow)) == (readings, events)


def test_a_nurse_cannot_add_an_entry_after_sign_off_even_with_a_reason(
    service, nurse, session_id, clock
):
    ready(service, session_id, nurse, clock)
    service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
    with pytest.raises(PermissionDenied):
        service.record_reading(session_id, CALM, by=nurse,
                               after_signoff_reason="BP at the door")
    assert count(service, ReadingRow) == 2


def test_a_clinicians_late_entry_after_sign_off_keeps_its_reason_and_is_marked(
    service, nurse, clinician, session_id, clock
):
    ready(service, session_id, nurse, clock)
    service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
    clock.advance(10 * MIN)
    with pytest.raises(InvalidEntryError) as short:
        service.record_reading(session_id, CALM, by=clinician, after_signoff_reason=" ")
    assert short.value.errors[0].field == "reason"
    saved = service.record_reading(session_id, {**CALM, "spo2": "88"}, by=clinician,
                                   time=clock.now() - 12 * MIN,
                                   after_signoff_reason="value from the monitor's memory")
    view = service.load(session_id)
    late = next(r for r in view.record.readings if r.id == saved.id)
    assert view.after_signoff(late)
    assert late.note == "Entered after sign-off: value from the monitor's memory"
    assert not any(view.after_signoff(r) for r in view.record.readings if r.id != saved.id)
    text = report_text(build_report(view, generated_at=clock.now(), chain_head="abc"))
    assert "after sign-off" in text


def test_the_discharge_record_keeps_the_criteria_as_they_stood_at_the_signature(
    service, nurse, clinician, session_id, clock
):
    ready(service, session_id, nurse, clock)
    signed_at = clock.now()
    before = service.load(session_id).discharge
    service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
    clock.advance(10 * MIN)
    service.record_reading(session_id, {**CALM, "spo2": "88", "moaas": "3"}, by=clinician,
                           after_signoff_reason="reading taken in the car park")
    view = service.load(session_id)
    assert view.discharge.criteria == before.criteria
    assert view.discharge.ready
    assert view.assessed_at == signed_at
    report = build_report(view, generated_at=clock.now(), chain_head="abc")
    text = report_text(report)
    assert "88" not in next(line for line in text.splitlines() if "SpO2" in line
                            and "criteria" not in line.lower() and "Met" in line)
    stamp = f"{signed_at.astimezone():%H:%M}"
    assert f"as signed at {stamp}" in text


def test_a_sign_off_stored_without_its_criteria_is_assessed_on_what_was_entered_by_then(
    service, nurse, clinician, session_id, clock
):
    ready(service, session_id, nurse, clock)
    service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
    with service.store.write() as db:  # as signed before the criteria were kept
        row = db.scalar(select(EventRow).where(
            EventRow.kind == EventKind.DISCHARGE_SIGNED.value))
        signed_at = row.recorded_at
        row.data = {}
    clock.advance(10 * MIN)
    service.record_reading(session_id, {**CALM, "spo2": "88"}, by=clinician,
                           after_signoff_reason="reading taken in the car park")
    view = service.load(session_id)
    assert view.discharge.ready
    assert view.assessed_at == signed_at


def test_show_json_gives_the_criteria_as_signed(service, nurse, clinician, session_id, clock,
                                                capsys):
    from monitor.cli.main import view_to_json  # noqa: PLC0415 - the command's own rendering

    ready(service, session_id, nurse, clock)
    service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
    clock.advance(10 * MIN)
    service.record_reading(session_id, {**CALM, "spo2": "88"}, by=clinician,
                           after_signoff_reason="reading taken in the car park")
    shown = json.loads(json.dumps(view_to_json(service.load(session_id)), default=str))
    assert shown["discharge"]["ready"] is True
    assert shown["discharge"]["assessed_at"] is not None
    assert [r["after_signoff"] for r in shown["readings"]] == [False, False, True]


# -- B: voiding the reading behind a critical flag ---------------------------------------


def test_voiding_the_reading_behind_an_open_critical_flag_needs_the_pin(
    service, nurse, clinician, session_id, clock
):
    service.record_reading(session_id, CALM, by=nurse)
    clock.advance(MIN)
    wrong = service.record_reading(session_id, {**CALM, "spo2": "85"}, by=nurse)
    (flag,) = [f for f in wrong.new_flags if f.severity is Severity.CRITICAL]
    clock.advance(MIN)
    with pytest.raises(SignatureRequired):
        service.void(session_id, "reading", wrong.id, reason="probe slipped off", by=clinician)
    assert count(service, Correction) == 0
    assert flag.id in {f.id for f in service.load(session_id).open_flags}
    service.void(session_id, "reading", wrong.id, reason="probe slipped off", by=clinician,
                 pin=TEST_PIN)
    view = service.load(session_id)
    assert view.open_flags == ()
    (closed,) = [f for f in view.superseded_flags if f.id == flag.id]
    assert closed.resolution == "reading voided (signed by Cleo Clinician): probe slipped off"
    with service.store.read() as db:
        meanings = list(db.scalars(select(Signature.meaning)))
    assert meanings == [MEANING_CRITICAL_VOID]
    text = report_text(build_report(view, generated_at=clock.now(), chain_head="abc"))
    assert "probe slipped off" in text


def test_a_nurse_is_refused_another_nurses_critical_reading_before_the_pin_is_asked(
    service, nurse, clinician, session_id, clock
):
    """No signature makes another nurse's entry hers: the refusal comes first (and is
    audited), rather than a PIN prompt that could only end in it."""
    other = service.ensure_staff("Otto Other", "nurse", pin=TEST_PIN)
    service.record_reading(session_id, CALM, by=other)
    clock.advance(MIN)
    wrong = service.record_reading(session_id, {**CALM, "spo2": "85"}, by=other)
    clock.advance(MIN)
    for pin in (None, TEST_PIN):
        with pytest.raises(PermissionDenied):
            service.void(session_id, "reading", wrong.id, reason="probe slipped off", by=nurse,
                         pin=pin)
    assert count(service, Correction) == 0
    assert count(service, Signature) == 0
    refusals = service.audit_entries(by=clinician, action="denied")
    assert [(e.staff_id, e.record_id) for e in refusals] == [(nurse, wrong.id)] * 2


def test_voiding_a_reading_with_no_open_critical_flag_needs_no_pin(
    service, nurse, session_id, clock
):
    service.record_reading(session_id, CALM, by=nurse)
    clock.advance(MIN)
    typo = service.record_reading(session_id, {**CALM, "hr": "52"}, by=nurse)
    service.void(session_id, "reading", typo.id, reason="typed 52 for 72", by=nurse)
    assert count(service, Correction) == 1


# -- D: an early stop asks the reason and the dose given --------------------------------


def started(service, session_id, nurse, clock) -> None:
    service.record_reading(session_id, CALM, by=nurse)
    clock.advance(MIN)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(13 * MIN)


def test_an_early_stop_without_reason_and_dose_is_refused_naming_both(
    service, nurse, session_id, clock
):
    started(service, session_id, nurse, clock)
    view = service.load(session_id)
    assert view.early_stop().words == "13 of 40 min"
    with pytest.raises(InvalidEntryError) as refused:
        service.record_event(session_id, EventKind.INFUSION_STOP, by=nurse)
    assert {e.field for e in refused.value.errors} == {STOP_REASON, DOSE_GIVEN_MG}
    assert count(service, EventRow) == 1


@pytest.mark.parametrize("dose", ["35.5", "-1", "1e3", "٣"])
def test_a_dose_given_outside_zero_to_the_planned_dose_is_refused_with_the_range(
    service, nurse, session_id, clock, dose
):
    started(service, session_id, nurse, clock)
    with pytest.raises(InvalidEntryError) as refused:
        service.record_event(session_id, EventKind.INFUSION_STOP, by=nurse,
                             data={STOP_REASON: "nausea", DOSE_GIVEN_MG: dose})
    (error,) = refused.value.errors
    assert error.field == DOSE_GIVEN_MG
    assert "0 to 35 mg" in error.message


def test_an_early_stop_records_the_dose_delivered(service, nurse, session_id, clock):
    started(service, session_id, nurse, clock)
    service.record_event(session_id, EventKind.INFUSION_STOP, by=nurse,
                         data={STOP_REASON: "nausea and agitation", VOLUME_GIVEN_ML: "30"})
    view = service.load(session_id)
    delivered = view.dose_delivered
    assert (delivered.dose_mg, delivered.early, delivered.reason) == (
        10.5, True, "nausea and agitation")
    assert delivered.words == ("10.5 mg of 35 mg planned, 30 mL (stopped early at 13 of "
                               "40 min: nausea and agitation)")
    (stop,) = [e for e in view.record.events if e.kind is EventKind.INFUSION_STOP]
    assert stop.detail.startswith("Stopped early at 13 of 40 min: nausea and agitation")


def test_a_stop_at_the_planned_time_delivered_the_planned_dose(service, nurse, session_id,
                                                               clock):
    started(service, session_id, nurse, clock)
    clock.advance(27 * MIN)
    assert service.load(session_id).early_stop() is None
    service.record_event(session_id, EventKind.INFUSION_STOP, by=nurse)
    delivered = service.load(session_id).dose_delivered
    assert (delivered.dose_mg, delivered.early) == (35.0, False)


def test_the_csv_and_fhir_exports_carry_the_dose_delivered(service, nurse, session_id, clock):
    from monitor.exports.csvio import write_session_csv  # noqa: PLC0415 - exports load on use
    from monitor.exports.fhir import session_bundle  # noqa: PLC0415

    started(service, session_id, nurse, clock)
    service.record_event(session_id, EventKind.INFUSION_STOP, by=nurse,
                         data={STOP_REASON: "agitation", DOSE_GIVEN_MG: "12"})
    view = service.load(session_id)
    text = write_session_csv(view)
    assert "Stopped early at 13 of 40 min: agitation; 12 mg given" in text
    bundle = json.loads(session_bundle(view, view.info.patient).model_dump_json())
    (given,) = [e["resource"] for e in bundle["entry"]
                if e["resource"]["resourceType"] == "MedicationAdministration"]
    assert given["status"] == "stopped"
    assert given["dosage"]["dose"] == {"value": 12.0, "unit": "mg",
                                       "system": "http://unitsofmeasure.org", "code": "mg"}
    assert given["statusReason"] == [{"text": "agitation"}]


def test_the_csv_export_marks_an_entry_after_sign_off_by_its_reason(
    service, nurse, clinician, session_id, clock
):
    from monitor.exports.csvio import write_session_csv  # noqa: PLC0415 - exports load on use

    ready(service, session_id, nurse, clock)
    service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
    clock.advance(5 * MIN)
    service.record_reading(session_id, CALM, by=clinician,
                           after_signoff_reason="BP taken at the door")
    text = write_session_csv(service.load(session_id))
    assert "Entered after sign-off: BP taken at the door" in text


def test_amending_away_the_value_behind_an_open_critical_flag_needs_the_pin(
    service, nurse, clinician, session_id, clock
):
    service.record_reading(session_id, CALM, by=nurse)
    clock.advance(MIN)
    wrong = service.record_reading(session_id, {**CALM, "spo2": "85"}, by=nurse)
    clock.advance(MIN)
    with pytest.raises(SignatureRequired):
        service.amend_reading(session_id, wrong.id, {**CALM, "spo2": "97"},
                              reason="typed 85 for 97", by=clinician)
    assert count(service, Correction) == 0
    # Just as critical after the amendment: the flag stays open, no signature is needed.
    service.amend_reading(session_id, wrong.id, {**CALM, "spo2": "84"},
                          reason="typed 85 for 84", by=clinician)
    assert [f.severity for f in service.load(session_id).open_flags] == [Severity.CRITICAL]
