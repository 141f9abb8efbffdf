"""The demo generator: deterministic, well-formed, following the published courses, and
consistent with the rules (its flags are exactly what the rules raise)."""

from __future__ import annotations

import itertools
import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from monitor.clinical.domain import EventKind, SessionRecord, Severity
from monitor.clinical.protocol import load_protocol
from monitor.clinical.rules import evaluate_flags, next_reading
from monitor.clinical.validation import validate_reading
from monitor.clock import ManualClock
from monitor.demo import courses
from monitor.demo import data as demo
from monitor.service.clinic import ClinicService
from monitor.service.views import READING_FIELDS
from monitor.storage.model import Acknowledgement as AckRow
from monitor.storage.model import Base, EventRow, FlagRow, Patient, ReadingRow, TreatmentSession
from monitor.storage.store import Store, open_store
from tests.conftest import TEST_SECRET

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SESSIONS = 60
SEED = 11


def _fill(path, *, sessions: int = SESSIONS, seed: int = SEED, **options: Any) -> Store:
    store = open_store(f"sqlite:///{path}")
    demo.generate(store, sessions=sessions, seed=seed, clock_now=NOW, **options)
    return store


def _dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    with store.read() as db:
        return {
            table.name: [tuple(row) for row in db.execute(select(table).order_by(*table.c))]
            for table in Base.metadata.sorted_tables
        }


@dataclass
class History:
    """The generated rows, grouped the way the assertions need them."""

    store: Store
    summary: demo.DemoSummary
    sessions: list[Any]
    patients: list[Any]
    readings: dict[uuid.UUID, list[Any]]
    events: dict[uuid.UUID, list[Any]]
    flags: dict[uuid.UUID, list[Any]]
    acks: dict[uuid.UUID, list[Any]]

    def start(self, session_id: uuid.UUID) -> datetime:
        return next(e.time for e in self.events[session_id] if e.kind == "infusion_start")

    def minute(self, session_id: uuid.UUID, when: datetime) -> float:
        return (when - self.start(session_id)).total_seconds() / 60

    def baseline(self, session_id: uuid.UUID, measure: str) -> int:
        start = self.start(session_id)
        return [getattr(r, measure) for r in self.readings[session_id]
                if r.time < start and getattr(r, measure) is not None][-1]

    def ordinary(self) -> list[uuid.UUID]:
        """Sessions without an incident: the rules flagged nothing in them."""
        return [s.id for s in self.sessions if not self.flags[s.id]]


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Iterator[History]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite3'}")
    summary = demo.generate(store, sessions=SESSIONS, seed=SEED, clock_now=NOW)

    def grouped(model: Any) -> dict[uuid.UUID, list[Any]]:
        out: dict[uuid.UUID, list[Any]] = defaultdict(list)
        with store.read() as db:
            for row in db.execute(select(model.__table__).order_by(model.time)):
                out[row.session_id].append(row)
        return out

    with store.read() as db:
        sessions = list(db.execute(select(TreatmentSession.__table__)
                                   .order_by(TreatmentSession.time)))
        patients = list(db.execute(select(Patient.__table__)))
    try:
        yield History(store, summary, sessions, patients, grouped(ReadingRow),
                      grouped(EventRow), grouped(FlagRow), grouped(AckRow))
    finally:
        store.close()


# -- determinism -------------------------------------------------------------------------


def test_same_seed_gives_identical_rows(tmp_path):
    first = _fill(tmp_path / "a.sqlite3")
    second = _fill(tmp_path / "b.sqlite3")
    try:
        rows_a, rows_b = _dump(first), _dump(second)
        assert rows_a["readings"]
        for table, rows in rows_a.items():
            assert rows == rows_b[table], table
    finally:
        first.close()
        second.close()


def test_different_seed_gives_different_rows(tmp_path):
    first = _fill(tmp_path / "a.sqlite3", sessions=12)
    second = _fill(tmp_path / "b.sqlite3", sessions=12, seed=SEED + 1)
    try:
        rows_a, rows_b = _dump(first), _dump(second)
        assert rows_a["readings"] != rows_b["readings"]
        assert rows_a["patients"] != rows_b["patients"]
    finally:
        first.close()
        second.close()


