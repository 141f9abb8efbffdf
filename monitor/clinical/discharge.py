"""Discharge readiness: each criterion met or not and why, the modified Aldrete score, the
adapted PADSS, and the time the patient would have been ready without a minimum stay.

Pure functions of the record, the protocol, the flags and the moment ``at``; values count
only if measured after the infusion stopped (strictly after: a reading taken as the pump is
stopped belongs to the infusion), because a calm baseline says nothing about how the patient
is now.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from monitor.clinical.domain import (
    Criterion,
    DischargeAssessment,
    EventKind,
    Flag,
    Reading,
    Score,
    ScoreItem,
    SessionRecord,
    Severity,
    clock_time,
)
from monitor.clinical.phases import baseline, infusion_started_at, infusion_stopped_at
from monitor.clinical.protocol import Protocol
from monitor.clinical.protocol_schema import ObservationAnchor
from monitor.clinical.scores import MOAAS_LEVELS

#: Criterion ids in the order the nurse sees them.
CRITERIA = (
    "min_observation",
    "vitals_near_baseline",
    "spo2",
    "sedation",
    "dissociation",
    "nausea",
    "orientation_gait",
    "escort",
    "flags_acknowledged",
)

# Item bands of the published scores (Aldrete & Kroulik 1970, modified Aldrete 1995; Chung's
# PADSS 1995). They define the scores, so they are not clinic settings.
_ALDRETE_BP_FULL_PERCENT = 20  # circulation 2: BP within ±20 % of baseline
_ALDRETE_BP_PARTIAL_PERCENT = 50  # circulation 1: 20–49 %; 0: ≥ 50 %
_ALDRETE_SPO2_ROOM_AIR_ABOVE = 92  # SpO2 2: > 92 % on room air
_ALDRETE_SPO2_ANY_ABOVE = 90  # SpO2 1: > 90 % (with oxygen); 0: below
_PADSS_VITALS_FULL_PERCENT = 20  # vital signs 2: within 20 % of baseline
_PADSS_VITALS_PARTIAL_PERCENT = 40  # vital signs 1: 20–40 %; 0: > 40 %
_PAIN_MILD_AT_OR_BELOW = 3  # pain 0–10: ≤ 3 mild, 4–6 moderate, ≥ 7 severe
_PAIN_MODERATE_AT_OR_BELOW = 6


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the criteria and scores read from a record."""

    start: datetime | None
    stop: datetime | None
    baseline: Reading | None
    recovery: tuple[Reading, ...]
    gait_at: datetime | None
    escort_at: datetime | None

    @classmethod
    def of(cls, record: SessionRecord) -> _Facts:
        stop = infusion_stopped_at(record)
        # Strictly after the stop: a reading taken as the pump is stopped shows the patient at
        # the end of the infusion, not recovering.
        recovery = tuple(sorted((r for r in record.readings if stop is not None and r.time > stop),
                                key=lambda r: r.time))
        gait = [e.time for e in record.events if e.kind is EventKind.ORIENTED_STEADY_GAIT
                and stop is not None and e.time > stop]
        escort = [e.time for e in record.events if e.kind is EventKind.ESCORT_PRESENT]
        return cls(infusion_started_at(record), stop, baseline(record), recovery,
                   min(gait, default=None), min(escort, default=None))

    def last(self, measure: str) -> Reading | None:
        """The last recovery reading that has ``measure``."""
        return next((r for r in reversed(self.recovery) if getattr(r, measure) is not None), None)

    def as_of(self, when: datetime) -> _Facts:
        """The facts of the record as it stood at ``when``, a moment after the stop.

        Once the infusion has stopped for good its start, its stop and the baseline (all
        readings before the start) are settled; only what was entered after the stop grows.
        The baseline only falls away when it is the stand-in first reading, taken after
        ``when``.
        """
        return _Facts(
            start=self.start,
            stop=self.stop,
            baseline=_by(self.baseline, when),
            recovery=tuple(r for r in self.recovery if r.time <= when),
            gait_at=self.gait_at if self.gait_at is not None and self.gait_at <= when else None,
            escort_at=(self.escort_at if self.escort_at is not None and self.escort_at <= when
                       else None),
        )


