"""The session's phases and its baseline, as the events and readings describe them.

A session starts in BASELINE; the infusion events move it through INFUSING, PAUSED and
RECOVERY, and a discharge (signed or overridden) ends it. The baseline is each measure's last
value before the infusion started. Pure functions of a
:class:`~monitor.clinical.domain.SessionRecord`, shared by the flag rules, the reading
schedule, discharge and the screens.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from monitor.clinical.domain import EventKind, Phase, Reading, SessionRecord

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
    return started_at(phase_changes(record))


def started_at(changes: Sequence[tuple[datetime, Phase]]) -> datetime | None:
    """When the infusion first started, given the :func:`phase_changes`."""
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
    return _before(readings_in_order(record.readings), infusion_started_at(record))


def _before(readings: Sequence[Reading], start: datetime | None) -> tuple[Reading, ...]:
    return tuple(r for r in readings if start is None or r.time < start)


def baseline(record: SessionRecord) -> Reading | None:
    """The baseline: for each measure, its last value before the infusion started.

    The result carries the id and time of the last baseline reading. If no reading precedes
    the start, the first reading stands in as the baseline.
    """
    return baseline_of(readings_in_order(record.readings), infusion_started_at(record))


def baseline_of(readings: Sequence[Reading], start: datetime | None) -> Reading | None:
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


def readings_in_order(readings: Iterable[Reading]) -> tuple[Reading, ...]:
    """The readings in time order."""
    return tuple(sorted(readings, key=lambda r: r.time))
