"""Retries by an entry's own id, and two tablets on one server doing the same thing at once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, inspect, select, text

from monitor.clinical.domain import EventKind, Flag, Measure, Severity
from monitor.service.clinic import ClinicService
from monitor.service.views import AlreadyDoneError, ConflictingRetryError, InvalidEntryError
from monitor.storage.integrity import check_database
from monitor.storage.model import (
    Acknowledgement,
    AuditLog,
    Correction,
    EventRow,
    FlagRow,
    ReadingRow,
    TreatmentSession,
)
from monitor.storage.store import Store, open_store
from tests.conftest import TEST_PIN, TEST_SECRET
from tests.monitor.clinical.test_signing import ready

MIN = timedelta(minutes=1)


@pytest.fixture
def patient(service, nurse):
    return service.add_patient("MRN300400", by=nurse, name="Ada Byrne",
                               date_of_birth=date(1980, 4, 2), weight_kg=70.0)


@pytest.fixture
def session_id(service, nurse, patient):
    return service.start_session(patient.id, by=nurse, chair="2")


def vitals(sbp: int = 120, dbp: int = 80, hr: int = 72, spo2: int = 98) -> dict[str, str]:
    return {"sbp": str(sbp), "dbp": str(dbp), "hr": str(hr), "spo2": str(spo2)}


def count_rows(service: ClinicService, model: Any, **where: Any) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    with service.store.read() as db:
        return db.execute(query).scalar_one()


def a_flag(session_id: uuid.UUID, clock, key: str = "overdue") -> Flag:
    return Flag(id=uuid.uuid4(), key=key, measure=Measure.HR, severity=Severity.WARNING,
                time=clock.now(), message=f"{key} for {session_id}")


def hex_ids(problem: str, record_id: uuid.UUID) -> str:
    """``problem`` naming ``record_id`` as SQLite stores it (32 hex digits)."""
    return problem.replace(str(record_id), record_id.hex)


# -- retries: the same id and values are one entry; other values are refused -----------------


def test_a_reading_retried_with_other_values_is_refused_and_the_stored_one_kept(
    service, nurse, session_id, clock
):
    rid = uuid.uuid4()
    service.record_reading(session_id, vitals(spo2=96), by=nurse, reading_id=rid)
    with pytest.raises(ConflictingRetryError) as refused:
        service.record_reading(session_id, vitals(spo2=90), by=nurse, reading_id=rid)
    assert isinstance(refused.value, InvalidEntryError)  # screens show it as a refusal
    assert [e.field for e in refused.value.errors] == ["spo2"]
    assert "spo2 96, not 90" in str(refused.value)
    with service.store.read() as db:
        assert db.scalar(select(ReadingRow.spo2).where(ReadingRow.id == rid)) == 96
    assert count_rows(service, ReadingRow) == 1


def test_a_reading_retried_with_the_same_values_is_one_row_and_one_audit_entry(
    service, nurse, session_id, clock
):
    rid = uuid.uuid4()
    audited = count_rows(service, AuditLog)
    service.record_reading(session_id, vitals(spo2=96), by=nurse, reading_id=rid)
    clock.advance(MIN)
    again = service.record_reading(session_id, vitals(spo2=96), by=nurse, reading_id=rid)
    assert again.id == rid
    assert count_rows(service, ReadingRow) == 1
    assert count_rows(service, AuditLog) == audited + 1


def test_an_event_retried_with_another_kind_is_refused(service, nurse, session_id, clock):
    eid = uuid.uuid4()
    when = clock.now()
    service.record_event(session_id, EventKind.INFUSION_PAUSE, by=nurse, time=when, event_id=eid)
    audited = count_rows(service, AuditLog)
    assert service.record_event(session_id, EventKind.INFUSION_PAUSE, by=nurse, time=when,
                                event_id=eid) == eid
    with pytest.raises(ConflictingRetryError, match="kind"):
        service.record_event(session_id, EventKind.INFUSION_RESUME, by=nurse, time=when,
                             event_id=eid)
    assert count_rows(service, EventRow, id=eid) == 1
    assert count_rows(service, AuditLog) == audited


def test_an_acknowledgement_retried_is_stored_once_and_other_values_refused(
    service, nurse, session_id, clock
):
    flag = a_flag(session_id, clock)
    aid = uuid.uuid4()
    service.acknowledge(session_id, flag, action="Repeated reading", by=nurse,
                        acknowledgement_id=aid)
    audited = count_rows(service, AuditLog)
    assert service.acknowledge(session_id, flag, action="Repeated reading", by=nurse,
                               acknowledgement_id=aid) == aid
    with pytest.raises(ConflictingRetryError, match="action"):
        service.acknowledge(session_id, flag, action="Called clinician", by=nurse,
                            acknowledgement_id=aid)
    assert count_rows(service, Acknowledgement) == 1
    assert count_rows(service, AuditLog) == audited


def test_a_second_acknowledgement_of_a_flag_names_who_and_when(service, nurse, session_id,
                                                                 clock):
    other = service.ensure_staff("N. Quinn", "nurse", pin=TEST_PIN)
    flag = a_flag(session_id, clock)
    service.acknowledge(session_id, flag, action="Repeated reading", by=other)
    clock.advance(MIN)
    with pytest.raises(AlreadyDoneError) as refused:
        service.acknowledge(session_id, flag, action="Repeated reading", by=nurse)
    assert str(refused.value) == (
        f"Already acknowledged by N. Quinn at {clock.now() - MIN:%H:%M}")
    assert count_rows(service, Acknowledgement) == 1


def test_a_void_retried_is_one_correction_and_a_second_void_names_who(
    service, nurse, clinician, session_id, clock
):
    saved = service.record_reading(session_id, vitals(), by=nurse)
    cid = uuid.uuid4()
    service.void(session_id, "reading", saved.id, reason="wrong patient", by=nurse,
                 correction_id=cid)
    assert service.void(session_id, "reading", saved.id, reason="wrong patient",
                        by=nurse, correction_id=cid) == cid
    with pytest.raises(ConflictingRetryError, match="reason"):
        service.void(session_id, "reading", saved.id, reason="wrong chair", by=nurse,
                     correction_id=cid)
    with pytest.raises(AlreadyDoneError, match="Already corrected by Nora Nurse"):
        service.void(session_id, "reading", saved.id, reason="wrong patient",
                     by=clinician)
    assert count_rows(service, Correction) == 1


def test_an_amendment_retried_returns_its_replacement(service, nurse, clinician, session_id,
                                                      clock):
    saved = service.record_reading(session_id, vitals(spo2=96), by=nurse)
    cid = uuid.uuid4()
    first = service.amend_reading(session_id, saved.id, vitals(spo2=95),
                                  reason="mistyped", by=clinician, correction_id=cid)
    again = service.amend_reading(session_id, saved.id, vitals(spo2=95),
                                  reason="mistyped", by=clinician, correction_id=cid)
    assert again == first
    assert count_rows(service, Correction) == 1
    assert count_rows(service, ReadingRow) == 2


def test_a_check_in_retried_is_one_session(service, nurse, patient, clock):
    sid = uuid.uuid4()
    kwargs: dict[str, Any] = {"by": nurse, "chair": "3", "patient_id": patient.id,
                              "weight_kg": 70, "planned_mg_per_kg": 0.5,
                              "infusion_minutes": 40, "bag_volume_ml": 100}
    assert service.check_in(**kwargs, session_id=sid) == sid
    assert service.check_in(**kwargs, session_id=sid) == sid
    with pytest.raises(ConflictingRetryError, match="chair"):
        service.check_in(**{**kwargs, "chair": "4"}, session_id=sid)
    assert service.start_session(patient.id, by=nurse, chair="3", session_id=sid) == sid


def test_stored_tells_whether_an_entry_is_on_the_server(service, nurse, session_id, clock):
    rid = uuid.uuid4()
    assert not service.stored("reading", rid)
    service.record_reading(session_id, vitals(), by=nurse, reading_id=rid)
    assert service.stored("reading", rid)
    assert service.stored("session", session_id)
    assert not service.stored("acknowledgement", rid)
    with pytest.raises(ValueError, match="no kind of entry"):
        service.stored("tablet", rid)


def test_check_names_a_flag_acknowledged_twice_when_the_index_is_missing(
    service, nurse, session_id, clock, db_url
):
    import importlib.util  # noqa: PLC0415

    from monitor.storage.migrations.versions import (  # noqa: PLC0415 - a migration module
        __path__ as versions_path,
    )

    flag = a_flag(session_id, clock)
    service.acknowledge(session_id, flag, action="Repeated reading", by=nurse)
    assert check_database(db_url).ok
    with service.store.engine.begin() as connection:
        connection.execute(text("DROP INDEX uq_acknowledgements_flag"))
        connection.execute(Acknowledgement.__table__.insert(), {
            "id": uuid.uuid4(), "session_id": session_id, "flag_id": flag.id,
            "time": clock.now(), "action": "again", "note": "", "recorded_at": clock.now(),
            "entered_by": nurse})
    result = check_database(db_url)
    (problem,) = result.problems
    assert hex_ids(problem, flag.id) == (
        f"Flag acknowledged more than once: flag {flag.id.hex} has 2 acknowledgements "
        "(one at most)")
    # The migration's index creation leaves the index out over duplicates, saying why.
    spec = importlib.util.spec_from_file_location(
        "m0010", f"{versions_path[0]}/0010_one_acknowledgement_one_correction.py")
    assert spec is not None
    assert spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with service.store.engine.begin() as connection:
        (left_out,) = migration.create_missing(connection)
    assert left_out.startswith("uq_acknowledgements_flag not created: 1 flag_id value(s)")


def test_check_names_a_discharge_signed_twice(service, nurse, clinician, clock, db_url):
    patient = service.add_patient("MRN300500", by=nurse, weight_kg=70.0)
    session = service.start_session(patient.id, by=nurse, chair="2", escort_name="Sam",
                                    planned_mg_per_kg=0.5, infusion_minutes=40,
                                    bag_volume_ml=100.0)
    ready(service, session, nurse, clock)
    assert check_database(db_url).ok
    signed = service.sign_discharge(session, by=nurse, pin=TEST_PIN, event_id=uuid.uuid4())
    assert service.sign_discharge(session, by=nurse, pin=TEST_PIN, event_id=signed) == signed
    with pytest.raises(ConflictingRetryError, match="kind"):
        service.override_discharge(session, reason="retried as an override", by=clinician,
                                   pin=TEST_PIN, event_id=signed)
    with pytest.raises(AlreadyDoneError, match="Already discharged by Nora Nurse"):
        service.sign_discharge(session, by=nurse, pin=TEST_PIN)
    with service.store.engine.begin() as connection:
        connection.execute(EventRow.__table__.insert(), {
            "id": uuid.uuid4(), "session_id": session, "time": clock.now(),
            "kind": EventKind.DISCHARGE_SIGNED.value, "detail": "", "data": {},
            "recorded_at": clock.now(), "entered_by": nurse})
    (problem,) = check_database(db_url).problems
    assert hex_ids(problem, session) == (
        f"Discharge signed more than once: session {session.hex} has 2 discharge sign-offs "
        "standing (one at most)")


def test_the_upgrade_over_duplicates_leaves_their_index_out_and_check_names_them(
    service, nurse, session_id, clock, db_url
):
    from alembic import command  # noqa: PLC0415 - only this test migrates by hand

    from monitor.storage.store import _alembic_config  # noqa: PLC0415

    flag = a_flag(session_id, clock)
    service.acknowledge(session_id, flag, action="Repeated reading", by=nurse)
    with service.store.engine.begin() as connection:
        command.downgrade(_alembic_config(connection), "0009")
        connection.execute(Acknowledgement.__table__.insert(), {
            "id": uuid.uuid4(), "session_id": session_id, "flag_id": flag.id,
            "time": clock.now(), "action": "again", "note": "", "recorded_at": clock.now(),
            "entered_by": nurse})
    with service.store.engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")
    with service.store.engine.connect() as connection:
        indexes = {i["name"] for i in inspect(connection).get_indexes("acknowledgements")}
        corrections = {i["name"] for i in inspect(connection).get_indexes("corrections")}
    assert "uq_acknowledgements_flag" not in indexes
    assert "uq_corrections_target" in corrections
    assert [hex_ids(p, flag.id) for p in check_database(db_url).problems] == [
        f"Flag acknowledged more than once: flag {flag.id.hex} has 2 acknowledgements "
        "(one at most)"]


# -- two tablets on one PostgreSQL server ------------------------------------------------------


#: The tablets' names, as each one's audit entries and the other's refusals give them.
TABLETS = ("Room-1", "Room-2")


@pytest.fixture
def tablets(pg_url, clock) -> Iterator[tuple[ClinicService, ClinicService]]:
    stores: list[Store] = [open_store(pg_url, application_name=TABLETS[0]),
                           open_store(pg_url, migrate_schema=False,
                                      application_name=TABLETS[1])]
    try:
        yield ClinicService(stores[0], clock, secret=TEST_SECRET, tablet=TABLETS[0]), \
            ClinicService(stores[1], clock, secret=TEST_SECRET, tablet=TABLETS[1])
    finally:
        for store in stores:
            store.close()


def race(barrier: threading.Barrier, *calls: Callable[[], Any]) -> list[Any]:
    """Run each call in its own thread, lined up at ``barrier``; results or exceptions."""
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test looks at what each got
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _one_won(results: list[Any], refusal: str) -> None:
    """One call of two (tablet one's, tablet two's) refused with ``refusal``, naming the
    winner's tablet at the end."""
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1, results
    assert isinstance(refused[0], AlreadyDoneError), refused[0]
    assert str(refused[0]).startswith(refusal)
    winner = TABLETS[1 - results.index(refused[0])]
    assert str(refused[0]).endswith(f" on tablet {winner}"), refused[0]


