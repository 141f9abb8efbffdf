"""The flag rules: which readings need the nurse's attention, the session phase, when the next
reading is due.

Everything here is a pure function of a :class:`~monitor.clinical.domain.SessionRecord`, the
:class:`~monitor.clinical.protocol.Protocol` and the moment ``at`` it is evaluated for; nothing
reads the
clock, so a session can be replayed minute by minute and give the same flags (with the same
ids) on every tablet.

How flags fire. Each condition (``bp-high``, ``hr-low`` …) gives every reading a level: not
applicable (the measure is absent), normal, or a tier. An *episode* of a condition runs from a
reading above normal to the next reading where the measure is present and normal. Within an
episode a flag fires only when the tier rises above what the episode already reached, so the
same unchanged condition does not fire again while a worse one does. A new episode does not
fire while an earlier flag of the same condition, at the same or a higher tier, is still
unacknowledged: a value oscillating around a limit must not flood the nurse.

When the next reading is due. Readings come every protocol interval (infusion, recovery),
counted from the last reading with vital signs. While the latest BP, HR or SpO2 meets a
warning or critical tier (acknowledged or not: an acknowledged 188/106 is still there), the
next reading comes sooner, ``intervals.repeat_after_flag_min`` after the last (the clinic
rule: two readings > 180/110 five minutes apart). The shorter interval ends with the first
later reading of that measure below the warning tier: the repeat the flag asked for has
been taken and no longer meets the condition. A reading without the measure neither
ends nor starts it. The overdue advisory follows the same due time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from monitor.clinical.domain import (
    Acknowledgement,
    EventKind,
    Flag,
    Measure,
    Phase,
    Reading,
    SessionRecord,
    Severity,
    clock_time,
    flag_id,
)
from monitor.clinical.protocol import Protocol
from monitor.clinical.scores import MOAAS_LEVELS
from monitor.clinical.wording import MEASURE_NAMES

# --- phases -------------------------------------------------------------------------------

_DISCHARGE_EVENTS = (EventKind.DISCHARGE_SIGNED, EventKind.DISCHARGE_OVERRIDE)


def phase_changes(record: SessionRecord) -> list[tuple[datetime, Phase]]:
    """The phase transitions the events describe, in time order, starting in BASELINE.

    Events that make no sense in the current phase (a resume while infusing, a second stop)
    change nothing. A start after a stop restarts the infusion; a discharge is final.
    """
    changes: list[tuple[datetime, Phase]] = []
    phase = Phase.BASELINE
    for event in sorted(record.events, key=lambda e: e.time):
        new = phase
        if event.kind in _DISCHARGE_EVENTS:
            new = Phase.DISCHARGED
        elif phase is Phase.DISCHARGED:
            continue
        elif event.kind is EventKind.INFUSION_START and phase in (Phase.BASELINE,
                                                                  Phase.RECOVERY):
            new = Phase.INFUSING
        elif event.kind is EventKind.INFUSION_PAUSE and phase is Phase.INFUSING:
            new = Phase.PAUSED
        elif event.kind is EventKind.INFUSION_RESUME and phase is Phase.PAUSED:
            new = Phase.INFUSING
        elif event.kind is EventKind.INFUSION_STOP and phase in (Phase.INFUSING, Phase.PAUSED):
            new = Phase.RECOVERY
        if new is not phase:
            changes.append((event.time, new))
            phase = new
    return changes


def phase_at(changes: Sequence[tuple[datetime, Phase]], when: datetime) -> Phase:
    """The phase at ``when``; an event at exactly ``when`` has already taken effect."""
    phase = Phase.BASELINE
    for time, new in changes:
        if time > when:
            break
        phase = new
    return phase


def session_phase(record: SessionRecord, at: datetime) -> Phase:
    """The phase of the session at ``at`` (DISCHARGED once signed off or overridden)."""
    record = record.as_of(at)
    return phase_at(phase_changes(record), at)


def infusion_started_at(record: SessionRecord) -> datetime | None:
    """When the infusion first started (the dose), or ``None``."""
    return _started_at(phase_changes(record))


def _started_at(changes: Sequence[tuple[datetime, Phase]]) -> datetime | None:
    return next((t for t, p in changes if p is Phase.INFUSING), None)


def infusion_stopped_at(record: SessionRecord) -> datetime | None:
    """When the infusion stopped for good, or ``None`` while it has not (or was restarted)."""
    stopped: datetime | None = None
    for time, phase in phase_changes(record):
        if phase is Phase.RECOVERY:
            stopped = time
        elif phase in (Phase.INFUSING, Phase.PAUSED):
            stopped = None
    return stopped


def baseline_readings(record: SessionRecord) -> tuple[Reading, ...]:
    """Readings taken before the infusion started (all of them while it has not)."""
    return _before(_in_order(record.readings), infusion_started_at(record))


def _before(readings: Sequence[Reading], start: datetime | None) -> tuple[Reading, ...]:
    return tuple(r for r in readings if start is None or r.time < start)


def baseline(record: SessionRecord) -> Reading | None:
    """The baseline: for each measure, its last value before the infusion started.

    The result carries the id and time of the last baseline reading. If no reading precedes
    the start, the first reading stands in as the baseline.
    """
    return _baseline(_in_order(record.readings), infusion_started_at(record))


def _baseline(readings: Sequence[Reading], start: datetime | None) -> Reading | None:
    """:func:`baseline` of readings in time order, given the infusion start."""
    before = _before(readings, start)
    if not before:
        return readings[0] if readings else None

    def last(name: str) -> int | None:
        return next((getattr(r, name) for r in reversed(before) if getattr(r, name) is not None),
                    None)

    return Reading(
        id=before[-1].id, time=before[-1].time, sbp=last("sbp"), dbp=last("dbp"), hr=last("hr"),
        spo2=last("spo2"), rr=last("rr"), cadss6=last("cadss6"), moaas=last("moaas"),
        nausea=last("nausea"), anxiety=last("anxiety"), pain=last("pain"),
    )


# --- levels per condition -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Level:
    """A reading's level for one condition; ``severity`` None means normal."""

    severity: Severity | None
    message: str = ""


