"""The clinician's review: finding sessions (filters, keyset pages) and a patient's course."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from monitor.clinical.domain import EventKind, Severity
from monitor.clinical.permissions import PermissionDenied
from monitor.service.review import Cursor, SessionQuery
from tests.conftest import TEST_PIN

MIN = timedelta(minutes=1)
DAY = timedelta(days=1)


@pytest.fixture
def clinician(service) -> uuid.UUID:
    return service.ensure_staff("Cleo Clinician", "clinician", pin=TEST_PIN)


@pytest.fixture
def clinic(service, nurse, clock):
    """Two patients; sessions over four days, one of them flagged (SpO2 88 %)."""
    ada = service.add_patient("MRN100200", by=nurse, name="Ada Byrne", weight_kg=70.0)
    ben = service.add_patient("MRN300400", by=nurse, name="Ben Carter", weight_kg=82.0)
    now = clock.now()  # 2026-03-02 09:00 UTC
    sessions = {
        "ada_feb27": service.start_session(ada.id, by=nurse, time=now - 3 * DAY, chair="1"),
        "ben_feb28": service.start_session(ben.id, by=nurse, time=now - 2 * DAY, chair="2"),
        "ada_mar01": service.start_session(ada.id, by=nurse, time=now - DAY, chair="1"),
        "ben_mar02": service.start_session(ben.id, by=nurse, time=now - 30 * MIN, chair="2"),
    }
    service.record_reading(sessions["ben_feb28"], {"sbp": "120", "dbp": "80", "spo2": "88"},
                           by=nurse, time=now - 2 * DAY + 5 * MIN)
    return ada, ben, sessions


def ids(page):
    return [row.session_id for row in page.rows]


def test_sessions_are_listed_newest_first_with_patient_and_flags(service, clinician, clinic):
    _, _, s = clinic
    page = service.find_sessions(SessionQuery(), by=clinician)
    assert ids(page) == [s["ben_mar02"], s["ada_mar01"], s["ben_feb28"], s["ada_feb27"]]
    assert page.next is None
    flagged = page.rows[2]
    assert (flagged.mrn, flagged.patient_name, flagged.chair) == ("MRN300400", "Ben Carter", "2")
    assert flagged.flags_by_tier == {int(Severity.CRITICAL): 1}
    assert flagged.worst is Severity.CRITICAL
    assert page.rows[0].flags_by_tier == {}
    assert page.rows[0].worst is None
    assert not any(row.signed for row in page.rows)


@pytest.mark.parametrize(("text", "expected"), [
    ("byrne", ["ada_mar01", "ada_feb27"]),
    ("ADA B", ["ada_mar01", "ada_feb27"]),
    ("300400", ["ben_mar02", "ben_feb28"]),
    ("mrn", ["ben_mar02", "ada_mar01", "ben_feb28", "ada_feb27"]),
    ("nobody", []),
    ("100%", []),
])
def test_the_text_filter_matches_name_or_mrn_ignoring_case(
    service, clinician, clinic, text, expected
):
    _, _, s = clinic
    page = service.find_sessions(SessionQuery(text=text), by=clinician)
    assert ids(page) == [s[name] for name in expected]


def test_the_date_range_includes_both_days(service, clinician, clinic):
    _, _, s = clinic
    query = SessionQuery(date_from=date(2026, 2, 28), date_to=date(2026, 3, 1))
    assert ids(service.find_sessions(query, by=clinician)) == [s["ada_mar01"], s["ben_feb28"]]
    since = SessionQuery(date_from=date(2026, 3, 1))
    assert ids(service.find_sessions(since, by=clinician)) == [s["ben_mar02"], s["ada_mar01"]]
    until = SessionQuery(date_to=date(2026, 2, 27))
    assert ids(service.find_sessions(until, by=clinician)) == [s["ada_feb27"]]


def test_flagged_only_lists_sessions_with_flags_of_the_effective_record(
    service, nurse, clinician, clinic, clock
):
    ada, _, s = clinic
    query = SessionQuery(flagged_only=True)
    assert ids(service.find_sessions(query, by=clinician)) == [s["ben_feb28"]]
    # A flag whose reading was voided as an entry error no longer counts.
    saved = service.record_reading(s["ben_mar02"], {"sbp": "120", "dbp": "80", "spo2": "86"},
                                   by=nurse)
    assert ids(service.find_sessions(query, by=clinician)) == [s["ben_mar02"], s["ben_feb28"]]
    service.void(s["ben_mar02"], "reading", saved.id, reason="probe off the finger", by=nurse,
                 pin=TEST_PIN)
    assert ids(service.find_sessions(query, by=clinician)) == [s["ben_feb28"]]
    combined = SessionQuery(text="ada", flagged_only=True)
    assert ids(service.find_sessions(combined, by=clinician)) == []
    assert ada is not None


def test_keyset_pages_have_no_duplicates_or_gaps_and_a_stable_order_at_equal_times(
    service, nurse, clinician, clinic, clock
):
    ada, ben, _ = clinic
    same = clock.now() - 5 * DAY
    for patient in (ada, ben, ada, ben, ada):
        service.start_session(patient.id, by=nurse, time=same)
    everything = ids(service.find_sessions(SessionQuery(), by=clinician, limit=100))
    assert len(everything) == 9
    listed = service.find_sessions(SessionQuery(), by=clinician, limit=100).rows
    keys = [(row.time, row.session_id) for row in listed]
    assert keys == sorted(keys, reverse=True)
    paged: list[uuid.UUID] = []
    cursor: Cursor | None = None
    pages = 0
    while True:
        page = service.find_sessions(SessionQuery(), by=clinician, after=cursor, limit=2)
        paged += ids(page)
        pages += 1
        if page.next is None:
            break
        cursor = page.next
    assert paged == everything
    assert pages == 5
    # A session saved meanwhile at the newest end shifts nothing on later pages.
    first = service.find_sessions(SessionQuery(), by=clinician, limit=3)
    service.start_session(ada.id, by=nurse, time=clock.now())
    second = service.find_sessions(SessionQuery(), by=clinician, after=first.next, limit=3)
    assert ids(second) == everything[3:6]


def test_a_page_limit_outside_the_accepted_range_is_refused(service, clinician, clinic):
    with pytest.raises(ValueError, match="limit must be from 1 to 500"):
        service.find_sessions(SessionQuery(), by=clinician, limit=0)


def test_a_signed_session_is_marked_signed(service, nurse, clinician, clinic, clock):
    _, _, s = clinic
    service.override_discharge(s["ben_mar02"], by=clinician, pin=TEST_PIN,
                               reason="transferred to the emergency department")
    rows = service.find_sessions(SessionQuery(text="carter"), by=clinician).rows
    assert [row.signed for row in rows] == [True, False]


def test_a_nurse_cannot_review_and_the_refusal_is_audited(service, nurse, clinician, clinic):
    ada, _, _ = clinic
    with pytest.raises(PermissionDenied) as refused:
        service.find_sessions(SessionQuery(), by=nurse)
    assert "nurse cannot review sessions" in str(refused.value)
    with pytest.raises(PermissionDenied):
        service.course(ada.id, by=nurse)
    denied = service.audit_entries(by=clinician, action="denied", staff_id=nurse)
    assert [entry.new["action"] for entry in denied] == ["review", "review"]


def test_unknown_staff_cannot_review(service, clinic):
    with pytest.raises(PermissionDenied):
        service.find_sessions(SessionQuery(), by=uuid.uuid4())


# -- course ---------------------------------------------------------------------------------


def one_session(service, nurse, patient, clock, *, peak_sbp, phq9_items, gad7_items):
    """Check-in with mood scores, a 40-minute infusion, recovery until ready 15 min after."""
    sid = service.check_in(
        by=nurse, chair="1", patient_id=patient.id, weight_kg=70.0, planned_mg_per_kg=0.5,
        infusion_minutes=40, bag_volume_ml=100.0, phq9_items=phq9_items, gad7_items=gad7_items,
    )
    base = {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98", "cadss6": "0", "moaas": "5",
            "nausea": "0"}
    clock.advance(5 * MIN)
    service.record_reading(sid, base, by=nurse)
    clock.advance(5 * MIN)
    service.record_event(sid, EventKind.INFUSION_START, by=nurse)
    course = [(138, 84, 6, 5), (peak_sbp, 92, 12, 4), (140, 86, 8, 4), (134, 82, 3, 5)]
    for sbp, dbp, cadss6, moaas in course:
        clock.advance(10 * MIN)
        service.record_reading(sid, {**base, "sbp": str(sbp), "dbp": str(dbp),
                                     "cadss6": str(cadss6), "moaas": str(moaas)}, by=nurse)
    service.record_event(sid, EventKind.INFUSION_STOP, by=nurse)
    service.record_event(sid, EventKind.ESCORT_PRESENT, by=nurse)
    clock.advance(15 * MIN)
    service.record_reading(sid, base, by=nurse)
    service.record_event(sid, EventKind.ORIENTED_STEADY_GAIT, by=nurse)
    clock.advance(60 * MIN)
    service.record_reading(sid, base, by=nurse)
    service.sign_discharge(sid, by=nurse, pin=TEST_PIN)
    return sid


def test_the_course_has_one_row_per_session_with_the_hand_computed_values(
    service, nurse, clinician, clock
):
    patient = service.add_patient("MRN555000", by=nurse, name="Cai Dunn", weight_kg=70.0)
    first = one_session(service, nurse, patient, clock, peak_sbp=168,
                        phq9_items=[2, 2, 2, 2, 2, 2, 2, 2, 0], gad7_items=[2] * 7)
    clock.advance(3 * DAY)
    second = one_session(service, nurse, patient, clock, peak_sbp=150,
                         phq9_items=[1, 1, 1, 1, 1, 1, 1, 0, 0], gad7_items=[1] * 7)
    course = service.course(patient.id, by=clinician)
    assert course.patient.mrn == "MRN555000"
    assert [row.session_id for row in course.rows] == [first, second]
    one, two = course.rows
    assert one.dose_mg_per_kg == 0.5
    assert (one.peak_sbp, one.peak_dbp) == (168, 92)
    assert (one.sbp_rise, one.dbp_rise) == (168 - 128, 92 - 78)
    assert (two.peak_sbp, two.sbp_rise) == (150, 22)
    assert (one.peak_cadss6, one.lowest_moaas) == (12, 4)
    assert (one.phq9, one.gad7) == (16, 14)
    assert (two.phq9, two.gad7) == (7, 7)
    # Stop at 40 min; SBP 168 is a rise of 31 % over 128 (an advisory); ready 15 min later.
    assert one.flags_by_tier == {int(Severity.ADVISORY): 1}
    assert two.flags_by_tier == {}
    assert one.minutes_to_ready == 15.0
    assert two.minutes_to_ready == 15.0
    # Signed off 75 min after the stop: ready at 15, the patient left at 75.
    assert one.minutes_to_discharge == two.minutes_to_discharge == 75.0
    assert course.series("phq9") == [(one.time, 16.0), (two.time, 7.0)]


def test_a_session_without_an_infusion_has_no_rise_or_ready_time(
    service, nurse, clinician, clock
):
    patient = service.add_patient("MRN555001", by=nurse, name="Dee Evans")
    sid = service.start_session(patient.id, by=nurse)
    service.record_reading(sid, {"sbp": "130", "dbp": "80"}, by=nurse)
    (row,) = service.course(patient.id, by=clinician).rows
    assert row.session_id == sid
    assert (row.peak_sbp, row.sbp_rise) == (130, 0)
    assert (row.minutes_to_ready, row.phq9, row.peak_cadss6) == (None, None, None)
    assert row.minutes_to_discharge is None


def test_the_course_of_an_unknown_patient_is_not_found(service, clinician):
    from monitor.service.views import NotFoundError  # noqa: PLC0415

    with pytest.raises(NotFoundError):
        service.course(uuid.uuid4(), by=clinician)


def test_a_cursor_orders_by_time_then_id():
    t = datetime(2026, 3, 2, tzinfo=UTC)
    assert Cursor(t, uuid.UUID(int=1)) < Cursor(t, uuid.UUID(int=2))


def test_a_session_started_without_a_recorded_stop_keeps_its_planned_dose(
    service, nurse, clinician, clock
):
    """The dose is recorded at check-in: a session whose infusion started but whose stop was
    never recorded still carries the planned dose (35 mg = 0.5 mg/kg × 70 kg), not a blank."""
    patient = service.add_patient("MRN555002", by=nurse, name="Eve Fox", weight_kg=70.0)
    sid = service.check_in(by=nurse, chair="1", patient_id=patient.id, weight_kg=70.0,
                           planned_mg_per_kg=0.5, infusion_minutes=40, bag_volume_ml=100.0)
    clock.advance(5 * MIN)
    service.record_reading(sid, {"sbp": "128", "dbp": "78"}, by=nurse)
    service.record_event(sid, EventKind.INFUSION_START, by=nurse)
    clock.advance(5 * MIN)
    service.record_reading(sid, {"sbp": "132", "dbp": "80"}, by=nurse)
    (row,) = service.course(patient.id, by=clinician).rows
    assert row.infusion_started is True
    assert row.dose_planned_mg == 35.0
    assert row.dose_given_mg is None
    service.record_event(sid, EventKind.INFUSION_STOP, by=nurse, confirmed=("early",),
                         data={"early_stop_reason": "blood pressure", "dose_given_mg": 8.5})
    (row,) = service.course(patient.id, by=clinician).rows
    assert (row.dose_given_mg, row.stopped_early, row.dose_planned_mg) == (8.5, True, 35.0)


def test_a_session_never_started_has_no_dose_given(service, nurse, clinician, clock):
    patient = service.add_patient("MRN555003", by=nurse, name="Gus Hale", weight_kg=80.0)
    service.check_in(by=nurse, chair="1", patient_id=patient.id, weight_kg=80.0,
                     planned_mg_per_kg=0.5, infusion_minutes=40, bag_volume_ml=100.0)
    (row,) = service.course(patient.id, by=clinician).rows
    assert (row.infusion_started, row.dose_given_mg, row.dose_planned_mg) == (False, None, 40.0)
