"""The session CSV format: one row per time point, read by ``import`` and written by export.

Columns (header row required; any order; names case-insensitive; empty cells allowed):

=============== =========================================================================
time            ISO 8601 with a UTC offset (``2026-03-02T09:10:00+00:00`` or ``…Z``); required
sbp, dbp        blood pressure, mmHg (both or neither)
hr              heart rate, /min
spo2            oxygen saturation, %
rr              respiratory rate, /min
cadss6          CADSS-6 total, 0–24
moaas           MOAA/S, 0–5
nausea          0–10
event           one of :data:`monitor.clinical.domain.IMPORTABLE_EVENTS`
note            free text: the event's detail when ``event`` is set, else the reading's note;
                a row with only a note is a ``note`` event
anxiety, pain   0–10 (optional columns)
phq9, gad7      PHQ-9 total 0–27, GAD-7 total 0–21 (optional columns)
phq9_items,     the item scores separated by spaces (9 items 0–3, 7 items 0–3); a total
gad7_items      beside them must equal their sum (optional columns)
status          a reading's status: ``final``, ``amended`` (it replaced an earlier entry) or
                ``entered-in-error`` (voided: written for the record, not imported)
=============== =========================================================================

Exports also write :data:`RECORD_COLUMNS` (who entered each row and when, flags and their
acknowledgements); the import accepts and ignores them: the rules raise the flags again on
the imported readings, and a row holding only a flag is skipped.

Parsing never stops at the first problem: every error is reported as
``row N, column C: message`` (N counts data rows from 1), and a file with any error imports
nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from monitor.clinical.domain import IMPORTABLE_EVENTS, EventKind, Flag, Reading
from monitor.clinical.validation import (
    RawValue,
    ValidationError,
    parse_time,
    validate_reading,
    validate_time,
)
from monitor.exports.reading_status import STATUSES, VOIDED, reading_statuses
from monitor.service.views import ImportedRow, SessionView

MEASURE_COLUMNS: tuple[str, ...] = (
    "sbp", "dbp", "hr", "spo2", "rr", "cadss6", "moaas", "nausea", "anxiety", "pain",
    "phq9", "gad7",
)
#: Questionnaire item scores, written separated by spaces.
ITEM_COLUMNS: tuple[str, ...] = ("phq9_items", "gad7_items")
#: The reading's status column (:mod:`monitor.exports.reading_status`; a voided one is
#: not imported).
STATUS = "status"
#: Columns written for the record that an import accepts and ignores.
RECORD_COLUMNS: tuple[str, ...] = (
    "entered_by", "flag_severity", "flag", "flag_resolution", "ack_time", "ack_by",
    "ack_action", "ack_note", "entered_at",
)
#: The columns an export writes, in this order; an import accepts them in any order. New
#: columns go at the end, so that scripts reading the older columns by position still work.
COLUMNS: tuple[str, ...] = (
    "time", *MEASURE_COLUMNS[:8], "event", "note", *MEASURE_COLUMNS[8:], *ITEM_COLUMNS,
    STATUS, *RECORD_COLUMNS,
)
REQUIRED_COLUMNS = ("time",)


@dataclass
class ParsedFile:
    rows: list[ImportedRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_session_csv(
    text: str, *, now: datetime, confirm_implausible: bool = False
) -> ParsedFile:
    """Validate a whole file; the result holds either rows to import or every error."""
    result = ParsedFile()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        result.errors.append("header: the file is empty; expected a header row with 'time'")
        return result
    except csv.Error as exc:
        result.errors.append(f"header: not a readable CSV file ({exc})")
        return result
    columns = _columns(header, result.errors)
    if result.errors:
        return result
    data_rows = 0
    try:
        for number, cells in enumerate(reader, start=1):
            if not any(c.strip() for c in cells):
                continue  # a blank line carries nothing
            data_rows += 1
            row = _parse_row(number, columns, cells, now, confirm_implausible, result.errors)
            if row is not None:
                result.rows.append(row)
    except csv.Error as exc:
        result.errors.append(f"row {reader.line_num}: not a readable CSV line ({exc})")
    if data_rows == 0 and not result.errors:
        result.errors.append("row 1: the file has a header but no data rows")
    if not result.errors:
        _check_event_order(result.rows, result.errors)
    if result.errors:
        result.rows.clear()
    return result


def _columns(header: list[str], errors: list[str]) -> list[str]:
    names = [h.strip().lower().lstrip("\ufeff") for h in header]
    seen: set[str] = set()
    for name in names:
        if name not in COLUMNS:
            errors.append(
                f"header, column {name or '(blank)'}: unknown column; accepted columns are "
                + ", ".join(COLUMNS)
            )
        elif name in seen:
            errors.append(f"header, column {name}: appears twice")
        seen.add(name)
    errors.extend(
        f"header, column {required}: required column is missing"
        for required in REQUIRED_COLUMNS if required not in seen
    )
    return names


def _parse_row(  # noqa: PLR0917 - one call site, every argument is distinct
    number: int,
    columns: list[str],
    cells: list[str],
    now: datetime,
    confirm_implausible: bool,
    errors: list[str],
) -> ImportedRow | None:
    def error(column: str, message: str) -> None:
        errors.append(f"row {number}, column {column}: {message}")

    if len(cells) > len(columns):
        error(columns[-1], f"the row has {len(cells)} cells but the header names {len(columns)}")
        return None
    cell = dict(zip(columns, (c.strip() for c in cells), strict=False))
    before = len(errors)
    status = cell.get(STATUS, "").lower()
    if status and status not in STATUSES:
        error(STATUS, f"unknown status {cell[STATUS]!r}; accepted: {', '.join(STATUSES)}")
        return None
    if status == VOIDED or _only_record_columns(cell):
        return None  # a voided reading or a flag: written for the record, not stored

    when: datetime | None = None
    if not cell.get("time"):
        error("time", "required: ISO 8601 time with a UTC offset, e.g. 2026-03-02T09:10:00+00:00")
    else:
        try:
            when = parse_time(cell["time"])
        except ValidationError as exc:
            error("time", exc.message)
        else:
            problem = validate_time(when, now)
            if problem is not None:
                error("time", problem.message)

    raw: dict[str, RawValue] = {name: cell[name] for name in MEASURE_COLUMNS if cell.get(name)}
    raw.update((name, cell[name].split()) for name in ITEM_COLUMNS if cell.get(name))
    check = validate_reading(raw, confirmed=raw.keys() if confirm_implausible else ())
    for problem in check.errors:
        error(_column_for(problem.field, raw), problem.message)
    for problem in check.needs_confirmation:
        error(
            _column_for(problem.field, raw),
            f"{problem.message} (re-run with --confirm-implausible to import it)",
        )

    event: EventKind | None = None
    if cell.get("event"):
        try:
            event = EventKind(cell["event"].lower())
        except ValueError:
            event = None
        if event not in IMPORTABLE_EVENTS:
            error("event", f"unknown event {cell['event']!r}; accepted: "
                  + ", ".join(e.value for e in IMPORTABLE_EVENTS))
            event = None
    note = cell.get("note", "")
    if event is None and not raw and note and not cell.get("event"):
        event = EventKind.NOTE
    if not raw and event is None and not cell.get("event") and cell.get("time"):
        error("time", "the row has a time but no measurement, event or note")

    if len(errors) > before or when is None:
        return None
    return ImportedRow(time=when, values=check.values, event=event, note=note)


def _only_record_columns(cell: dict[str, str]) -> bool:
    """A row with nothing but its time and columns the import does not store (a flag)."""
    stored = [name for name, value in cell.items()
              if value and name not in RECORD_COLUMNS and name not in {"time", STATUS}]
    return not stored and any(cell.get(name) for name in RECORD_COLUMNS)


def _column_for(field_name: str, raw: Collection[str]) -> str:
    """The CSV column to blame for a validation error about ``field_name``."""
    if field_name in COLUMNS:
        return field_name
    if field_name in {"bp", "blood_pressure"}:
        return "dbp" if "sbp" in raw else "sbp"
    return field_name


def _check_event_order(rows: Iterable[ImportedRow], errors: list[str]) -> None:
    """The infusion must start before it pauses, resumes or stops, and stop only once."""
    started = stopped = False
    for row in sorted(rows, key=lambda r: r.time):
        kind = row.event
        stamp = row.time.isoformat()
        if kind is EventKind.INFUSION_START:
            if started:
                errors.append(f"event at {stamp}, column event: the infusion already started")
            started = True
        elif kind in {EventKind.INFUSION_PAUSE, EventKind.INFUSION_RESUME,
                      EventKind.INFUSION_STOP}:
            if not started:
                errors.append(
                    f"event at {stamp}, column event: {kind.value} before infusion_start"
                )
            if kind is EventKind.INFUSION_STOP:
                if stopped:
                    errors.append(f"event at {stamp}, column event: the infusion already stopped")
                stopped = True


def write_session_csv(view: SessionView) -> str:
    """A session in the import format (export → import round-trips), for the record too:
    each reading with its status (a voided one as ``entered-in-error``), the events, and
    each flag with its acknowledgement, in time order."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    lines: list[tuple[datetime, int, dict[str, str]]] = []
    for reading, status in reading_statuses(view):
        if status == VOIDED or any(getattr(reading, name) is not None
                                   for name in (*MEASURE_COLUMNS, *ITEM_COLUMNS)):
            lines.append((reading.time, 0, _reading_cells(reading, status)))
    lines += [(event.time, 1, {"time": event.time.isoformat(), "event": event.kind.value,
                               "note": event.detail, "entered_by": event.by,
                               "entered_at": _utc(event.recorded_at)})
              for event in view.record.events if event.kind in IMPORTABLE_EVENTS]
    lines += [(flag.time, 2, _flag_cells(flag))
              for flag in sorted((*view.flags, *view.superseded_flags),
                                 key=lambda f: (f.time, -f.severity, f.message))]
    writer.writerows(cells for _, _, cells in sorted(lines, key=lambda line: line[:2]))
    return out.getvalue()


def _reading_cells(reading: Reading, status: str) -> dict[str, str]:
    cells = {"time": reading.time.isoformat(), "note": reading.note, STATUS: status,
             "entered_by": reading.by, "entered_at": _utc(reading.recorded_at)}
    for name in MEASURE_COLUMNS:
        value = getattr(reading, name)
        cells[name] = "" if value is None else str(value)
    for name in ITEM_COLUMNS:
        items = getattr(reading, name)
        cells[name] = "" if items is None else " ".join(str(i) for i in items)
    return cells


def _utc(when: datetime | None) -> str:
    """When a row was entered, in UTC: a late entry shows beside the time it is for."""
    if when is None:
        return ""
    return (when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)).isoformat()


def _flag_cells(flag: Flag) -> dict[str, str]:
    cells = {"time": flag.time.isoformat(), "flag_severity": flag.severity.label,
             "flag": flag.message}
    if flag.resolved_at is not None:
        cells["flag_resolution"] = f"{flag.resolution} at {flag.resolved_at.isoformat()}"
    ack = flag.acknowledgement
    if ack is not None:
        cells.update(ack_time=ack.time.isoformat(), ack_by=ack.by, ack_action=ack.action,
                     ack_note=ack.note)
    return cells