_NORMAL = _Level(None)


@dataclass(frozen=True, slots=True)
class _Context:
    protocol: Protocol
    changes: list[tuple[datetime, Phase]]
    baseline: Reading | None

    def in_baseline(self, reading: Reading) -> bool:
        # Same as phase_at(changes, reading.time) is BASELINE, without a scan per reading:
        # no change leads back to BASELINE, so it lasts until the first change.
        return not self.changes or reading.time < self.changes[0][0]


_Rule = Callable[[Reading, _Context], _Level | None]


def _bp(reading: Reading) -> str:
    return f"{_value(reading.sbp)}/{_value(reading.dbp)}"


def _value(value: int | None) -> str:
    return "–" if value is None else str(value)


def _at_or_above(value: int | None, limit: int) -> bool:
    return value is not None and value >= limit


def _bp_crossed(reading: Reading, sbp_limit: int, dbp_limit: int) -> str:
    """Which part of the BP crossed its limit: a tier fires on systolic OR diastolic, so
    "186/104 ≥ 180/110" would read as both."""
    parts = [f"systolic ≥ {sbp_limit}" if _at_or_above(reading.sbp, sbp_limit) else "",
             f"diastolic ≥ {dbp_limit}" if _at_or_above(reading.dbp, dbp_limit) else ""]
    return " and ".join(p for p in parts if p)


class _BpHigh:
    """``bp-high``: ≥ 180/110 warning, critical when a repeat within the window is still there,
    ≥ 200/120 critical at once; before the infusion also the 140/90 and 160/100 tiers.

    It needs the previous BP reading, so unlike the other conditions it is called on the
    readings in time order and remembers where the last run of high readings began.
    """

    __slots__ = ("previous", "run_start")

    def __init__(self) -> None:
        self.previous: Reading | None = None
        self.run_start: Reading | None = None  # first reading of a run of high readings on repeat

    def copy(self) -> _BpHigh:
        twin = _BpHigh()
        twin.previous, twin.run_start = self.previous, self.run_start
        return twin

    def __call__(self, reading: Reading, ctx: _Context) -> _Level | None:
        if reading.sbp is None and reading.dbp is None:
            return None
        bp, base = ctx.protocol.bp, ctx.protocol.baseline_bp
        window = timedelta(minutes=bp.repeat_window_min)
        previous, run_start = self.previous, self.run_start
        high = (_at_or_above(reading.sbp, bp.high_warning_sbp_at_or_above)
                or _at_or_above(reading.dbp, bp.high_warning_dbp_at_or_above))
        repeat = (previous is not None and run_start is not None
                  and reading.time - previous.time <= window)
        limit = _bp_crossed(reading, bp.high_warning_sbp_at_or_above,
                            bp.high_warning_dbp_at_or_above)
        level: _Level
        if (_at_or_above(reading.sbp, bp.high_critical_sbp_at_or_above)
                or _at_or_above(reading.dbp, bp.high_critical_dbp_at_or_above)):
            crossed = _bp_crossed(reading, bp.high_critical_sbp_at_or_above,
                                  bp.high_critical_dbp_at_or_above)
            level = _Level(Severity.CRITICAL, f"BP {_bp(reading)}: {crossed}")
        elif high and repeat and run_start is not None:
            level = _Level(Severity.CRITICAL, f"BP {_bp(reading)}: still {limit} on repeat "
                                              f"(first {clock_time(run_start.time)})")
        elif high:
            # The repeat is asked for at the interval the next reading is due by.
            repeat_in = ctx.protocol.intervals.repeat_after_flag_min
            level = _Level(Severity.WARNING, f"BP {_bp(reading)}: {limit} — repeat within "
                                             f"{repeat_in} min")
        elif ctx.in_baseline(reading) and (
                _at_or_above(reading.sbp, base.warning_sbp_at_or_above)
                or _at_or_above(reading.dbp, base.warning_dbp_at_or_above)):
            crossed = _bp_crossed(reading, base.warning_sbp_at_or_above,
                                  base.warning_dbp_at_or_above)
            level = _Level(Severity.WARNING, f"Baseline BP {_bp(reading)}: {crossed} — "
                                             "clinician review before start")
        elif ctx.in_baseline(reading) and (
                _at_or_above(reading.sbp, base.advisory_sbp_at_or_above)
                or _at_or_above(reading.dbp, base.advisory_dbp_at_or_above)):
            crossed = _bp_crossed(reading, base.advisory_sbp_at_or_above,
                                  base.advisory_dbp_at_or_above)
            level = _Level(Severity.ADVISORY, f"Baseline BP {_bp(reading)}: {crossed} — "
                                              "consider delaying the infusion")
        else:
            level = _NORMAL
        self.run_start = (run_start if repeat else reading) if high else None
        self.previous = reading
        return level


