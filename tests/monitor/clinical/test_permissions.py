"""Every role × action is enforced by the service itself, and every refusal is audited."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest

from monitor.clinical.domain import EventKind, Flag, Measure, Severity
from monitor.clinical.permissions import MATRIX, Action, PermissionDenied, allowed, refusal
from monitor.feed.filing import FeedFiling
from monitor.service.auth import SignatureRequired
from monitor.service.clinic import ClinicService
from monitor.service.review import SessionQuery
from monitor.service.views import ImportedRow, InvalidEntryError
from monitor.storage.model import EventRow, ReadingRow
from tests.conftest import TEST_SECRET

ROLES = ("nurse", "clinician", "admin", "system")
VITALS = {"sbp": 128, "dbp": 78, "hr": 72, "spo2": 98}

#: The contract's matrix, written out by hand.
EXPECTED = {
    "nurse": {Action.ENTER_READING, Action.ENTER_EVENT, Action.CHECK_IN, Action.ACKNOWLEDGE,
              Action.VOID, Action.SIGN_DISCHARGE, Action.EXPORT, Action.IMPORT},
    "clinician": {Action.ENTER_READING, Action.ENTER_EVENT, Action.CHECK_IN, Action.ACKNOWLEDGE,
                  Action.VOID, Action.VOID_ANY, Action.AMEND, Action.SIGN_DISCHARGE,
                  Action.OVERRIDE_DISCHARGE, Action.REVIEW, Action.VIEW_AUDIT, Action.EXPORT,
                  Action.IMPORT, Action.ENTER_AFTER_SIGNOFF, Action.APPROVE_PROTOCOL,
                  Action.SET_PATIENT_LIMITS},
    "admin": {Action.MANAGE_STAFF, Action.CHANGE_PROTOCOL, Action.VIEW_AUDIT,
              Action.BIND_MONITOR},
    "system": {Action.IMPORT, Action.EXPORT},
}


class World:
    """A session with a reading by another nurse and one by the acting staff member."""

    def __init__(self, service: ClinicService, role: str) -> None:
        self.service = service
        self.other = service.ensure_staff("Olive Other", "nurse")
        self.actor = service.ensure_staff(f"Acting {role}", role)
        patient = service.add_patient("MRN900", by=self.other, weight_kg=70.0)
        self.patient_id = patient.id
        self.session_id = service.start_session(patient.id, by=self.other, chair="1")
        service.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
        self.others_reading = service.record_reading(self.session_id, VITALS, by=self.other).id
        self.own_reading = uuid.uuid4()
        now = service.clock.now()
        with service.store.write() as db:  # the actor's own entry, whatever their role
            db.add(ReadingRow(id=self.own_reading, session_id=self.session_id, time=now,
                              sbp=120, dbp=70, recorded_at=now, entered_by=self.actor))
        self.flag = Flag(id=uuid.uuid4(), key="spo2-low", measure=Measure.SPO2,
                         severity=Severity.WARNING, time=now, message="SpO2 93 %",
                         reading_id=self.others_reading)

    def after_signoff(self) -> object:
        """A reading with a reason on a session whose discharge another nurse signed."""
        now = self.service.clock.now()
        with self.service.store.write() as db:
            db.add(EventRow(id=uuid.uuid4(), session_id=self.session_id, time=now,
                            kind=EventKind.DISCHARGE_SIGNED.value, detail="", data={},
                            recorded_at=now, entered_by=self.other))
        self.service.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
        return self.service.record_reading(self.session_id, VITALS, by=self.actor,
                                           after_signoff_reason="BP taken at the door")


CALLS: dict[Action, Callable[[World], object]] = {
    Action.ENTER_READING: lambda w: w.service.record_reading(w.session_id, VITALS, by=w.actor),
    Action.ENTER_EVENT: lambda w: w.service.record_event(w.session_id, EventKind.NOTE,
                                                         by=w.actor, detail="note"),
    Action.CHECK_IN: lambda w: w.service.add_patient("MRN901", by=w.actor),
    Action.ACKNOWLEDGE: lambda w: w.service.acknowledge(w.session_id, w.flag,
                                                        action="Repeated reading", by=w.actor),
    Action.VOID: lambda w: w.service.void(w.session_id, "reading", w.own_reading,
                                          reason="entered twice", by=w.actor),
    Action.VOID_ANY: lambda w: w.service.void(w.session_id, "reading", w.others_reading,
                                              reason="wrong patient", by=w.actor),
    Action.AMEND: lambda w: w.service.amend_reading(w.session_id, w.others_reading,
                                                    {**VITALS, "hr": 74}, reason="typo",
                                                    by=w.actor),
    Action.SIGN_DISCHARGE: lambda w: w.service.sign_discharge(w.session_id, by=w.actor),
    Action.OVERRIDE_DISCHARGE: lambda w: w.service.override_discharge(
        w.session_id, reason="Transfer to the ED for review", by=w.actor),
    Action.MANAGE_STAFF: lambda w: w.service.add_staff("Nell New", "nurse", "739151",
                                                       by=w.actor),
    Action.CHANGE_PROTOCOL: lambda w: w.service.record_protocol_change(
        "iv_ketamine", by=w.actor, old={"hr.high": 120}, new={"hr.high": 125}),
    Action.APPROVE_PROTOCOL: lambda w: w.service.protocols.approve(uuid.uuid4(), by=w.actor),
    Action.VIEW_AUDIT: lambda w: w.service.audit_entries(by=w.actor),
    Action.REVIEW: lambda w: w.service.find_sessions(SessionQuery(), by=w.actor),
    Action.EXPORT: lambda w: w.service.record_export(w.session_id, "csv", by=w.actor),
    Action.ENTER_AFTER_SIGNOFF: lambda w: w.after_signoff(),
    Action.SET_PATIENT_LIMITS: lambda w: w.service.limits.set_limits(
        w.patient_id, {"hr.high_warning_at_or_above": 125}, reason="Athlete, resting HR",
        by=w.actor),
    Action.BIND_MONITOR: lambda w: FeedFiling(w.service).bind(
        "1", device="0012A3FFFE4B5C6D", by=w.actor),
    Action.IMPORT: lambda w: w.service.import_session(
        [ImportedRow(time=w.service.clock.now() - timedelta(hours=1), values=VITALS)],
        mrn="MRN902", by=w.actor),
}


@pytest.fixture
def service(sqlite_store, clock) -> ClinicService:
    return ClinicService(sqlite_store, clock, secret=TEST_SECRET)


def test_every_action_has_a_call_under_test():
    assert set(CALLS) == set(Action)


def test_the_matrix_is_the_agreed_one():
    assert {role: set(actions) for role, actions in MATRIX.items()} == EXPECTED


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", ROLES)
def test_the_service_enforces_each_role_and_action(service, role, action):
    world = World(service, role)
    before = service.audit_head()
    call = CALLS[action]
    if action in EXPECTED[role]:
        # Allowed, then perhaps refused for what it is (not ready, needs the PIN).
        with contextlib.suppress(InvalidEntryError, SignatureRequired):
            call(world)
        assert allowed(role, action)
        denied = [e for e in _entries(service) if e.action == "denied"]
        assert denied == []
    else:
        with pytest.raises(PermissionDenied) as refused:
            call(world)
        assert refused.value.role == role
        assert not allowed(role, action)
        (entry,) = [e for e in _entries(service) if e.action == "denied"]
        assert entry.staff_id == world.actor
        voids = {Action.VOID.value, Action.VOID_ANY.value}
        # A role that may not enter readings at all is refused that first.
        late = {Action.ENTER_AFTER_SIGNOFF.value, Action.ENTER_READING.value}
        assert entry.new["action"] in (voids if action.value in voids
                                       else late if action is Action.ENTER_AFTER_SIGNOFF
                                       else {action.value})
    # Reading, and an approval stopped for want of the PIN, leave the record as it was.
    assert service.audit_head() != before or action in (
        Action.VIEW_AUDIT, Action.REVIEW, Action.APPROVE_PROTOCOL)


def _entries(service: ClinicService):
    auditor = service.ensure_staff("Audit Reader", "admin")
    return service.audit_entries(by=auditor, limit=1000)


def test_a_refusal_names_the_role_and_who_can():
    assert refusal("nurse", Action.OVERRIDE_DISCHARGE) == (
        "A nurse cannot override discharge; a clinician can.")
    assert refusal("admin", Action.ENTER_READING) == (
        "An admin cannot enter readings; a nurse or a clinician can.")
    assert "cannot manage staff; an admin can" in refusal("clinician", Action.MANAGE_STAFF)


def test_a_nurse_may_void_only_her_own_entries(service, clock):
    nurse = service.ensure_staff("Nora Nurse", "nurse")
    other = service.ensure_staff("Olive Other", "nurse")
    patient = service.add_patient("MRN903", by=nurse)
    session_id = service.start_session(patient.id, by=nurse)
    mine = service.record_reading(session_id, VITALS, by=nurse).id
    theirs = service.record_reading(session_id, VITALS, by=other).id
    service.void(session_id, "reading", mine, reason="entered twice", by=nurse)
    with pytest.raises(PermissionDenied, match="void another person's entry"):
        service.void(session_id, "reading", theirs, reason="not mine", by=nurse)
    assert [r.id for r in service.load(session_id).record.readings] == [theirs]


def test_disabled_staff_can_do_nothing(service):
    admin = service.create_first_admin("Ada Admin", "739151")
    nurse = service.add_staff("Nora Nurse", "nurse", "482913", by=admin)
    service.disable_staff(nurse, by=admin)
    with pytest.raises(PermissionDenied, match="Unknown or disabled"):
        service.add_patient("MRN904", by=nurse)


def test_a_person_disabled_on_another_tablet_can_no_longer_act_on_this_one(service, clock):
    admin = service.ensure_staff("Ada Admin", "admin")
    tablet_b = ClinicService(service.store, clock, secret=TEST_SECRET)
    world = World(service, "nurse")
    service.record_reading(world.session_id, VITALS, by=world.actor)  # allowed while active

    tablet_b.disable_staff(world.actor, by=admin)

    with pytest.raises(PermissionDenied):
        service.record_reading(world.session_id, VITALS, by=world.actor)