@pytest.mark.postgres
def test_two_tablets_acknowledging_one_flag_store_one_acknowledgement(tablets, clock):
    one, two = tablets
    quinn = one.ensure_staff("N. Quinn", "nurse", pin=TEST_PIN)
    reyes = one.ensure_staff("T. Reyes", "nurse", pin=TEST_PIN)
    patient = one.add_patient("MRN500600", by=quinn, weight_kg=70.0)
    session = one.start_session(patient.id, by=quinn, chair="1")
    barrier = threading.Barrier(2)
    rounds = 200
    for _ in range(rounds):
        flag = a_flag(session, clock)
        results = race(
            barrier,
            lambda f=flag: one.acknowledge(session, f, action="Repeated reading", by=quinn),
            lambda f=flag: two.acknowledge(session, f, action="Repeated reading", by=reyes),
        )
        _one_won(results, "Already acknowledged by ")
    assert count_rows(one, Acknowledgement) == rounds
    assert count_rows(one, FlagRow) == rounds


@pytest.mark.postgres
def test_two_tablets_voiding_one_reading_store_one_correction(tablets, clock, pg_url):
    one, two = tablets
    quinn = one.ensure_staff("N. Quinn", "clinician", pin=TEST_PIN)
    reyes = one.ensure_staff("T. Reyes", "clinician", pin=TEST_PIN)
    patient = one.add_patient("MRN500700", by=quinn, weight_kg=70.0)
    session = one.start_session(patient.id, by=quinn, chair="1")
    barrier = threading.Barrier(2)
    rounds = 40
    for _ in range(rounds):
        rid = one.record_reading(session, vitals(), by=quinn).id
        results = race(
            barrier,
            lambda r=rid: one.void(session, "reading", r, reason="wrong chair", by=quinn),
            lambda r=rid: two.void(session, "reading", r, reason="wrong chair", by=reyes),
        )
        _one_won(results, "Already corrected by ")
    assert count_rows(one, Correction) == rounds
    assert check_database(pg_url).ok