def _bp_high_levels(readings: Sequence[Reading], ctx: _Context) -> list[_Level | None]:
    """:class:`_BpHigh` levels of readings in time order."""
    walker = _BpHigh()
    return [walker(reading, ctx) for reading in readings]


def _bp_rise(reading: Reading, ctx: _Context) -> _Level | None:
    """``bp-rise``: SBP at or above baseline + the protocol's percentage, after baseline only."""
    base = ctx.baseline
    if reading.sbp is None or base is None or base.sbp is None or ctx.in_baseline(reading):
        return None
    limit = ctx.protocol.bp.rise_advisory_percent_at_or_above
    # Integer arithmetic: 120 × 1.30 is 156.00000000000003 in floating point.
    if (reading.sbp - base.sbp) * 100 < limit * base.sbp:
        return _NORMAL
    rise = round((reading.sbp - base.sbp) * 100 / base.sbp)
    return _Level(Severity.ADVISORY, f"SBP {reading.sbp} is {rise} % above baseline {base.sbp} "
                                     f"(limit {limit} %)")


def _bp_low(reading: Reading, ctx: _Context) -> _Level | None:
    bp = ctx.protocol.bp
    if reading.sbp is None:
        return None
    if reading.sbp < bp.low_critical_sbp_below:
        return _Level(Severity.CRITICAL, f"SBP {reading.sbp} < {bp.low_critical_sbp_below}")
    if reading.sbp < bp.low_warning_sbp_below:
        return _Level(Severity.WARNING, f"SBP {reading.sbp} < {bp.low_warning_sbp_below}")
    return _NORMAL


def _above(label: str, value: int | None, warning: int | None, critical: int | None, *,
           advisory: int | None = None, unit: str = "") -> _Level | None:
    """Level of a value with ``≥`` limits at any of the three tiers (``None``: no such tier)."""
    if value is None:
        return None
    for severity, limit in ((Severity.CRITICAL, critical), (Severity.WARNING, warning),
                            (Severity.ADVISORY, advisory)):
        if limit is not None and value >= limit:
            return _Level(severity, f"{label} {value}{unit} ≥ {limit}{unit}")
    return _NORMAL


def _below(label: str, value: int | None, warning: int | None, critical: int, *,
           advisory: int | None = None, unit: str = "") -> _Level | None:
    """Level of a value with ``≤`` limits at any of the three tiers (``None``: no such tier)."""
    if value is None:
        return None
    for severity, limit in ((Severity.CRITICAL, critical), (Severity.WARNING, warning),
                            (Severity.ADVISORY, advisory)):
        if limit is not None and value <= limit:
            return _Level(severity, f"{label} {value}{unit} ≤ {limit}{unit}")
    return _NORMAL


def _hr_high(reading: Reading, ctx: _Context) -> _Level | None:
    hr = ctx.protocol.hr
    return _above("HR", reading.hr, hr.high_warning_at_or_above, hr.high_critical_at_or_above)


def _hr_low(reading: Reading, ctx: _Context) -> _Level | None:
    hr = ctx.protocol.hr
    return _below("HR", reading.hr, None, hr.low_critical_at_or_below,
                  advisory=hr.low_advisory_at_or_below)


def _spo2_low(reading: Reading, ctx: _Context) -> _Level | None:
    spo2 = ctx.protocol.spo2
    level = _below("SpO2", reading.spo2, spo2.low_warning_at_or_below,
                   spo2.low_critical_at_or_below, unit=" %")
    if level is not None and level.severity is not None and reading.on_oxygen:
        return _Level(level.severity, f"{level.message} on oxygen")
    return level


def _rr_low(reading: Reading, ctx: _Context) -> _Level | None:
    rr = ctx.protocol.rr
    return _below("RR", reading.rr, None, rr.low_critical_at_or_below,
                  advisory=rr.low_advisory_at_or_below)


