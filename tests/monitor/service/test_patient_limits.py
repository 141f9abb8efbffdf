"""A patient's own limits: shown against the protocol, checked as typed and as a whole, set by
clinicians with a reason, audited with old and new values; nobody else may set them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from monitor.clinical.permissions import PermissionDenied
from monitor.service.views import InvalidEntryError
from monitor.storage.model import AuditLog

HR = "hr.high_warning_at_or_above"
HR_CRITICAL = "hr.high_critical_at_or_above"
SPO2 = "spo2.low_warning_at_or_below"


@pytest.fixture
def patient(service, nurse):
    return service.add_patient("MRN4711", by=nurse, weight_kg=70.0, name="Pat Example").id


def _audits(service, action):
    with service.store.read() as db:
        return [(e.staff_id, json.loads(e.old or "null"), json.loads(e.new or "null"))
                for e in db.query(AuditLog).filter_by(action=action).order_by(AuditLog.seq)]


def test_each_flag_limit_is_shown_with_the_protocol_value_and_none_of_the_patient(
        service, patient):
    view = service.limits.view(patient)
    rows = {row.field: row for row in view.rows}
    assert view.profile == "iv_ketamine"
    assert rows[HR].protocol_value == 111
    assert rows[HR].unit == "/min"
    assert rows[HR].patient_value is None
    assert all(row.section in ("baseline_bp", "bp", "hr", "spo2", "rr", "moaas", "cadss6",
                               "nausea") for row in view.rows)
    assert "intervals.infusion_reading_every_min" not in rows


def test_a_clinician_sets_a_limit_with_a_reason_and_the_old_and_new_values_are_audited(
        service, patient, clinician):
    view = service.limits.set_limits(patient, {HR: "125", SPO2: ""}, reason="Athlete, "
                                     "resting HR 95", by=clinician)
    assert {r.field: r.patient_value for r in view.rows}[HR] == 125
    assert view.reason == "Athlete, resting HR 95"
    assert service.session_protocols.protocol_for(
        "iv_ketamine", {HR: 125}).hr.high_warning_at_or_above == 125
    view = service.limits.set_limits(patient, {HR: "120"}, reason="Revised after review",
                                     by=clinician)
    view = service.limits.set_limits(patient, {HR: ""}, reason="Back to the protocol",
                                     by=clinician)
    assert all(r.patient_value is None for r in view.rows)
    audits = _audits(service, "patient_limits_set")
    assert [(old, {k: v for k, v in new.items() if k in (HR, "reason")})
            for _, old, new in audits] == [
        ({HR: None}, {HR: 125, "reason": "Athlete, resting HR 95"}),
        ({HR: 125}, {HR: 120, "reason": "Revised after review"}),
        ({HR: 120}, {HR: None, "reason": "Back to the protocol"}),
    ]
    assert {staff for staff, _, _ in audits} == {clinician}


def test_values_are_checked_as_typed_and_against_the_protocol(service, patient, clinician):
    profile = "iv_ketamine"
    assert service.limits.check(profile, {HR: "125"}) == []
    (error,) = service.limits.check(profile, {HR: "300"})
    assert error.field == HR
    assert error.message == (
        "hr.high_warning_at_or_above (/min): 300 is outside the accepted range 20–250 /min")
    (error,) = service.limits.check(profile, {HR: "abc"})
    assert error.field == HR
    # A warning limit beyond its critical limit (131) is refused, naming both.
    (error,) = service.limits.check(profile, {HR: "140"})
    assert error.field == HR
    assert f"must be below {HR_CRITICAL} (131)" in error.message
    # Raised together, the pair is in order again.
    assert service.limits.check(profile, {HR: "140", HR_CRITICAL: "150"}) == []
    (error,) = service.limits.check(profile, {"intervals.infusion_reading_every_min": "5"})
    assert "not a limit that may be set" in error.message


def test_an_invalid_set_is_refused_whole_and_nothing_is_audited(service, patient, clinician):
    with pytest.raises(InvalidEntryError) as refused:
        service.limits.set_limits(patient, {HR: "140", SPO2: "92"}, reason="Trial",
                                  by=clinician)
    assert [e.field for e in refused.value.errors] == [HR]
    with pytest.raises(InvalidEntryError) as refused:
        service.limits.set_limits(patient, {HR: "125"}, reason="", by=clinician)
    assert [e.field for e in refused.value.errors] == ["reason"]
    assert all(r.patient_value is None for r in service.limits.view(patient).rows)
    assert _audits(service, "patient_limits_set") == []


@pytest.mark.parametrize("role", ["nurse", "admin"])
def test_only_a_clinician_sets_limits_and_the_refusal_is_audited(service, patient, role):
    actor = service.ensure_staff(f"Some {role}", role)
    with pytest.raises(PermissionDenied, match="cannot set a patient's own limits"):
        service.limits.set_limits(patient, {HR: "125"}, reason="Athlete", by=actor)
    (denied,) = [new for staff, _, new in _audits(service, "denied") if staff == actor]
    assert denied["action"] == "set_patient_limits"
    assert service.limits.view(patient).rows  # everyone reads


def test_limits_set_later_never_re_judge_a_started_session_and_apply_to_the_next(
        service, clock, patient, nurse, clinician):
    started = service.start_session(patient, by=nurse, chair="1")
    clock.advance(timedelta(minutes=1))
    service.record_reading(started, {"hr": 120}, by=nurse)
    before = service.load(started)
    assert [f.measure.value for f in before.flags] == ["hr"]  # 120 ≥ 111: a warning

    service.limits.set_limits(patient, {HR: "125"}, reason="Athlete, resting HR 95",
                              by=clinician)
    again = service.load(started)
    assert again.protocol.hr.high_warning_at_or_above == 111
    assert [(f.measure, f.severity, f.time) for f in again.flags] == [
        (f.measure, f.severity, f.time) for f in before.flags]

    clock.advance(timedelta(days=7))  # the patient's next visit
    later = service.start_session(patient, by=nurse, chair="2")
    assert service.load(later).protocol.hr.high_warning_at_or_above == 125
