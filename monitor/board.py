"""What the chair overview shows for each chair, derived from a session as it stands.

The overview is the nurse's start screen: one tile per chair with the patient's initials
and MRN tail, the phase and how long it has run, the latest BP, HR and SpO2, the countdown
to the next reading (overdue marked; named a repeat when a BP, HR or SpO2 warning brought it
forward), and the worst open flag. Everything on a tile is
computed here, so the Qt tile only draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from monitor.domain import Flag, Measure, Phase, Reading
from monitor.rules import infusion_started_at, infusion_stopped_at
from monitor.service import SessionView
from monitor.wording import MEASURE_NAMES


@dataclass(frozen=True)
class ChairTile:
    chair: str
    session_id: UUID | None = None
    initials: str = ""
    mrn_tail: str = ""
    #: The phase the tile names; ``ready`` is shown instead of recovery once discharge is.
    phase: Phase | None = None
    ready: bool = False
    #: Time since the infusion started (infusing, paused) or stopped (recovery, ready).
    elapsed: timedelta | None = None
    bp: tuple[int, int] | None = None
    hr: int | None = None
    spo2: int | None = None
    next_due: datetime | None = None
    #: Seconds until the next reading is due; negative when overdue.
    due_in: timedelta | None = None
    #: The measures the next reading repeats after a warning or critical (due sooner).
    repeat_for: tuple[Measure, ...] = ()
    worst_flag: Flag | None = None
    open_flag_count: int = 0

    @property
    def empty(self) -> bool:
        return self.session_id is None

    @property
    def overdue(self) -> bool:
        return self.due_in is not None and self.due_in < timedelta(0)

    @property
    def repeat_text(self) -> str:
        """:func:`repeat_label` of :attr:`repeat_for`."""
        return repeat_label(self.repeat_for)

    @property
    def phase_text(self) -> str:
        """``baseline``, ``infusing 12:05 min elapsed``, ``recovery 8:30 min since stop``…

        Elapsed times say so: a bare ``12:05`` beside the wall clock reads as a time of day.
        """
        if self.phase is None:
            return "empty"
        since = f" {format_elapsed(self.elapsed)}" if self.elapsed else ""
        if self.phase is Phase.RECOVERY:
            word = "ready" if self.ready else "recovery"
            return f"{word}{since} since stop" if since else word
        if self.phase in (Phase.INFUSING, Phase.PAUSED) and since:
            return f"{self.phase.value}{since} elapsed"
        return self.phase.value


def format_elapsed(delta: timedelta | None) -> str:
    """``1:05 min``, ``75:03 min``: minutes and seconds, with the unit.

    Minutes may exceed 59 (an infusion plus observation is counted in minutes); without the
    unit, ``01:05`` read as an hour and five minutes.
    """
    if delta is None:
        return ""
    seconds = max(0, int(delta.total_seconds()))
    return f"{seconds // 60}:{seconds % 60:02d} min"


def repeat_label(measures: tuple[Measure, ...]) -> str:
    """"BP", "HR, SpO2": what a repeat reading is for ("" for the usual reading)."""
    return ", ".join(MEASURE_NAMES[m] for m in measures)


def initials(name: str | None) -> str:
    if not name:
        return "?"
    parts = [p for p in name.replace("-", " ").split() if p]
    return "".join(p[0].upper() for p in parts[:3]) or "?"


def _latest(readings: tuple[Reading, ...], attribute: str) -> Reading | None:
    for reading in reversed(readings):
        if getattr(reading, attribute) is not None:
            return reading
    return None


def tile_for(chair: str, view: SessionView | None) -> ChairTile:
    """The tile of ``chair`` showing ``view`` (None: the chair is free)."""
    if view is None:
        return ChairTile(chair=chair)
    record = view.record
    started = infusion_started_at(record)
    stopped = infusion_stopped_at(record)
    elapsed: timedelta | None = None
    if view.phase in (Phase.INFUSING, Phase.PAUSED) and started is not None:
        elapsed = view.at - started
    elif view.phase is Phase.RECOVERY and stopped is not None:
        elapsed = view.at - stopped
    bp_reading = _latest(record.readings, "sbp")
    bp = None
    if bp_reading is not None and bp_reading.sbp is not None and bp_reading.dbp is not None:
        bp = (bp_reading.sbp, bp_reading.dbp)
    hr_reading = _latest(record.readings, "hr")
    spo2_reading = _latest(record.readings, "spo2")
    open_flags = [f for f in view.flags if f.open]
    worst = max(open_flags, key=lambda f: (f.severity, f.time), default=None)
    mrn = view.info.patient.mrn
    return ChairTile(
        chair=chair,
        session_id=view.info.id,
        initials=initials(view.info.patient.name),
        mrn_tail=mrn[-4:],
        phase=view.phase,
        ready=view.discharge.ready and view.phase is Phase.RECOVERY,
        elapsed=elapsed,
        bp=bp,
        hr=hr_reading.hr if hr_reading else None,
        spo2=spo2_reading.spo2 if spo2_reading else None,
        next_due=view.next_due,
        due_in=view.next_due - view.at if view.next_due is not None else None,
        repeat_for=view.repeat_for if view.next_due is not None else (),
        worst_flag=worst,
        open_flag_count=len(open_flags),
    )
