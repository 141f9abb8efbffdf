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

Readings per session. The protocol asks for a reading every 10 min while infusing and every
15 min in recovery; this generator records what a chair with an auto-cycling cuff produces:
vital signs every 5 min through the infusion and the first 30 min of recovery (then every
15 min), and the nurse's scored assessment (CADSS-6, MOAA/S, comfort) as its own reading,
a minute before each protocol mark. With the questionnaire and two baseline readings that is
23–33 readings per session, about 27 on average (75,000 sessions ≈ 2 million readings).
"""

from __future__ import annotations

import functools
import itertools
import math
import multiprocessing
import random
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import Table, insert, text

from monitor.clinical.domain import (
    Acknowledgement,
    Event,
    EventKind,
    Flag,
    Measure,
    Reading,
    SessionRecord,
    Severity,
)
from monitor.clinical.dosing import plan_dose
from monitor.clinical.protocol import Protocol, load_protocol
from monitor.clinical.rules import evaluate_flags
from monitor.storage import protocol_store
from monitor.storage.model import Acknowledgement as AckRow
from monitor.storage.model import EventRow, FlagRow, Patient, ReadingRow, Staff, TreatmentSession
from monitor.storage.store import Store

PROFILE = "iv_ketamine"

#: Sessions written per transaction: large enough that commits (each an fsync) are rare,
#: small enough that a chunk's rows stay a few megabytes.
CHUNK_SESSIONS = 1000

#: Share of sessions that carry one incident. Sessions are picked by sampling, so a run of
#: n sessions has exactly round(n × this) of them.
INCIDENT_FRACTION = 0.04

#: Share of patients whose PHQ-9 falls over the course (responders).
RESPONDER_FRACTION = 0.7

NURSES = ("Nora Quinn", "Ada Mensah", "Liam Okafor", "Grace Lindqvist")
CLINICIAN = "Dr. Priya Raman"

FIRST_NAMES = (
    "Alex", "Amira", "Ben", "Carmen", "Chen", "Dana", "Elena", "Farid", "Grace", "Hugo",
    "Ines", "Jamal", "Kai", "Lena", "Marco", "Nadia", "Omar", "Paula", "Ravi", "Sofia",
    "Tomas", "Uma", "Victor", "Wen", "Yara", "Zoe",
)
LAST_NAMES = (
    "Adams", "Bauer", "Costa", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito",
    "Jensen", "Kowalski", "Larsen", "Meyer", "Novak", "Okoro", "Patel", "Quinn", "Rossi",
    "Silva", "Tanaka", "Ueda", "Varga", "Weber", "Yilmaz", "Zhang",
)

#: Days between consecutive sessions of a course: twice weekly for the six induction
#: infusions, then one week, two weeks and monthly maintenance.
_INDUCTION_GAPS = (3, 4, 3, 4, 3)
_MAINTENANCE_GAPS = (7, 14, 28, 28, 28, 28)

#: How far back the oldest course may start; within a year, so every entry is inside the
#: late-entry window the validation allows.
_HISTORY_DAYS = 330

#: Check-in comes this long before the infusion starts (questionnaires, baseline).
_CHECK_IN_MIN = 25

#: CADSS-6 item weights: "things unreal" and "spacing out" are the items most endorsed.
_CADSS6_CUM_WEIGHTS = tuple(itertools.accumulate((1.2, 1.5, 1.0, 0.8, 1.3, 0.7)))
_PHQ9_OTHER_ITEMS = 8  # items 1–8; item 9 (self-harm) is set on its own

#: Highest CADSS-6 total a session without an incident reaches: one below the protocol's
#: advisory (16), so ordinary dissociation never flags.
_CADSS6_USUAL_MAX = 15
#: Highest SBP a session without an incident reaches, well below the 180 mmHg warning.
_SBP_USUAL_MAX = 172
_VITALS = ("sbp", "dbp", "hr", "spo2", "rr")


class Incident(Enum):
    """What goes wrong in a flagged session."""

    BP_SURGE = "bp_surge"
    SPO2_DIP = "spo2_dip"
    NAUSEA = "nausea"
    DEEP_SEDATION = "deep_sedation"
    SELF_HARM_THOUGHTS = "self_harm_thoughts"


#: What the nurse (or, for PHQ-9 item 9, the clinician) did about a flag, by measure:
#: (for an advisory or a warning, for a critical flag).
_ACTIONS: dict[Measure, tuple[str, str]] = {
    Measure.BP: ("Repeat BP in 5 min; patient calm, clinician told",
                 "Labetalol 10 mg IV given; clinician at the chair"),
    Measure.SPO2: ("Patient roused, deep breaths; SpO2 recovered",
                   "Airway opened, oxygen given; clinician called"),
    Measure.NAUSEA: ("Ondansetron 4 mg IV given", "Ondansetron 4 mg IV given"),
    Measure.MOAAS: ("Patient stimulated; airway and SpO2 checked",
                    "Infusion stopped; airway supported; clinician called"),
    Measure.PHQ9: ("Clinician assessed: passive thoughts, no plan; safety plan reviewed",
                   "Clinician assessed: passive thoughts, no plan; safety plan reviewed"),
    Measure.CADSS6: ("Patient reassured; lights dimmed", "Patient reassured; lights dimmed"),
}
_DEFAULT_ACTION = ("Noted; observed at the chair", "Clinician called to the chair")

#: Column order of the reading rows (every row carries every key: one executemany).
_READING_COLUMNS = (
    "sbp", "dbp", "hr", "spo2", "rr", "cadss6", "cadss6_items", "moaas", "nausea", "anxiety",
    "pain", "phq9", "phq9_items", "gad7", "gad7_items",
)


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
    totals = _Batch()
    done = 0
    for batch in _built(plan, workers):
        done += batch.write(store)
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
class _StaffMember:
    id: uuid.UUID
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class _PatientPlan:
    """What is decided for a patient before their rows are built: it seeds everything else."""

    seed: int
    mrn: str
    #: The incident of each session of the course (None for an ordinary session).
    incidents: tuple[Incident | None, ...]


@dataclass(frozen=True, slots=True)
class _Plan:
    """Staff, patients and where the incidents fall, drawn from the seed up front.

    Each patient then gets a generator of their own, seeded from here, so patients can be
    built in any process and in any order and still give the same rows.
    """

    now: datetime
    staff: tuple[_StaffMember, ...]
    patients: tuple[_PatientPlan, ...]

    @classmethod
    def draw(cls, rng: random.Random, sessions: int, now: datetime) -> _Plan:
        staff = tuple(
            _StaffMember(_uuid(rng), name, role)
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
            patients.append(_PatientPlan(
                seed=rng.getrandbits(64), mrn=f"MRN{mrn:06d}",
                incidents=tuple(incidents.get(first + n) for n in range(size)),
            ))
            first += size
        return cls(now, staff, tuple(patients))

    def staff_rows(self) -> list[dict[str, Any]]:
        created = self.now - timedelta(days=_HISTORY_DAYS + 30)
        return [
            {"id": s.id, "name": s.name, "role": s.role, "active": True, "created_at": created}
            for s in self.staff
        ]

    def chunks(self) -> list[tuple[_PatientPlan, ...]]:
        """Whole patients grouped into chunks of at least :data:`CHUNK_SESSIONS` sessions."""
        chunks: list[tuple[_PatientPlan, ...]] = []
        current: list[_PatientPlan] = []
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


def _built(plan: _Plan, workers: int) -> Iterator[_Batch]:
    """The chunks' rows, in order; built here, or by ``workers`` processes ahead of the writer."""
    chunks = plan.chunks()
    if workers == 1 or len(chunks) < 2:
        for chunk in chunks:
            yield _build(plan.now, plan.staff, chunk)
        return
    # "spawn": a forked child would inherit the parent's open database connections.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[Future[_Batch]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(_build, plan.now, plan.staff, chunk))
            # Only a few chunks ahead of the writer, so memory stays bounded.
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _build(now: datetime, staff: tuple[_StaffMember, ...],
           patients: Sequence[_PatientPlan]) -> _Batch:
    builder = _Builder(_protocol(), now, staff)
    batch = _Batch()
    for patient in patients:
        builder.patient(patient, batch)
    return batch


