"""Plain value types the rules work on.

The database rows (``monitor.storage.model``) are turned into these immutable records by
``monitor.service.clinic``; the rules (``monitor.clinical.rules``, ``monitor.clinical.discharge``)
are pure functions
of them, so they can be tested, replayed at any minute and fuzzed without a database.

Only *effective* entries reach the rules: a voided reading is left out, an amended one is
replaced by its amendment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any
from uuid import UUID, uuid5

#: Namespace for identifiers derived from content (flags), so that evaluating the same
#: record twice gives the same flag ids on every tablet.
CHAIRSIDE_NAMESPACE = UUID("6f1c3c52-5d1e-4b8e-9a35-2f0c8e1f7a10")


class Severity(IntEnum):
    """Flag tiers, ordered so that a worse tier compares greater."""

    ADVISORY = 1
    WARNING = 2
    CRITICAL = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class Measure(StrEnum):
    """What a flag is about (the ``measure`` field of ``show --json``)."""

    BP = "bp"
    HR = "hr"
    SPO2 = "spo2"
    RR = "rr"
    MOAAS = "moaas"
    CADSS6 = "cadss6"
    NAUSEA = "nausea"
    PHQ9 = "phq9"
    OVERDUE = "overdue"
    #: The bedside monitor's feed (silent too long during the session).
    FEED = "feed"


class EventKind(StrEnum):
    INFUSION_START = "infusion_start"
    INFUSION_PAUSE = "infusion_pause"
    INFUSION_RESUME = "infusion_resume"
    INFUSION_STOP = "infusion_stop"
    RATE_CHANGE = "rate_change"
    MEDICATION = "medication"
    ADVERSE_EVENT = "adverse_event"
    NOTE = "note"
    ESCORT_PRESENT = "escort_present"
    ORIENTED_STEADY_GAIT = "oriented_steady_gait"
    DISCHARGE_SIGNED = "discharge_signed"
    DISCHARGE_OVERRIDE = "discharge_override"


#: Events a CSV import may carry (the command-line contract).
IMPORTABLE_EVENTS: tuple[EventKind, ...] = (
    EventKind.INFUSION_START,
    EventKind.INFUSION_PAUSE,
    EventKind.INFUSION_RESUME,
    EventKind.INFUSION_STOP,
    EventKind.MEDICATION,
    EventKind.ADVERSE_EVENT,
    EventKind.NOTE,
    EventKind.ESCORT_PRESENT,
    EventKind.ORIENTED_STEADY_GAIT,
)


class Phase(StrEnum):
    BASELINE = "baseline"
    INFUSING = "infusing"
    PAUSED = "paused"
    RECOVERY = "recovery"
    DISCHARGED = "discharged"


@dataclass(frozen=True, slots=True)
class Reading:
    """One time point. Any measure may be absent (``None``)."""

    id: UUID
    time: datetime
    sbp: int | None = None
    dbp: int | None = None
    hr: int | None = None
    spo2: int | None = None
    rr: int | None = None
    cadss6: int | None = None
    cadss6_items: tuple[int, ...] | None = None
    moaas: int | None = None
    nausea: int | None = None
    anxiety: int | None = None
    pain: int | None = None
    phq9: int | None = None
    phq9_items: tuple[int, ...] | None = None
    gad7: int | None = None
    gad7_items: tuple[int, ...] | None = None
    on_oxygen: bool = False
    note: str = ""
    #: When it was entered (UTC) and by whom (a name), when read from the record.
    recorded_at: datetime | None = None
    by: str = ""
    #: The staff id of whoever entered it (the FHIR export names them as performer).
    entered_by: UUID | None = None
    #: The bedside monitor it came from (its EUI-64, or ``location:`` and the location it
    #: sends), when it was filed from the monitor's feed; None when typed.
    device: str | None = None

    @property
    def from_monitor(self) -> bool:
        return self.device is not None

    @property
    def is_late_entry(self) -> bool:
        """Entered more than a minute after the time it describes."""
        return self.recorded_at is not None and (self.recorded_at - self.time).total_seconds() > 60

    @property
    def has_vitals(self) -> bool:
        return any(v is not None for v in (self.sbp, self.hr, self.spo2, self.rr))

    @property
    def phq9_item9(self) -> int | None:
        return self.phq9_items[8] if self.phq9_items is not None else None


@dataclass(frozen=True, slots=True)
class Event:
    id: UUID
    time: datetime
    kind: EventKind
    detail: str = ""
    recorded_at: datetime | None = None
    by: str = ""
    #: Structured detail stored with it: a medication's dose, an early stop's dose given,
    #: the discharge criteria as they stood at a sign-off.
    data: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """A staff member's acknowledgement of one flag, with the action taken."""

    flag_id: UUID
    time: datetime
    action: str
    note: str = ""
    by: str = ""


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """Everything the rules need about one session, effective entries only, time-ordered."""

    session_id: UUID
    readings: tuple[Reading, ...] = ()
    events: tuple[Event, ...] = ()
    acknowledgements: tuple[Acknowledgement, ...] = ()

    def as_of(self, at: datetime) -> SessionRecord:
        """The record as it stood at ``at``: entries describing a later time are left out."""
        return SessionRecord(
            session_id=self.session_id,
            readings=tuple(r for r in self.readings if r.time <= at),
            events=tuple(e for e in self.events if e.time <= at),
            acknowledgements=tuple(a for a in self.acknowledgements if a.time <= at),
        )


