"""Tablets as separate processes on one PostgreSQL server, doing the same thing at once.

Each tablet is a process of its own (``tablet_processes``: spawn, its own pool), not a
thread, so nothing in one interpreter lines the tablets up. The large forms are marked slow;
the default forms run the same code with fewer entries.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from monitor.clinical.domain import Flag, Measure, Reading, Severity
from monitor.clinical.rules import FlagEvaluation
from monitor.clock import ManualClock
from monitor.service.clinic import ClinicService
from monitor.storage.integrity import check_database
from monitor.storage.model import Acknowledgement, AuditLog, FlagRow, ReadingRow, TreatmentSession
from monitor.storage.store import open_store
from tests.monitor.service import tablet_processes
from tests.monitor.service.tablet_processes import (
    SECRET,
    START,
    acknowledge_each,
    check_in_each,
    run_tablets,
    save_readings,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def office(pg_url) -> Iterator[ClinicService]:
    """The service that sets up what the tablets work on (and migrates the schema)."""
    store = open_store(pg_url)
    try:
        yield ClinicService(store, ManualClock(START), secret=SECRET)
    finally:
        store.close()


def count(service: ClinicService, model, **where) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    with service.store.read() as db:
        return db.execute(query).scalar_one()


# -- three tablets saving readings into one session ------------------------------------------


def three_tablets_saving(office: ClinicService, pg_url: str, per_tablet: int) -> None:
    nurse = office.ensure_staff("N. Quinn", "nurse")
    patient = office.add_patient(f"MRN{uuid.uuid4().hex[:8]}", by=nurse, weight_kg=70.0)
    session = office.start_session(patient.id, by=nurse, chair="1")
    ids = [[uuid.uuid4() for _ in range(per_tablet)] for _ in range(3)]
    took = run_tablets(save_readings, pg_url, [(session, nurse, mine) for mine in ids])
    print(f"3 tablets x {per_tablet} readings: " + ", ".join(f"{t:.1f} s" for t in took))

    with office.store.read() as db:
        stored = Counter(db.scalars(select(ReadingRow.id).where(
            ReadingRow.session_id == session)))
        audited = Counter(db.scalars(select(AuditLog.record_id).where(
            AuditLog.action == "create", AuditLog.record_kind == "reading")))
        flags = list(db.execute(select(FlagRow.id, FlagRow.key, FlagRow.severity,
                                       FlagRow.reading_id).where(FlagRow.session_id == session)))
    every = {rid for mine in ids for rid in mine}
    assert set(stored) == every
    assert set(stored.values()) == {1}
    assert audited == stored
    stored_flags = {row.id for row in flags}
    raised = flags_raised_in_commit_order(office, session)
    assert stored_flags == raised, (
        f"stored but not raised by the record as it stood: {stored_flags - raised}; "
        f"raised but not stored: {raised - stored_flags}")
    assert office.verify_audit().first_bad is None
    checked = check_database(pg_url)
    assert checked.ok, checked.problems


def flags_raised_in_commit_order(office: ClinicService, session: uuid.UUID) -> set[uuid.UUID]:
    """The flags the rules raise on the record as it stood at each save, in commit order.

    A save stores what the rules raise on the readings committed before it and its own; the
    audit entries' sequence is the commit order (the chain is appended under a lock held to
    COMMIT). Two saves that each evaluated without the other would store a flag the record
    as it stood never raised: the second "first" flag of one episode.
    """
    with office.store.read() as db:
        order = list(db.scalars(select(AuditLog.record_id).where(
            AuditLog.action == "create", AuditLog.record_kind == "reading",
            AuditLog.session_id == session).order_by(AuditLog.seq)))
    view = office.load(session, START + timedelta(days=1))  # after every reading timed
    assert not view.record.events
    assert not view.record.acknowledgements
    readings = {reading.id: reading for reading in view.record.readings}
    raised: set[uuid.UUID] = set()
    so_far: list[Reading] = []
    evaluation: FlagEvaluation | None = None  # of every reading in so_far, when not None
    for rid in order:
        reading = readings[rid]
        if evaluation is not None and so_far and reading.time >= so_far[-1].time:
            evaluation = evaluation.extended(reading, ())
        else:
            evaluation = None
        so_far = sorted([*so_far, reading], key=lambda r: r.time)
        if evaluation is None:
            record = replace(view.record, readings=tuple(so_far))
            evaluated = FlagEvaluation.of(record.as_of(reading.time), view.protocol)
            raised |= {flag.id for flag in evaluated.flags()}
            if reading is so_far[-1]:
                evaluation = evaluated
        else:
            raised |= {flag.id for flag in evaluation.flags()}
    return raised


def test_three_tablets_saving_into_one_session_store_every_reading_once(office, pg_url):
    three_tablets_saving(office, pg_url, per_tablet=60)


@pytest.mark.slow
@pytest.mark.long
def test_three_tablets_saving_500_readings_each_store_1500_once(office, pg_url):
    three_tablets_saving(office, pg_url, per_tablet=500)


def tablets_raising_one_flag(office: ClinicService, pg_url: str, rounds: int) -> None:
    """Each round two tablets save a fast reading into a fresh session at the same moment:
    the flags stored are those the record raised as it stood at each save, in commit order
    (one flag, or two when the later-dated reading committed first)."""
    nurse = office.ensure_staff("N. Quinn", "nurse")
    sessions = []
    for index in range(rounds):
        patient = office.add_patient(f"MRN{uuid.uuid4().hex[:8]}", by=nurse, weight_kg=70.0)
        session = office.start_session(patient.id, by=nurse, chair=f"R{index}")
        office.record_reading(session, tablet_processes.vitals(72), by=nurse)
        sessions.append(session)
    run_tablets(tablet_processes.save_one_into_each, pg_url,
                [(nurse, sessions), (nurse, sessions)])
    for session in sessions:
        with office.store.read() as db:
            stored = set(db.scalars(select(FlagRow.id).where(FlagRow.session_id == session)))
        raised = flags_raised_in_commit_order(office, session)
        assert stored == raised, f"stored {len(stored)} flags, the rules raised {len(raised)}"
    assert office.verify_audit().first_bad is None


def test_two_tablets_saving_fast_readings_at_once_raise_each_flag_once(office, pg_url):
    tablets_raising_one_flag(office, pg_url, rounds=30)


# -- two tablets acknowledging one flag ------------------------------------------------------


def two_tablets_acknowledging(office: ClinicService, pg_url: str, rounds: int) -> None:
    quinn = office.ensure_staff("N. Quinn", "nurse")
    reyes = office.ensure_staff("T. Reyes", "nurse")
    patient = office.add_patient(f"MRN{uuid.uuid4().hex[:8]}", by=quinn, weight_kg=70.0)
    session = office.start_session(patient.id, by=quinn, chair="1")
    flags = [Flag(id=uuid.uuid4(), key="overdue", measure=Measure.HR,
                  severity=Severity.WARNING, time=START, message=f"overdue {index}")
             for index in range(rounds)]
    one, two = run_tablets(acknowledge_each, pg_url,
                           [(session, quinn, flags), (session, reyes, flags)])
    for flag, first, second in zip(flags, one, two, strict=True):
        outcomes = sorted([first[0], second[0]])
        assert outcomes == ["refused", "won"], (flag.id, first, second)
        refusal = first if first[0] == "refused" else second
        assert refusal[1].startswith("Already acknowledged by "), refusal
    assert count(office, Acknowledgement, session_id=session) == rounds
    assert count(office, FlagRow, session_id=session) == rounds
    assert office.verify_audit().first_bad is None
    checked = check_database(pg_url)
    assert checked.ok, checked.problems


def test_two_tablets_acknowledging_each_flag_at_once_store_one_acknowledgement(
    office, pg_url
):
    two_tablets_acknowledging(office, pg_url, rounds=30)


@pytest.mark.slow
@pytest.mark.long
def test_two_tablets_acknowledging_200_flags_at_once_store_200_acknowledgements(
    office, pg_url
):
    two_tablets_acknowledging(office, pg_url, rounds=200)


# -- check-in races --------------------------------------------------------------------------


def two_tablets_checking_in(office: ClinicService, pg_url: str, rounds: int) -> None:
    """Each round: two patients on one free chair, then one patient on two free chairs."""
    quinn = office.ensure_staff("N. Quinn", "nurse")
    reyes = office.ensure_staff("T. Reyes", "nurse")
    one_plans, two_plans = [], []
    for index in range(rounds):
        first, second, both = (
            office.add_patient(f"MRN{uuid.uuid4().hex[:8]}", by=quinn, weight_kg=70.0).id
            for _ in range(3))
        one_plans += [(f"C{index}", first), (f"A{index}", both)]
        two_plans += [(f"C{index}", second), (f"B{index}", both)]
    one, two = run_tablets(check_in_each, pg_url, [(quinn, one_plans), (reyes, two_plans)])
    for plan, first, second in zip(one_plans, one, two, strict=True):
        outcomes = sorted([first[0], second[0]])
        assert outcomes == ["refused", "won"], (plan, first, second)
        refusal = first if first[0] == "refused" else second
        subject = "Chair" if plan[0].startswith("C") else "This patient"
        assert refusal[1].startswith(subject), refusal
    assert count(office, TreatmentSession) == 2 * rounds
    with office.store.read() as db:
        chairs = Counter(db.scalars(select(TreatmentSession.chair)))
        patients = Counter(db.scalars(select(TreatmentSession.patient_id)))
    assert {chair for chair in chairs if chair.startswith("C")} == {
        f"C{index}" for index in range(rounds)}
    assert set(chairs.values()) == {1}
    assert set(patients.values()) == {1}
    checked = check_database(pg_url)
    assert checked.ok, checked.problems


def test_two_tablets_checking_in_at_once_make_one_session(office, pg_url):
    two_tablets_checking_in(office, pg_url, rounds=10)


@pytest.mark.slow
@pytest.mark.long
def test_two_tablets_checking_in_50_times_at_once_make_one_session_each_time(office, pg_url):
    two_tablets_checking_in(office, pg_url, rounds=50)

