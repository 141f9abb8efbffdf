"""The flag rules: which readings need the nurse's attention, and when the next reading is due.

Everything here is a pure function of a :class:`~monitor.clinical.domain.SessionRecord`, the
:class:`~monitor.clinical.protocol.Protocol` and the moment ``at`` it is evaluated for; nothing
reads the clock, so a session can be replayed minute by minute and give the same flags (with
the same ids) on every tablet.

How flags fire. Each condition (``bp-high``, ``hr-low`` …) gives every reading a level
(:mod:`monitor.clinical.conditions`): not applicable (the measure is absent), normal, or a
tier. An *episode* of a condition runs from a reading above normal to the next reading where
the measure is present and normal. Within an episode a flag fires when the tier rises above
what the episode already reached, or above the tier of the reading before (a return to
critical after an acknowledged critical eased to a warning is a worse condition again), so
the same unchanged condition does not fire again while a worse one does. The tier is the
condition: a lower value within the same tier does not fire again. Nothing fires while an
earlier flag of the same condition, at the same or a higher tier, is still unacknowledged:
a value oscillating around a limit must not flood the nurse.

When the next reading is due, and the overdue advisory when it runs late, is the reading
schedule's (:mod:`monitor.clinical.schedule`): sooner after a BP, HR or SpO2 warning, as the
evaluation here tells it. The session's phases and baseline (:mod:`monitor.clinical.phases`)
are part of what the rules answer, so they can be imported from here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from monitor.clinical.conditions import (
    CONDITIONS,
    Context,
    Level,
    Rule,
    fresh_rules,
    rule_copy,
)
from monitor.clinical.domain import (
    Acknowledgement,
    Flag,
    Measure,
    Phase,
    Reading,
    SessionRecord,
    Severity,
    flag_id,
)
from monitor.clinical.phases import (
    baseline,
    baseline_of,
    baseline_readings,
    infusion_started_at,
    infusion_stopped_at,
    phase_changes,
    readings_in_order,
    session_phase,
    started_at,
)
from monitor.clinical.protocol import Protocol
from monitor.clinical.schedule import (
    REPEAT_MEASURES,
    NextReading,
    next_reading_for,
    overdue_flags,
)

__all__ = [
    "PHQ9_ACK_CHOICES",
    "PHQ9_ASSESSED",
    "PHQ9_CLEARS_START",
    "PHQ9_DEFERRED",
    "PHQ9_ITEM9_FLAG",
    "PHQ9_SAFETY_PLAN",
    "FlagEvaluation",
    "baseline",
    "baseline_readings",
    "current_levels",
    "evaluate_flags",
    "evaluate_flags_from",
    "infusion_started_at",
    "infusion_stopped_at",
    "next_reading",
    "next_reading_due",
    "phase_changes",
    "session_phase",
]

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


def evaluate_flags(record: SessionRecord, protocol: Protocol, at: datetime) -> list[Flag]:
    """Every flag raised on the record as it stood at ``at``.

    Open flags come first, then by severity (worst first), then by time.
    """
    record = record.as_of(at)
    readings = readings_in_order(record.readings)
    changes = phase_changes(record)
    acks = _first_acknowledgements(record.acknowledgements)
    evaluation = FlagEvaluation.of(record, protocol, readings=readings, changes=changes,
                                   acks=acks)
    flags = evaluation.flags()
    flags.extend(overdue_flags(record.session_id, readings, protocol, at, changes=changes,
                               acks=acks, evaluation=evaluation))
    return sorted(flags, key=lambda f: (not f.open, -f.severity, f.time))


def evaluate_flags_from(evaluation: FlagEvaluation, record: SessionRecord, protocol: Protocol,
                        at: datetime) -> list[Flag]:
    """:func:`evaluate_flags`, given the evaluation of the readings of ``record`` as of ``at``
    (which saves evaluating every reading again)."""
    record = record.as_of(at)
    readings = readings_in_order(record.readings)
    acks = _first_acknowledgements(record.acknowledgements)
    flags = evaluation.flags()
    flags.extend(overdue_flags(record.session_id, readings, protocol, at,
                               changes=evaluation.ctx.changes, acks=acks,
                               evaluation=evaluation))
    return sorted(flags, key=lambda f: (not f.open, -f.severity, f.time))


def current_levels(record: SessionRecord, protocol: Protocol,
                   at: datetime) -> dict[Measure, Severity]:
    """How abnormal each measure is now: the worst tier its latest value meets.

    Independent of flags and acknowledgements: an acknowledged BP of 188/106 is still
    critical, and the screen must not show it as normal.
    """
    record = record.as_of(at)
    readings = readings_in_order(record.readings)
    changes = phase_changes(record)
    ctx = Context(protocol, changes, baseline_of(readings, started_at(changes)))
    latest: list[tuple[Measure, Level | None]] = []
    for measure, levels_of in CONDITIONS.values():
        latest.append((measure, next((level for level in reversed(levels_of(readings, ctx))
                                      if level is not None), None)))
    return _worst_current(latest)


def _worst_current(latest: Iterable[tuple[Measure, Level | None]]) -> dict[Measure, Severity]:
    current: dict[Measure, Severity] = {}
    for measure, level in latest:
        if level is None or level.severity is None:
            continue
        if level.severity > current.get(measure, 0):
            current[measure] = level.severity
    return current


class _Firing:
    """One condition's flags so far, and where its current episode stands."""

    __slots__ = ("baseline_episode", "episode", "fired", "key", "latest", "measure", "pressing",
                 "reached", "rule")

    def __init__(self, key: str, measure: Measure, rule: Rule) -> None:
        self.key = key
        self.measure = measure
        self.rule = rule
        self.fired: list[Flag] = []
        self.episode: list[int] = []  # indexes in ``fired`` of the current episode's flags
        self.reached: Severity | None = None  # highest tier of the episode; None outside one
        self.latest: Level | None = None  # level of the latest reading with the measure
        #: Whether the latest reading with the measure was taken before the infusion started.
        self.baseline_episode = False
        #: When its readings stood at a warning or critical tier: ``(from, until)``, the
        #: reading that reached the tier and the first later one below it (None: still).
        self.pressing: list[tuple[datetime, datetime | None]] = []

    def copy(self) -> _Firing:
        twin = _Firing(self.key, self.measure, rule_copy(self.rule))
        twin.fired, twin.episode = list(self.fired), list(self.episode)
        twin.reached, twin.latest = self.reached, self.latest
        twin.baseline_episode = self.baseline_episode
        twin.pressing = list(self.pressing)
        return twin

    def step(self, session_id: UUID, reading: Reading, ctx: Context,
             acks: dict[UUID, Acknowledgement]) -> None:
        level = self.rule(reading, ctx)
        if level is None:
            return  # measure absent: neither continues nor ends the episode
        before = self.latest.severity if self.latest is not None else None
        if self.key == "bp-high" and self.baseline_episode and not ctx.in_baseline(reading):
            # Before the start a high BP is judged by the baseline tiers, and a clinician
            # reviews it; once the infusion runs the same tier is another condition.
            before, self.reached, self.episode = None, None, []
        self.baseline_episode = ctx.in_baseline(reading)
        self.latest = level
        self._press(reading.time, level)
        if level.severity is None:
            self.reached = None
            self.episode = []
            return
        rising = before is None or level.severity > before
        if self.reached is not None and level.severity <= self.reached and not rising:
            return
        self.reached = max(level.severity, self.reached or level.severity)
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

    def _press(self, when: datetime, level: Level) -> None:
        """Keep :attr:`pressing` up to date with the level of a reading with the measure."""
        pressing = level.severity is not None and level.severity >= Severity.WARNING
        still = bool(self.pressing) and self.pressing[-1][1] is None
        if pressing and not still:
            self.pressing.append((when, None))
        elif still and not pressing:
            self.pressing[-1] = (self.pressing[-1][0], when)


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

    def __init__(self, session_id: UUID, protocol: Protocol, ctx: Context, *,
                 firings: list[_Firing], seen_acks: dict[UUID, datetime],
                 last_time: datetime | None, count: int) -> None:
        self.session_id = session_id
        self.protocol = protocol
        self.ctx = ctx
        self.started = started_at(ctx.changes)
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
        readings = readings_in_order(record.readings) if readings is None else readings
        changes = phase_changes(record) if changes is None else changes
        if acks is None:
            acks = _first_acknowledgements(record.acknowledgements)
        ctx = Context(protocol, changes, baseline_of(readings, started_at(changes)))
        firings = [_Firing(key, measure, rule) for key, measure, rule in fresh_rules()]
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


def next_reading(record: SessionRecord, protocol: Protocol, at: datetime, *,
                 evaluation: FlagEvaluation | None = None) -> NextReading | None:
    """The next reading due at ``at``; ``None`` in baseline and after discharge.

    Due by the stretch's interval after the last reading with vital signs, or sooner while
    that reading met a BP, HR or SpO2 warning or critical tier
    (:func:`monitor.clinical.schedule.next_reading_for`). ``evaluation``, if given, is that
    of the record's readings as of ``at``.
    """
    record = record.as_of(at)

    def repeats() -> FlagEvaluation:
        return FlagEvaluation.of(record, protocol) if evaluation is None else evaluation

    return next_reading_for(record, protocol, at, repeats)


def next_reading_due(record: SessionRecord, protocol: Protocol, at: datetime, *,
                     evaluation: FlagEvaluation | None = None) -> datetime | None:
    """When the next reading is due at ``at`` (:func:`next_reading`); ``None`` in baseline
    and after discharge."""
    upcoming = next_reading(record, protocol, at, evaluation=evaluation)
    return upcoming.due if upcoming is not None else None