def _by(reading: Reading | None, when: datetime) -> Reading | None:
    return reading if reading is not None and reading.time <= when else None


def evaluate_discharge(record: SessionRecord, protocol: Protocol, flags: Sequence[Flag],
                       at: datetime, *, escort_name: str = "") -> DischargeAssessment:
    """Whether the patient may go home at ``at``, criterion by criterion.

    ``flags`` are :func:`monitor.clinical.rules.evaluate_flags` of the same record at the same
    ``at``.
    ``escort_name`` is the escort named at check-in, if any: only the nurse's "Escort present"
    entry meets the escort criterion, the name only says whom she is waiting for.
    """
    record = record.as_of(at)
    facts = _Facts.of(record)
    criteria = _criteria(facts, protocol, flags, at, escort_name)
    return DischargeAssessment(
        ready=all(c.met for c in criteria),
        criteria=criteria,
        would_have_been_ready_at=_would_have_been_ready_at(record, protocol, facts, flags),
        aldrete=_modified_aldrete(facts, protocol),
        padss=_adapted_padss(facts, protocol),
    )


def _criteria(facts: _Facts, protocol: Protocol, flags: Sequence[Flag],
              at: datetime, escort_name: str = "") -> tuple[Criterion, ...]:
    return (_min_observation(facts, protocol, at),
            *_criteria_but_min_stay(facts, protocol, flags, escort_name))


def _criteria_but_min_stay(facts: _Facts, protocol: Protocol, flags: Sequence[Flag],
                           escort_name: str = "") -> Iterator[Criterion]:
    """Every criterion after the minimum stay, in order, each worked out only when asked for
    (the search for the would-have-been-ready time stops at the first one not met)."""
    yield _vitals_near_baseline(facts, protocol)
    yield _spo2(facts, protocol)
    yield _sedation(facts, protocol)
    yield _dissociation(facts, protocol)
    yield _nausea(facts, protocol)
    yield _orientation_gait(facts)
    yield _escort(facts, escort_name)
    yield _flags_acknowledged(flags)


def _would_have_been_ready_at(record: SessionRecord, protocol: Protocol, facts: _Facts,
                              flags: Sequence[Flag]) -> datetime | None:
    """The earliest moment after the stop at which every criterion but the minimum stay held.

    Only moments when something was entered can change the answer, so those are the
    candidates: reading, event and acknowledgement times. ``facts`` and ``flags`` are those
    of ``record`` at the latest moment; each candidate sees them as they stood then.
    """
    # The gait and escort criteria hold from the moment each is recorded (the gait only
    # after the stop), so the answer is none while one is missing, and no earlier moment.
    if facts.stop is None or facts.gait_at is None or facts.escort_at is None:
        return None
    return _first_met(record, protocol, facts, flags, max(facts.gait_at, facts.escort_at))


def ready_at(record: SessionRecord, protocol: Protocol, flags: Sequence[Flag]) -> datetime | None:
    """The earliest moment at which every criterion held, the minimum stay included.

    As :attr:`DischargeAssessment.would_have_been_ready_at`, but not before the minimum
    observation time has passed; ``None`` while some criterion never held. ``flags`` are
    :func:`monitor.clinical.rules.evaluate_flags` of the record at its latest moment (an empty list
    leaves the acknowledgement of flags out of the question).
    """
    facts = _Facts.of(record)
    if facts.stop is None or facts.gait_at is None or facts.escort_at is None:
        return None
    rule = protocol.discharge
    anchor = facts.stop
    if rule.min_observation_from is ObservationAnchor.INFUSION_START and facts.start is not None:
        anchor = facts.start
    stay_ends = anchor + timedelta(minutes=rule.min_observation_min)
    return _first_met(record, protocol, facts, flags,
                      max(facts.gait_at, facts.escort_at, stay_ends))


