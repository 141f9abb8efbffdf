"""The session CSV format: one row per time point, read by ``import`` and written by export.

Columns (header row required; any order; names case-insensitive; empty cells allowed):

========== ==============================================================================
time       ISO 8601 with a UTC offset (``2026-03-02T09:10:00+00:00`` or ``…Z``); required
sbp, dbp   blood pressure, mmHg (both or neither)
hr         heart rate, /min
spo2       oxygen saturation, %
rr         respiratory rate, /min
cadss6     CADSS-6 total, 0–24
moaas      MOAA/S, 0–5
nausea     0–10
anxiety    0–10 (optional column)
pain       0–10 (optional column)
event      one of :data:`monitor.domain.IMPORTABLE_EVENTS`
note       free text: the event's detail when ``event`` is set, else the reading's note;
           a row with only a note is a ``note`` event
========== ==============================================================================

Parsing never stops at the first problem: every error is reported as
``row N, column C: message`` (N counts data rows from 1), and a file with any error imports
nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from monitor.domain import IMPORTABLE_EVENTS, EventKind
from monitor.service import ImportedRow, SessionView
from monitor.validation import ValidationError, parse_time, validate_reading, validate_time

MEASURE_COLUMNS: tuple[str, ...] = (
    "sbp", "dbp", "hr", "spo2", "rr", "cadss6", "moaas", "nausea", "anxiety", "pain",
)
#: The columns an export writes, in this order; an import accepts them in any order.
COLUMNS: tuple[str, ...] = ("time", *MEASURE_COLUMNS[:8], "event", "note", *MEASURE_COLUMNS[8:])
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

    raw = {name: cell[name] for name in MEASURE_COLUMNS if cell.get(name)}
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
    """The effective record of a session in the import format (export → import round-trips)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    lines: list[tuple[datetime, int, list[str]]] = []
    for reading in view.record.readings:
        values = {name: getattr(reading, name) for name in MEASURE_COLUMNS}
        cells = [reading.time.isoformat()]
        cells += ["" if values[c] is None else str(values[c]) for c in COLUMNS[1:9]]
        cells += ["", reading.note]
        cells += ["" if values[c] is None else str(values[c]) for c in COLUMNS[11:]]
        lines.append((reading.time, 0, cells))
    for event in view.record.events:
        if event.kind not in IMPORTABLE_EVENTS:
            continue
        cells = [event.time.isoformat()] + [""] * 8 + [event.kind.value, event.detail, "", ""]
        lines.append((event.time, 1, cells))
    for _, _, cells in sorted(lines, key=lambda line: (line[0], line[1])):
        writer.writerow(cells)
    return out.getvalue()
