"""The level of each reading for each condition (``bp-high``, ``hr-low`` …): not applicable
(the measure is absent), normal, or a tier with the message the nurse reads.

A condition's rule looks at one reading, the :class:`~monitor.clinical.protocol.Protocol` and
the session's baseline; only ``bp-high`` also remembers the readings before it (a high BP
still there on a repeat within the window is critical). Whether a level fires a flag is
:mod:`monitor.clinical.rules`'s business.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.clinical.domain import Measure, Phase, Reading, Severity, clock_time
from monitor.clinical.protocol import Protocol
from monitor.clinical.scores import MOAAS_LEVELS


@dataclass(frozen=True, slots=True)
class Level:
    """A reading's level for one condition; ``severity`` None means normal."""

    severity: Severity | None
    message: str = ""


_NORMAL = Level(None)


@dataclass(frozen=True, slots=True)
class Context:
    """What a rule reads besides the reading: the protocol, the phase changes and the
    baseline."""

    protocol: Protocol
    changes: list[tuple[datetime, Phase]]
    baseline: Reading | None

    def in_baseline(self, reading: Reading) -> bool:
        # Same as phase_at(changes, reading.time) is BASELINE, without a scan per reading:
        # no change leads back to BASELINE, so it lasts until the first change.
        return not self.changes or reading.time < self.changes[0][0]


Rule = Callable[[Reading, Context], Level | None]


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

    def __call__(self, reading: Reading, ctx: Context) -> Level | None:
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
        level: Level
        if (_at_or_above(reading.sbp, bp.high_critical_sbp_at_or_above)
                or _at_or_above(reading.dbp, bp.high_critical_dbp_at_or_above)):
            crossed = _bp_crossed(reading, bp.high_critical_sbp_at_or_above,
                                  bp.high_critical_dbp_at_or_above)
            level = Level(Severity.CRITICAL, f"BP {_bp(reading)}: {crossed}")
        elif high and repeat and run_start is not None:
            level = Level(Severity.CRITICAL, f"BP {_bp(reading)}: still {limit} on repeat "
                                              f"(first {clock_time(run_start.time)})")
        elif high:
            # The repeat is asked for at the interval the next reading is due by.
            repeat_in = ctx.protocol.intervals.repeat_after_flag_min
            level = Level(Severity.WARNING, f"BP {_bp(reading)}: {limit} — repeat within "
                                             f"{repeat_in} min")
        elif ctx.in_baseline(reading) and (
                _at_or_above(reading.sbp, base.warning_sbp_at_or_above)
                or _at_or_above(reading.dbp, base.warning_dbp_at_or_above)):
            crossed = _bp_crossed(reading, base.warning_sbp_at_or_above,
                                  base.warning_dbp_at_or_above)
            level = Level(Severity.WARNING, f"Baseline BP {_bp(reading)}: {crossed} — "
                                             "clinician review before start")
        elif ctx.in_baseline(reading) and (
                _at_or_above(reading.sbp, base.advisory_sbp_at_or_above)
                or _at_or_above(reading.dbp, base.advisory_dbp_at_or_above)):
            crossed = _bp_crossed(reading, base.advisory_sbp_at_or_above,
                                  base.advisory_dbp_at_or_above)
            level = Level(Severity.ADVISORY, f"Baseline BP {_bp(reading)}: {crossed} — "
                                              "consider delaying the infusion")
        else:
            level = _NORMAL
        self.run_start = (run_start if repeat else reading) if high else None
        self.previous = reading
        return level


def _bp_high_levels(readings: Sequence[Reading], ctx: Context) -> list[Level | None]:
    """:class:`_BpHigh` levels of readings in time order."""
    walker = _BpHigh()
    return [walker(reading, ctx) for reading in readings]


def _bp_rise(reading: Reading, ctx: Context) -> Level | None:
    """``bp-rise``: SBP at or above baseline + the protocol's percentage, after baseline only."""
    base = ctx.baseline
    if reading.sbp is None or base is None or base.sbp is None or ctx.in_baseline(reading):
        return None
    limit = ctx.protocol.bp.rise_advisory_percent_at_or_above
    # Integer arithmetic: 120 × 1.30 is 156.00000000000003 in floating point.
    if (reading.sbp - base.sbp) * 100 < limit * base.sbp:
        return _NORMAL
    rise = round((reading.sbp - base.sbp) * 100 / base.sbp)
    return Level(Severity.ADVISORY, f"SBP {reading.sbp} is {rise} % above baseline {base.sbp} "
                                     f"(limit {limit} %)")


def _bp_low(reading: Reading, ctx: Context) -> Level | None:
    bp = ctx.protocol.bp
    if reading.sbp is None:
        return None
    if reading.sbp < bp.low_critical_sbp_below:
        return Level(Severity.CRITICAL, f"SBP {reading.sbp} < {bp.low_critical_sbp_below}")
    if reading.sbp < bp.low_warning_sbp_below:
        return Level(Severity.WARNING, f"SBP {reading.sbp} < {bp.low_warning_sbp_below}")
    return _NORMAL