@functools.cache
def _protocol() -> Protocol:
    return load_protocol(PROFILE)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


#: The tables :func:`generate` writes, in foreign-key order.
_WRITTEN: tuple[type[Any], ...] = (
    Staff, Patient, TreatmentSession, ReadingRow, EventRow, FlagRow, AckRow,
)
_COUNTED = ("readings", "events", "flags", "acknowledgements", "flagged_sessions")


@dataclass
class _Batch:
    """Rows waiting to be written, in foreign-key order, and how many of each were built."""

    patients: list[dict[str, Any]] = field(default_factory=list)
    session_rows: list[dict[str, Any]] = field(default_factory=list)
    readings: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    acknowledgements: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_COUNTED, 0))

    def write(self, store: Store) -> int:
        """Insert everything in one transaction and return the number of sessions."""
        with store.write() as db:
            for model, rows in zip(_WRITTEN[1:], (
                self.patients, self.session_rows, self.readings, self.events, self.flags,
                self.acknowledgements,
            ), strict=True):
                if rows:
                    db.execute(insert(_table(model)), rows)
        return len(self.session_rows)

    def add_counts(self, other: _Batch) -> None:
        for key in _COUNTED:
            self.counts[key] += other.counts[key]


@dataclass(slots=True)
class _Course:
    """One patient and what stays the same across their sessions."""

    id: uuid.UUID
    name: str
    weight_kg: float
    responder: bool
    phq9_start: int
    gad7_start: int
    phq9_reduction: float
    phq9_pace: float
    infusion_minutes: int
    mg_per_kg: float
    sensitivity: float
    sbp: float
    dbp: float
    hr: float
    concomitant: dict[str, bool]
    escort: str
    nurse: _StaffMember