def _rr_high(reading: Reading, ctx: _Context) -> _Level | None:
    rr = ctx.protocol.rr
    return _above("RR", reading.rr, rr.high_warning_at_or_above, rr.high_critical_at_or_above)


def _moaas_low(reading: Reading, ctx: _Context) -> _Level | None:
    moaas = ctx.protocol.moaas
    level = _below("MOAA/S", reading.moaas, moaas.warning_at_or_below,
                   moaas.critical_at_or_below)
    if level is not None and level.severity is not None and reading.moaas is not None:
        observed = MOAAS_LEVELS.get(reading.moaas, "")
        return _Level(level.severity, f"{level.message} — {observed}")
    return level


def _cadss6_high(reading: Reading, ctx: _Context) -> _Level | None:
    return _above("CADSS-6", reading.cadss6, None, None,
                  advisory=ctx.protocol.cadss6.advisory_at_or_above)


def _nausea_high(reading: Reading, ctx: _Context) -> _Level | None:
    return _above("Nausea", reading.nausea, None, None,
                  advisory=ctx.protocol.nausea.advisory_at_or_above, unit="/10")


#: The flag raised by PHQ-9 item 9 (thoughts of self-harm) above the protocol's limit.
PHQ9_ITEM9_FLAG = "phq9-item9"
#: What a clinician records on acknowledging that flag: a clinical finding, not an action on
#: the infusion. "Infusion deferred" acknowledges the flag but does not clear the start.
PHQ9_ASSESSED = "Assessed by clinician"
PHQ9_SAFETY_PLAN = "Safety plan in place"
PHQ9_DEFERRED = "Infusion deferred"
PHQ9_ACK_CHOICES: tuple[str, ...] = (PHQ9_ASSESSED, PHQ9_SAFETY_PLAN, PHQ9_DEFERRED)
#: The choices after which the infusion may start.
PHQ9_CLEARS_START: frozenset[str] = frozenset({PHQ9_ASSESSED, PHQ9_SAFETY_PLAN})


def _phq9_item9(reading: Reading, ctx: _Context) -> _Level | None:
    item9 = reading.phq9_item9
    if item9 is None:
        return None
    if item9 <= ctx.protocol.phq9.item9_warning_above:
        return _NORMAL
    return _Level(Severity.WARNING, f"PHQ-9 item 9 (self-harm) scored {item9} — "
                                    "tell the clinician")


def _each(rule: _Rule) -> Callable[[Sequence[Reading], _Context], list[_Level | None]]:
    def levels(readings: Sequence[Reading], ctx: _Context) -> list[_Level | None]:
        return [rule(reading, ctx) for reading in readings]

    return levels


#: Condition key → (measure, levels of each reading in time order).
CONDITIONS: dict[str, tuple[Measure, Callable[[Sequence[Reading], _Context],
                                              list[_Level | None]]]] = {
    "bp-high": (Measure.BP, _bp_high_levels),
    "bp-rise": (Measure.BP, _each(_bp_rise)),
    "bp-low": (Measure.BP, _each(_bp_low)),
    "hr-high": (Measure.HR, _each(_hr_high)),
    "hr-low": (Measure.HR, _each(_hr_low)),
    "spo2-low": (Measure.SPO2, _each(_spo2_low)),
    "rr-low": (Measure.RR, _each(_rr_low)),
    "rr-high": (Measure.RR, _each(_rr_high)),
    "moaas-low": (Measure.MOAAS, _each(_moaas_low)),
    "cadss6-high": (Measure.CADSS6, _each(_cadss6_high)),
    "nausea-high": (Measure.NAUSEA, _each(_nausea_high)),
    "phq9-item9": (Measure.PHQ9, _each(_phq9_item9)),
}

#: The conditions whose level depends on the reading alone.
_READING_RULES: dict[str, _Rule] = {
    "bp-rise": _bp_rise, "bp-low": _bp_low, "hr-high": _hr_high, "hr-low": _hr_low,
    "spo2-low": _spo2_low, "rr-low": _rr_low, "rr-high": _rr_high, "moaas-low": _moaas_low,
    "cadss6-high": _cadss6_high, "nausea-high": _nausea_high, "phq9-item9": _phq9_item9,
}

OVERDUE = "overdue"

#: The measures whose warning or critical tier brings the next reading forward.
REPEAT_MEASURES = (Measure.BP, Measure.HR, Measure.SPO2)


# --- firing -------------------------------------------------------------------------------


