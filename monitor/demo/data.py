"""A synthetic clinic history, for demonstrations, manual testing and the benchmarks.

:func:`generate` fills a store with staff, patients and their courses of 6–12 infusions
(twice weekly induction, then weekly, then monthly), each session a complete record: check-in
questionnaires, baseline, infusion start and stop, readings through the infusion and the
observation, attestations and the discharge sign-off. The same seed gives the same rows,
identifiers included.

The values follow the published courses the product brief cites: systolic/diastolic BP rising
to a +16/+11 mmHg peak at 30–40 min and falling back after the stop, heart rate slightly up,
SpO2 95–99 %, CADSS-6 peaking around 40 min (typically 4–12) and back to baseline well
before 90 min, MOAA/S 4–5 while infusing and 5 in recovery, little nausea, and PHQ-9 falling
over the course for most patients. A few per cent of sessions carry one incident (a
hypertensive surge confirmed on repeat, a transient SpO2 dip, nausea treated with
ondansetron, MOAA/S 3, thoughts of self-harm on PHQ-9 item 9). Flags are raised by
:func:`monitor.clinical.rules.evaluate_flags` on the record built in memory, so the stored flags are
exactly those the rules give, and each is acknowledged by a staff member with the action taken.

This module plans the clinic (staff, patients, where the incidents fall) and writes it;
:mod:`monitor.demo.courses` builds each patient's course and :mod:`monitor.demo.timeline`
each session's values.

Readings per session. The protocol asks for a reading every 10 min while infusing and every
15 min in recovery; this generator records what a chair with an auto-cycling cuff produces:
vital signs every 5 min through the infusion and the first 30 min of recovery (then every
15 min), and the nurse's scored assessment (CADSS-6, MOAA/S, comfort) as its own reading,
a minute before each protocol mark. With the questionnaire and two baseline readings that is
23–33 readings per session, about 27 on average (75,000 sessions ≈ 2 million readings).
"""

from __future__ import annotations

import functools
import multiprocessing
import random
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert, text

from monitor.clinical.protocol import Protocol, load_protocol
from monitor.demo.courses import (
    HISTORY_DAYS,
    PROFILE,
    Batch,
    Builder,
    PatientPlan,
    new_uuid,
)
from monitor.demo.timeline import Incident, StaffMember
from monitor.storage import protocol_store
from monitor.storage.model import Acknowledgement as AckRow
from monitor.storage.model import EventRow, FlagRow, Patient, ReadingRow, Staff, TreatmentSession
from monitor.storage.store import Store

#: Sessions written per transaction: large enough that commits (each an fsync) are rare,
#: small enough that a chunk's rows stay a few megabytes.
CHUNK_SESSIONS = 1000

#: Share of sessions that carry one incident. Sessions are picked by sampling, so a run of
#: n sessions has exactly round(n × this) of them.
INCIDENT_FRACTION = 0.04

NURSES = ("Nora Quinn", "Ada Mensah", "Liam Okafor", "Grace Lindqvist")
CLINICIAN = "Dr. Priya Raman"


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """How many rows of each kind :func:`generate` wrote."""

    staff: int
    patients: int
    sessions: int
    readings: int
    events: int
    flags: int
    acknowledgements: int
    #: Sessions with at least one flag (those with an incident, and any other the rules flag).
    flagged_sessions: int

    def describe(self) -> str:
        return (f"demo clinic: {self.patients} patients, {self.sessions} sessions, "
                f"{self.readings} readings, {self.events} events, {self.flags} flags "
                f"({self.flagged_sessions} flagged sessions), {self.staff} staff")


def generate(
    store: Store,
    *,
    sessions: int,
    seed: int,
    clock_now: datetime,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
) -> DemoSummary:
    """Write a clinic history of ``sessions`` sessions, all finished before ``clock_now``.

    Deterministic for ``seed``: the same seed and ``clock_now`` give identical rows, whatever
    ``workers``. Rows are written in chunks of about :data:`CHUNK_SESSIONS` sessions, one
    transaction each; ``progress`` is called with the number of sessions written so far after
    each chunk. With ``workers`` > 1 that many processes build the rows while this one writes
    them (the writing is about half of the work).
    """
    if sessions < 0:
        raise ValueError(f"sessions must be 0 or more, not {sessions}")
    if workers < 1:
        raise ValueError(f"workers must be 1 or more, not {workers}")
    if clock_now.tzinfo is None or clock_now.utcoffset() is None:
        raise ValueError("clock_now must be timezone-aware")
    plan = _Plan.draw(random.Random(seed), sessions, clock_now.astimezone(UTC))
    with store.write() as db:
        db.execute(insert(_table(Staff)), plan.staff_rows())
        protocol_store.store(db.connection(), _protocol(), profile=PROFILE, now=plan.now)
    totals = Batch()
    done = 0
    for batch in _built(plan, workers):
        done += _write(batch, store)
        totals.add_counts(batch)
        if progress is not None:
            progress(done)
    if store.engine.dialect.name == "postgresql":
        # After a bulk load PostgreSQL plans without statistics until autovacuum gets round
        # to the tables, and meanwhile scans every reading to list one patient's sessions.
        with store.write() as db:
            for model in _WRITTEN:
                db.execute(text(f"ANALYZE {_table(model).name}"))
    return DemoSummary(
        staff=len(plan.staff), patients=len(plan.patients), sessions=done,
        readings=totals.counts["readings"], events=totals.counts["events"],
        flags=totals.counts["flags"], acknowledgements=totals.counts["acknowledgements"],
        flagged_sessions=totals.counts["flagged_sessions"],
    )


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


