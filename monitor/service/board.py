"""What the chair overview shows for each chair, derived from a session as it stands.

The overview is the nurse's start screen: one tile per chair with the patient's initials
and MRN tail, the phase and how long it has run, the latest BP, HR and SpO2, the countdown
to the next reading (overdue marked; named a repeat when a BP, HR or SpO2 warning brought it
forward), and the worst open flag. Everything on a tile is
computed here, so the Qt tile only draws it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from monitor.clinical.domain import Flag, Measure, Phase, Reading, Severity, clock_time
from monitor.clinical.feed_health import MonitorState, monitor_state
from monitor.clinical.rules import infusion_started_at, infusion_stopped_at
from monitor.clinical.wording import MEASURE_NAMES
from monitor.service.views import SessionView

#: The tier in words, as every screen writes it.
TIER_WORDS: dict[Severity, str] = {
    Severity.CRITICAL: "CRITICAL", Severity.WARNING: "WARNING", Severity.ADVISORY: "ADVISORY",
}


@dataclass(frozen=True)
class ValueBadge:
    """The tier beside a shown value, and whose it is.

    ``on_value``: the badge is the value's own (its open flag, or its tier once
    acknowledged: "CRITICAL · acknowledged"); otherwise it is an earlier reading's open
    flag, and says when ("WARNING · 09:50"). ``value_tier`` is the tier to colour the value
    in (None: its plain colour).
    """

    severity: Severity
    text: str
    on_value: bool
    value_tier: Severity | None
    #: The same words on short lines, for a tile five to a row ("WARNING", "covered by the",
    #: "acknowledged", "critical 23:00").
    lines: tuple[str, ...] = ()

    @property
    def stacked(self) -> str:
        return "\n".join(self.lines) if self.lines else self.text


def covering_acknowledgement(measure: Measure, flags: Iterable[Flag],
                             level: Severity) -> Flag | None:
    """The acknowledged flag of ``measure`` that answers a latest value at ``level`` with no
    open flag of its own: the latest acknowledged one at ``level`` or above (the episode's;
    a value meeting a tier with no flag of it at all would have raised one)."""
    answered = [f for f in flags if f.measure is measure and f.acknowledgement is not None
                and f.severity >= level]
    return max(answered, key=lambda f: f.time, default=None)


def _acknowledged_badge(measure: Measure, flags: Iterable[Flag], current: Severity) -> ValueBadge:
    """"WARNING · acknowledged", or, when what was acknowledged is a worse tier of the same
    episode, "WARNING · covered by the critical acknowledged 23:00": no warning was."""
    tier = TIER_WORDS[current]
    cover = covering_acknowledgement(measure, flags, current)
    if cover is None or cover.severity == current or cover.acknowledgement is None:
        return ValueBadge(current, f"{tier} · acknowledged", True, current,
                          (tier, "acknowledged"))
    at = clock_time(cover.acknowledgement.time)
    worse = cover.severity.label
    return ValueBadge(current, f"{tier} · covered by the {worse} acknowledged {at}", True,
                      current, (tier, "covered by the", "acknowledged", f"{worse} {at}"))


def value_badge(measure: Measure, shown: Reading | None, flags: Iterable[Flag],
                current: Severity | None) -> ValueBadge | None:
    """The badge of ``measure``'s shown value: the value's open flag; else, when the value
    itself still meets a tier worse than any open flag of the measure, that tier
    (acknowledged); else the worst open flag of an earlier reading, with its time. An
    acknowledged critical value must not look normal, nor wear an older advisory's time.
    """
    flags = tuple(flags)
    open_flags = [f for f in flags if f.open and f.measure is measure]
    worst = max(open_flags, key=lambda f: (f.severity, f.time), default=None)
    own = [f for f in open_flags if shown is not None and f.reading_id == shown.id]
    if own:
        flag = max(own, key=lambda f: f.severity)
        if worst is None or flag.severity >= worst.severity:
            return ValueBadge(flag.severity, TIER_WORDS[flag.severity], True, flag.severity)
    # A value no worse than an earlier reading's open flag is still that flag's, which is
    # not acknowledged: only a tier beyond every open flag has been answered.
    if current is not None and (worst is None or current > worst.severity):
        return _acknowledged_badge(measure, flags, current)
    if worst is None:
        return None
    return ValueBadge(worst.severity, f"{TIER_WORDS[worst.severity]} · {clock_time(worst.time)}",
                      False, current)


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
    #: The badge beside each value shown ("bp", "hr", "spo2"), as the session rail shows it.
    badges: Mapping[str, ValueBadge] = field(default_factory=dict)
    #: With no open flag: the worst tier a latest value still meets, acknowledged, in words
    #: ("BP still critical · acknowledged"), so the tile does not look calm when it is not.
    standing: Severity | None = None
    standing_text: str = ""
    #: The tier word beside it: "WARNING · acknowledged", or "WARNING" alone when what was
    #: acknowledged is the episode's critical (``standing_text`` then says so).
    standing_word: str = ""
    #: The bound bedside monitor's state ("Monitor receiving", "Monitor silent 3:05",
    #: "Monitor: no messages"), "" with no monitor bound; ``monitor_silent`` unless receiving.
    monitor_text: str = ""
    monitor_silent: bool = False
    #: The session's entries saved on this tablet and not yet on the server.
    held: int = 0

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


def held_text(held: int) -> str:
    """How an entry saved on this tablet, not yet on the server, is said (``held`` of the
    session's entries wait for it)."""
    return f"Saved on this tablet — not yet on the server ({held})"


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
    badges: dict[str, ValueBadge] = {}
    for key, measure, reading in (("bp", Measure.BP, bp_reading if bp else None),
                                  ("hr", Measure.HR, hr_reading),
                                  ("spo2", Measure.SPO2, spo2_reading)):
        badge = value_badge(measure, reading, view.flags, view.current_levels.get(measure))
        if badge is not None:
            badges[key] = badge
    standing, standing_text, standing_word = _standing(view, worst)
    monitor = view.info.monitor
    state = (monitor_state(chair, monitor.last_message_at, view.at)
             if monitor is not None else None)
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
        badges=badges,
        standing=standing,
        standing_text=standing_text,
        standing_word=standing_word,
        monitor_text=_monitor_words(state),
        monitor_silent=state is not None and state.state != "receiving",
        held=view.held,
    )


def _monitor_words(state: MonitorState | None) -> str:
    if state is None:
        return ""
    return "Monitor: no messages" if state.state == "never" else f"Monitor {state.label}"


def _standing(view: SessionView, worst: Flag | None) -> tuple[Severity | None, str, str]:
    """The worst tier a latest value still meets when it is worse than any open flag, in
    words, and the tier word beside them."""
    levels = [(level, measure) for measure, level in view.current_levels.items()
              if measure is not Measure.OVERDUE]
    if not levels:
        return None, "", ""
    level, measure = max(levels, key=lambda pair: pair[0])
    if worst is not None and worst.severity >= level:
        return None, "", ""
    name = MEASURE_NAMES[measure]
    cover = covering_acknowledgement(measure, view.flags, level)
    if cover is not None and cover.severity > level and cover.acknowledgement is not None:
        # Nobody acknowledged a warning: the episode's critical was, and covers it.
        return level, (f"{name} {level.label} · {cover.severity.label} acknowledged "
                       f"{clock_time(cover.acknowledgement.time)}"), TIER_WORDS[level]
    return (level, f"{name} still {level.label} · acknowledged",
            f"{TIER_WORDS[level]} · acknowledged")