def evaluate_flags(record: SessionRecord, protocol: Protocol, at: datetime) -> list[Flag]:
    """Every flag raised on the record as it stood at ``at``.

    Open flags come first, then by severity (worst first), then by time.
    """
    record = record.as_of(at)
    readings = _in_order(record.readings)
    changes = phase_changes(record)
    acks = _first_acknowledgements(record.acknowledgements)
    evaluation = FlagEvaluation.of(record, protocol, readings=readings, changes=changes,
                                   acks=acks)
    flags = evaluation.flags()
    flags.extend(_overdue_flags(record, readings, protocol, at, changes=changes, acks=acks,
                                evaluation=evaluation))
    return sorted(flags, key=lambda f: (not f.open, -f.severity, f.time))


def evaluate_flags_from(evaluation: FlagEvaluation, record: SessionRecord, protocol: Protocol,
                        at: datetime) -> list[Flag]:
    """:func:`evaluate_flags`, given the evaluation of the readings of ``record`` as of ``at``
    (which saves evaluating every reading again)."""
    record = record.as_of(at)
    readings = _in_order(record.readings)
    acks = _first_acknowledgements(record.acknowledgements)
    flags = evaluation.flags()
    flags.extend(_overdue_flags(record, readings, protocol, at, changes=evaluation.ctx.changes,
                                acks=acks, evaluation=evaluation))
    return sorted(flags, key=lambda f: (not f.open, -f.severity, f.time))


def current_levels(record: SessionRecord, protocol: Protocol,
                   at: datetime) -> dict[Measure, Severity]:
    """How abnormal each measure is now: the worst tier its latest value meets.

    Independent of flags and acknowledgements: an acknowledged BP of 188/106 is still
    critical, and the screen must not show it as normal.
    """
    record = record.as_of(at)
    readings = _in_order(record.readings)
    changes = phase_changes(record)
    ctx = _Context(protocol, changes, _baseline(readings, _started_at(changes)))
    latest: list[tuple[Measure, _Level | None]] = []
    for measure, levels_of in CONDITIONS.values():
        latest.append((measure, next((level for level in reversed(levels_of(readings, ctx))
                                      if level is not None), None)))
    return _worst_current(latest)


def _worst_current(latest: Iterable[tuple[Measure, _Level | None]]) -> dict[Measure, Severity]:
    current: dict[Measure, Severity] = {}
    for measure, level in latest:
        if level is None or level.severity is None:
            continue
        if level.severity > current.get(measure, 0):
            current[measure] = level.severity
    return current


class _Firing:
    """One condition's flags so far, and where its current episode stands."""

    __slots__ = ("episode", "fired", "key", "latest", "measure", "pressing", "reached", "rule")

    def __init__(self, key: str, measure: Measure, rule: _Rule) -> None:
        self.key = key
        self.measure = measure
        self.rule = rule
        self.fired: list[Flag] = []
        self.episode: list[int] = []  # indexes in ``fired`` of the current episode's flags
        self.reached: Severity | None = None  # highest tier of the episode; None outside one
        self.latest: _Level | None = None  # level of the latest reading with the measure
        #: When its readings stood at a warning or critical tier: ``(from, until)``, the
        #: reading that reached the tier and the first later one below it (None: still).
        self.pressing: list[tuple[datetime, datetime | None]] = []

    def copy(self) -> _Firing:
        rule = self.rule.copy() if isinstance(self.rule, _BpHigh) else self.rule
        twin = _Firing(self.key, self.measure, rule)
        twin.fired, twin.episode = list(self.fired), list(self.episode)
        twin.reached, twin.latest = self.reached, self.latest
        twin.pressing = list(self.pressing)
        return twin

    def step(self, session_id: UUID, reading: Reading, ctx: _Context,
             acks: dict[UUID, Acknowledgement]) -> None:
        level = self.rule(reading, ctx)
        if level is None:
            return  # measure absent: neither continues nor ends the episode
        self.latest = level
        self._press(reading.time, level)
        if level.severity is None:
            self.reached = None
            self.episode = []
            return
        if self.reached is not None and level.severity <= self.reached:
            return
        self.reached = level.severity
        fired = self.fired
        covered = any(f.severity >= level.severity and not _acknowledged_by(f, reading.time)
                      and not _resolved_by(f, reading.time) for f in fired)
        if covered:
            return
        # A worse flag of the same episode takes over the lower ones still waiting: the
        # nurse acknowledges the surge once, at its worst, not once per tier. Not a high BP
        # before the start: each such flag waits for a clinician's review before the
        # infusion may start (monitor.clinical.start_gate), and a worse reading is no review.
        held = self.key == "bp-high" and ctx.in_baseline(reading)
        for index in () if held else self.episode:
            lower = fired[index]
            if not _acknowledged_by(lower, reading.time) and lower.resolved_at is None:
                fired[index] = replace(lower, resolved_at=reading.time, resolution="escalated")
        fid = flag_id(session_id, self.key, level.severity, str(reading.id))
        fired.append(Flag(id=fid, key=self.key, measure=self.measure, severity=level.severity,
                          time=reading.time, message=level.message, reading_id=reading.id,
                          acknowledgement=acks.get(fid)))
        self.episode.append(len(fired) - 1)

    def _press(self, when: datetime, level: _Level) -> None:
        """Keep :attr:`pressing` up to date with the level of a reading with the measure."""
        pressing = level.severity is not None and level.severity >= Severity.WARNING
        still = bool(self.pressing) and self.pressing[-1][1] is None
        if pressing and not still:
            self.pressing.append((when, None))
        elif still and not pressing:
            self.pressing[-1] = (self.pressing[-1][0], when)