@dataclass(frozen=True, slots=True)
class _Plan:
    """Staff, patients and where the incidents fall, drawn from the seed up front.

    Each patient then gets a generator of their own, seeded from here, so patients can be
    built in any process and in any order and still give the same rows.
    """

    now: datetime
    staff: tuple[StaffMember, ...]
    patients: tuple[PatientPlan, ...]

    @classmethod
    def draw(cls, rng: random.Random, sessions: int, now: datetime) -> _Plan:
        staff = tuple(
            StaffMember(new_uuid(rng), name, role)
            for name, role in [*((n, "nurse") for n in NURSES), (CLINICIAN, "clinician")]
        )
        sizes: list[int] = []
        remaining = sessions
        while remaining > 0:
            size = remaining if remaining <= 12 else rng.randint(6, min(12, remaining - 6))
            sizes.append(size)
            remaining -= size
        flagged = rng.sample(range(sessions), round(sessions * INCIDENT_FRACTION))
        incidents = {index: rng.choice(list(Incident)) for index in sorted(flagged)}
        mrns = rng.sample(range(10**5, 10**6), len(sizes))
        patients = []
        first = 0
        for size, mrn in zip(sizes, mrns, strict=True):
            patients.append(PatientPlan(
                seed=rng.getrandbits(64), mrn=f"MRN{mrn:06d}",
                incidents=tuple(incidents.get(first + n) for n in range(size)),
            ))
            first += size
        return cls(now, staff, tuple(patients))

    def staff_rows(self) -> list[dict[str, Any]]:
        created = self.now - timedelta(days=HISTORY_DAYS + 30)
        return [
            {"id": s.id, "name": s.name, "role": s.role, "active": True, "created_at": created}
            for s in self.staff
        ]

    def chunks(self) -> list[tuple[PatientPlan, ...]]:
        """Whole patients grouped into chunks of at least :data:`CHUNK_SESSIONS` sessions."""
        chunks: list[tuple[PatientPlan, ...]] = []
        current: list[PatientPlan] = []
        count = 0
        for patient in self.patients:
            current.append(patient)
            count += len(patient.incidents)
            if count >= CHUNK_SESSIONS:
                chunks.append(tuple(current))
                current, count = [], 0
        if current:
            chunks.append(tuple(current))
        return chunks


def _built(plan: _Plan, workers: int) -> Iterator[Batch]:
    """The chunks' rows, in order; built here, or by ``workers`` processes ahead of the writer."""
    chunks = plan.chunks()
    if workers == 1 or len(chunks) < 2:
        for chunk in chunks:
            yield _build(plan.now, plan.staff, chunk)
        return
    # "spawn": a forked child would inherit the parent's open database connections.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[Future[Batch]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(_build, plan.now, plan.staff, chunk))
            # Only a few chunks ahead of the writer, so memory stays bounded.
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _build(now: datetime, staff: tuple[StaffMember, ...],
           patients: Sequence[PatientPlan]) -> Batch:
    builder = Builder(_protocol(), now, staff)
    batch = Batch()
    for patient in patients:
        builder.patient(patient, batch)
    return batch


@functools.cache
def _protocol() -> Protocol:
    return load_protocol(PROFILE)


#: The tables :func:`generate` writes, in foreign-key order.
_WRITTEN: tuple[type[Any], ...] = (
    Staff, Patient, TreatmentSession, ReadingRow, EventRow, FlagRow, AckRow,
)


def _write(batch: Batch, store: Store) -> int:
    """Insert the batch's rows in one transaction and return the number of sessions."""
    with store.write() as db:
        for model, rows in zip(_WRITTEN[1:], (
            batch.patients, batch.session_rows, batch.readings, batch.events, batch.flags,
            batch.acknowledgements,
        ), strict=True):
            if rows:
                db.execute(insert(_table(model)), rows)
    return len(batch.session_rows)
