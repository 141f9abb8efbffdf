"""One session of a demo course, value by value: the patient's course, the session under
construction, and its timeline of readings and events.

The values follow the published courses (:mod:`monitor.demo.data` says which): BP rising to
its peak at 30–40 min and falling back after the stop, dissociation peaking around 40 min,
sedation light, little nausea; a session with an incident departs from the course at the
incident's readings.
"""

from __future__ import annotations

import itertools
import math
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from monitor.clinical.domain import Event, EventKind, Reading

#: CADSS-6 item weights: "things unreal" and "spacing out" are the items most endorsed.
_CADSS6_CUM_WEIGHTS = tuple(itertools.accumulate((1.2, 1.5, 1.0, 0.8, 1.3, 0.7)))
_PHQ9_OTHER_ITEMS = 8  # items 1–8; item 9 (self-harm) is set on its own

#: Highest CADSS-6 total a session without an incident reaches: one below the protocol's
#: advisory (16), so ordinary dissociation never flags.
_CADSS6_USUAL_MAX = 15
#: Highest SBP a session without an incident reaches, well below the 180 mmHg warning.
_SBP_USUAL_MAX = 172
_VITALS = ("sbp", "dbp", "hr", "spo2", "rr")

#: Column order of the reading rows (every row carries every key: one executemany).
_READING_COLUMNS = (
    "sbp", "dbp", "hr", "spo2", "rr", "cadss6", "cadss6_items", "moaas", "nausea", "anxiety",
    "pain", "phq9", "phq9_items", "gad7", "gad7_items",
)


class Incident(Enum):
    """What goes wrong in a flagged session."""

    BP_SURGE = "bp_surge"
    SPO2_DIP = "spo2_dip"
    NAUSEA = "nausea"
    DEEP_SEDATION = "deep_sedation"
    SELF_HARM_THOUGHTS = "self_harm_thoughts"


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A member of the demo clinic's staff, as the rows name them."""

    id: uuid.UUID
    name: str
    role: str


@dataclass(slots=True)
class Course:
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
    nurse: StaffMember


@dataclass(slots=True)
class Session:
    """One session under construction: its rows and its in-memory record."""

    id: uuid.UUID
    nurse: StaffMember
    start: datetime
    readings: list[Reading] = field(default_factory=list)
    reading_rows: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    event_rows: list[dict[str, Any]] = field(default_factory=list)

    def at(self, minute: float) -> datetime:
        return self.start + timedelta(minutes=minute)


class Timeline:
    """The timeline and values of one session: the published courses, plus its incident."""

    def __init__(self, course: Course, session: Session, *, rng: random.Random,
                 new_id: Callable[[], uuid.UUID], bag_volume_ml: float, number: int,
                 size: int, minutes: int, recovery: int, mg_per_kg: float,
                 incident: Incident | None) -> None:
        self.rng = rng
        self.new_id = new_id
        self.bag_volume_ml = bag_volume_ml
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
        self.sbp = round(clip(course.sbp + rng.gauss(0, 4) + (8 if surge else 0), 100, 136))
        self.dbp = round(clip(course.dbp + rng.gauss(0, 3) + (4 if surge else 0), 60, 86))
        self.hr = round(clip(course.hr + rng.gauss(0, 4), 58, 95))
        self.spo2 = rng.choice((96, 97, 97, 98, 98, 99))
        self.rr = rng.randint(12, 17)
        # Published course: +16/+11 mmHg at the 30–40 min peak (Yale, 2,342 infusions).
        self.sbp_rise = clip(rng.gauss(16, 5), 5, 27)
        self.dbp_rise = clip(rng.gauss(11, 3.5), 3, 19)
        self.hr_rise = clip(rng.gauss(6, 3), 0, 14)
        # Below the 30 % rise advisory (set from the baseline reading), far from 180/110.
        self.sbp_max = _SBP_USUAL_MAX
        self.cadss6_base = rng.choices((0, 1, 2), weights=(7, 2, 1))[0]
        dose_effect = math.sqrt(mg_per_kg / 0.5)
        tolerance = 0.97**number
        self.cadss6_peak = clip(
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
                   f"{self.bag_volume_ml:g} mL over {minutes} min")
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
        event_id = self.new_id()
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
        others = round(clip(course.phq9_start * fraction + rng.gauss(0, 1.2), 0,
                             3 * _PHQ9_OTHER_ITEMS))
        phq9_items = (*spread(rng, others, _PHQ9_OTHER_ITEMS, 3), item9)
        gad7 = round(clip(course.gad7_start * fraction + rng.gauss(0, 1.2), 0, 21))
        gad7_items = spread(rng, gad7, 7, 3)
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
            values["sbp"] = int(clip(sbp, 96, self.sbp_max))
            values["dbp"] = int(clip(dbp, 58, min(100, values["sbp"] - 25)))
            values["hr"] = int(clip(round(self.hr + self.hr_rise * self.bp_effect(minute)
                                           + rng.gauss(0, 3)), 55, 104))
            values["spo2"] = int(clip(self.spo2 + rng.choice((-1, 0, 0, 0, 1)), 95, 99))
            values["rr"] = int(clip(self.rr + rng.choice((-1, 0, 0, 1)), 12, 19))
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
            values[name] = int(clip(values[name], -(-85 * base // 100), 115 * base // 100))
        values["dbp"] = min(values["dbp"], values["sbp"] - 15)

    def scores(self, minute: int, values: dict[str, Any]) -> None:
        rng = self.rng
        since_stop = minute - self.minutes
        excess = self.dissociation(minute)
        noise = rng.gauss(0, 0.7) if minute > 0 else 0.0
        total = round(self.cadss6_base + excess + noise)
        # Dissociation has resolved before the discharge assessment (≤ baseline + 2).
        ceiling = self.cadss6_base + 2 if since_stop >= 25 else _CADSS6_USUAL_MAX
        total = int(clip(total, self.cadss6_base if minute <= 0 else 0, ceiling))
        values["cadss6_items"] = spread(rng, total, 6, 4, _CADSS6_CUM_WEIGHTS)
        values["cadss6"] = total
        infusing = 0 < minute <= self.minutes
        lethargic = infusing and rng.random() < clip((excess - 3) / 12, 0, 0.6)
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
        reading_id = self.new_id()
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


def clip(value: float, low: float, high: float) -> float:
    """``value`` held between ``low`` and ``high``."""
    return low if value < low else high if value > high else value


def spread(rng: random.Random, total: int, count: int, item_max: int,
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