def _rules() -> list[tuple[str, Measure, _Rule]]:
    """Each condition's rule, fresh (``bp-high`` remembers the readings before)."""
    return [(key, measure, _BpHigh() if key == "bp-high" else _READING_RULES[key])
            for key, (measure, _) in CONDITIONS.items()]


class FlagEvaluation:
    """The flags the readings of a record raised, evaluated up to its latest reading.

    :meth:`of` evaluates a whole record; :meth:`extended` adds one reading at or after the
    latest and gives the same flags as evaluating the longer record again, as long as the
    phases, the baseline and the acknowledgements that decided earlier readings stay as they
    were (:meth:`extended` answers ``None`` when they might not). So a long session costs
    one reading's work per save instead of the whole record's.
    """

    __slots__ = (
        "count",
        "ctx",
        "firings",
        "last_time",
        "protocol",
        "seen_acks",
        "session_id",
        "started",
    )

    def __init__(self, session_id: UUID, protocol: Protocol, ctx: _Context, *,
                 firings: list[_Firing], seen_acks: dict[UUID, datetime],
                 last_time: datetime | None, count: int) -> None:
        self.session_id = session_id
        self.protocol = protocol
        self.ctx = ctx
        self.started = _started_at(ctx.changes)
        self.firings = firings
        self.seen_acks = seen_acks  # flag id → time of its first acknowledgement
        self.last_time = last_time
        self.count = count  # readings evaluated

    @classmethod
    def of(cls, record: SessionRecord, protocol: Protocol, *,
           readings: Sequence[Reading] | None = None,
           changes: list[tuple[datetime, Phase]] | None = None,
           acks: dict[UUID, Acknowledgement] | None = None) -> FlagEvaluation:
        """The readings' flags of ``record`` (taken as it stands; see :meth:`SessionRecord.as_of`).

        ``readings`` (in time order), ``changes`` and ``acks`` may be passed when the
        caller has them already.
        """
        readings = _in_order(record.readings) if readings is None else readings
        changes = phase_changes(record) if changes is None else changes
        if acks is None:
            acks = _first_acknowledgements(record.acknowledgements)
        ctx = _Context(protocol, changes, _baseline(readings, _started_at(changes)))
        firings = [_Firing(key, measure, rule) for key, measure, rule in _rules()]
        for firing in firings:
            for reading in readings:
                firing.step(record.session_id, reading, ctx, acks)
        return cls(record.session_id, protocol, ctx, firings=firings,
                   seen_acks={fid: ack.time for fid, ack in acks.items()},
                   last_time=readings[-1].time if readings else None, count=len(readings))

    def flags(self) -> list[Flag]:
        """The flags raised by readings, condition by condition, each in the order raised."""
        return [flag for firing in self.firings for flag in firing.fired]

    def current_levels(self) -> dict[Measure, Severity]:
        """:func:`current_levels` of the record evaluated."""
        return _worst_current((firing.measure, firing.latest) for firing in self.firings)

    def repeat_for(self, when: datetime) -> tuple[Measure, ...]:
        """The measures (of BP, HR, SpO2) whose latest value at ``when``, a reading's time,
        met a warning or critical tier: the next reading is a repeat, due sooner."""
        measures: list[Measure] = []
        for firing in self.firings:
            if firing.measure in REPEAT_MEASURES and firing.measure not in measures and any(
                    start <= when and (until is None or when < until)
                    for start, until in firing.pressing):
                measures.append(firing.measure)
        return tuple(sorted(measures, key=REPEAT_MEASURES.index))

    def pressing(self) -> bool:
        """Whether any BP, HR or SpO2 condition ever reached a warning or critical tier."""
        return any(f.pressing for f in self.firings if f.measure in REPEAT_MEASURES)

    def extended(self, reading: Reading,
                 acknowledgements: Iterable[Acknowledgement]) -> FlagEvaluation | None:
        """This evaluation with ``reading`` added after the others; ``None`` if that could
        differ from evaluating the whole record again.

        ``acknowledgements`` are all of the record's (as of the moment evaluated). It could
        differ when the reading is earlier than the latest one, when it is still part of the
        baseline (the baseline would change), or when an acknowledgement appeared that is
        dated no later than the latest reading (earlier readings might have fired
        differently). This evaluation is left as it was.
        """
        if self.last_time is not None and reading.time < self.last_time:
            return None
        if self.ctx.changes and (self.started is None or reading.time < self.started
                                 or self.ctx.baseline is None):
            return None
        return self._with(reading, _first_acknowledgements(acknowledgements))

    def refreshed(self, acknowledgements: Iterable[Acknowledgement]) -> FlagEvaluation | None:
        """This evaluation with the record's acknowledgements now (``None`` as for
        :meth:`extended`)."""
        return self._with(None, _first_acknowledgements(acknowledgements))

    def _with(self, reading: Reading | None,
              acks: dict[UUID, Acknowledgement]) -> FlagEvaluation | None:
        if not self._acks_follow(acks):
            return None
        seen = {fid: ack.time for fid, ack in acks.items()}
        if reading is None and seen == self.seen_acks:
            return self
        firings = [firing.copy() for firing in self.firings]
        for firing in firings:
            if seen != self.seen_acks:
                firing.fired = [_with_ack(flag, acks.get(flag.id)) for flag in firing.fired]
            if reading is not None:
                firing.step(self.session_id, reading, self.ctx, acks)
        if reading is None:
            return FlagEvaluation(self.session_id, self.protocol, self.ctx, firings=firings,
                                  seen_acks=seen, last_time=self.last_time, count=self.count)
        return FlagEvaluation(self.session_id, self.protocol, self.ctx, firings=firings,
                              seen_acks=seen, last_time=reading.time, count=self.count + 1)

    def _acks_follow(self, acks: dict[UUID, Acknowledgement]) -> bool:
        """Whether the acknowledgements differ from those seen only after the last reading."""
        if not self.seen_acks.keys() <= acks.keys():
            return False
        for fid, ack in acks.items():
            seen = self.seen_acks.get(fid)
            if seen == ack.time:
                continue
            if self.last_time is not None and (
                    ack.time <= self.last_time or (seen is not None and seen <= self.last_time)):
                return False
        return True