@dataclass(frozen=True, slots=True)
class Flag:
    """A condition that needs attention, raised by the rules.

    ``key`` names the condition (``"bp-high"``, ``"hr-low"``, ``"overdue"`` …); ``time`` is
    when it was first seen (the reading's time, or when the reading became overdue).
    """

    id: UUID
    key: str
    measure: Measure
    severity: Severity
    time: datetime
    message: str
    reading_id: UUID | None = None
    acknowledgement: Acknowledgement | None = None
    #: When it stopped needing attention without an acknowledgement: an overdue reading
    #: was taken, or a worse flag of the same condition took over (escalation).
    resolved_at: datetime | None = None
    #: What resolved it, in words: "reading taken", "escalated", "reading amended" …
    resolution: str = ""
    #: While open, the measure's value in a later reading ("latest 88 % at 23:00",
    #: :mod:`monitor.clinical.latest_value`); shown, never stored with the flag.
    latest: str = ""

    @property
    def shown_message(self) -> str:
        """The message with the latest value when a later reading has one: what the card
        shows and the acknowledgement's signature names."""
        return f"{self.message} — {self.latest}" if self.latest else self.message

    @property
    def acknowledged(self) -> bool:
        return self.acknowledgement is not None

    @property
    def open(self) -> bool:
        """Still needs a staff member's attention."""
        return self.acknowledgement is None and self.resolved_at is None


def flag_id(session_id: UUID, key: str, severity: Severity, anchor: str) -> UUID:
    """A stable flag identifier: the same condition on the same record gives the same id."""
    return uuid5(CHAIRSIDE_NAMESPACE, f"flag:{session_id}:{key}:{severity.label}:{anchor}")


@dataclass(frozen=True, slots=True)
class Criterion:
    """One discharge criterion: met or not, and why (``detail``)."""

    id: str
    met: bool
    detail: str


@dataclass(frozen=True, slots=True)
class ScoreItem:
    """One item of a composite score; an item nothing was measured for is *not assessed*:
    it scores 0 and leaves the score incomplete, never full marks by default."""

    name: str
    points: int
    max_points: int
    detail: str
    assessed: bool = True

    @property
    def text(self) -> str:
        """``pain: 2 of 2 — pain 1/10`` or ``pain: not assessed — no pain score …``."""
        points = f"{self.points} of {self.max_points}" if self.assessed else "not assessed"
        return f"{self.name}: {points} — {self.detail}"


@dataclass(frozen=True, slots=True)
class Score:
    """A composite score with its items (modified Aldrete, adapted PADSS).

    A score with an item not assessed is *incomplete*: it does not pass, whatever its total.
    """

    name: str
    total: int
    max_total: int
    passing: int
    items: tuple[ScoreItem, ...] = field(default_factory=tuple)

    @property
    def not_assessed(self) -> tuple[str, ...]:
        """Names of the items nothing was measured for."""
        return tuple(item.name for item in self.items if not item.assessed)

    @property
    def complete(self) -> bool:
        return not self.not_assessed

    @property
    def passed(self) -> bool:
        return self.complete and self.total >= self.passing

    @property
    def verdict(self) -> str:
        """``passed``, ``not passed`` or ``incomplete: pain not assessed``."""
        if not self.complete:
            return f"incomplete: {', '.join(self.not_assessed)} not assessed"
        return "passed" if self.passed else "not passed"

    @property
    def summary(self) -> str:
        """``adapted PADSS 6 of 8 — incomplete: pain not assessed``."""
        return f"{self.name} {self.total} of {self.max_total} — {self.verdict}"


@dataclass(frozen=True, slots=True)
class DischargeAssessment:
    ready: bool
    criteria: tuple[Criterion, ...]
    would_have_been_ready_at: datetime | None
    aldrete: Score
    padss: Score


def clock_time(when: datetime) -> str:
    """``HH:MM`` in the device's local time zone: what the nurse's wall clock says.

    Times are stored in UTC; messages a person reads name the local time.
    """
    return f"{when.astimezone():%H:%M}"
