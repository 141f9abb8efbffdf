"""The entries of a session's chart history: every reading and event, and what became of it.

A :class:`HistoryEntry` is one row as the history shows it: when, what, the values, and a
status in words for an entry corrected ("VOID — …", "AMENDED → …"), an amendment, or one
entered after the discharge was signed. Which correction superseded which entry comes from
:mod:`monitor.clinical.lineage`, as for the chart and the session report.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.clinical.domain import Event, Reading
from monitor.clinical.lineage import AMEND, VOID, lineage
from monitor.clinical.wording import EVENT_NAMES
from ui.common.labels import bp_text, clock_time, short_name

if TYPE_CHECKING:
    from monitor.service.views import CorrectionInfo, SessionView


@dataclass(frozen=True)
class HistoryEntry:
    """One row of the history: a reading or an event, effective or superseded.

    ``time`` is the time the entry describes; ``None`` for a voided event the view carries
    no details of (``sort_time`` is then the time of the void).
    """

    kind: str  # "reading" | "event"
    id: uuid.UUID
    time: datetime | None
    sort_time: datetime
    what: str
    values: str
    effective: bool
    status: str
    reading: Reading | None = None
    action: str = ""  # "void" | "amend" | "" (effective)

    def summary(self) -> str:
        """"10:32 · Vitals — BP 128/78 · HR 72", as the dialogs name the entry."""
        when = clock_time(self.time) if self.time is not None else "time not shown"
        values = f" — {self.values}" if self.values else ""
        return f"{when} · {self.what}{values}"


def reading_what(reading: Reading) -> str:
    """What a reading holds, as the entry tabs name it: "Vitals", "CADSS-6", "Comfort" …"""
    parts = []
    if reading.has_vitals:
        parts.append("Vitals")
    if reading.cadss6 is not None:
        parts.append("CADSS-6")
    if reading.moaas is not None:
        parts.append("MOAA/S")
    if any(v is not None for v in (reading.nausea, reading.anxiety, reading.pain)):
        parts.append("Comfort")
    if reading.phq9 is not None or reading.gad7 is not None:
        parts.append("Mood scores")
    what = " + ".join(parts) or "Reading"
    return f"{what} from monitor" if reading.from_monitor else what


def reading_values(reading: Reading) -> str:
    """"BP 128/78 · HR 72 · SpO2 98": the measures a reading holds, in the chart's order."""
    parts = []
    bp = bp_text(reading)
    if bp is not None:
        parts.append(f"BP {bp}")
    named = (
        ("HR", reading.hr), ("SpO2", reading.spo2), ("RR", reading.rr),
        ("CADSS-6", reading.cadss6), ("MOAA/S", reading.moaas), ("Nausea", reading.nausea),
        ("Anxiety", reading.anxiety), ("Pain", reading.pain), ("PHQ-9", reading.phq9),
        ("GAD-7", reading.gad7),
    )
    for name, value in named:
        if value is None:
            continue
        text = f"{name} {value}"
        if name == "SpO2" and reading.on_oxygen:
            text += " on O2"
        parts.append(text)
    if reading.note:
        parts.append(f"note: {reading.note}")
    return " · ".join(parts)


def _after_signoff(view: SessionView, entry: Reading | Event) -> str:
    """"AFTER SIGN-OFF, entered 12:40 by Dr Lee" for an entry added after the discharge
    was signed (its reason is in its note), else ""."""
    if not view.after_signoff(entry) or entry.recorded_at is None:
        return ""
    by = f" by {short_name(entry.by)}" if entry.by else ""
    return f"AFTER SIGN-OFF, entered {clock_time(entry.recorded_at)}{by}"


def _by_when(correction: CorrectionInfo) -> str:
    by = f"{short_name(correction.by)}, " if correction.by else ""
    return f"({by}{clock_time(correction.time)})"


#: Entries made before, by kind and id, with the reading or event each was made of.
Made = dict[tuple[str, uuid.UUID], tuple[object, "HistoryEntry"]]


def history_entries(view: SessionView, made: Made | None = None) -> list[HistoryEntry]:
    """Every reading and event of ``view``, effective and superseded, newest first.

    At the same time, the effective entry comes first, so an amendment sits above the
    reading it replaced. ``made`` keeps the plain entries (neither corrected nor an
    amendment) from call to call: a reading or event that is the same object as before
    is not formatted again, which keeps a save in a long session cheap.
    """
    if made is not None:
        return _with_plain_entries_kept(view, made)
    lines = lineage(view.corrections)
    readings = {r.id: r for r in (*view.record.readings, *view.superseded_readings)}
    entries: list[HistoryEntry] = []
    for reading in readings.values():
        correction = lines.correction(reading.id)
        if correction is None:
            amended = lines.amendment(reading.id)
            status = (f"amendment of an earlier entry {_by_when(amended)}" if amended
                      else _after_signoff(view, reading))
            action = ""
        elif correction.action == AMEND:
            replacement_id = lines.replacement(reading.id)
            replacement = readings.get(replacement_id) if replacement_id is not None else None
            new = reading_values(replacement) if replacement is not None else "new values"
            status = f"AMENDED → {new} — {correction.reason} {_by_when(correction)}"
            action = AMEND
        else:
            status = f"VOID — {correction.reason} {_by_when(correction)}"
            action = VOID
        entries.append(HistoryEntry(
            "reading", reading.id, reading.time, reading.time, reading_what(reading),
            reading_values(reading), correction is None, status, reading, action,
        ))
    for event in view.record.events:
        entries.append(HistoryEntry(
            "event", event.id, event.time, event.time, EVENT_NAMES.get(event.kind, event.kind),
            event.detail, effective=True, status=_after_signoff(view, event),
        ))
    for event in view.superseded_events:
        correction = lines.correction(event.id)
        status = f"VOID — {correction.reason} {_by_when(correction)}" if correction else "VOID"
        entries.append(HistoryEntry(
            "event", event.id, event.time, event.time, EVENT_NAMES.get(event.kind, event.kind),
            event.detail, effective=False, status=status, action=VOID,
        ))
    entries.sort(key=lambda e: (e.sort_time, e.effective), reverse=True)
    return entries


def _with_plain_entries_kept(view: SessionView, made: Made) -> list[HistoryEntry]:
    if (view.corrections or view.superseded_readings or view.superseded_events
            or view.sign_off is not None):
        made.clear()
        return history_entries(view)
    entries: list[HistoryEntry] = []
    for kind, items in (("reading", view.record.readings), ("event", view.record.events)):
        for item in items:
            kept = made.get((kind, item.id))
            if kept is None or kept[0] is not item:
                entry = (HistoryEntry("reading", item.id, item.time, item.time,
                                      reading_what(item), reading_values(item), True, "",
                                      item, "")
                         if isinstance(item, Reading) else
                         HistoryEntry("event", item.id, item.time, item.time,
                                      EVENT_NAMES.get(item.kind, item.kind), item.detail,
                                      effective=True, status=""))
                made[kind, item.id] = kept = (item, entry)
            entries.append(kept[1])
    entries.sort(key=lambda e: (e.sort_time, e.effective), reverse=True)
    return entries
