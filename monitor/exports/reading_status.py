"""Each reading's status for the exports: what a correction made of it.

The record keeps every entry (:mod:`monitor.service.clinic`): an amendment is a new reading that
replaces an earlier one, a void hides a reading. The exports name the outcome with FHIR's
Observation statuses, in the CSV too: ``final``, ``amended`` (it replaced an earlier entry)
and ``entered-in-error`` (voided).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from monitor.clinical.domain import Reading
from monitor.service.views import SessionView

FINAL, AMENDED, VOIDED = "final", "amended", "entered-in-error"
STATUSES: tuple[str, ...] = (FINAL, AMENDED, VOIDED)


def amended_from(view: SessionView) -> dict[uuid.UUID, uuid.UUID]:
    """Replacement reading id → the id of the reading it amended."""
    return {c.replacement_id: c.target_id for c in view.corrections
            if c.action == "amend" and c.target_kind == "reading"
            and c.replacement_id is not None}


def first_entered(reading_id: uuid.UUID, amended: dict[uuid.UUID, uuid.UUID]) -> uuid.UUID:
    """The reading first entered of the chain of amendments ``reading_id`` ends."""
    while reading_id in amended:
        reading_id = amended[reading_id]
    return reading_id


def reading_statuses(view: SessionView) -> Iterator[tuple[Reading, str]]:
    """Each reading to export with its status, in time order: the effective ones
    (``final``, or ``amended`` when they replace an earlier entry) and the voided ones."""
    amended = amended_from(view)
    voided = {c.target_id for c in view.corrections
              if c.action == "void" and c.target_kind == "reading"}
    both = [(r, AMENDED if r.id in amended else FINAL) for r in view.record.readings]
    both += [(r, VOIDED) for r in view.superseded_readings if r.id in voided]
    yield from sorted(both, key=lambda pair: (pair[0].time, pair[0].recorded_at or pair[0].time))
