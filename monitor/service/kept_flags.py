"""Flags once raised and stored that the rules no longer raise on the record: kept in view.

The rules are the source of truth for a session's flags, evaluated afresh on its effective
record; the ``flags`` rows are the record of what was raised and shown. Two kinds of stored
flag are no longer raised, and neither may vanish — the nurse saw it and may have answered
it with an action:

* a flag *withdrawn* with its reading, since voided or amended (entered in error): closed
  at the correction, with its reading and any acknowledgement; it no longer holds up the
  discharge and is not counted (:mod:`monitor.clinical.flag_counts`);
* a flag whose reading stands but which an earlier flag of the same condition now covers,
  because a correction or a late entry changed where its episode began: closed, with any
  acknowledgement; its reading stands, so it is counted as raised.

:func:`kept_flags` gives both, for a session's view (``SessionView.superseded_flags``) as
loading it and as the patient's course read it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from monitor.clinical.domain import Acknowledgement, Flag, Measure, SessionRecord, Severity
from monitor.storage.records import CorrectionInfo, Superseded

#: How a flag no longer raised on a reading that stands is resolved, in words.
NO_LONGER_RAISED = "no longer raised: a correction or late entry joined it to an earlier flag"


def stored_flag(row: Any) -> Flag:
    """The flag a ``flags`` row stores (without acknowledgement)."""
    return Flag(id=row.id, key=row.key, measure=Measure(row.measure),
                severity=Severity(row.severity), time=row.time, message=row.message,
                reading_id=row.reading_id)


def needs_stored_flags(record: SessionRecord, superseded: Superseded) -> bool:
    """Whether some stored flag may no longer be raised: only a correction or a late entry
    changes what the rules raised on the readings already there."""
    return bool(superseded.readings) or any(r.is_late_entry for r in record.readings)


def kept_flags(
    stored: Iterable[Flag],
    *,
    raised: Iterable[Flag],
    record: SessionRecord,
    superseded: Superseded,
    corrections: Iterable[CorrectionInfo],
    at: datetime,
    signed_by: Mapping[uuid.UUID, str] | None = None,
) -> tuple[Flag, ...]:
    """The ``stored`` flags of readings (as stored: without acknowledgement) that are not
    among those the rules ``raised`` on ``record`` at ``at``, closed, each with its first
    acknowledgement by ``at``, in the order raised.

    ``signed_by``: correction id → who signed it (a correction that closed a critical flag).
    """
    signed_by = signed_by or {}
    corrections = tuple(corrections)
    corrected_at = {c.target_id: c for c in corrections}
    gone = {r.id for r in superseded.readings}
    standing = {r.id for r in record.readings}
    shown = {f.id for f in raised}
    acks: dict[uuid.UUID, Acknowledgement] = {}
    for given in sorted(record.acknowledgements, key=lambda a: a.time):
        if given.time <= at:
            acks.setdefault(given.flag_id, given)
    changed = [c.time for c in corrections if c.time <= at]
    changed += [r.recorded_at for r in record.readings
                if r.is_late_entry and r.recorded_at is not None and r.recorded_at <= at]
    changed_at = max(changed, default=at)
    kept: dict[uuid.UUID, Flag] = {}
    for flag in sorted(stored, key=lambda f: (f.time, f.id)):
        if flag.reading_id is None or flag.id in kept or flag.id in shown:
            continue
        ack = acks.get(flag.id)
        if flag.reading_id in gone:
            correction = corrected_at.get(flag.reading_id)
            word = "voided" if correction is None or correction.action == "void" else "amended"
            resolution = f"reading {word}"
            if correction is not None:
                signer = signed_by.get(correction.id)
                who = f"signed by {signer}" if signer else f"by {correction.by}"
                resolution = f"reading {word} ({who}): {correction.reason}"
            kept[flag.id] = Flag(
                id=flag.id, key=flag.key, measure=flag.measure, severity=flag.severity,
                time=flag.time, message=f"{flag.message} (reading since {word})",
                reading_id=flag.reading_id, acknowledgement=ack,
                resolved_at=correction.time if correction is not None else at,
                resolution=resolution)
        elif flag.reading_id in standing:
            kept[flag.id] = Flag(
                id=flag.id, key=flag.key, measure=flag.measure, severity=flag.severity,
                time=flag.time, message=flag.message, reading_id=flag.reading_id,
                acknowledgement=ack, resolved_at=max(changed_at, flag.time),
                resolution=NO_LONGER_RAISED)
    return tuple(kept.values())
