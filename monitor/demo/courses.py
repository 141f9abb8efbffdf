"""A demo patient and their course of sessions: the patient's row, each session's row and
dose, the session's timeline (:mod:`monitor.demo.timeline`), and the flags the rules raise on
it, each acknowledged by a staff member with the action taken.

Each patient draws from a generator seeded by their :class:`PatientPlan`, so patients can be
built in any process and in any order and still give the same rows.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from monitor.clinical.domain import Acknowledgement, Flag, Measure, SessionRecord, Severity
from monitor.clinical.dosing import plan_dose
from monitor.clinical.protocol import Protocol
from monitor.clinical.rules import evaluate_flags
from monitor.demo.timeline import Course, Incident, Session, StaffMember, Timeline, clip
from monitor.storage import protocol_store

PROFILE = "iv_ketamine"

#: Share of patients whose PHQ-9 falls over the course (responders).
RESPONDER_FRACTION = 0.7

#: The counts a batch keeps, besides its rows.
COUNTED = ("readings", "events", "flags", "acknowledgements", "flagged_sessions")

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
HISTORY_DAYS = 330

#: Check-in comes this long before the infusion starts (questionnaires, baseline).
_CHECK_IN_MIN = 25


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


@dataclass(frozen=True, slots=True)
class PatientPlan:
    """What is decided for a patient before their rows are built: it seeds everything else."""

    seed: int
    mrn: str
    #: The incident of each session of the course (None for an ordinary session).
    incidents: tuple[Incident | None, ...]


@dataclass
class Batch:
    """Rows waiting to be written, in foreign-key order, and how many of each were built."""

    patients: list[dict[str, Any]] = field(default_factory=list)
    session_rows: list[dict[str, Any]] = field(default_factory=list)
    readings: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    acknowledgements: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED, 0))

    def add_counts(self, other: Batch) -> None:
        for key in COUNTED:
            self.counts[key] += other.counts[key]


def new_uuid(rng: random.Random) -> uuid.UUID:
    """A version-4 id drawn from ``rng``, so the same seed gives the same ids."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


class Builder:
    """Builds patients' rows; each patient draws from a generator seeded by their plan."""

    def __init__(self, protocol: Protocol, now: datetime,
                 staff: tuple[StaffMember, ...]) -> None:
        self.rng = random.Random()
        self.protocol = protocol
        self.now = now
        self.nurses = tuple(s for s in staff if s.role == "nurse")
        self.clinician = next(s for s in staff if s.role == "clinician")
        # The schema keeps the protocol version as a whole number; the file says "1.0".
        self.protocol_version = int(float(protocol.version))
        self.protocol_version_id = protocol_store.version_of(protocol, PROFILE, now).id

    def uuid(self) -> uuid.UUID:
        return new_uuid(self.rng)

    # -- patients and courses ------------------------------------------------------------

    def patient(self, plan: PatientPlan, batch: Batch) -> None:
        self.rng = rng = random.Random(plan.seed)
        size = len(plan.incidents)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        weight = round(rng.uniform(50, 110), 1)
        course = Course(
            id=self.uuid(), name=f"{first} {last}", weight_kg=weight,
            responder=rng.random() < RESPONDER_FRACTION,
            phq9_start=rng.randint(14, 24), gad7_start=rng.randint(8, 18),
            phq9_reduction=rng.uniform(0.45, 0.8), phq9_pace=rng.uniform(1.5, 3.5),
            infusion_minutes=40 if rng.random() < 0.7 else 60,
            mg_per_kg=0.5 if rng.random() < 0.8 else 0.75,
            sensitivity=rng.uniform(0.75, 1.25),
            sbp=clip(rng.gauss(121, 8), 104, 132), dbp=clip(rng.gauss(76, 5), 64, 84),
            hr=clip(rng.gauss(74, 8), 60, 92),
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
        days_back = rng.randint(least_back, max(least_back, HISTORY_DAYS))
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

    def session(self, course: Course, check_in: datetime, batch: Batch, *, number: int,
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
        session = Session(self.uuid(), nurse, check_in + timedelta(minutes=_CHECK_IN_MIN))
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
        Timeline(course, session, rng=rng, new_id=self.uuid,
                 bag_volume_ml=self.protocol.dose.bag_volume_ml_default, number=number,
                 size=size, minutes=minutes, recovery=recovery, mg_per_kg=mg_per_kg,
                 incident=incident).fill()
        self.finish(session, incident, batch, discharged=minutes + recovery + 2)

    def finish(self, session: Session, incident: Incident | None, batch: Batch,
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

    def acknowledge(self, session: Session, flag: Flag,
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


def _birth_date(rng: random.Random, first_visit: date) -> date:
    age_days = rng.randint(20 * 365, 70 * 365)
    return first_visit - timedelta(days=age_days)
