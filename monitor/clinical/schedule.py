"""The reading schedule: when the next reading is due, and the advisory when it runs late.

Readings come every protocol interval (infusion, recovery), counted from the last reading
with vital signs; none are due in baseline or after discharge. While the latest BP, HR or
SpO2 meets a warning or critical tier (acknowledged or not: an acknowledged 188/106 is still
there), the next reading comes sooner, ``intervals.repeat_after_flag_min`` after the last
(the clinic rule: two readings > 180/110 five minutes apart). The shorter interval ends with
the first later reading of that measure below the warning tier: the repeat the flag asked
for has been taken and no longer meets the condition. A reading without the measure neither
ends nor starts it. The overdue advisory follows the same due time.

Which readings asked for a repeat is the flag evaluation's answer
(:class:`monitor.clinical.rules.FlagEvaluation`); this module takes it as :class:`Repeats`.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from monitor.clinical.domain import (
    Acknowledgement,
    Flag,
    Measure,
    Phase,
    Reading,
    SessionRecord,
    Severity,
    clock_time,
    flag_id,
)
from monitor.clinical.phases import phase_changes, readings_in_order
from monitor.clinical.protocol import Protocol
from monitor.clinical.wording import MEASURE_NAMES

#: The key of the advisory raised when a reading runs past due + grace.
OVERDUE = "overdue"

#: The measures whose warning or critical tier brings the next reading forward.
REPEAT_MEASURES = (Measure.BP, Measure.HR, Measure.SPO2)


class Repeats(typing.Protocol):
    """Which readings asked for a repeat: what the schedule needs of a flag evaluation."""

    def repeat_for(self, when: datetime) -> tuple[Measure, ...]:
        """The measures (of :data:`REPEAT_MEASURES`) whose latest value at ``when``, a
        reading's time, met a warning or critical tier."""
        ...

    def pressing(self) -> bool:
        """Whether any of those measures ever reached a warning or critical tier."""
        ...


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


def next_reading_for(record: SessionRecord, protocol: Protocol, at: datetime,
                     repeats: Callable[[], Repeats]) -> NextReading | None:
    """The next reading due at ``at`` in ``record`` as of ``at``; ``None`` in baseline and
    after discharge.

    Due = the later of the last reading with vital signs and the start of the current
    stretch (infusion or recovery), plus that stretch's interval — or, while the latest BP,
    HR or SpO2 at that reading met a warning or critical tier (see the module docstring),
    ``intervals.repeat_after_flag_min`` after that reading itself, even when the phase
    changed since (the earlier of the two). ``repeats`` gives the evaluation of the
    record's readings; it is asked for only when a reading with vital signs was taken in a
    stretch where readings are due.
    """
    schedules = _schedules(phase_changes(record), protocol)
    current = next((s for s in schedules if s.start <= at and (s.end is None or at < s.end)),
                   None)
    if current is None:
        return None
    last = next((r.time for r in reversed(readings_in_order(record.readings)) if r.has_vitals),
                None)
    if last is None:
        return NextReading(current.start + current.interval)
    repeat_for = repeats().repeat_for(last)
    repeat = timedelta(minutes=protocol.intervals.repeat_after_flag_min)
    return NextReading(_due(last, current, repeat if repeat_for else None), repeat_for)


def _due(last: datetime, schedule: _Schedule, repeat: timedelta | None) -> datetime:
    """When the reading after ``last`` is due in ``schedule``; ``repeat``, if given, is the
    interval a warning asked for. That repeat stays counted from the reading that asked for
    it, whatever the phase change since (a pause, a stop, an early stop): moving it to the
    start of the new stretch would push back a repeat the clinic rule wants on time."""
    usual = max(last, schedule.start) + schedule.interval
    return usual if repeat is None else min(usual, last + repeat)


def overdue_flags(session_id: UUID, readings: Sequence[Reading], protocol: Protocol,
                  at: datetime, *, changes: Sequence[tuple[datetime, Phase]],
                  acks: dict[UUID, Acknowledgement], evaluation: Repeats) -> list[Flag]:
    """One advisory per gap between ``readings`` (the record's, in time order) that ran past
    due + grace; due as :func:`next_reading_for` says (``evaluation`` is of the same readings).

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
            fid = flag_id(session_id, OVERDUE, Severity.ADVISORY, due.isoformat())
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