def test_worker_processes_give_the_same_rows(tmp_path, monkeypatch):
    # Small chunks, so that 30 sessions are built by the workers in several pieces.
    monkeypatch.setattr(demo, "CHUNK_SESSIONS", 8)
    alone = _fill(tmp_path / "a.sqlite3", sessions=30)
    helped = _fill(tmp_path / "b.sqlite3", sessions=30, workers=2)
    try:
        assert _dump(alone) == _dump(helped)
    finally:
        alone.close()
        helped.close()


def test_progress_reports_sessions_written(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "CHUNK_SESSIONS", 10)
    seen: list[int] = []
    store = _fill(tmp_path / "a.sqlite3", sessions=25, progress=seen.append)
    store.close()
    assert seen == sorted(seen)
    assert seen[-1] == 25


# -- shape -------------------------------------------------------------------------------


def test_summary_counts_the_rows(history):
    summary = history.summary
    assert summary.sessions == len(history.sessions) == SESSIONS
    assert summary.patients == len(history.patients)
    assert summary.readings == sum(len(r) for r in history.readings.values())
    assert summary.events == sum(len(e) for e in history.events.values())
    assert summary.flags == sum(len(f) for f in history.flags.values())
    assert summary.acknowledgements == sum(len(a) for a in history.acks.values())
    assert summary.staff == len(demo.NURSES) + 1


def test_every_patient_has_a_course_of_6_to_12_sessions(history):
    per_patient = defaultdict(list)
    for session in history.sessions:
        per_patient[session.patient_id].append(session.time)
    assert set(per_patient) == {p.id for p in history.patients}
    for times in per_patient.values():
        assert 6 <= len(times) <= 12
        gaps = [(b - a).days for a, b in itertools.pairwise(times)]
        assert gaps[:5] == list(courses._INDUCTION_GAPS[: len(gaps[:5])])  # twice weekly first


def test_patients_look_like_patients(history):
    mrns = [p.mrn for p in history.patients]
    assert len(set(mrns)) == len(mrns)
    for patient in history.patients:
        assert patient.mrn.startswith("MRN")
        assert len(patient.mrn) == 9
        assert patient.mrn[3:].isdigit()
        assert 50 <= patient.weight_kg <= 110
        assert 18 <= (NOW.date() - patient.date_of_birth).days / 365.25 <= 75


def test_sessions_end_before_now_and_use_four_chairs(history):
    assert {s.chair for s in history.sessions} <= {"1", "2", "3", "4"}
    for session in history.sessions:
        assert all(e.time < NOW for e in history.events[session.id])
        assert 0.5 <= session.planned_mg_per_kg <= 1.0
        assert session.infusion_minutes in (40, 60)
        assert session.dose_mg == pytest.approx(session.planned_mg_per_kg * session.weight_kg)


def test_readings_per_session_are_in_the_expected_band(history):
    counts = [len(history.readings[s.id]) for s in history.sessions]
    assert min(counts) >= 23
    assert max(counts) <= 33
    assert 25 <= statistics.mean(counts) <= 29


def test_each_session_runs_start_stop_attestations_discharge_in_order(history):
    for session in history.sessions:
        kinds = [e.kind for e in history.events[session.id]]
        for kind in ("infusion_start", "infusion_stop", "escort_present",
                     "oriented_steady_gait", "discharge_signed"):
            assert kinds.count(kind) == 1, (session.id, kind)
        order = [kinds.index(k) for k in
                 ("infusion_start", "infusion_stop", "oriented_steady_gait", "discharge_signed")]
        assert order == sorted(order)
        times = {e.kind: e.time for e in history.events[session.id]}
        infused = times["infusion_stop"] - times["infusion_start"]
        assert infused == timedelta(minutes=session.infusion_minutes)
        readings = history.readings[session.id]
        assert readings[0].time < times["infusion_start"]  # a baseline before the start
        assert readings[-1].time <= times["discharge_signed"]


