"""Each reading's status for the exports: what a correction made of it.

The record keeps every entry: an amendment is a new reading that replaces an earlier one, a
void hides a reading (which replaced which is :mod:`monitor.clinical.lineage`'s). The
exports name the outcome with FHIR's Observation statuses, in the CSV too: ``final``,
``amended`` (it replaced an earlier entry) and ``entered-in-error`` (voided).
"""

from __future__ import annotations

from collections.abc import Iterator

from monitor.clinical.domain import Reading
from monitor.clinical.lineage import Standing, lineage
from monitor.service.views import SessionView

FINAL, AMENDED, VOIDED = "final", "amended", "entered-in-error"
STATUSES: tuple[str, ...] = (FINAL, AMENDED, VOIDED)


def reading_statuses(view: SessionView) -> Iterator[tuple[Reading, str]]:
    """Each reading to export with its status, in time order: the effective ones
    (``final``, or ``amended`` when they replace an earlier entry) and the voided ones."""
    lines = lineage(view.corrections)
    both = [(r, AMENDED if lines.standing(r.id) is Standing.AMENDMENT else FINAL)
            for r in view.record.readings]
    both += [(r, VOIDED) for r in view.superseded_readings
             if lines.standing(r.id) is Standing.VOIDED]
    yield from sorted(both, key=lambda pair: (pair[0].time, pair[0].recorded_at or pair[0].time))
