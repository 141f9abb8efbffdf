"""Discharge readiness: each criterion met or not and why, the recovery scores
(:mod:`monitor.clinical.recovery`), and the time the patient would have been ready without
a minimum stay.

Pure functions of the record, the protocol, the flags and the moment ``at``; values count
only if measured after the infusion stopped (strictly after: a reading taken as the pump is
stopped belongs to the infusion), because a calm baseline says nothing about how the patient
is now.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from monitor.clinical.domain import (
    Criterion,
    DischargeAssessment,
    Flag,
    SessionRecord,
    Severity,
    clock_time,
)
from monitor.clinical.protocol import Protocol
from monitor.clinical.protocol_schema import ObservationAnchor
from monitor.clinical.recovery import (
    Facts,
    adapted_padss,
    bp_text,
    modified_aldrete,
    within,
    worst_bp_deviation,
)
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


def evaluate_discharge(record: SessionRecord, protocol: Protocol, flags: Sequence[Flag],
                       at: datetime, *, escort_name: str = "") -> DischargeAssessment:
    """Whether the patient may go home at ``at``, criterion by criterion.

    ``flags`` are :func:`monitor.clinical.rules.evaluate_flags` of the same record at the same
    ``at``.
    ``escort_name`` is the escort named at check-in, if any: only the nurse's "Escort present"
    entry meets the escort criterion, the name only says whom she is waiting for.
    """
    record = record.as_of(at)
    facts = Facts.of(record)
    criteria = _criteria(facts, protocol, flags, at, escort_name)
    return DischargeAssessment(
        ready=all(c.met for c in criteria),
        criteria=criteria,
        would_have_been_ready_at=_would_have_been_ready_at(record, protocol, facts, flags),
        aldrete=modified_aldrete(facts, protocol),
        padss=adapted_padss(facts, protocol),
    )


def _criteria(facts: Facts, protocol: Protocol, flags: Sequence[Flag],
              at: datetime, escort_name: str = "") -> tuple[Criterion, ...]:
    return (_min_observation(facts, protocol, at),
            *_criteria_but_min_stay(facts, protocol, flags, escort_name))


def _criteria_but_min_stay(facts: Facts, protocol: Protocol, flags: Sequence[Flag],
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


def _would_have_been_ready_at(record: SessionRecord, protocol: Protocol, facts: Facts,
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
    facts = Facts.of(record)
    if facts.stop is None or facts.gait_at is None or facts.escort_at is None:
        return None
    rule = protocol.discharge
    anchor = facts.stop
    if rule.min_observation_from is ObservationAnchor.INFUSION_START and facts.start is not None:
        anchor = facts.start
    stay_ends = anchor + timedelta(minutes=rule.min_observation_min)
    return _first_met(record, protocol, facts, flags,
                      max(facts.gait_at, facts.escort_at, stay_ends))


def _first_met(record: SessionRecord, protocol: Protocol, facts: Facts, flags: Sequence[Flag],
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


def _min_observation(facts: Facts, protocol: Protocol, at: datetime) -> Criterion:
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


def _vitals_near_baseline(facts: Facts, protocol: Protocol) -> Criterion:
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
    bp_value, bp_base, bp_dev = worst_bp_deviation(bp, base)
    if not within(bp_value, bp_base, limit):
        problems.append(f"last BP {bp_text(bp)} is {_percent_off(bp_value, bp_base)} baseline "
                        f"{bp_text(base)} (limit {limit} %)")
    assert hr.hr is not None
    if not within(hr.hr, base.hr, limit):
        problems.append(f"last HR {hr.hr} is {_percent_off(hr.hr, base.hr)} baseline {base.hr} "
                        f"(limit {limit} %)")
    if problems:
        return Criterion(name, False, "; ".join(problems))
    return Criterion(name, True, f"last BP {bp_text(bp)} ({bp_dev:.0f} % off) and HR {hr.hr} "
                                 f"within {limit} % of baseline {bp_text(base)}, HR {base.hr}")


def _spo2(facts: Facts, protocol: Protocol) -> Criterion:
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


def _sedation(facts: Facts, protocol: Protocol) -> Criterion:
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


def _dissociation(facts: Facts, protocol: Protocol) -> Criterion:
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


def _nausea(facts: Facts, protocol: Protocol) -> Criterion:
    limit = protocol.discharge.nausea_at_or_below
    if facts.stop is None:
        return Criterion("nausea", False, _NOT_STOPPED)
    last = facts.last("nausea")
    if last is None or last.nausea is None:
        return Criterion("nausea", False, "no nausea score since infusion stop")
    if last.nausea <= limit:
        return Criterion("nausea", True, f"nausea {last.nausea}/10 (limit {limit})")
    return Criterion("nausea", False, f"nausea {last.nausea}/10 is above {limit}")


def _orientation_gait(facts: Facts) -> Criterion:
    if facts.stop is None:
        return Criterion("orientation_gait", False, _NOT_STOPPED)
    if facts.gait_at is None:
        return Criterion("orientation_gait", False,
                         "oriented ×3 and steady gait not attested since infusion stop")
    return Criterion("orientation_gait", True,
                     f"oriented ×3 and steady gait attested at {clock_time(facts.gait_at)}")


def _escort(facts: Facts, escort_name: str = "") -> Criterion:
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


# --- helpers ------------------------------------------------------------------------------


def _percent_off(value: int, reference: int) -> str:
    percent = round(abs(value - reference) * 100 / reference)
    return f"{percent} % {'above' if value >= reference else 'below'}"


def _clock_up(when: datetime) -> str:
    """``HH:MM``, rounded up to the minute: "ready at" must never be early."""
    if when.second or when.microsecond:
        when = when.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return clock_time(when)
