"""CSV export round-trips through the import; batch export writes whole files and cancels."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest

from monitor.csvio import MEASURE_COLUMNS, parse_session_csv
from monitor.domain import IMPORTABLE_EVENTS
from monitor.exports import batch_export, file_name, session_csv
from monitor.permissions import PermissionDenied
from tests.conftest import TEST_PIN
from tests.monitor.exported import full_session

DAY = timedelta(days=1)


@pytest.fixture
def clinician(service) -> uuid.UUID:
    return service.ensure_staff("Cleo Clinician", "clinician", pin=TEST_PIN)


def reading_values(view):
    return [(r.time, tuple(getattr(r, name) for name in MEASURE_COLUMNS), r.note)
            for r in view.record.readings]


def reading_flags(view):
    return sorted((f.key, f.time, f.severity) for f in view.flags if f.reading_id is not None)


def test_csv_export_then_import_gives_back_the_same_readings_events_and_flags(
    service, nurse, clinician, clock
):
    exported = full_session(service, nurse, clinician, clock)
    original = service.load(exported.session_id)
    text = session_csv(original)

    parsed = parse_session_csv(text, now=clock.now())
    assert parsed.errors == []
    system = service.ensure_staff("Command-line import", "system")
    copy_id = service.import_session(parsed.rows, mrn="MRN777002", by=system)
    copy = service.load(copy_id, original.at)

    # The check-in questionnaires have no CSV columns and are left out, not made notes.
    kept = [r for r in original.record.readings
            if any(getattr(r, name) is not None for name in MEASURE_COLUMNS)]
    assert len(kept) == len(original.record.readings) - 1
    assert reading_values(copy) == [
        (r.time, tuple(getattr(r, name) for name in MEASURE_COLUMNS), r.note) for r in kept]
    assert [(e.time, e.kind, e.detail) for e in copy.record.events] == [
        (e.time, e.kind, e.detail) for e in original.record.events
        if e.kind in IMPORTABLE_EVENTS]
    assert reading_flags(copy) == reading_flags(original)
    assert reading_flags(copy)  # the session did raise flags


def test_the_csv_carries_amended_values_and_leaves_voided_readings_out(
    service, nurse, clinician, clock
):
    exported = full_session(service, nurse, clinician, clock)
    text = session_csv(service.load(exported.session_id))
    assert ",85," not in text  # the voided SpO2
    assert ",118," not in text  # the amended heart rate …
    assert ",88," in text  # … exported with its replacement value
    assert text.splitlines()[0] == ("time,sbp,dbp,hr,spo2,rr,cadss6,moaas,nausea,event,note,"
                                    "anxiety,pain")


def fake_pdf(view, path: Path, chain_head: str) -> None:
    path.write_bytes(b"%PDF-1.4 " + chain_head.encode() + b"\n%%EOF\n")


@pytest.fixture
def out(tmp_path) -> Path:
    """The export folder (the test's database lives beside it)."""
    return tmp_path / "exports"


@pytest.fixture
def three_days(service, nurse, clinician, clock):
    """Sessions on 2 and 3 March in the range, one on 1 March outside it."""
    outside = full_session(service, nurse, clinician, clock, mrn="MRN000001")
    clock.advance(DAY)
    first = full_session(service, nurse, clinician, clock, mrn="MRN000002")
    clock.advance(DAY)
    second = full_session(service, nurse, clinician, clock, mrn="MRN000003")
    clock.advance(DAY)
    return outside, first, second


def test_batch_export_writes_one_file_per_session_and_format_named_by_date_and_mrn(
    service, clinician, three_days, out
):
    _, first, second = three_days
    calls: list[tuple[int, int]] = []
    result = batch_export(
        service, date(2026, 3, 3), date(2026, 3, 4), ["csv", "fhir", "pdf"], out,
        by=clinician, pdf_writer=fake_pdf,
        progress=lambda done, total: calls.append((done, total)) is None,
    )
    assert (result.total, result.done, result.cancelled) == (2, 2, False)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([
        f"2026-03-03_MRN000002_{first.session_id.hex[:8]}.csv",
        f"2026-03-03_MRN000002_{first.session_id.hex[:8]}.fhir.json",
        f"2026-03-03_MRN000002_{first.session_id.hex[:8]}.pdf",
        f"2026-03-04_MRN000003_{second.session_id.hex[:8]}.csv",
        f"2026-03-04_MRN000003_{second.session_id.hex[:8]}.fhir.json",
        f"2026-03-04_MRN000003_{second.session_id.hex[:8]}.pdf",
    ])
    assert sorted(result.files) == sorted(out.iterdir())
    assert calls == [(0, 2), (1, 2), (2, 2)]
    # Every file is audited; the PDF carries the chain head its export returned.
    exports = service.audit_entries(by=clinician, action="export")
    assert len(exports) == 6
    assert result.chain_head == service.audit_head()


def test_a_pdf_carries_the_chain_head_of_its_own_export(service, clinician, three_days, out):
    _, _, second = three_days
    result = batch_export(service, date(2026, 3, 4), date(2026, 3, 4), ["pdf"], out,
                          by=clinician, pdf_writer=fake_pdf)
    assert result.chain_head == service.audit_head()
    pdf = out / f"2026-03-04_MRN000003_{second.session_id.hex[:8]}.pdf"
    assert result.chain_head.encode() in pdf.read_bytes()


def test_cancelling_a_batch_export_leaves_only_complete_files(
    service, clinician, three_days, out
):
    _, first, _ = three_days
    result = batch_export(
        service, date(2026, 3, 1), date(2026, 3, 4), ["csv", "pdf"], out,
        by=clinician, pdf_writer=fake_pdf, progress=lambda done, total: done < 2,
    )
    assert (result.total, result.done, result.cancelled) == (3, 2, True)
    assert len(list(out.iterdir())) == 4
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]
    assert (out / f"2026-03-03_MRN000002_{first.session_id.hex[:8]}.csv").stat().st_size