def _with_ack(flag: Flag, ack: Acknowledgement | None) -> Flag:
    return flag if flag.acknowledgement == ack else replace(flag, acknowledgement=ack)


def _resolved_by(flag: Flag, when: datetime) -> bool:
    return flag.resolved_at is not None and flag.resolved_at <= when


def _acknowledged_by(flag: Flag, when: datetime) -> bool:
    return flag.acknowledgement is not None and flag.acknowledgement.time <= when


def _first_acknowledgements(
    acknowledgements: Iterable[Acknowledgement],
) -> dict[UUID, Acknowledgement]:
    """Flag id → its earliest acknowledgement (a flag is acknowledged once it has one)."""
    first: dict[UUID, Acknowledgement] = {}
    for ack in sorted(acknowledgements, key=lambda a: a.time):
        first.setdefault(ack.flag_id, ack)
    return first


def _in_order(readings: Iterable[Reading]) -> tuple[Reading, ...]:
    return tuple(sorted(readings, key=lambda r: r.time))


# --- overdue readings ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Schedule:
    """A stretch of the session with one reading interval (infusion or recovery)."""

    start: datetime
    end: datetime | None
    interval: timedelta


def _schedules(changes: Sequence[tuple[datetime, Phase]], protocol: Protocol) -> list[_Schedule]:
    """The stretches in which readings are due.

    Infusing and paused form one stretch (a pause does not restart the clock); recovery is
    another; none are due in baseline or after discharge.
    """
    infusion = ("infusion", timedelta(minutes=protocol.intervals.infusion_reading_every_min))
    recovery = ("recovery", timedelta(minutes=protocol.intervals.recovery_reading_every_min))
    regimes = {Phase.INFUSING: infusion, Phase.PAUSED: infusion, Phase.RECOVERY: recovery}
    schedules: list[_Schedule] = []
    current: tuple[datetime, tuple[str, timedelta]] | None = None
    for time, phase in changes:
        regime = regimes.get(phase)
        if current is not None and regime == current[1]:
            continue
        if current is not None:
            schedules.append(_Schedule(current[0], time, current[1][1]))
        current = (time, regime) if regime is not None else None
    if current is not None:
        schedules.append(_Schedule(current[0], None, current[1][1]))
    return schedules


@dataclass(frozen=True, slots=True)
class NextReading:
    """When the next reading is due, and whether it is a repeat after a BP, HR or SpO2
    warning or critical (``repeat_for`` names those measures; empty: the usual reading)."""

    due: datetime
    repeat_for: tuple[Measure, ...] = ()


