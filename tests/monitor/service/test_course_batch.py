"""A patient's course reads all the sessions together: the same views as one session at a
time, in a number of statements that does not grow with the sessions."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta

import pytest

from monitor.clinical.domain import EventKind, Measure
from monitor.service.evaluation import evaluate
from monitor.service.kept_flags import kept_flags, stored_flag
from monitor.service.review import course_of, course_views
from monitor.service.views import SessionView
from monitor.storage import queries
from monitor.storage.model import Patient
from monitor.storage.records import load_record, patient_info, session_info
from tests.conftest import TEST_PIN
from tests.monitor.counting import statements
from tests.monitor.service.test_review import one_session

MIN = timedelta(minutes=1)
DAY = timedelta(days=1)
BASE = {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98", "cadss6": "0", "moaas": "5",
        "nausea": "0"}


def one_at_a_time(service, patient_id: uuid.UUID, at: datetime) -> list[SessionView]:
    """The views of the patient's sessions as the course read them before: one session at
    a time, its info, its record, its protocol, evaluated, and its stored flags no longer
    raised kept."""
    views = []
    with service.store.read() as db:
        connection = db.connection()
        for summary in connection.execute(queries.PATIENT_SESSIONS,
                                          {"patient_id": patient_id}):
            info = session_info(connection, summary.id)
            record, superseded, corrections = load_record(connection, summary.id, at)
            view = evaluate(
                info=info, protocol=service.session_protocols.protocol_of(connection, info),
                record=record, at=at, superseded=superseded, corrections=corrections)
            stored = connection.execute(queries.STORED_FLAGS,
                                        {"session_id": summary.id, "at": at})
            kept = kept_flags(map(stored_flag, stored), raised=view.flags, record=record,
                              superseded=superseded, corrections=corrections, at=at)
            views.append(dataclasses.replace(view, superseded_flags=kept))
    return sorted(views, key=lambda v: (v.info.time, v.info.id))


def batched(service, patient_id: uuid.UUID, at: datetime) -> list[SessionView]:
    with service.store.read() as db:
        return course_views(db.connection(), service.session_protocols, patient_id, at)


def early_stop_with_override(service, nurse, clinician, patient, clock) -> uuid.UUID:
    """Started by a clinician's override, stopped after 20 of 40 minutes (a high SBP,
    acknowledged); a reading voided and one amended; discharged by a clinician's override,
    then a clinician's late entry."""
    sid = service.check_in(
        by=nurse, chair="2", patient_id=patient.id, weight_kg=70.0, planned_mg_per_kg=0.5,
        infusion_minutes=40, bag_volume_ml=100.0, phq9_items=[1] * 9, gad7_items=[1] * 7)
    clock.advance(5 * MIN)
    service.record_reading(sid, BASE, by=nurse)
    clock.advance(5 * MIN)
    # PHQ-9 item 9 answered 1: the infusion waits for a clinician, who starts it.
    service.record_event(sid, EventKind.INFUSION_START, by=clinician,
                         override_reason="reviewed at the chair")
    clock.advance(10 * MIN)
    high = service.record_reading(sid, {**BASE, "sbp": "186", "dbp": "104"}, by=nurse)
    for flag in service.load(sid).open_flags:
        action = "Assessed by clinician" if flag.measure is Measure.PHQ9 else "reviewed"
        service.acknowledge(sid, flag, action=action, by=clinician, pin=TEST_PIN)
    clock.advance(5 * MIN)
    typo = service.record_reading(sid, {**BASE, "spo2": "86"}, by=nurse)
    service.void(sid, "reading", typo.id, reason="probe off the finger", by=nurse,
                 pin=TEST_PIN)
    clock.advance(5 * MIN)
    service.record_event(sid, EventKind.INFUSION_STOP, by=nurse, confirmed=("early",),
                         data={"early_stop_reason": "blood pressure",
                               "dose_given_mg": 17.5})
    service.amend_reading(sid, high.id, {**BASE, "sbp": "176", "dbp": "98"},
                          reason="read from the wrong line", by=clinician, pin=TEST_PIN)
    clock.advance(15 * MIN)
    service.record_reading(sid, {**BASE, "sbp": "150", "dbp": "90"}, by=nurse)
    service.override_discharge(sid, reason="Transfer to ED for review", by=clinician,
                               pin=TEST_PIN)
    clock.advance(10 * MIN)
    service.record_reading(sid, {**BASE, "spo2": "88"}, by=clinician,
                           time=clock.now() - 8 * MIN,
                           after_signoff_reason="value from the monitor's memory")
    return sid