@dataclass(slots=True)
class _Session:
    """One session under construction: its rows and its in-memory record."""

    id: uuid.UUID
    nurse: _StaffMember
    start: datetime
    readings: list[Reading] = field(default_factory=list)
    reading_rows: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    event_rows: list[dict[str, Any]] = field(default_factory=list)

    def at(self, minute: float) -> datetime:
        return self.start + timedelta(minutes=minute)


class _Builder:
    """Builds patients' rows; each patient draws from a generator seeded by their plan."""

    def __init__(self, protocol: Protocol, now: datetime,
                 staff: tuple[_StaffMember, ...]) -> None:
        self.rng = random.Random()
        self.protocol = protocol
        self.now = now
        self.nurses = tuple(s for s in staff if s.role == "nurse")
        self.clinician = next(s for s in staff if s.role == "clinician")
        # The schema keeps the protocol version as a whole number; the file says "1.0".
        self.protocol_version = int(float(protocol.version))
        self.protocol_version_id = protocol_store.version_of(protocol, PROFILE, now).id

    def uuid(self) -> uuid.UUID:
        return _uuid(self.rng)

    # -- patients and courses ------------------------------------------------------------

    def patient(self, plan: _PatientPlan, batch: _Batch) -> None:
        self.rng = rng = random.Random(plan.seed)
        size = len(plan.incidents)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        weight = round(rng.uniform(50, 110), 1)
        course = _Course(
            id=self.uuid(), name=f"{first} {last}", weight_kg=weight,
            responder=rng.random() < RESPONDER_FRACTION,
            phq9_start=rng.randint(14, 24), gad7_start=rng.randint(8, 18),
            phq9_reduction=rng.uniform(0.45, 0.8), phq9_pace=rng.uniform(1.5, 3.5),
            infusion_minutes=40 if rng.random() < 0.7 else 60,
            mg_per_kg=0.5 if rng.random() < 0.8 else 0.75,
            sensitivity=rng.uniform(0.75, 1.25),
            sbp=_clip(rng.gauss(121, 8), 104, 132), dbp=_clip(rng.gauss(76, 5), 64, 84),
            hr=_clip(rng.gauss(74, 8), 60, 92),
            concomitant={
                "benzodiazepine": rng.random() < 0.15,
                "non_benzodiazepine_sedative_hypnotic": rng.random() < 0.05,
                "psychostimulant": rng.random() < 0.05,
                "maoi": rng.random() < 0.01,
                "ssri_snri": rng.random() < 0.5,
            },
            escort=f"{rng.choice(FIRST_NAMES)} "
                   f"{last if rng.random() < 0.6 else rng.choice(LAST_NAMES)}",
            nurse=rng.choice(self.nurses),
        )
        gaps = [*_INDUCTION_GAPS, *_MAINTENANCE_GAPS][: size - 1]
        # Room for the jitter of each gap, and the last session at least two days ago.
        least_back = sum(gaps) + 2 * len(gaps) + 2
        days_back = rng.randint(least_back, max(least_back, _HISTORY_DAYS))
        day = self.now.date() - timedelta(days=days_back)
        slot = rng.randrange(0, 14)  # half-hour check-in slots from 08:00 to 14:30
        days = [day]
        for gap in gaps:
            jitter = rng.randint(-2, 2) if gap >= 14 else 0
            days.append(days[-1] + timedelta(days=gap + jitter))
        check_ins = [
            datetime(d.year, d.month, d.day, 8, tzinfo=UTC) + timedelta(minutes=30 * slot)
            for d in days
        ]
        batch.patients.append({
            "id": course.id, "mrn": plan.mrn, "name": course.name,
            "date_of_birth": _birth_date(rng, days[0]), "weight_kg": weight,
            "limit_overrides": {}, "limit_override_reason": "",
            "recorded_at": check_ins[0] - timedelta(minutes=5), "entered_by": course.nurse.id,
        })
        for number, check_in in enumerate(check_ins):
            self.session(course, check_in, batch, number=number, size=size,
                         incident=plan.incidents[number])

    def session(self, course: _Course, check_in: datetime, batch: _Batch, *, number: int,
                size: int, incident: Incident | None) -> None:
        rng = self.rng
        # Non-responders are titrated up after the first infusions.
        mg_per_kg = course.mg_per_kg
        if not course.responder:
            mg_per_kg = 1.0 if number >= 6 else 0.75 if number >= 3 else mg_per_kg
        minutes = course.infusion_minutes
        weight = round(course.weight_kg + rng.gauss(0, 0.6), 1)
        plan = plan_dose(weight, mg_per_kg, minutes, self.protocol.dose.bag_volume_ml_default,
                         self.protocol)
        recovery = rng.choices((30, 45, 60), weights=(2, 4, 4))[0]
        if incident is not None and incident is not Incident.SELF_HARM_THOUGHTS:
            recovery = 60  # the nurse keeps a patient who had an incident the full hour
        nurse = course.nurse if rng.random() < 0.7 else rng.choice(self.nurses)
        session = _Session(self.uuid(), nurse, check_in + timedelta(minutes=_CHECK_IN_MIN))
        batch.session_rows.append({
            "id": session.id, "patient_id": course.id, "time": check_in,
            "chair": str(rng.randint(1, 4)), "profile": PROFILE,
            "protocol_version": self.protocol_version,
            "protocol_version_id": self.protocol_version_id, "weight_kg": weight,
            "planned_mg_per_kg": mg_per_kg, "infusion_minutes": minutes,
            "bag_volume_ml": plan.bag_volume_ml, "dose_mg": plan.dose_mg,
            "rate_mg_per_min": plan.rate_mg_per_min, "pump_ml_per_h": plan.pump_ml_per_h,
            "lot_number": f"KET-{check_in:%y%m}-{1 + check_in.day // 10}",
            "concomitant_medications": dict(course.concomitant),
            "escort_name": course.escort, "source": "chair",
            "recorded_at": check_in, "entered_by": nurse.id,
        })
        _Timeline(self, course, session, number=number, size=size, minutes=minutes,
                  recovery=recovery, mg_per_kg=mg_per_kg, incident=incident).fill()
        self.finish(session, incident, batch, discharged=minutes + recovery + 2)

    def finish(self, session: _Session, incident: Incident | None, batch: _Batch,
               discharged: float) -> None:
        """Raise the rules' flags on the finished record, acknowledge them, queue the rows."""
        at = session.at(discharged)
        record = SessionRecord(session.id, tuple(session.readings), tuple(session.events))
        flags = [f for f in evaluate_flags(record, self.protocol, at) if f.reading_id is not None]
        acks: list[Acknowledgement] = []
        ack_rows: list[dict[str, Any]] = []
        flag_rows: list[dict[str, Any]] = []
        acked: set[uuid.UUID] = set()
        entered = {row["id"]: row["recorded_at"] for row in session.reading_rows}
        # Acknowledging a flag lets a later episode of the same condition fire, so repeat
        # until the rules raise nothing new.
        while any(f.id not in acked for f in flags):
            for flag in flags:
                if flag.id in acked:
                    continue
                acked.add(flag.id)
                ack = self.acknowledge(session, flag, incident)
                acks.append(ack[0])
                ack_rows.append(ack[1])
                flag_rows.append({
                    "id": flag.id, "session_id": session.id, "key": flag.key,
                    "measure": flag.measure.value, "severity": int(flag.severity),
                    "time": flag.time, "message": flag.message, "reading_id": flag.reading_id,
                    "raised_at": entered[flag.reading_id],
                })
            record = SessionRecord(session.id, record.readings, record.events, tuple(acks))
            flags = [f for f in evaluate_flags(record, self.protocol, at)
                     if f.reading_id is not None]
        batch.readings.extend(session.reading_rows)
        batch.events.extend(session.event_rows)
        # Acknowledgements point at flags: flags first.
        batch.flags.extend(flag_rows)
        batch.acknowledgements.extend(ack_rows)
        batch.counts["readings"] += len(session.reading_rows)
        batch.counts["events"] += len(session.event_rows)
        batch.counts["flags"] += len(flag_rows)
        batch.counts["acknowledgements"] += len(ack_rows)
        batch.counts["flagged_sessions"] += bool(flag_rows)

    def acknowledge(self, session: _Session, flag: Flag,
                    incident: Incident | None) -> tuple[Acknowledgement, dict[str, Any]]:
        """The acknowledgement of ``flag`` a minute or two after it was raised."""
        by = self.clinician if flag.measure is Measure.PHQ9 else session.nurse
        first, worse = _ACTIONS.get(flag.measure, _DEFAULT_ACTION)
        action = worse if flag.severity is Severity.CRITICAL else first
        if incident is Incident.BP_SURGE and flag.key == "bp-rise":
            action = "Rise noted; BP rechecked"
        when = flag.time + timedelta(minutes=self.rng.choice((1, 1, 2)))
        recorded = when + timedelta(seconds=self.rng.randint(10, 50))
        ack = Acknowledgement(flag_id=flag.id, time=when, action=action, note="", by=by.name)
        row = {
            "id": self.uuid(), "session_id": session.id, "flag_id": flag.id, "time": when,
            "action": action, "note": "", "recorded_at": recorded, "entered_by": by.id,
        }
        return ack, row


