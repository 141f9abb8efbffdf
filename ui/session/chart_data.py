"""What the session chart plots, as numbers: minutes on the shared time axis, and arrays.

The x axis is in minutes since the infusion started (:func:`chart_origin`); each measure is a
column of (minute, value) pairs kept from view to view (:class:`Columns`) and split at its
pane's fixed range into the points drawn and those pinned at an edge (:func:`split_at`). Event
lines carry short labels (:func:`event_label`). No plot items here: :mod:`ui.session.chart`
puts these arrays into them.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from monitor.clinical.domain import EventKind, Phase, Reading
from monitor.clinical.rules import infusion_started_at, phase_changes

if TYPE_CHECKING:
    from monitor.service.views import SessionView


#: Fixed y ranges. Narrow enough to read a change of a few units; a value beyond is pinned.
BP_HR_RANGE = (30.0, 220.0)
SPO2_RANGE = (85.0, 100.0)
SCORE_RANGE = (0.0, 24.0)
#: Each pane shows this fraction of its range beyond both ends, so that a marker at the
#: edge (a pinned value, MOAA/S 5, CADSS-6 0) is drawn whole.
Y_MARGIN = 0.05
#: MOAA/S (0–5) is drawn on the CADSS-6 height (0–24) and read on the right axis.
MOAAS_MAX = 5
MOAAS_SCALE = SCORE_RANGE[1] / MOAAS_MAX

#: Minutes shown before the first entry and after max(now, last entry).
X_MARGIN_BEFORE = 3.0
X_MARGIN_AFTER = 6.0

_EVENT_WORDS: dict[EventKind, str] = {
    EventKind.INFUSION_START: "Start",
    EventKind.INFUSION_PAUSE: "Pause",
    EventKind.INFUSION_RESUME: "Resume",
    EventKind.INFUSION_STOP: "Stop",
    EventKind.RATE_CHANGE: "Rate",
    EventKind.MEDICATION: "Med",
    EventKind.ADVERSE_EVENT: "AE",
    EventKind.NOTE: "Note",
    EventKind.ESCORT_PRESENT: "Escort",
    EventKind.ORIENTED_STEADY_GAIT: "Oriented",
    EventKind.DISCHARGE_SIGNED: "Discharged",
    EventKind.DISCHARGE_OVERRIDE: "Override",
}
#: Events whose label names what was given or what happened, e.g. "Med: ondansetron".
_DETAILED_EVENTS = (EventKind.MEDICATION, EventKind.ADVERSE_EVENT)
_EVENT_DETAIL_CHARS = 14


#: The mark at a reading entered after the discharge was signed.
AFTER_SIGNOFF_MARK = "Entry after sign-off"


def event_label(kind: EventKind, detail: str) -> str:
    """The short label of an event line: "Start", "Med: ondansetron", "AE: nausea"."""
    word = _EVENT_WORDS[kind]
    first = detail.split(maxsplit=1)[0].lower() if detail.strip() else ""
    if kind not in _DETAILED_EVENTS or not first:
        return word
    if len(first) > _EVENT_DETAIL_CHARS:
        first = first[: _EVENT_DETAIL_CHARS - 1] + "…"
    return f"{word}: {first}"


def chart_origin(view: SessionView) -> tuple[datetime, bool]:
    """Time zero of the x axis and whether it is the infusion start.

    Before the infusion starts, zero is the first effective reading, or the moment of the
    view when there is none. A voided reading does not set it: one entered at a wrong time
    and voided would otherwise shift the whole axis.
    """
    start = infusion_started_at(view.record)
    if start is not None:
        return start, True
    times = [r.time for r in view.record.readings]
    return (min(times) if times else view.at), False


def minutes_since(origin: datetime, when: datetime) -> float:
    return (when - origin).total_seconds() / 60.0


def infusion_spans(
    view: SessionView,
) -> tuple[list[tuple[datetime, datetime]], list[tuple[datetime, datetime]]]:
    """``(infusing, paused)`` stretches of the session; an open one runs to ``view.at``."""
    changes = phase_changes(view.record)
    infusing: list[tuple[datetime, datetime]] = []
    paused: list[tuple[datetime, datetime]] = []
    for index, (time, phase) in enumerate(changes):
        end = changes[index + 1][0] if index + 1 < len(changes) else view.at
        if phase is Phase.INFUSING:
            infusing.append((time, end))
        elif phase is Phase.PAUSED:
            paused.append((time, end))
    return infusing, paused


@dataclass
class Split:
    """One series split into the points inside its pane and those pinned at an edge."""

    x: np.ndarray
    y: np.ndarray
    off_x: np.ndarray
    off_y: np.ndarray
    off_values: np.ndarray
    #: Every point with off-scale values pinned, for lines drawn through all of them.
    pinned: np.ndarray


def split_at(x: np.ndarray, y: np.ndarray, limits: tuple[float, float]) -> Split:
    low, high = limits
    inside = (y >= low) & (y <= high)
    pinned = np.clip(y, low, high)
    return Split(x[inside], y[inside], x[~inside], pinned[~inside], y[~inside], pinned)


def measure_values(readings: Sequence[Reading], origin: datetime, name: str,
            scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Minutes and values of the readings that recorded ``name``."""
    present = [(minutes_since(origin, r.time), getattr(r, name)) for r in readings
               if getattr(r, name) is not None]
    if not present:
        return np.empty(0), np.empty(0)
    x, y = np.array(present, dtype=float).T
    return x, y * scale


class Columns:
    """:func:`_values` of a session's readings, extended by the new readings only.

    A save adds one reading to a record of thousands; the readings are the same objects
    from view to view, so the columns of those already seen are kept.
    """

    def __init__(self) -> None:
        self._origin: datetime | None = None
        self._readings: Sequence[Reading] = ()
        self._columns: dict[tuple[str, float], tuple[np.ndarray, np.ndarray]] = {}

    def update(self, readings: Sequence[Reading], origin: datetime) -> int:
        """Take ``readings`` (in time order); returns how many of them were seen before."""
        seen = len(self._readings)
        if (origin != self._origin or len(readings) < seen
                or not all(map(operator.is_, readings[:seen], self._readings))):
            self._columns, seen = {}, 0
        elif seen < len(readings):
            new = readings[seen:]
            for key, (x, y) in self._columns.items():
                more_x, more_y = measure_values(new, origin, *key)
                self._columns[key] = (np.concatenate([x, more_x]), np.concatenate([y, more_y]))
        self._origin, self._readings = origin, readings
        return seen

    def values(self, name: str, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        key = (name, scale)
        if key not in self._columns:
            assert self._origin is not None
            self._columns[key] = measure_values(self._readings, self._origin, name, scale)
        return self._columns[key]


def monitor_marks(readings: Sequence[Reading], origin: datetime,
                  limits: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Where to mark the readings filed from the bedside monitor: at each one's systolic
    and diastolic (pinned inside ``limits``), so the mark frames the BP drawn there."""
    points = [(minutes_since(origin, r.time), value) for r in readings if r.from_monitor
              for value in (r.sbp, r.dbp) if value is not None]
    if not points:
        return np.empty(0), np.empty(0)
    x, y = np.array(points, dtype=float).T
    return x, np.clip(y, *limits)


def vertical_pairs(
    x: np.ndarray, low: np.ndarray, high: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Vertices for a ``connect='pairs'`` item: one segment (x, low)–(x, high) per point."""
    return np.repeat(x, 2), np.column_stack([low, high]).ravel()