def _above(label: str, value: int | None, warning: int | None, critical: int | None, *,
           advisory: int | None = None, unit: str = "") -> Level | None:
    """Level of a value with ``≥`` limits at any of the three tiers (``None``: no such tier)."""
    if value is None:
        return None
    for severity, limit in ((Severity.CRITICAL, critical), (Severity.WARNING, warning),
                            (Severity.ADVISORY, advisory)):
        if limit is not None and value >= limit:
            return Level(severity, f"{label} {value}{unit} ≥ {limit}{unit}")
    return _NORMAL


def _below(label: str, value: int | None, warning: int | None, critical: int, *,
           advisory: int | None = None, unit: str = "") -> Level | None:
    """Level of a value with ``≤`` limits at any of the three tiers (``None``: no such tier)."""
    if value is None:
        return None
    for severity, limit in ((Severity.CRITICAL, critical), (Severity.WARNING, warning),
                            (Severity.ADVISORY, advisory)):
        if limit is not None and value <= limit:
            return Level(severity, f"{label} {value}{unit} ≤ {limit}{unit}")
    return _NORMAL


def _hr_high(reading: Reading, ctx: Context) -> Level | None:
    hr = ctx.protocol.hr
    return _above("HR", reading.hr, hr.high_warning_at_or_above, hr.high_critical_at_or_above)


def _hr_low(reading: Reading, ctx: Context) -> Level | None:
    hr = ctx.protocol.hr
    return _below("HR", reading.hr, None, hr.low_critical_at_or_below,
                  advisory=hr.low_advisory_at_or_below)


def _spo2_low(reading: Reading, ctx: Context) -> Level | None:
    spo2 = ctx.protocol.spo2
    level = _below("SpO2", reading.spo2, spo2.low_warning_at_or_below,
                   spo2.low_critical_at_or_below, unit=" %")
    if level is not None and level.severity is not None and reading.on_oxygen:
        return Level(level.severity, f"{level.message} on oxygen")
    return level


def _rr_low(reading: Reading, ctx: Context) -> Level | None:
    rr = ctx.protocol.rr
    return _below("RR", reading.rr, None, rr.low_critical_at_or_below,
                  advisory=rr.low_advisory_at_or_below)


def _rr_high(reading: Reading, ctx: Context) -> Level | None:
    rr = ctx.protocol.rr
    return _above("RR", reading.rr, rr.high_warning_at_or_above, rr.high_critical_at_or_above)


def _moaas_low(reading: Reading, ctx: Context) -> Level | None:
    moaas = ctx.protocol.moaas
    level = _below("MOAA/S", reading.moaas, moaas.warning_at_or_below,
                   moaas.critical_at_or_below)
    if level is not None and level.severity is not None and reading.moaas is not None:
        observed = MOAAS_LEVELS.get(reading.moaas, "")
        return Level(level.severity, f"{level.message} — {observed}")
    return level


def _cadss6_high(reading: Reading, ctx: Context) -> Level | None:
    return _above("CADSS-6", reading.cadss6, None, None,
                  advisory=ctx.protocol.cadss6.advisory_at_or_above)


def _nausea_high(reading: Reading, ctx: Context) -> Level | None:
    return _above("Nausea", reading.nausea, None, None,
                  advisory=ctx.protocol.nausea.advisory_at_or_above, unit="/10")


def _phq9_item9(reading: Reading, ctx: Context) -> Level | None:
    item9 = reading.phq9_item9
    if item9 is None:
        return None
    if item9 <= ctx.protocol.phq9.item9_warning_above:
        return _NORMAL
    return Level(Severity.WARNING, f"PHQ-9 item 9 (self-harm) scored {item9} — "
                                    "tell the clinician")


def _each(rule: Rule) -> Callable[[Sequence[Reading], Context], list[Level | None]]:
    def levels(readings: Sequence[Reading], ctx: Context) -> list[Level | None]:
        return [rule(reading, ctx) for reading in readings]

    return levels


#: Condition key → (measure, levels of each reading in time order).
CONDITIONS: dict[str, tuple[Measure, Callable[[Sequence[Reading], Context],
                                              list[Level | None]]]] = {
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
_READING_RULES: dict[str, Rule] = {
    "bp-rise": _bp_rise, "bp-low": _bp_low, "hr-high": _hr_high, "hr-low": _hr_low,
    "spo2-low": _spo2_low, "rr-low": _rr_low, "rr-high": _rr_high, "moaas-low": _moaas_low,
    "cadss6-high": _cadss6_high, "nausea-high": _nausea_high, "phq9-item9": _phq9_item9,
}


def fresh_rules() -> list[tuple[str, Measure, Rule]]:
    """Each condition's rule, fresh (``bp-high`` remembers the readings before)."""
    return [(key, measure, _BpHigh() if key == "bp-high" else _READING_RULES[key])
            for key, (measure, _) in CONDITIONS.items()]


def rule_copy(rule: Rule) -> Rule:
    """``rule`` with what it remembers copied, so the copy can go on apart from it."""
    return rule.copy() if isinstance(rule, _BpHigh) else rule
