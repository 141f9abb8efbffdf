"""CSV export round-trips through the import; batch export writes whole files and cancels."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, timedelta
from pathlib import Path

import pytest

from monitor.clinical.domain import IMPORTABLE_EVENTS, EventKind
from monitor.clinical.permissions import PermissionDenied
from monitor.exports.batch import batch_export, file_name, session_csv
from monitor.exports.csvio import ITEM_COLUMNS, MEASURE_COLUMNS, parse_session_csv
from tests.conftest import TEST_PIN
from tests.monitor.exported import full_session

DAY = timedelta(days=1)


@pytest.fixture
def clinician(service) -> uuid.UUID:
    return service.ensure_staff("Cleo Clinician", "clinician", pin=TEST_PIN)


def reading_values(view):
    return [(r.time, tuple(getattr(r, name) for name in (*MEASURE_COLUMNS, *ITEM_COLUMNS)),
             r.note) for r in view.record.readings]


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

    # Every effective reading comes back, the check-in questionnaires with their items;
    # the voided reading and the flag rows are for the record and are not imported.
    assert reading_values(copy) == reading_values(original)
    assert copy.record.readings[0].phq9_items == (2, 2, 2, 2, 2, 2, 2, 2, 0)
    assert [(e.time, e.kind, e.detail) for e in copy.record.events] == [
        (e.time, e.kind, e.detail) for e in original.record.events
        if e.kind in IMPORTABLE_EVENTS]
    assert reading_flags(copy) == reading_flags(original)
    assert reading_flags(copy)  # the session did raise flags


def csv_rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_carries_each_readings_status_and_the_voided_one_as_entered_in_error(
    service, nurse, clinician, clock
):
    exported = full_session(service, nurse, clinician, clock)
    text = session_csv(service.load(exported.session_id))
    header = text.splitlines()[0]
    # The columns of earlier exports keep their places; new ones follow.
    assert header.startswith("time,sbp,dbp,hr,spo2,rr,cadss6,moaas,nausea,event,note,"
                             "anxiety,pain,phq9,gad7,phq9_items,gad7_items,status,")
    readings = [r for r in csv_rows(text) if r["status"]]
    by_status = {}
    for row in readings:
        by_status.setdefault(row["status"], []).append(row)
    (voided,) = by_status["entered-in-error"]
    assert voided["spo2"] == "85"
    (amended,) = by_status["amended"]
    assert (amended["hr"], amended["entered_by"]) == ("88", "Cleo Clinician")
    assert "118" not in {r["hr"] for r in readings}
    (check_in,) = [r for r in readings if r["phq9"]]
    assert (check_in["phq9"], check_in["gad7"]) == ("16", "8")
    assert (check_in["phq9_items"], check_in["gad7_items"]) == (
        "2 2 2 2 2 2 2 2 0", "1 1 1 1 1 1 2")


def test_the_csv_lists_every_flag_with_its_acknowledgement(service, nurse, clinician, clock):
    exported = full_session(service, nurse, clinician, clock)
    view = service.load(exported.session_id)
    flag_rows = [r for r in csv_rows(session_csv(view)) if r["flag"]]
    assert len(flag_rows) == len(view.flags) + len(view.superseded_flags)
    acknowledged = [r for r in flag_rows if r["ack_by"]]
    assert acknowledged
    for row in acknowledged:
        assert row["ack_by"] == "Cleo Clinician"
        assert row["ack_action"] == "repeated, informed the clinician"
        assert row["ack_time"]
        assert row["flag_severity"] in {"critical", "warning", "advisory"}
    surge = next(f for f in view.flags if f.acknowledgement is not None)
    assert any(r["flag"] == surge.message and r["time"] == surge.time.isoformat()
               for r in flag_rows)


def test_the_csv_says_when_each_row_was_entered_so_a_late_entry_shows(
    service, nurse, clinician, clock
):
    session_id = service.check_in(
        by=nurse, chair="4", new_patient={"mrn": "MRN777009", "name": "Lou Hart"},
        weight_kg=70, planned_mg_per_kg=0.5, infusion_minutes=40, bag_volume_ml=100.0,
        escort_name="Max Hart")
    clock.advance(timedelta(minutes=5))
    service.record_reading(session_id, {"hr": "72"}, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(timedelta(minutes=40))
    late_time = clock.now() - timedelta(minutes=30)
    service.record_reading(session_id, {"hr": "77"}, by=nurse, time=late_time,
                           note="written up late")
    text = session_csv(service.load(session_id))
    assert text.splitlines()[0].endswith(",entered_at")  # new columns go at the end
    rows = csv_rows(text)
    (late,) = [r for r in rows if r["note"] == "written up late"]
    assert late["time"] == late_time.isoformat()
    assert late["entered_at"] == clock.now().astimezone(UTC).isoformat()
    assert all(r["entered_at"] for r in rows if r["status"] or r["event"])
    assert not any(r["entered_at"] for r in rows if r["flag"])  # a flag is raised, not entered
    parsed = parse_session_csv(text, now=clock.now())  # the import accepts and ignores it
    assert parsed.errors == []


def test_the_import_refuses_an_unknown_status_naming_the_column(clock):
    text = "time,hr,status\n2026-03-02T09:10:00+00:00,72,maybe\n"
    parsed = parse_session_csv(text, now=clock.now())
    assert parsed.errors == [
        "row 1, column status: unknown status 'maybe'; accepted: final, amended, "
        "entered-in-error"]


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


def test_the_csv_gives_a_held_readings_tablet_save_time_as_entered_at(
    service, nurse, clock
):
    session_id = service.check_in(
        by=nurse, chair="4", new_patient={"mrn": "MRN777010", "name": "Ria Held"},
        weight_kg=70, planned_mg_per_kg=0.5, infusion_minutes=40, bag_volume_ml=100.0,
        escort_name="Max Held")
    clock.advance(timedelta(minutes=5))
    saved_at = clock.now()
    clock.advance(timedelta(seconds=89))  # the drain, when the server was back
    service.record_reading(session_id, {"hr": "72"}, by=nurse, time=saved_at,
                           entered_at=saved_at, note="kept on the tablet")
    (held,) = [r for r in csv_rows(session_csv(service.load(session_id)))
               if r["note"] == "kept on the tablet"]
    assert held["entered_at"] == saved_at.astimezone(UTC).isoformat()