def test_a_failing_pdf_leaves_no_partial_file(service, clinician, three_days, out):
    def broken(view, path: Path, chain_head: str) -> None:
        path.write_bytes(b"%PDF-1.4 half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        batch_export(service, date(2026, 3, 3), date(2026, 3, 3), ["pdf"], out,
                     by=clinician, pdf_writer=broken)
    assert list(out.iterdir()) == []


def test_cancelling_before_the_first_session_writes_nothing(
    service, clinician, three_days, out
):
    result = batch_export(service, date(2026, 3, 1), date(2026, 3, 4), ["csv"], out,
                          by=clinician, progress=lambda done, total: False)
    assert (result.done, result.cancelled, result.files) == (0, True, [])
    assert list(out.iterdir()) == []


def test_a_batch_needs_known_formats_and_a_pdf_writer_for_pdf(service, clinician, out):
    with pytest.raises(ValueError, match="formats must be among pdf, csv, fhir"):
        batch_export(service, date(2026, 3, 1), date(2026, 3, 2), ["xls"], out,
                     by=clinician)
    with pytest.raises(ValueError, match="pdf_writer"):
        batch_export(service, date(2026, 3, 1), date(2026, 3, 2), ["pdf"], out,
                     by=clinician)


def test_an_admin_cannot_export_and_nothing_is_written(service, three_days, out):
    admin = service.ensure_staff("Ada Admin", "admin")
    with pytest.raises(PermissionDenied):
        batch_export(service, date(2026, 3, 1), date(2026, 3, 4), ["csv"], out, by=admin)
    assert list(out.iterdir()) == []


def test_a_file_name_is_safe_for_any_mrn(service, nurse, clinician, clock):
    exported = full_session(service, nurse, clinician, clock, mrn="A/B 12")
    view = service.load(exported.session_id)
    assert file_name(view, "fhir") == f"2026-03-02_A_B_12_{exported.session_id.hex[:8]}.fhir.json"