@pytest.fixture
def patient_with_a_course(service, nurse, clinician, clock):
    """Six sessions of one patient with limits of their own (changed after the third),
    and another patient's."""
    patient = service.add_patient("MRN777000", by=nurse, name="Eve Fisher", weight_kg=70.0)
    limits(service, patient.id, {"hr.high_warning_at_or_above": 120})
    other = service.add_patient("MRN777001", by=nurse, name="Finn Grey", weight_kg=80.0)
    first = one_session(service, nurse, patient, clock, peak_sbp=168,
                        phq9_items=[2] * 8 + [0], gad7_items=[2] * 7)
    clock.advance(DAY)
    one_session(service, nurse, other, clock, peak_sbp=166,
                phq9_items=[1] * 8 + [0], gad7_items=[1] * 7)
    clock.advance(DAY)
    early = early_stop_with_override(service, nurse, clinician, patient, clock)
    clock.advance(DAY)
    # A session without an infusion: a critical SpO2, acknowledged, the reading voided.
    bare = service.start_session(patient.id, by=nurse, chair="3")
    clock.advance(5 * MIN)
    low = service.record_reading(bare, {**BASE, "spo2": "84"}, by=nurse)
    for flag in service.load(bare).open_flags:
        service.acknowledge(bare, flag, action="oxygen given", by=nurse, pin=TEST_PIN)
    clock.advance(5 * MIN)
    service.void(bare, "reading", low.id, reason="wrong patient", by=nurse, pin=TEST_PIN)
    clock.advance(DAY)
    # Limits of the patient's own changed: the sessions from now on start with these.
    limits(service, patient.id, {"hr.high_warning_at_or_above": 125,
                                 "bp.high_warning_sbp_at_or_above": 170})
    second = one_session(service, nurse, patient, clock, peak_sbp=150,
                         phq9_items=[1] * 7 + [0, 0], gad7_items=[1] * 7)
    # Two sessions at the same moment, ordered by id.
    same = clock.now() + DAY
    twins = [service.start_session(patient.id, by=nurse, time=same, chair=chair)
             for chair in ("1", "2")]
    clock.advance(DAY + 10 * MIN)
    for twin in twins:
        service.record_reading(twin, BASE, by=nurse)
    return patient, [first, early, bare, second, *sorted(twins)]


def test_the_batched_course_is_the_course_read_one_session_at_a_time(
    service, clinician, patient_with_a_course, clock
):
    patient, sessions = patient_with_a_course
    now = clock.now()
    views = batched(service, patient.id, now)
    assert [v.info.id for v in views] == sessions
    assert views == one_at_a_time(service, patient.id, now)
    # What the course covers is there: corrections, an early stop, an override, a late
    # entry, acknowledgements and the patient's own limits.
    early = views[1]
    assert {c.action for c in early.corrections} == {"void", "amend"}
    assert early.superseded_readings
    assert early.dose_delivered is not None
    assert early.dose_delivered.early
    assert any(e.kind is EventKind.DISCHARGE_OVERRIDE for e in early.record.events)
    assert any(early.after_signoff(r) for r in early.record.readings)
    assert early.record.acknowledgements
    assert [v.protocol.hr.high_warning_at_or_above for v in views] == [120] * 3 + [125] * 3
    assert views[3].protocol.bp.high_warning_sbp_at_or_above == 170
    course = service.course(patient.id, by=clinician)
    assert course == course_of(_patient(service, patient.id), views)
    assert course.rows[1].stopped_early


def test_the_batched_course_as_it_stood_earlier_is_the_same_too(
    service, patient_with_a_course, clock
):
    """Moments inside the early-stopped session: before and after its corrections, and
    before the later sessions began."""
    patient, sessions = patient_with_a_course
    early_start = batched(service, patient.id, clock.now())[1].info.time
    for minutes in (0, 22, 27, 33, 45, 60, 24 * 60):
        at = early_start + minutes * MIN
        views = batched(service, patient.id, at)
        assert views == one_at_a_time(service, patient.id, at), minutes
        assert [v.info.id for v in views] == sessions


def test_a_course_takes_the_same_statements_however_many_sessions(
    service, nurse, clinician, clock
):
    patient = service.add_patient("MRN777100", by=nurse, name="Gil Hart", weight_kg=70.0)
    counts = []
    for sessions in range(1, 5):
        one_session(service, nurse, patient, clock, peak_sbp=150 + sessions,
                    phq9_items=[1] * 8 + [0], gad7_items=[1] * 7)
        clock.advance(DAY)
        with statements(service.store.engine) as sent:
            course = service.course(patient.id, by=clinician)
        assert len(course.rows) == sessions
        counts.append(len(sent))
    # The reviewer's role, the patient, the sessions, then their corrections, readings,
    # events and acknowledgements: one statement each.
    assert counts == [7] * 4, counts


def test_a_course_reads_the_protocol_versions_not_loaded_yet_in_one_statement(
    service, nurse, clinician, clock
):
    from monitor.service.clinic import ClinicService  # noqa: PLC0415
    from tests.conftest import TEST_SECRET  # noqa: PLC0415

    patient = service.add_patient("MRN777200", by=nurse, name="Hal Ives", weight_kg=70.0)
    for _ in range(3):
        service.start_session(patient.id, by=nurse)
        clock.advance(DAY)
    fresh = ClinicService(service.store, clock, secret=TEST_SECRET)
    with statements(service.store.engine) as first:
        assert len(fresh.course(patient.id, by=clinician).rows) == 3
    with statements(service.store.engine) as again:
        fresh.course(patient.id, by=clinician)
    assert len(first) == len(again) + 1
    assert sum("protocol_versions" in s and "FROM protocol_versions" in s
               for s in first) == 1


def limits(service, patient_id: uuid.UUID, overrides: dict[str, int]) -> None:
    with service.store.write() as db:
        db.get(Patient, patient_id).limit_overrides = overrides


def _patient(service, patient_id: uuid.UUID):
    with service.store.read() as db:
        return patient_info(db.get(Patient, patient_id))
