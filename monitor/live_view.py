"""A loaded session view brought forward to another moment, without reading the database.

A screen that loaded a session keeps its :class:`~monitor.service.SessionView` and shows it
again every second with the clock: the countdown to the next reading, the overdue mark and
the reading-due flag, the time since the infusion started or stopped and whether the
observation time needed for discharge has passed all follow the time; what was entered
changes only with a save, which a change feed announces (and the screen then loads again).

:func:`view_at` evaluates the record already in the view as :meth:`ClinicService.load`
would at ``at``; nothing is read.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from monitor.clock import ensure_utc
from monitor.service import SessionView, Superseded, _evaluate


def view_at(view: SessionView, at: datetime) -> SessionView:
    """``view``'s session as it stands at ``at``, from the record the view holds."""
    at = ensure_utc(at)
    if at == view.at:
        return view
    moved = _evaluate(info=view.info, protocol=view.protocol, record=view.record, at=at,
                      superseded=Superseded(view.superseded_readings, view.superseded_events),
                      corrections=view.corrections)
    return replace(moved, signatures=view.signatures, superseded_flags=view.superseded_flags)
