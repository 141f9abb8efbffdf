"""Exports of the record: a session as CSV or FHIR, and many sessions at once to a folder.

* :func:`session_csv` — the import format of :mod:`monitor.exports.csvio`, so exporting a session
  and importing the file gives back the same readings (the check-in questionnaires too) and
  events, and the rules raise the same flags on them. For the record it also carries each
  reading's status (voided ones as ``entered-in-error``, which the import skips), who
  entered each row, and the flags with their acknowledgements (which the import ignores).
* :func:`session_fhir` — a FHIR R4 Bundle (:mod:`monitor.exports.fhir`).
* :func:`batch_export` — every session of a date range, one file per session per format, for
  the review screen's progress dialog: it reports progress, can be cancelled, and leaves only
  complete files (each is written to a temporary name and renamed when whole).

Every export is audited (:meth:`monitor.service.clinic.ClinicService.record_export`), which returns
the audit chain head printed on a PDF and by the command line.

The PDF is drawn by the Qt side; :func:`batch_export` takes it as ``pdf_writer``, so this
module stays free of Qt.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.exports.csvio import write_session_csv
from monitor.exports.fhir import session_json
from monitor.service.review import MAX_PAGE, Cursor, SessionQuery, find_sessions

if TYPE_CHECKING:
    from monitor.service.clinic import ClinicService
    from monitor.service.views import PatientInfo, SessionView

#: The formats an export can take, and each one's file name ending.
FORMATS: dict[str, str] = {"pdf": ".pdf", "csv": ".csv", "fhir": ".fhir.json"}

PdfWriter = Callable[["SessionView", Path, str], None]
Progress = Callable[[int, int], bool]


@dataclass
class BatchResult:
    """What a batch export wrote: complete files only."""

    files: list[Path] = field(default_factory=list)
    #: Sessions in the date range, and how many were exported before any cancel.
    total: int = 0
    done: int = 0
    cancelled: bool = False
    #: The audit chain head after the last export, or None if nothing was exported.
    chain_head: str | None = None


def session_csv(view: SessionView) -> str:
    """The session in the CSV import format, with its record columns."""
    return write_session_csv(view)


def session_fhir(view: SessionView, patient: PatientInfo, *,
                 mrn_system: str | None = None) -> str:
    """The session as a FHIR R4 Bundle in JSON; ``mrn_system`` overrides the clinic's
    MRN identifier system (``$CHAIRSIDE_MRN_SYSTEM``)."""
    return session_json(view, patient, mrn_system_uri=mrn_system)


def export_text(view: SessionView, fmt: str, *, mrn_system: str | None = None) -> str:
    """The CSV or FHIR text of a session (the PDF is drawn by the Qt side)."""
    if fmt == "csv":
        return session_csv(view)
    if fmt == "fhir":
        return session_fhir(view, view.info.patient, mrn_system=mrn_system)
    raise ValueError(f"format must be csv or fhir here, not {fmt!r}")


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Write ``path`` through ``write(temporary)`` and rename it into place when complete.

    A failure or an interruption leaves no partial file under ``path``.
    """
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def file_name(view: SessionView, fmt: str) -> str:
    """``YYYY-MM-DD_MRN_sessionid8.ext``: the local date of the session, then its patient."""
    day = view.info.time.astimezone().date().isoformat()
    mrn = re.sub(r"[^A-Za-z0-9-]+", "_", view.info.patient.mrn).strip("_") or "no-mrn"
    return f"{day}_{mrn}_{view.info.id.hex[:8]}{FORMATS[fmt]}"


def batch_export(
    service: ClinicService,
    date_from: date,
    date_to: date,
    formats: Collection[str],
    out_dir: Path,
    *,
    by: uuid.UUID,
    pdf_writer: PdfWriter | None = None,
    progress: Progress | None = None,
) -> BatchResult:
    """Export every session from ``date_from`` to ``date_to`` (local days, both included).

    ``progress(done, total)`` is called before the first session and after each one;
    returning False cancels before the next session. Each export is audited as ``by``, who
    must be allowed to export (:class:`monitor.clinical.permissions.PermissionDenied` otherwise,
    before any file is written).
    """
    wanted = [fmt for fmt in FORMATS if fmt in set(formats)]
    unknown = set(formats) - set(FORMATS)
    if unknown or not wanted:
        raise ValueError(f"formats must be among {', '.join(FORMATS)}, not {sorted(formats)}")
    if "pdf" in wanted and pdf_writer is None:
        raise ValueError("a PDF export needs a pdf_writer (the Qt side draws PDFs)")
    out_dir.mkdir(parents=True, exist_ok=True)
    sessions = _sessions_between(service, date_from, date_to)
    result = BatchResult(total=len(sessions))
    if progress is not None and not progress(0, result.total):
        result.cancelled = True
        return result
    for session_id in sessions:
        view = service.load(session_id)
        for fmt in wanted:
            head = service.record_export(session_id, fmt, by=by)
            path = out_dir / file_name(view, fmt)
            write_atomically(path, _writer(view, fmt, head, pdf_writer))
            result.files.append(path)
            result.chain_head = head
        result.done += 1
        if progress is not None and not progress(result.done, result.total) \
                and result.done < result.total:
            result.cancelled = True
            break
    return result


def _writer(view: SessionView, fmt: str, head: str,
            pdf_writer: PdfWriter | None) -> Callable[[Path], object]:
    if fmt == "pdf":
        assert pdf_writer is not None

        def write_pdf(path: Path) -> None:
            pdf_writer(view, path, head)

        return write_pdf
    text = export_text(view, fmt)
    return lambda path: path.write_text(text, encoding="utf-8")


def _sessions_between(service: ClinicService, date_from: date, date_to: date) -> list[uuid.UUID]:
    """Ids of the sessions in the range, oldest first."""
    query = SessionQuery(date_from=date_from, date_to=date_to)
    found: list[uuid.UUID] = []
    after: Cursor | None = None
    with service.store.read() as db:
        connection = db.connection()
        while True:
            page = find_sessions(connection, query, after=after, limit=MAX_PAGE)
            found.extend(row.session_id for row in page.rows)
            if page.next is None:
                break
            after = page.next
    found.reverse()
    return found
