"""Evaluating only the newest reading gives the flags a full evaluation gives.

A save of a reading after the latest extends the evaluation kept from the previous save
(:class:`monitor.clinical.rules.FlagEvaluation`); everything else — late entries, voids, amendments,
events, acknowledgements dated back — must make it start again. These tests run random
sequences of such changes and compare with evaluating the whole record at every step.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from monitor.clinical.domain import (
    Acknowledgement,
    EventKind,
    Flag,
    Reading,
    SessionRecord,
)
from monitor.clinical.latest_value import with_latest
from monitor.clinical.phases import readings_in_order
from monitor.clinical.protocol import load_protocol
from monitor.clinical.rules import (
    FlagEvaluation,
    current_levels,
    evaluate_flags,
    next_reading,
    next_reading_due,
)
from monitor.clinical.start_gate import BASELINE_BP_REVIEWED, needs_baseline_bp_review
from monitor.service.clinic import ClinicService
from monitor.storage.model import FlagRow
from monitor.storage.store import open_store
from tests.conftest import TEST_PIN, TEST_SECRET
from tests.monitor.builders import SESSION, ev, r, t
from tests.monitor.counting import counted

PROTOCOL = load_protocol("iv_ketamine")

# Values on either side of every tier of the BP, HR and SpO2 conditions, or absent.
VALUES = st.fixed_dictionaries({}, optional={
    "sbp": st.sampled_from([75, 85, 100, 120, 145, 165, 185, 205]),
    "dbp": st.sampled_from([50, 70, 95, 105, 115, 125]),
    "hr": st.sampled_from([38, 45, 72, 115, 135]),
    "spo2": st.sampled_from([88, 92, 97]),
})
STEP = st.one_of(
    st.tuples(st.just("append"), st.sampled_from([0, 1, 2, 5, 12]), VALUES),
    st.tuples(st.just("append"), st.sampled_from([0, 1, 2, 5, 12]), VALUES),
    st.tuples(st.just("late"), st.integers(1, 30), VALUES),
    st.tuples(st.just("void"), st.integers(0, 1000)),
    st.tuples(st.just("amend"), st.integers(0, 1000), VALUES),
    # Acknowledged now (between readings) or dated back among them.
    st.tuples(st.just("ack"), st.integers(0, 1000), st.sampled_from([0.5, 0.5, -1, -6])),
    st.tuples(st.just("event"), st.sampled_from([EventKind.INFUSION_START,
                                                 EventKind.INFUSION_STOP]),
              st.sampled_from([1, -3])),
)


def _order(flags: list[Flag]) -> list[Flag]:
    return sorted(flags, key=lambda f: (f.key, f.time, f.severity, f.id))


def reading_flags(record: SessionRecord, at: Any) -> list[Flag]:
    return _order([f for f in evaluate_flags(record, PROTOCOL, at) if f.reading_id is not None])


@settings(max_examples=300, deadline=None)
@given(st.lists(STEP, min_size=1, max_size=40))
def test_extending_by_each_new_reading_equals_evaluating_the_whole_record(steps):
    readings: list[Reading] = []
    events = []
    acks: list[Acknowledgement] = []
    minute = 0.0
    evaluation = FlagEvaluation.of(SessionRecord(SESSION), PROTOCOL)
    for step in steps:
        kind = step[0]
        extended: FlagEvaluation | None = None
        if kind in ("append", "late"):
            minute += step[1] if kind == "append" else 0
            reading = r(minute if kind == "append" else minute - step[1], **step[2])
            readings.append(reading)
            extended = evaluation.extended(reading, acks)
        elif kind == "void" and readings:
            readings.pop(step[1] % len(readings))
        elif kind == "amend" and readings:
            old = readings.pop(step[1] % len(readings))
            readings.append(Reading(id=UUID(int=10**6 + len(readings) + int(minute * 10)),
                                    time=old.time, **step[2]))
        elif kind == "ack":
            open_flags = [f for f in evaluation.flags() if f.open]
            if open_flags:
                flag = open_flags[step[1] % len(open_flags)]
                acks.append(Acknowledgement(flag.id, t(minute + step[2]), "checked"))
        elif kind == "event":  # now, or dated before the latest readings
            minute += max(step[2], 0)
            events.append(ev(minute + min(step[2], 0), step[1]))
        at = t(minute + 1)
        record = SessionRecord(SESSION, tuple(sorted(readings, key=lambda x: x.time)),
                               tuple(events), tuple(acks))
        full = FlagEvaluation.of(record.as_of(at), PROTOCOL)
        if extended is not None:
            assert _order(extended.flags()) == _order(full.flags())
            assert extended.current_levels() == full.current_levels()
            assert (next_reading(record, PROTOCOL, at, evaluation=extended)
                    == next_reading(record, PROTOCOL, at, evaluation=full))
        assert _order(full.flags()) == reading_flags(record, at)
        assert full.current_levels() == current_levels(record, PROTOCOL, at)
        # As in the service: an acknowledgement leaves the kept evaluation as it was; any
        # other change that did not extend it starts again.
        if extended is not None:
            evaluation = extended
        elif kind != "ack":
            evaluation = full


def test_a_reading_after_the_start_extends_and_a_late_one_does_not():
    start = ev(10, EventKind.INFUSION_START)
    record = SessionRecord(SESSION, (r(0, sbp=120, dbp=70), r(12, sbp=130, dbp=80)), (start,))
    evaluation = FlagEvaluation.of(record, PROTOCOL)
    assert evaluation.extended(r(14, sbp=190, dbp=90), ()) is not None
    assert evaluation.extended(r(11, sbp=190, dbp=90), ()) is None  # before the latest


def test_a_reading_before_the_start_or_the_first_after_it_starts_again():
    start = ev(10, EventKind.INFUSION_START)
    record = SessionRecord(SESSION, (r(0, sbp=120, dbp=70),), (ev(15, EventKind.INFUSION_START),))
    assert FlagEvaluation.of(record, PROTOCOL).extended(r(12, sbp=170, dbp=80), ()) is None
    no_baseline = FlagEvaluation.of(SessionRecord(SESSION, (), (start,)), PROTOCOL)
    assert no_baseline.extended(r(12, sbp=100, dbp=60), ()) is None  # it becomes the baseline


def test_an_acknowledgement_dated_among_the_evaluated_readings_starts_again():
    record = SessionRecord(SESSION, (r(0, hr=130), r(5, hr=80), r(10, hr=131)))
    evaluation = FlagEvaluation.of(record, PROTOCOL)
    (first,) = [f for f in evaluation.flags() if f.time == t(0)]
    back_dated = Acknowledgement(first.id, t(6), "checked")
    assert evaluation.extended(r(12, hr=70), [back_dated]) is None
    now = Acknowledgement(first.id, t(11), "checked")
    extended = evaluation.extended(r(12, hr=70), [now])
    assert extended is not None
    assert next(f for f in extended.flags() if f.id == first.id).acknowledgement == now


# --- through the clinic service: the evaluation kept between saves ---------------------


def _entry(bp: tuple[int, int] | None, hr: int | None, spo2: int | None) -> dict[str, int]:
    values = {"hr": hr, "spo2": spo2}
    if bp is not None:
        values.update(sbp=max(bp) + 10, dbp=min(bp))
    return {name: value for name, value in values.items() if value is not None} or {"hr": 72}


# What the nurse can enter: both BP values or neither, at least one value.
ENTRY = st.builds(_entry, st.none() | st.tuples(st.integers(65, 205), st.integers(45, 125)),
                  st.none() | st.integers(35, 140), st.none() | st.integers(84, 100))
SERVICE_STEP = st.one_of(
    st.tuples(st.just("append"), st.integers(0, 300), ENTRY),
    st.tuples(st.just("late"), st.integers(1, 1200), ENTRY),
    st.tuples(st.just("void"), st.integers(0, 1000)),
    st.tuples(st.just("amend"), st.integers(0, 1000), ENTRY),
    st.tuples(st.just("ack"), st.integers(0, 1000)),
    st.tuples(st.just("event"), st.sampled_from([EventKind.INFUSION_START,
                                                 EventKind.INFUSION_STOP])),
)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(SERVICE_STEP, min_size=1, max_size=25))
def test_saved_flags_equal_a_full_evaluation_after_every_change(service, clock, nurse, steps):
    clinician = service.ensure_staff("Cleo Clinician", "clinician", pin=TEST_PIN)
    patient = service.add_patient(f"INC{clock.now().timestamp():.0f}", by=nurse,
                                  weight_kg=70)
    session = service.start_session(patient.id, by=nurse, chair="1")
    checked_in = clock.now()
    for step in steps:
        clock.advance(timedelta(seconds=30))
        view = service.load(session)
        readings = view.record.readings
        kind = step[0]
        values = step[2] if len(step) > 2 and isinstance(step[2], dict) else {}
        if kind in ("append", "late") and values:
            clock.advance(timedelta(seconds=step[1] if kind == "append" else 0))
            when = clock.now() - timedelta(seconds=step[1] if kind == "late" else 0)
            # An entry can describe no time before the check-in.
            when = max(when, checked_in)
            saved = service.record_reading(session, values, by=nurse, time=when,
                                           confirmed=values, with_view=True)
            # The view the save gives back is the session as loaded afresh, nothing kept.
            fresh = ClinicService(service.store, clock, secret=TEST_SECRET)
            assert saved.view == fresh.load(session, clock.now())
        elif kind == "void" and readings:
            target = readings[step[1] % len(readings)]
            service.void(session, "reading", target.id, reason="wrong chair", by=clinician,
                         pin=TEST_PIN)
        elif kind == "amend" and readings and values:
            target = readings[step[1] % len(readings)]
            service.amend_reading(session, target.id, values, reason="mistyped", by=clinician,
                                  confirmed=values, pin=TEST_PIN)
        elif kind == "ack" and view.open_flags:
            flag = view.open_flags[step[1] % len(view.open_flags)]
            if needs_baseline_bp_review(flag, view.phase):
                service.acknowledge(session, flag, action=BASELINE_BP_REVIEWED, by=clinician,
                                    pin=TEST_PIN)
            else:
                service.acknowledge(session, flag, action="checked", by=nurse, pin=TEST_PIN)
        elif kind == "event":
            # A stop before the planned minutes records the dose given (any stop may carry it).
            # A clinician's start, with a reason: a high baseline BP holds the nurse's.
            service.record_event(session, step[1], by=clinician,
                                 data={"early_stop_reason": "stopped", "dose_given_mg": 0},
                                 override_reason="reviewed at the chair")
        view = service.load(session, clock.now())
        # The view may use the evaluation kept by the last save: it must not matter.
        # (Each open flag names its measure's latest value, on top of the evaluation.)
        everything = evaluate_flags(view.record, view.protocol, view.at)
        assert list(view.flags) == list(with_latest(
            everything, readings_in_order(view.record.as_of(view.at).readings)))
        assert view.current_levels == current_levels(view.record, view.protocol, view.at)
        assert view.next_due == next_reading_due(view.record, view.protocol, view.at)
        expected = _order([f for f in everything if f.reading_id is not None])
        if kind in ("append", "late") and values:
            tail = service.evaluations._tails[session]  # the evaluation kept between saves
            assert _order(tail.evaluation.flags()) == expected
        if kind != "void" and kind != "ack":  # those store no flags (the next save does)
            with service.store.read() as db:
                stored = set(db.scalars(select(FlagRow.id)
                                        .where(FlagRow.session_id == session)))
            assert {f.id for f in expected} <= stored


def test_appending_readings_evaluates_only_the_new_one(service, clock, nurse, monkeypatch):
    patient = service.add_patient("INC-APPEND", by=nurse, weight_kg=70)
    session = service.start_session(patient.id, by=nurse, chair="1")
    full = []
    of = FlagEvaluation.of.__func__  # type: ignore[attr-defined]

    def counted(cls, *args, **kwargs):
        full.append(1)
        return of(cls, *args, **kwargs)

    monkeypatch.setattr(FlagEvaluation, "of", classmethod(counted))
    for hr in (70, 130, 72, 140, 150, 71):
        clock.advance(timedelta(minutes=1))
        service.record_reading(session, {"hr": hr}, by=nurse, confirmed=("hr",))
    assert len(full) == 1  # the first save; the others extended it
    clock.advance(timedelta(minutes=1))
    service.record_reading(session, {"hr": 75}, by=nurse,
                           time=clock.now() - timedelta(minutes=3))
    assert len(full) == 2  # a late entry evaluates the whole record


def test_two_tablets_saving_in_turn_each_extend_by_the_readings_added_since(
    service, clock, nurse, monkeypatch
):
    """Another tablet's readings after the latest extend the kept evaluation as the own do:
    each save evaluates the few readings added since, and raises what a whole one would.
    A reading voided before the evaluation was kept, dated after its latest, is left out."""
    other = ClinicService(service.store, clock, secret=TEST_SECRET)
    patient = service.add_patient("INC-TWO", by=nurse, weight_kg=70)
    session = service.start_session(patient.id, by=nurse, chair="1")
    full = []
    of = FlagEvaluation.of.__func__  # type: ignore[attr-defined]

    def counted(cls, *args, **kwargs):
        full.append(1)
        return of(cls, *args, **kwargs)

    monkeypatch.setattr(FlagEvaluation, "of", classmethod(counted))
    tablets = (service, other)
    whole = 0
    for index, hr in enumerate((70, 72, 130, 74, 71, 140, 150, 72, 71, 135)):
        clock.advance(timedelta(minutes=1))
        tablet = tablets[index % 2]
        full.clear()
        tablet.record_reading(session, {"hr": hr}, by=nurse, confirmed=("hr",))
        whole += len(full)
        everything = evaluate_flags(service.load(session).record, PROTOCOL, clock.now())
        kept = tablet.evaluations._tails[session].evaluation.flags()
        assert _order(kept) == _order([f for f in everything if f.reading_id is not None])
    assert whole == 2  # each tablet's first save; then they extended
    clock.advance(timedelta(minutes=1))
    latest = other.record_reading(session, {"hr": 145}, by=nurse, confirmed=("hr",))
    clinician = service.ensure_staff("Cleo Clinician", "clinician", pin=TEST_PIN)
    other.void(session, "reading", latest.id, reason="wrong chair", by=clinician,
               pin=TEST_PIN)
    voided_at = clock.now()
    for seconds, values in ((30, {"hr": 70}), (45, {"spo2": 88}), (-60, {"hr": 71})):
        # 30 s before the voided reading: evaluated whole (a correction since), and kept
        # without the voided one; 45 s before: a late entry; then one after the latest.
        clock.advance(timedelta(seconds=30))
        other.record_reading(session, values, by=nurse, confirmed=tuple(values),
                             time=voided_at - timedelta(seconds=seconds))
        everything = evaluate_flags(service.load(session).record, PROTOCOL, clock.now())
        assert _order(other.evaluations._tails[session].evaluation.flags()) == _order(
            [f for f in everything if f.reading_id is not None])


def test_a_save_with_its_view_evaluates_the_session_once(service, clock, nurse, monkeypatch):
    """The view a save gives back is evaluated in the save, from the evaluation its flags
    were raised with: the readings are evaluated once, and the session is not loaded."""
    patient = service.add_patient("INC-VIEW", by=nurse, weight_kg=70)
    session = service.start_session(patient.id, by=nurse, chair="1")
    with counted(service, monkeypatch) as calls:
        for hr in (70, 130, 72, 140, 150, 71):
            clock.advance(timedelta(minutes=1))
            calls.clear()
            saved = service.record_reading(session, {"hr": hr}, by=nurse, confirmed=("hr",),
                                           with_view=True)
            assert sorted(calls) == ["readings", "view"]  # and no "load"
            assert saved.view is not None
            assert saved.view.record.readings[-1].hr == hr
            assert saved.view.at == clock.now()


def test_a_save_that_fails_keeps_nothing_of_its_view(sqlite_store, clock, monkeypatch):
    """A save whose transaction fails after its view was made leaves the next load to read
    the record, not the rows the failed save saw (SQLite commits after the view is made)."""
    service = ClinicService(sqlite_store, clock, secret=TEST_SECRET)
    nurse = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    patient = service.add_patient("INC-FAIL", by=nurse, weight_kg=70)
    session = service.start_session(patient.id, by=nurse, chair="1")
    service.record_reading(session, {"hr": 70}, by=nurse, with_view=True)
    assert session in service.evaluations._loaded
    view = service.loading.view_after_save

    def fails_after(*args, **kwargs):
        view(*args, **kwargs)
        raise RuntimeError("commit failed")

    monkeypatch.setattr(service.loading, "view_after_save", fails_after)
    clock.advance(timedelta(minutes=1))
    with pytest.raises(RuntimeError):
        service.record_reading(session, {"hr": 90}, by=nurse, with_view=True)
    assert session not in service.evaluations._loaded
    monkeypatch.undo()
    assert [r.hr for r in service.load(session).record.readings] == [70]


@pytest.mark.postgres
def test_a_view_that_cannot_be_made_after_the_commit_leaves_the_save_saved(
    pg_url, clock, monkeypatch, caplog
):
    """On PostgreSQL the COMMIT leaves with the save's writes: a view that fails to be made
    afterwards does not make a stored reading look unsaved. The save returns without a view
    (the screen loads the session) and the next load reads the record whole."""
    store = open_store(pg_url)
    try:
        service = ClinicService(store, clock, secret=TEST_SECRET)
        nurse = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
        patient = service.add_patient("INC-FAIL", by=nurse, weight_kg=70)
        session = service.start_session(patient.id, by=nurse, chair="1")
        service.record_reading(session, {"hr": 70}, by=nurse, with_view=True)

        def fails(*_args, **_kwargs):
            raise RuntimeError("the view failed")

        monkeypatch.setattr(service.loading, "view_after_save", fails)
        clock.advance(timedelta(minutes=1))
        saved = service.record_reading(session, {"hr": 90}, by=nurse, with_view=True)
        assert saved.view is None
        assert "could not be made" in caplog.text
        assert session not in service.evaluations._loaded
        monkeypatch.undo()
        assert [r.hr for r in service.load(session).record.readings] == [70, 90]
    finally:
        store.close()