class _Timeline:
    """The timeline and values of one session: the published courses, plus its incident."""

    def __init__(self, builder: _Builder, course: _Course, session: _Session, *, number: int,
                 size: int, minutes: int, recovery: int, mg_per_kg: float,
                 incident: Incident | None) -> None:
        self.builder = builder
        self.rng = builder.rng
        self.course = course
        self.session = session
        self.number = number
        self.size = size
        self.minutes = minutes
        self.recovery = recovery
        self.incident = incident
        rng = self.rng
        surge = incident is Incident.BP_SURGE
        # A surge is likelier from a higher starting point; the baseline stays below 140/90.
        self.sbp = round(_clip(course.sbp + rng.gauss(0, 4) + (8 if surge else 0), 100, 136))
        self.dbp = round(_clip(course.dbp + rng.gauss(0, 3) + (4 if surge else 0), 60, 86))
        self.hr = round(_clip(course.hr + rng.gauss(0, 4), 58, 95))
        self.spo2 = rng.choice((96, 97, 97, 98, 98, 99))
        self.rr = rng.randint(12, 17)
        # Published course: +16/+11 mmHg at the 30–40 min peak (Yale, 2,342 infusions).
        self.sbp_rise = _clip(rng.gauss(16, 5), 5, 27)
        self.dbp_rise = _clip(rng.gauss(11, 3.5), 3, 19)
        self.hr_rise = _clip(rng.gauss(6, 3), 0, 14)
        # Below the 30 % rise advisory (set from the baseline reading), far from 180/110.
        self.sbp_max = _SBP_USUAL_MAX
        self.cadss6_base = rng.choices((0, 1, 2), weights=(7, 2, 1))[0]
        dose_effect = math.sqrt(mg_per_kg / 0.5)
        tolerance = 0.97**number
        self.cadss6_peak = _clip(
            rng.triangular(3, 12, 6.5) * dose_effect * course.sensitivity * tolerance,
            2, _CADSS6_USUAL_MAX - self.cadss6_base,
        )
        self.baseline: dict[str, Any] = {}
        self.overrides: dict[int, dict[str, Any]] = {}

    # -- the curves ------------------------------------------------------------------------

    def bp_effect(self, minute: float) -> float:
        """Share of the peak BP rise at ``minute`` after the start: up by 30, back after stop."""
        if minute <= 0:
            return 0.0
        if minute <= self.minutes:
            return min(minute / 30, 1.0) * (1 - 0.2 * max(0.0, minute - 40) / 20)
        return self.bp_effect(self.minutes) * math.exp(-(minute - self.minutes) / 20)

    def dissociation(self, minute: float) -> float:
        """CADSS-6 points above baseline: peak at 40 min, half-life ~6 min after the stop."""
        if minute <= 0:
            return 0.0
        if minute <= self.minutes:
            rising = min(minute / 40, 1.0) ** 1.5
            return self.cadss6_peak * rising * (1 - 0.15 * max(0.0, minute - 40) / 20)
        return self.dissociation(self.minutes) * math.exp(-(minute - self.minutes) / 8)

    # -- the timeline ----------------------------------------------------------------------

    def fill(self) -> None:
        rng, session, minutes, recovery = self.rng, self.session, self.minutes, self.recovery
        self.plan_incident()
        self.questionnaire(-20)
        self.reading(-10, vitals=True, scores=True)
        self.reading(-3, vitals=True)
        self.event(0, EventKind.INFUSION_START,
                   f"{self.builder.protocol.dose.bag_volume_ml_default:g} mL over {minutes} min")
        for minute in range(5, minutes + 1, 5):
            if minute % 10 == 0:
                self.reading(minute - 1, scores=True)
            self.reading(minute, vitals=True)
        self.event(minutes, EventKind.INFUSION_STOP)
        end = minutes + recovery
        for minute in range(minutes + 5, end + 1, 5):
            since_stop = minute - minutes
            if since_stop % 15 == 0:
                self.reading(minute - 1, scores=True)
            if since_stop <= 30 or since_stop % 15 == 0:
                self.reading(minute, vitals=True)
        self.event(end - rng.choice((5, 10, 15)), EventKind.ESCORT_PRESENT,
                   self.course.escort)
        self.event(end, EventKind.ORIENTED_STEADY_GAIT)
        self.event(end + 2, EventKind.DISCHARGE_SIGNED, "Discharge instructions given")
        session.readings.sort(key=lambda r: r.time)
        session.events.sort(key=lambda e: e.time)

    def plan_incident(self) -> None:
        """Values that replace the usual course at the incident's readings."""
        rng, minutes = self.rng, self.minutes
        match self.incident:
            case Incident.BP_SURGE:
                surge = rng.choice((20, 25, 30))
                self.overrides[surge] = {"sbp": rng.randint(181, 192), "dbp": rng.randint(104, 114)}
                self.overrides[surge + 5] = {"sbp": rng.randint(180, 188),
                                             "dbp": rng.randint(102, 112)}
                self.overrides[surge + 10] = {"sbp": rng.randint(158, 168),
                                              "dbp": rng.randint(92, 99)}
                self.event(surge + 6, EventKind.MEDICATION, "Labetalol 10 mg IV",
                           {"name": "Labetalol", "dose": "10 mg", "route": "IV"})
            case Incident.SPO2_DIP:
                self.overrides[rng.choice(range(15, min(minutes, 35) + 1, 5))] = {"spo2": 92}
            case Incident.NAUSEA:
                onset = rng.choice([m - 1 for m in range(20, minutes + 1, 10)])
                self.overrides[onset] = {"nausea": 7}
                later = [m - 1 for m in range(onset + 11, minutes + 1, 10)]
                later += [minutes + m - 1 for m in range(15, self.recovery + 1, 15)]
                for easing, minute in zip((4, 2, 1), later, strict=False):
                    self.overrides[minute] = {"nausea": easing}
                self.event(onset, EventKind.ADVERSE_EVENT, "Nausea 7/10",
                           {"kind": "nausea_vomiting"})
                self.event(onset + 2, EventKind.MEDICATION, "Ondansetron 4 mg IV",
                           {"name": "Ondansetron", "dose": "4 mg", "route": "IV"})
            case Incident.DEEP_SEDATION:
                onset = rng.choice((29, 39))
                self.overrides[onset] = {"moaas": 3}
                following = onset + 10 if onset + 10 < minutes else minutes + 14
                self.overrides[following] = {"moaas": 4}
            case Incident.SELF_HARM_THOUGHTS | None:
                pass

    def event(self, minute: float, kind: EventKind, detail: str = "",
              data: dict[str, Any] | None = None) -> None:
        session = self.session
        when = session.at(minute)
        event_id = self.builder.uuid()
        recorded = when + timedelta(seconds=self.rng.randint(5, 40))
        session.events.append(Event(event_id, when, kind, detail, recorded_at=recorded,
                                    by=session.nurse.name))
        session.event_rows.append({
            "id": event_id, "session_id": session.id, "time": when, "kind": kind.value,
            "detail": detail, "data": data or {}, "recorded_at": recorded,
            "entered_by": session.nurse.id,
        })

    def questionnaire(self, minute: int) -> None:
        """PHQ-9 and GAD-7 as the patient fills them in at check-in."""
        rng, course = self.rng, self.course
        progress = self.number / max(self.size - 1, 1)
        if course.responder:
            fraction = 1 - course.phq9_reduction * (1 - math.exp(-self.number / course.phq9_pace))
        else:
            fraction = 1 - 0.1 * progress
        item9 = 0
        if self.incident is Incident.SELF_HARM_THOUGHTS:
            item9 = 1 if rng.random() < 0.8 else 2
        others = round(_clip(course.phq9_start * fraction + rng.gauss(0, 1.2), 0,
                             3 * _PHQ9_OTHER_ITEMS))
        phq9_items = (*_spread(rng, others, _PHQ9_OTHER_ITEMS, 3), item9)
        gad7 = round(_clip(course.gad7_start * fraction + rng.gauss(0, 1.2), 0, 21))
        gad7_items = _spread(rng, gad7, 7, 3)
        self.add({"phq9": sum(phq9_items), "phq9_items": phq9_items, "gad7": gad7,
                  "gad7_items": gad7_items}, minute)

    def reading(self, minute: int, *, vitals: bool = False, scores: bool = False) -> None:
        rng = self.rng
        values: dict[str, Any] = {}
        if vitals:
            effect = self.bp_effect(minute)
            sbp = round(self.sbp + self.sbp_rise * effect + rng.gauss(0, 3))
            dbp = round(self.dbp + self.dbp_rise * effect + rng.gauss(0, 2.5))
            if minute < 0:
                # Both baseline readings stay below the 140/90 advisory.
                sbp, dbp = min(sbp, 138), min(dbp, 88)
            values["sbp"] = int(_clip(sbp, 96, self.sbp_max))
            values["dbp"] = int(_clip(dbp, 58, min(100, values["sbp"] - 25)))
            values["hr"] = int(_clip(round(self.hr + self.hr_rise * self.bp_effect(minute)
                                           + rng.gauss(0, 3)), 55, 104))
            values["spo2"] = int(_clip(self.spo2 + rng.choice((-1, 0, 0, 0, 1)), 95, 99))
            values["rr"] = int(_clip(self.rr + rng.choice((-1, 0, 0, 1)), 12, 19))
            if minute - self.minutes >= 25:
                self.settle(values)
        if scores:
            self.scores(minute, values)
        if vitals:
            values.update({k: v for k, v in self.overrides.get(minute, {}).items()
                           if k in _VITALS})
            if minute < 0:
                # The last baseline reading is the baseline the rules and discharge compare with.
                self.baseline = values
                self.sbp_max = min((130 * values["sbp"] - 1) // 100 - 2, _SBP_USUAL_MAX)
        self.add(values, minute)

    def settle(self, values: dict[str, Any]) -> None:
        """By the discharge assessment BP and HR are back within 15 % of the baseline reading.

        The course alone gets there; this keeps a noisy baseline (HR 55 in a patient whose
        usual is 62) from reading as a 20 % deviation the patient never had.
        """
        for name in ("sbp", "dbp", "hr"):
            base = self.baseline[name]
            values[name] = int(_clip(values[name], -(-85 * base // 100), 115 * base // 100))
        values["dbp"] = min(values["dbp"], values["sbp"] - 15)

    def scores(self, minute: int, values: dict[str, Any]) -> None:
        rng = self.rng
        since_stop = minute - self.minutes
        excess = self.dissociation(minute)
        noise = rng.gauss(0, 0.7) if minute > 0 else 0.0
        total = round(self.cadss6_base + excess + noise)
        # Dissociation has resolved before the discharge assessment (≤ baseline + 2).
        ceiling = self.cadss6_base + 2 if since_stop >= 25 else _CADSS6_USUAL_MAX
        total = int(_clip(total, self.cadss6_base if minute <= 0 else 0, ceiling))
        values["cadss6_items"] = _spread(rng, total, 6, 4, _CADSS6_CUM_WEIGHTS)
        values["cadss6"] = total
        infusing = 0 < minute <= self.minutes
        lethargic = infusing and rng.random() < _clip((excess - 3) / 12, 0, 0.6)
        values["moaas"] = 4 if lethargic else 5
        if minute <= 0:
            values["nausea"] = rng.choices((0, 1), weights=(9, 1))[0]
            values["anxiety"] = rng.randint(1, 4)
        elif infusing:
            values["nausea"] = rng.choices((0, 1, 2, 3), weights=(75, 15, 8, 2))[0]
            values["anxiety"] = rng.randint(0, 3)
        else:
            values["nausea"] = rng.choices((0, 1, 2), weights=(85, 12, 3))[0]
            values["anxiety"] = rng.randint(0, 2)
        values["pain"] = rng.choices((0, 1, 2), weights=(85, 12, 3))[0]
        override = self.overrides.get(minute, {})
        for key in ("nausea", "moaas"):
            if key in override:
                values[key] = override[key]

    def add(self, values: dict[str, Any], minute: int) -> None:
        session = self.session
        when = session.at(minute)
        reading_id = self.builder.uuid()
        recorded = when + timedelta(seconds=self.rng.randint(15, 90))
        session.readings.append(Reading(id=reading_id, time=when, recorded_at=recorded,
                                        by=session.nurse.name, **values))
        row: dict[str, Any] = dict.fromkeys(_READING_COLUMNS)
        row.update(values)
        for items in ("cadss6_items", "phq9_items", "gad7_items"):
            if row[items] is not None:
                row[items] = list(row[items])
        row.update({
            "id": reading_id, "session_id": session.id, "time": when, "on_oxygen": False,
            "note": "", "recorded_at": recorded, "entered_by": session.nurse.id,
        })
        session.reading_rows.append(row)


def _clip(value: float, low: float, high: float) -> float:
    return low if value < low else high if value > high else value


def _spread(rng: random.Random, total: int, count: int, item_max: int,
            cum_weights: Sequence[float] | None = None) -> tuple[int, ...]:
    """``count`` item scores of 0–``item_max`` adding up to ``total``."""
    items = [0] * count
    total = min(total, count * item_max)
    if total == 0:
        return tuple(items)
    for drawn in rng.choices(range(count), cum_weights=cum_weights, k=total):
        index = drawn
        while items[index] == item_max:  # a full item passes its point to the next one
            index = (index + 1) % count
        items[index] += 1
    return tuple(items)


def _birth_date(rng: random.Random, first_visit: date) -> date:
    age_days = rng.randint(20 * 365, 70 * 365)
    return first_visit - timedelta(days=age_days)