def _first_met(record: SessionRecord, protocol: Protocol, facts: _Facts, flags: Sequence[Flag],
               earliest: datetime) -> datetime | None:
    """The first moment from ``earliest`` on at which every criterion but the minimum stay
    held; ``facts`` and ``flags`` as for :func:`_would_have_been_ready_at`."""
    times = [earliest, *(r.time for r in record.readings), *(e.time for e in record.events),
             *(a.time for a in record.acknowledgements)]
    # Only warning and critical flags count for discharge (_flags_acknowledged), and the
    # rules raise those on readings: such a flag carries its reading's time, is never
    # resolved, and is decided by the readings, events and acknowledgements up to that time.
    # So the flags the rules would give for the record as of a later moment are these, less
    # acknowledgements made after it.
    counted = [f for f in flags if f.severity >= Severity.WARNING]
    for when in sorted({t for t in times if t >= earliest}):
        then = [f if f.acknowledgement is None or f.acknowledgement.time <= when
                else replace(f, acknowledgement=None)
                for f in counted if f.time <= when]
        if all(c.met for c in _criteria_but_min_stay(facts.as_of(when), protocol, then)):
            return when
    return None


# --- criteria -----------------------------------------------------------------------------

_NOT_STOPPED = "infusion not stopped yet"


def _min_observation(facts: _Facts, protocol: Protocol, at: datetime) -> Criterion:
    rule = protocol.discharge
    if facts.stop is None:
        return Criterion("min_observation", False, _NOT_STOPPED)
    if rule.min_observation_from is ObservationAnchor.INFUSION_START and facts.start is not None:
        anchor, since = facts.start, "since the dose (infusion start)"
    else:
        anchor, since = facts.stop, "since infusion stop"
    elapsed = int((at - anchor).total_seconds() // 60)
    ready_at = anchor + timedelta(minutes=rule.min_observation_min)
    if at >= ready_at:
        return Criterion("min_observation", True,
                         f"{elapsed} min {since} (minimum {rule.min_observation_min})")
    return Criterion("min_observation", False, f"{elapsed} of {rule.min_observation_min} min "
                                               f"{since} — ready at {_clock_up(ready_at)}")


def _vitals_near_baseline(facts: _Facts, protocol: Protocol) -> Criterion:
    limit = protocol.discharge.vitals_within_percent_of_baseline
    name = "vitals_near_baseline"
    if facts.stop is None:
        return Criterion(name, False, _NOT_STOPPED)
    base = facts.baseline
    if base is None or base.sbp is None or base.hr is None:
        return Criterion(name, False, "no baseline BP and HR to compare with")
    bp, hr = facts.last("sbp"), facts.last("hr")
    if bp is None or hr is None:
        missing = " or ".join(n for n, r in (("BP", bp), ("HR", hr)) if r is None)
        return Criterion(name, False, f"no {missing} since infusion stop")
    problems = []
    bp_value, bp_base, bp_dev = _worst_bp_deviation(bp, base)
    if not _within(bp_value, bp_base, limit):
        problems.append(f"last BP {_bp(bp)} is {_percent_off(bp_value, bp_base)} baseline "
                        f"{_bp(base)} (limit {limit} %)")
    assert hr.hr is not None
    if not _within(hr.hr, base.hr, limit):
        problems.append(f"last HR {hr.hr} is {_percent_off(hr.hr, base.hr)} baseline {base.hr} "
                        f"(limit {limit} %)")
    if problems:
        return Criterion(name, False, "; ".join(problems))
    return Criterion(name, True, f"last BP {_bp(bp)} ({bp_dev:.0f} % off) and HR {hr.hr} within "
                                 f"{limit} % of baseline {_bp(base)}, HR {base.hr}")


def _spo2(facts: _Facts, protocol: Protocol) -> Criterion:
    need = protocol.discharge.spo2_at_or_above
    if facts.stop is None:
        return Criterion("spo2", False, _NOT_STOPPED)
    last = facts.last("spo2")
    if last is None or last.spo2 is None:
        return Criterion("spo2", False, "no SpO2 since infusion stop")
    if last.on_oxygen:
        return Criterion("spo2", False, f"last SpO2 {last.spo2} % was on oxygen — needs "
                                        f"≥ {need} % on room air")
    if last.spo2 < need:
        return Criterion("spo2", False, f"last SpO2 {last.spo2} % is below {need} %")
    return Criterion("spo2", True, f"last SpO2 {last.spo2} % on room air (needs ≥ {need} %)")


def _sedation(facts: _Facts, protocol: Protocol) -> Criterion:
    need = protocol.discharge.moaas_at_or_above
    wanted = f"{need}" if need == max(MOAAS_LEVELS) else f"≥ {need}"
    if facts.stop is None:
        return Criterion("sedation", False, _NOT_STOPPED)
    last = facts.last("moaas")
    if last is None or last.moaas is None:
        return Criterion("sedation", False, "no MOAA/S since infusion stop")
    observed = MOAAS_LEVELS.get(last.moaas, "")
    if last.moaas < need:
        return Criterion("sedation", False, f"MOAA/S {last.moaas} ({observed}) — needs {wanted}")
    return Criterion("sedation", True, f"MOAA/S {last.moaas} ({observed})")


def _dissociation(facts: _Facts, protocol: Protocol) -> Criterion:
    allowance = protocol.discharge.cadss6_above_baseline_at_most
    if facts.stop is None:
        return Criterion("dissociation", False, _NOT_STOPPED)
    last = facts.last("cadss6")
    if last is None or last.cadss6 is None:
        return Criterion("dissociation", False, "no CADSS-6 since infusion stop")
    base = facts.baseline.cadss6 if facts.baseline is not None else None
    if base is None:
        # Nothing to compare with: not assessable, so not met (a clinician may override).
        return Criterion("dissociation", False,
                         f"CADSS-6 {last.cadss6}, but no baseline CADSS-6 recorded: not "
                         "assessable without one (a clinician may override)")
    if last.cadss6 <= base + allowance:
        return Criterion("dissociation", True,
                         f"CADSS-6 {last.cadss6} ≤ baseline {base} + {allowance}")
    return Criterion("dissociation", False,
                     f"CADSS-6 {last.cadss6} > baseline {base} + {allowance}")


def _nausea(facts: _Facts, protocol: Protocol) -> Criterion:
    limit = protocol.discharge.nausea_at_or_below
    if facts.stop is None:
        return Criterion("nausea", False, _NOT_STOPPED)
    last = facts.last("nausea")
    if last is None or last.nausea is None:
        return Criterion("nausea", False, "no nausea score since infusion stop")
    if last.nausea <= limit:
        return Criterion("nausea", True, f"nausea {last.nausea}/10 (limit {limit})")
    return Criterion("nausea", False, f"nausea {last.nausea}/10 is above {limit}")


def _orientation_gait(facts: _Facts) -> Criterion:
    if facts.stop is None:
        return Criterion("orientation_gait", False, _NOT_STOPPED)
    if facts.gait_at is None:
        return Criterion("orientation_gait", False,
                         "oriented ×3 and steady gait not attested since infusion stop")
    return Criterion("orientation_gait", True,
                     f"oriented ×3 and steady gait attested at {clock_time(facts.gait_at)}")


def _escort(facts: _Facts, escort_name: str = "") -> Criterion:
    if facts.escort_at is None:
        name = escort_name.strip()
        if name:
            return Criterion("escort", False,
                             f"escort ({name}, named at check-in) not yet confirmed present")
        return Criterion("escort", False, "escort not yet confirmed present")
    return Criterion("escort", True, f"escort present (recorded {clock_time(facts.escort_at)})")


def _flags_acknowledged(flags: Sequence[Flag]) -> Criterion:
    pending = [f for f in flags if f.open and f.severity >= Severity.WARNING]
    if not pending:
        return Criterion("flags_acknowledged", True, "no unacknowledged warning or critical flag")
    listed = "; ".join(f"{f.severity.label}: {f.message}" for f in pending)
    return Criterion("flags_acknowledged", False, f"{len(pending)} not acknowledged — {listed}")


# --- scores -------------------------------------------------------------------------------


def _modified_aldrete(facts: _Facts, protocol: Protocol) -> Score:
    """The modified Aldrete score (0–10) from what was measured after the infusion stopped.

    An item nothing was measured for is *not assessed*: 0 points, and the score is
    incomplete (it does not pass) until it is measured.

    - activity: 2 when oriented ×3 and steady gait are attested (the patient moves all
      extremities and walks); 1 when awake enough to move on command (MOAA/S ≥ 4) but gait is
      not attested yet; 0 when less awake; not assessed with neither gait nor MOAA/S.
    - breathing: from the last RR — 2 when no RR limit is reached, 1 in the low advisory
      or high warning band, 0 in the critical band. RR is optional: without one, 2 when
      the last SpO2 on room air meets the discharge limit (breathing adequately), 1 when
      it does not; not assessed with neither.
    - circulation: the larger deviation of SBP and DBP from baseline — 2 within ±20 %,
      1 from 20 % to 49 %, 0 at 50 % or more; not assessed without a BP since the stop and
      at baseline.
    - consciousness: from MOAA/S — 2 fully awake (5), 1 arousable by voice (3–4),
      0 responding only to touch or pain, or not at all (0–2); not assessed without one.
    - SpO2: 2 above 92 % on room air, 1 above 90 % (or on oxygen), 0 otherwise; not
      assessed without one.
    """
    items = (
        _aldrete_activity(facts),
        _aldrete_breathing(facts, protocol),
        _aldrete_circulation(facts),
        _aldrete_consciousness(facts),
        _aldrete_spo2(facts),
    )
    return Score("modified Aldrete", sum(i.points for i in items), 10,
                 protocol.discharge.aldrete_passing_at_or_above, items)


def _adapted_padss(facts: _Facts, protocol: Protocol) -> Score:
    """The Post-Anesthetic Discharge Scoring System adapted to an infusion (0–8).

    Bleeding and fluids/voiding do not apply, so four of the six items remain. An item
    nothing was measured for is *not assessed*: 0 points, and the score is incomplete (it
    does not pass) until it is measured — a missing pain score is not "no pain".

    - vital signs: the largest deviation of SBP, DBP and HR from baseline — 2 within 20 %,
      1 from 20 % to 40 %, 0 beyond 40 %; not assessed without BP and HR since the stop
      and at baseline.
    - ambulation/orientation: 2 when oriented ×3 and steady gait are attested, 1 when fully
      awake (MOAA/S 5) but not attested yet, 0 when less awake; not assessed with neither.
    - nausea/vomiting: from the last nausea score — 2 at or below the discharge limit
      (minimal), 1 below the nausea advisory limit (moderate), 0 at or above it (severe);
      not assessed without one.
    - pain: from the last pain score — 2 at 0–3, 1 at 4–6, 0 at 7–10; not assessed
      without one.
    """
    items = (
        _padss_vitals(facts),
        _padss_ambulation(facts),
        _padss_nausea(facts, protocol),
        _padss_pain(facts),
    )
    return Score("adapted PADSS", sum(i.points for i in items), 8,
                 protocol.discharge.padss_passing_at_or_above, items)


def _aldrete_activity(facts: _Facts) -> ScoreItem:
    last = facts.last("moaas")
    if facts.gait_at is not None:
        return ScoreItem("activity", 2, 2, "steady gait attested")
    if last is None or last.moaas is None:
        return _not_assessed("activity", "gait not attested and no MOAA/S since infusion stop")
    if last.moaas >= 4:
        return ScoreItem("activity", 1, 2, f"MOAA/S {last.moaas}, gait not attested yet")
    return ScoreItem("activity", 0, 2, f"gait not attested and not awake (MOAA/S {last.moaas})")


def _aldrete_breathing(facts: _Facts, protocol: Protocol) -> ScoreItem:
    rr = protocol.rr
    last = facts.last("rr")
    if last is not None and last.rr is not None:
        value = last.rr
        if value <= rr.low_critical_at_or_below or value >= rr.high_critical_at_or_above:
            return ScoreItem("breathing", 0, 2, f"RR {value} in the critical band")
        if value >= rr.high_warning_at_or_above:
            return ScoreItem("breathing", 1, 2, f"RR {value} in the warning band")
        if value <= rr.low_advisory_at_or_below:
            return ScoreItem("breathing", 1, 2, f"RR {value} in the advisory band")
        return ScoreItem("breathing", 2, 2, f"RR {value}")
    spo2 = facts.last("spo2")
    if spo2 is None or spo2.spo2 is None:
        return _not_assessed("breathing", "no RR or SpO2 since infusion stop")
    if not spo2.on_oxygen and spo2.spo2 >= protocol.discharge.spo2_at_or_above:
        return ScoreItem("breathing", 2, 2, f"RR not recorded; SpO2 {spo2.spo2} % on room air")
    return ScoreItem("breathing", 1, 2, f"RR not recorded; SpO2 {spo2.spo2} %"
                                        f"{' on oxygen' if spo2.on_oxygen else ''}")


def _aldrete_circulation(facts: _Facts) -> ScoreItem:
    last, base = facts.last("sbp"), facts.baseline
    if last is None or base is None or base.sbp is None:
        return _not_assessed("circulation", "no BP since infusion stop or no baseline BP")
    value, reference, deviation = _worst_bp_deviation(last, base)
    detail = f"BP {_bp(last)} is {deviation:.0f} % off baseline {_bp(base)}"
    if _within(value, reference, _ALDRETE_BP_FULL_PERCENT):
        return ScoreItem("circulation", 2, 2, detail)
    if abs(value - reference) * 100 < _ALDRETE_BP_PARTIAL_PERCENT * reference:
        return ScoreItem("circulation", 1, 2, detail)
    return ScoreItem("circulation", 0, 2, detail)


def _aldrete_consciousness(facts: _Facts) -> ScoreItem:
    last = facts.last("moaas")
    if last is None or last.moaas is None:
        return _not_assessed("consciousness", "no MOAA/S since infusion stop")
    detail = f"MOAA/S {last.moaas} ({MOAAS_LEVELS.get(last.moaas, '')})"
    points = 2 if last.moaas >= 5 else 1 if last.moaas >= 3 else 0
    return ScoreItem("consciousness", points, 2, detail)


def _aldrete_spo2(facts: _Facts) -> ScoreItem:
    last = facts.last("spo2")
    if last is None or last.spo2 is None:
        return _not_assessed("SpO2", "no SpO2 since infusion stop")
    air = "on oxygen" if last.on_oxygen else "on room air"
    detail = f"SpO2 {last.spo2} % {air}"
    if not last.on_oxygen and last.spo2 > _ALDRETE_SPO2_ROOM_AIR_ABOVE:
        return ScoreItem("SpO2", 2, 2, detail)
    if last.spo2 > _ALDRETE_SPO2_ANY_ABOVE:
        return ScoreItem("SpO2", 1, 2, detail)
    return ScoreItem("SpO2", 0, 2, detail)


def _padss_vitals(facts: _Facts) -> ScoreItem:
    base = facts.baseline
    bp, hr = facts.last("sbp"), facts.last("hr")
    if base is None or base.sbp is None or base.hr is None or bp is None or hr is None:
        return _not_assessed("vital signs", "BP and HR since infusion stop and at baseline "
                                            "are needed")
    assert hr.hr is not None
    bp_value, bp_base, _ = _worst_bp_deviation(bp, base)
    pairs = ((bp_value, bp_base), (hr.hr, base.hr))
    detail = f"BP {_bp(bp)}, HR {hr.hr} vs baseline {_bp(base)}, HR {base.hr}"
    if all(_within(v, b, _PADSS_VITALS_FULL_PERCENT) for v, b in pairs):
        return ScoreItem("vital signs", 2, 2, f"{detail}: within 20 %")
    if all(_within(v, b, _PADSS_VITALS_PARTIAL_PERCENT) for v, b in pairs):
        return ScoreItem("vital signs", 1, 2, f"{detail}: within 20–40 %")
    return ScoreItem("vital signs", 0, 2, f"{detail}: more than 40 % off")


def _padss_ambulation(facts: _Facts) -> ScoreItem:
    last = facts.last("moaas")
    if facts.gait_at is not None:
        return ScoreItem("ambulation/orientation", 2, 2, "oriented ×3 and steady gait attested")
    if last is None or last.moaas is None:
        return _not_assessed("ambulation/orientation",
                             "gait not attested and no MOAA/S since infusion stop")
    if last.moaas >= 5:
        return ScoreItem("ambulation/orientation", 1, 2, "awake (MOAA/S 5), gait not attested")
    return ScoreItem("ambulation/orientation", 0, 2,
                     f"gait not attested, not fully awake (MOAA/S {last.moaas})")


def _padss_nausea(facts: _Facts, protocol: Protocol) -> ScoreItem:
    last = facts.last("nausea")
    if last is None or last.nausea is None:
        return _not_assessed("nausea/vomiting", "no nausea score since infusion stop")
    detail = f"nausea {last.nausea}/10"
    if last.nausea <= protocol.discharge.nausea_at_or_below:
        return ScoreItem("nausea/vomiting", 2, 2, f"{detail} (minimal)")
    if last.nausea < protocol.nausea.advisory_at_or_above:
        return ScoreItem("nausea/vomiting", 1, 2, f"{detail} (moderate)")
    return ScoreItem("nausea/vomiting", 0, 2, f"{detail} (severe)")


def _padss_pain(facts: _Facts) -> ScoreItem:
    last = facts.last("pain")
    if last is None or last.pain is None:
        return _not_assessed("pain", "no pain score since infusion stop")
    detail = f"pain {last.pain}/10"
    if last.pain <= _PAIN_MILD_AT_OR_BELOW:
        return ScoreItem("pain", 2, 2, detail)
    if last.pain <= _PAIN_MODERATE_AT_OR_BELOW:
        return ScoreItem("pain", 1, 2, detail)
    return ScoreItem("pain", 0, 2, detail)


# --- helpers ------------------------------------------------------------------------------


def _not_assessed(name: str, why: str) -> ScoreItem:
    """An item nothing was measured for: no points, and the score stays incomplete."""
    return ScoreItem(name, 0, 2, why, assessed=False)


def _within(value: int, reference: int, percent: int) -> bool:
    """``value`` within ± ``percent`` of ``reference``, in exact integer arithmetic."""
    return abs(value - reference) * 100 <= percent * reference


def _worst_bp_deviation(reading: Reading, base: Reading) -> tuple[int, int, float]:
    """(value, baseline value, % deviation) of whichever of SBP and DBP is further off."""
    pairs = [(v, b) for v, b in ((reading.sbp, base.sbp), (reading.dbp, base.dbp))
             if v is not None and b is not None and b > 0]
    value, reference = max(pairs, key=lambda p: abs(p[0] - p[1]) / p[1])
    return value, reference, abs(value - reference) * 100 / reference


def _percent_off(value: int, reference: int) -> str:
    percent = round(abs(value - reference) * 100 / reference)
    return f"{percent} % {'above' if value >= reference else 'below'}"


def _bp(reading: Reading) -> str:
    dbp = "–" if reading.dbp is None else str(reading.dbp)
    return f"{reading.sbp}/{dbp}"


def _clock_up(when: datetime) -> str:
    """``HH:MM``, rounded up to the minute: "ready at" must never be early."""
    if when.second or when.microsecond:
        when = when.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return clock_time(when)
