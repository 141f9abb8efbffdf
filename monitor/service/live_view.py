"""A loaded session view brought forward to another moment, without reading the database.

A screen that loaded a session keeps its :class:`~monitor.service.views.SessionView` and shows it
again every second with the clock: the countdown to the next reading, the overdue mark and
the reading-due flag, the time since the infusion started or stopped and whether the
observation time needed for discharge has passed all follow the time; what was entered
changes only with a save, which a change feed announces (and the screen then loads again).

:func:`view_at` evaluates the record already in the view as :meth:`ClinicService.load`
would at ``at``; nothing is read. :class:`MovingView` keeps the evaluation of the readings
from one second to the next while the same entries stand, so a long session costs the
tick no more than a short one.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from monitor.clinical.rules import FlagEvaluation
from monitor.clock import ensure_utc
from monitor.service.evaluation import evaluate
from monitor.service.views import SessionView, Superseded


def view_at(view: SessionView, at: datetime, *,
            evaluation: FlagEvaluation | None = None) -> SessionView:
    """``view``'s session as it stands at ``at``, from the record the view holds.

    ``evaluation``: that of the record's readings as of ``at``, if one is at hand."""
    at = ensure_utc(at)
    if at == view.at:
        return view
    moved = evaluate(info=view.info, protocol=view.protocol, record=view.record, at=at,
                      superseded=Superseded(view.superseded_readings, view.superseded_events),
                      corrections=view.corrections, evaluation=evaluation)
    return replace(moved, signatures=view.signatures, superseded_flags=view.superseded_flags,
                   held=view.held, on_tablet=view.on_tablet,
                   refused_on_server=view.refused_on_server)


class MovingView:
    """One loaded view, brought forward on the clock by :meth:`at`."""

    def __init__(self, view: SessionView) -> None:
        self.view = view
        #: How many readings, events and acknowledgements stood when ``_evaluation`` was
        #: made: entries are left out by time alone, so the same counts are the same entries.
        self._counts: tuple[int, int, int] | None = None
        self._evaluation: FlagEvaluation | None = None

    def at(self, at: datetime) -> SessionView:
        at = ensure_utc(at)
        if at == self.view.at:
            return self.view
        standing = self.view.record.as_of(at)
        counts = (len(standing.readings), len(standing.events),
                  len(standing.acknowledgements))
        if counts != self._counts or self._evaluation is None:
            self._counts = counts
            self._evaluation = FlagEvaluation.of(standing, self.view.protocol)
        return view_at(self.view, at, evaluation=self._evaluation)