@pytest.mark.postgres
def test_two_tablets_checking_in_on_one_chair_make_one_session(tablets, clock):
    one, two = tablets
    quinn = one.ensure_staff("N. Quinn", "nurse", pin=TEST_PIN)
    reyes = one.ensure_staff("T. Reyes", "nurse", pin=TEST_PIN)
    barrier = threading.Barrier(2)
    rounds = 20
    plan = {"weight_kg": 70, "planned_mg_per_kg": 0.5, "infusion_minutes": 40,
            "bag_volume_ml": 100}
    for index in range(rounds):
        first = one.add_patient(f"MRN6{index:05d}", by=quinn, weight_kg=70.0)
        second = one.add_patient(f"MRN7{index:05d}", by=quinn, weight_kg=70.0)
        chair = f"C{index}"
        results = race(
            barrier,
            lambda c=chair, p=first: one.check_in(by=quinn, chair=c, patient_id=p.id, **plan),
            lambda c=chair, p=second: two.check_in(by=reyes, chair=c, patient_id=p.id, **plan),
        )
        _one_won(results, f"Chair {chair} is in a session not yet discharged: "
                          "Already checked in by ")
        assert len(one.active_sessions([chair])) == 1
    assert count_rows(one, TreatmentSession) == rounds


@pytest.mark.postgres
def test_two_tablets_signing_one_discharge_store_one_sign_off(tablets, clock):
    one, two = tablets
    quinn = one.ensure_staff("N. Quinn", "nurse", pin=TEST_PIN)
    reyes = one.ensure_staff("T. Reyes", "nurse", pin=TEST_PIN)
    barrier = threading.Barrier(2)
    rounds = 5
    for index in range(rounds):
        patient = one.add_patient(f"MRN8{index:05d}", by=quinn, weight_kg=70.0)
        session = one.start_session(patient.id, by=quinn, chair="1", escort_name="Sam",
                                    planned_mg_per_kg=0.5, infusion_minutes=40,
                                    bag_volume_ml=100.0)
        ready(one, session, quinn, clock)
        results = race(
            barrier,
            lambda s=session: one.sign_discharge(s, by=quinn, pin=TEST_PIN),
            lambda s=session: two.sign_discharge(s, by=reyes, pin=TEST_PIN),
        )
        _one_won(results, "Already discharged by ")
        assert count_rows(one, EventRow, session_id=session,
                          kind=EventKind.DISCHARGE_SIGNED.value) == 1