def next_reading(record: SessionRecord, protocol: Protocol, at: datetime, *,
                 evaluation: FlagEvaluation | None = None) -> NextReading | None:
    """The next reading due at ``at``; ``None`` in baseline and after discharge.

    Due = the later of the last reading with vital signs and the start of the current
    stretch (infusion or recovery), plus that stretch's interval — or, while the latest BP,
    HR or SpO2 at that reading met a warning or critical tier (see the module docstring),
    ``intervals.repeat_after_flag_min`` after that reading itself, even when the phase
    changed since (the earlier of the two). ``evaluation``, if given, is
    that of the record's readings as of ``at``.
    """
    record = record.as_of(at)
    schedules = _schedules(phase_changes(record), protocol)
    current = next((s for s in schedules if s.start <= at and (s.end is None or at < s.end)),
                   None)
    if current is None:
        return None
    last = next((r.time for r in reversed(_in_order(record.readings)) if r.has_vitals), None)
    if last is None:
        return NextReading(current.start + current.interval)
    if evaluation is None:
        evaluation = FlagEvaluation.of(record, protocol)
    repeat_for = evaluation.repeat_for(last)
    repeat = timedelta(minutes=protocol.intervals.repeat_after_flag_min)
    return NextReading(_due(last, current, repeat if repeat_for else None), repeat_for)


def _due(last: datetime, schedule: _Schedule, repeat: timedelta | None) -> datetime:
    """When the reading after ``last`` is due in ``schedule``; ``repeat``, if given, is the
    interval a warning asked for. That repeat stays counted from the reading that asked for
    it, whatever the phase change since (a pause, a stop, an early stop): moving it to the
    start of the new stretch would push back a repeat the clinic rule wants on time."""
    usual = max(last, schedule.start) + schedule.interval
    return usual if repeat is None else min(usual, last + repeat)


def next_reading_due(record: SessionRecord, protocol: Protocol, at: datetime, *,
                     evaluation: FlagEvaluation | None = None) -> datetime | None:
    """When the next reading is due at ``at`` (:func:`next_reading`); ``None`` in baseline
    and after discharge."""
    upcoming = next_reading(record, protocol, at, evaluation=evaluation)
    return upcoming.due if upcoming is not None else None


def _overdue_flags(record: SessionRecord, readings: Sequence[Reading], protocol: Protocol,
                   at: datetime, *, changes: Sequence[tuple[datetime, Phase]],
                   acks: dict[UUID, Acknowledgement],
                   evaluation: FlagEvaluation) -> list[Flag]:
    """One advisory per gap between ``readings`` (the record's, in time order) that ran past
    due + grace; due as :func:`next_reading` says (``evaluation`` is of the same readings).

    A gap is checked against each stretch it overlaps (a gap that starts in the infusion and
    runs into recovery is due by the infusion interval, and if it was not late by then, by
    the recovery interval from the stop). The flag resolves with the next reading, or at
    discharge when readings stop being due.
    """
    grace = timedelta(minutes=protocol.intervals.overdue_grace_min)
    schedules = _schedules(changes, protocol)
    discharged = next((t for t, p in changes if p is Phase.DISCHARGED), None)
    times = [r.time for r in readings if r.has_vitals]
    flags: list[Flag] = []
    repeat = timedelta(minutes=protocol.intervals.repeat_after_flag_min)
    # A gap no longer than the shortest interval plus grace cannot run late (a reading is
    # due no earlier than the interval after the last); long sessions have thousands. Only
    # a gap after a reading that asked for a repeat can run late sooner.
    shortest = min((s.interval for s in schedules), default=timedelta(0)) + grace
    quickest = min(shortest, repeat + grace) if evaluation.pressing() else shortest
    ends: list[datetime | None] = [*times[1:], None] if times else []
    gaps: list[tuple[datetime | None, datetime | None]] = [(None, times[0] if times else None)]
    for previous, following in zip(times, ends, strict=True):
        gap = (following if following is not None else at) - previous
        if gap > shortest or (gap > quickest and evaluation.repeat_for(previous)):
            gaps.append((previous, following))
    for last, following in gaps:
        horizon = following if following is not None else at
        repeat_for = evaluation.repeat_for(last) if last is not None else ()
        names = ", ".join(MEASURE_NAMES[m] for m in repeat_for)
        what = f"Repeat {names}" if names else "Reading"
        for schedule in schedules:
            if schedule.start >= horizon or (last is not None and schedule.end is not None
                                             and schedule.end <= last):
                continue
            due = (schedule.start + schedule.interval if last is None
                   else _due(last, schedule, repeat if repeat_for else None))
            late_at = due + grace
            stretch_end = horizon if schedule.end is None else min(schedule.end, horizon)
            if stretch_end <= late_at:
                continue
            resolved, resolution = following, "reading taken"
            if resolved is None and discharged is not None and discharged <= at:
                resolved, resolution = discharged, "discharged"
            fid = flag_id(record.session_id, OVERDUE, Severity.ADVISORY, due.isoformat())
            flags.append(Flag(
                id=fid, key=OVERDUE, measure=Measure.OVERDUE, severity=Severity.ADVISORY,
                time=late_at, resolved_at=resolved,
                resolution=resolution if resolved is not None else "",
                acknowledgement=acks.get(fid),
                message=f"{what} overdue by > {protocol.intervals.overdue_grace_min} min "
                        f"(due {clock_time(due)})",
            ))
            break
    return flags