def test_every_reading_passes_validation(history):
    for readings in history.readings.values():
        for row in readings:
            raw = {name: getattr(row, name) for name in READING_FIELDS
                   if getattr(row, name) is not None}
            check = validate_reading(raw)
            assert check.ok, (raw, check.errors, check.needs_confirmation)
            assert check.values == {k: tuple(v) if isinstance(v, list) else v
                                    for k, v in raw.items()}


# -- the published courses -------------------------------------------------------------


def test_mean_bp_rise_at_40_min_is_the_published_16_over_11(history):
    sbp_rise, dbp_rise = [], []
    for session_id in history.ordinary():
        at_40 = [r for r in history.readings[session_id]
                 if r.sbp is not None and history.minute(session_id, r.time) == 40]
        assert len(at_40) == 1
        sbp_rise.append(at_40[0].sbp - history.baseline(session_id, "sbp"))
        dbp_rise.append(at_40[0].dbp - history.baseline(session_id, "dbp"))
    assert statistics.mean(sbp_rise) == pytest.approx(16, abs=6)
    assert statistics.mean(dbp_rise) == pytest.approx(11, abs=5)


def test_bp_peaks_at_30_to_40_min_and_falls_back_in_recovery(history):
    by_ten_minutes: dict[int, list[int]] = defaultdict(list)
    for session_id in history.ordinary():
        base = history.baseline(session_id, "sbp")
        for reading in history.readings[session_id]:
            minute = history.minute(session_id, reading.time)
            if reading.sbp is not None and minute > 0:
                by_ten_minutes[int(minute // 10) * 10].append(reading.sbp - base)
    means = {m: statistics.mean(v) for m, v in by_ten_minutes.items() if len(v) >= 10}
    peak = max(means, key=lambda m: means[m])
    assert 30 <= peak <= 40
    assert means[80] < means[peak] / 2


def test_dissociation_peaks_near_40_min_and_resolves_by_90(history):
    by_ten_minutes: dict[int, list[int]] = defaultdict(list)
    late = 0
    for session_id in history.ordinary():
        base = history.baseline(session_id, "cadss6")
        for reading in history.readings[session_id]:
            minute = history.minute(session_id, reading.time)
            if reading.cadss6 is None or minute <= 0:
                continue
            by_ten_minutes[round(minute / 10) * 10].append(reading.cadss6)
            if minute >= 90:
                late += 1
                assert reading.cadss6 <= base + 2
    means = {m: statistics.mean(v) for m, v in by_ten_minutes.items() if len(v) >= 10}
    assert max(means, key=lambda m: means[m]) == 40
    assert 4 <= means[40] <= 12
    assert late > 0


def test_moaas_is_5_at_baseline_4_or_5_infusing_5_in_recovery(history):
    for session_id in history.ordinary():
        stop = next(e.time for e in history.events[session_id] if e.kind == "infusion_stop")
        for reading in history.readings[session_id]:
            if reading.moaas is None:
                continue
            minute = history.minute(session_id, reading.time)
            expected = {5} if minute <= 0 or reading.time > stop else {4, 5}
            assert reading.moaas in expected


def test_phq9_falls_over_the_course_for_most_patients(history):
    per_patient = defaultdict(list)
    for session in history.sessions:
        phq9 = next(r.phq9 for r in history.readings[session.id] if r.phq9 is not None)
        per_patient[session.patient_id].append(phq9)
    falling = sum(scores[-1] < scores[0] for scores in per_patient.values())
    assert falling > len(per_patient) / 2


# -- flags, consistent with the rules ----------------------------------------------------


def test_a_few_sessions_are_flagged_and_every_flag_is_acknowledged(history):
    flagged = [s.id for s in history.sessions if history.flags[s.id]]
    assert len(flagged) == history.summary.flagged_sessions
    assert len(flagged) == round(SESSIONS * demo.INCIDENT_FRACTION)
    for session_id in flagged:
        acked = {a.flag_id for a in history.acks[session_id]}
        assert acked == {f.id for f in history.flags[session_id]}
        for flag in history.flags[session_id]:
            ack = next(a for a in history.acks[session_id] if a.flag_id == flag.id)
            assert flag.time < ack.time
            assert ack.action


def test_incident_flags_are_of_the_incident_kinds(history):
    keys = {f.key for flags in history.flags.values() for f in flags}
    assert keys <= {"bp-high", "bp-rise", "spo2-low", "nausea-high", "moaas-low", "phq9-item9"}


def test_ordinary_sessions_raise_no_flag_at_any_moment(history):
    protocol = load_protocol("iv_ketamine")
    service = ClinicService(history.store, ManualClock(NOW), secret=TEST_SECRET)
    for session_id in history.ordinary():
        record = service.load(session_id).record
        moments = sorted({r.time for r in record.readings} | {e.time for e in record.events})
        for moment in moments:
            assert evaluate_flags(record, protocol, moment) == [], (session_id, moment)


def test_normal_sessions_raise_no_warning_or_critical_at_any_moment(tmp_path, monkeypatch):
    """The published course (+16/+11 mmHg at 40 min, HR slightly up, SpO2 95–99 %) in every
    session without an incident: no warning or critical flag, and no reading asked for
    sooner than the protocol's interval."""
    protocol = load_protocol("iv_ketamine")
    normal: list[SessionRecord] = []
    finish = courses.Builder.finish

    def keep(builder, session, incident, batch, discharged):
        if incident is None:
            normal.append(SessionRecord(session.id, tuple(session.readings),
                                        tuple(session.events)))
        finish(builder, session, incident, batch, discharged)

    monkeypatch.setattr(courses.Builder, "finish", keep)
    _fill(tmp_path / "normal.sqlite3", sessions=100, seed=SEED + 1)
    assert len(normal) >= 90
    for record in normal:
        moments = sorted({r.time for r in record.readings} | {e.time for e in record.events})
        for moment in moments:
            pressing = [f for f in evaluate_flags(record, protocol, moment)
                        if f.severity >= Severity.WARNING]
            assert pressing == [], (record.session_id, moment)
            upcoming = next_reading(record, protocol, moment)
            assert upcoming is None or upcoming.repeat_for == (), (record.session_id, moment)


def test_stored_flags_are_what_the_service_derives_and_every_session_is_dischargeable(history):
    service = ClinicService(history.store, ManualClock(NOW), secret=TEST_SECRET)
    for session in history.sessions:
        signed = next(e.time for e in history.events[session.id]
                      if e.kind == EventKind.DISCHARGE_SIGNED.value)
        before_signing = service.load(session.id, at=signed - timedelta(seconds=1))
        derived = {f.id for f in before_signing.flags if f.reading_id is not None}
        assert derived == {f.id for f in history.flags[session.id]}
        assert not before_signing.open_flags
        failed = [c for c in before_signing.discharge.criteria if not c.met]
        assert before_signing.discharge.ready, failed


@pytest.mark.postgres
def test_generates_into_postgresql_with_flags_the_service_derives(pg_url):
    store = open_store(pg_url)
    try:
        summary = demo.generate(store, sessions=25, seed=SEED, clock_now=NOW)
        assert summary.sessions == 25
        service = ClinicService(store, ManualClock(NOW), secret=TEST_SECRET)
        with store.read() as db:
            signed = db.execute(select(EventRow.session_id, EventRow.time)
                                .where(EventRow.kind == EventKind.DISCHARGE_SIGNED.value)).all()
            stored = set(db.scalars(select(FlagRow.id)))
        derived: set[uuid.UUID] = set()
        for session_id, when in signed:
            view = service.load(session_id, at=when - timedelta(seconds=1))
            assert view.discharge.ready
            derived |= {f.id for f in view.flags if f.reading_id is not None}
        assert derived == stored
    finally:
        store.close()