@pytest.mark.postgres
def test_three_tablets_saving_into_one_session_store_every_reading_once(tablets, clock,
                                                                         pg_url):
    one, two = tablets
    three = ClinicService(two.store, clock, secret=TEST_SECRET)
    nurse = one.ensure_staff("N. Quinn", "nurse", pin=TEST_PIN)
    patient = one.add_patient("MRN500800", by=nurse, weight_kg=70.0)
    session = one.start_session(patient.id, by=nurse, chair="1")
    clock.advance(MIN)
    per_tablet = 200
    barrier = threading.Barrier(3)
    ids = [[uuid.uuid4() for _ in range(per_tablet)] for _ in range(3)]

    def save_all(service: ClinicService, mine: list[uuid.UUID]) -> int:
        for index, rid in enumerate(mine):
            # every fifth reading is fast, raising the one hr-high flag of its episode
            hr = 131 if index % 5 == 0 else 72
            service.record_reading(session, vitals(hr=hr), by=nurse, reading_id=rid)
        return len(mine)

    results = race(barrier, *(lambda s=s, m=m: save_all(s, m)
                              for s, m in zip((one, two, three), ids, strict=True)))
    assert results == [per_tablet] * 3
    assert count_rows(one, ReadingRow) == 3 * per_tablet
    with one.store.read() as db:
        stored = set(db.scalars(select(ReadingRow.id)))
        flags = list(db.execute(select(FlagRow.key, FlagRow.id)))
    assert stored == {rid for mine in ids for rid in mine}
    assert len(flags) == len(set(flags))
    assert check_database(pg_url).ok


@pytest.mark.postgres
def test_statements_per_save_on_postgresql(tablets, clock):
    """Today's count of SQL statements for one reading after the latest (a ceiling)."""
    one, _ = tablets
    nurse = one.ensure_staff("N. Quinn", "nurse", pin=TEST_PIN)
    patient = one.add_patient("MRN500900", by=nurse, weight_kg=70.0)
    session = one.start_session(patient.id, by=nurse, chair="1")
    one.record_reading(session, vitals(), by=nurse)
    clock.advance(MIN)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(one.store.engine, "before_cursor_execute", count)
    try:
        one.record_reading(session, vitals(), by=nurse)
    finally:
        event.remove(one.store.engine, "before_cursor_execute", count)
    print(f"statements per save: {len(statements)}")
    assert len(statements) <= STATEMENTS_PER_SAVE


#: SQL statements one save of a reading after the latest runs on PostgreSQL today (one of
#: them the lock that makes two tablets' saves into one session raise flags in turn).
STATEMENTS_PER_SAVE = 12
