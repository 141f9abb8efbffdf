"""The session report's content, without Qt: every section a clinician reads, derived from a
real session recorded through ClinicService (a surge acknowledged, a reading voided, one
amended, PHQ-9 item 9 above 0, discharge signed)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date, timedelta

import pytest

from monitor.clinical.domain import EventKind, Severity
from monitor.clock import ManualClock
from monitor.exports.report import NO_DRIVING, build_report
from monitor.exports.report_blocks import (
    ChartPlace,
    Fields,
    Paragraph,
    SessionReport,
    Table,
    report_text,
)
from monitor.service.clinic import ClinicService
from monitor.service.views import SessionView
from tests.conftest import TEST_PIN

CHAIN_HEAD = "5f" * 32
VOID_REASON = "probe slipped off finger"
AMEND_REASON = "score keyed in the wrong field"


@dataclasses.dataclass(frozen=True)
class Signed:
    session_id: uuid.UUID
    surge_id: uuid.UUID
    voided_id: uuid.UUID
    amended_id: uuid.UUID


def signed_session(service: ClinicService, clock: ManualClock, nurse: uuid.UUID,
                   clinician: uuid.UUID) -> Signed:
    """A whole session entered as it happened, signed off at +75 min."""
    patient = service.add_patient("MRN-300", by=nurse, name="Alex Example",
                                  date_of_birth=date(1980, 5, 17), weight_kg=70)
    session_id = service.start_session(
        patient.id, by=nurse, chair="Chair 3", planned_mg_per_kg=0.5, infusion_minutes=40,
        bag_volume_ml=100, lot_number="LOT-7731", escort_name="Sam Driver",
        concomitant_medications={"benzodiazepines": False, "ssris_snris": True})
    start = clock.now() + timedelta(minutes=10)

    def at(minute: float):
        when = start + timedelta(minutes=minute)
        clock.set_wall(when)
        return when

    def reading(minute: float, **values):
        return service.record_reading(session_id, values, by=nurse, time=at(minute)).id

    reading(-10, sbp=128, dbp=82, hr=72, spo2=98, rr=14, cadss6=0, moaas=5,
            phq9_items=[2, 1, 1, 1, 1, 1, 1, 1, 1], gad7_items=[1, 1, 1, 1, 1, 1, 1])
    # PHQ-9 item 9 scored 1: the infusion starts once a clinician has seen the patient.
    (item9,) = service.load(session_id).open_flags
    service.acknowledge(session_id, item9, action="Assessed by clinician", by=clinician,
                        note="seen at the chair")
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse, time=at(0))
    reading(10, sbp=150, dbp=90, hr=80, spo2=97, cadss6=6, moaas=5)
    surge = reading(20, sbp=186, dbp=112, hr=88, spo2=96, cadss6=11, moaas=4)
    voided = reading(25, sbp=96, dbp=58, hr=64, spo2=88)
    amended = reading(30, sbp=150, dbp=92, hr=84, spo2=96, cadss6=4, moaas=4)
    service.record_event(session_id, EventKind.MEDICATION, by=nurse, time=at(32),
                         detail="Ondansetron 4 mg IV")
    service.record_event(session_id, EventKind.INFUSION_STOP, by=nurse, time=at(40))
    reading(45, sbp=140, dbp=86, hr=78, spo2=97, cadss6=5, moaas=5, nausea=2)
    reading(72, sbp=130, dbp=82, hr=74, spo2=98, cadss6=1, moaas=5, nausea=1)
    service.record_event(session_id, EventKind.ORIENTED_STEADY_GAIT, by=nurse, time=at(73))
    service.record_event(session_id, EventKind.ESCORT_PRESENT, by=nurse, time=at(73))
    at(74)
    service.void(session_id, "reading", voided, reason=VOID_REASON, by=nurse, pin=TEST_PIN)
    service.amend_reading(session_id, amended, {"sbp": 150, "dbp": 92, "hr": 84, "spo2": 96,
                                                "cadss6": 14, "moaas": 4},
                          reason=AMEND_REASON, by=clinician)
    view = service.load(session_id)
    for flag in view.open_flags:
        if flag.severity >= Severity.WARNING:
            service.acknowledge(session_id, flag, action="Clinician informed", by=nurse,
                                note="seen at the chair", pin=TEST_PIN)
    at(75)
    service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
    return Signed(session_id, surge, voided, amended)


@pytest.fixture
def clinician(service) -> uuid.UUID:
    return service.ensure_staff("Cara Clinician", "clinician", pin=TEST_PIN)


@pytest.fixture
def signed(service, clock, nurse, clinician) -> Signed:
    return signed_session(service, clock, nurse, clinician)


@pytest.fixture
def view(service, signed) -> SessionView:
    return service.load(signed.session_id)


@pytest.fixture
def report(view, clock) -> SessionReport:
    return build_report(view, generated_at=clock.now(), chain_head=CHAIN_HEAD)


def section(report: SessionReport, title: str):
    return next(s for s in report.sections if s.title == title)


def only_table(report: SessionReport, title: str) -> Table:
    return next(b for b in section(report, title).blocks if isinstance(b, Table))


def row_with(table: Table, text: str):
    return next(r for r in table.rows if any(text in cell for cell in r.cells))


def test_header_names_patient_session_dose_lot_escort_and_staff(report):
    header = dict(report.header.items)
    assert header["Patient"] == "Alex Example"
    assert header["MRN"] == "MRN-300"
    assert header["Date of birth"] == "1980-05-17"
    assert header["Chair"] == "Chair 3"
    assert header["Dose plan"] == ("0.5 mg/kg × 70 kg = 35 mg over 40 min (0.875 mg/min); "
                                   "100 mL bag at 150 mL/h")
    assert header["Drug lot"] == "LOT-7731"
    assert header["Escort / driver"] == "Sam Driver"
    assert header["Concomitant medications"] == "Benzodiazepines: no; SSRIs / SNRIs: yes"
    assert header["Staff"] == "Nora Nurse, Cara Clinician"
    assert header["Status"].startswith("Discharged")
    assert "Alex Example" in report.running_title
    assert "MRN-300" in report.running_title


def test_readings_table_lists_every_reading_with_its_values_and_flags(report, view):
    table = only_table(report, "Readings")
    effective = [r for r in table.rows if not r.struck]
    assert len(effective) == len(view.record.readings)
    surge = row_with(table, "186/112")
    assert surge.cells[1] == "+20"
    assert "Warning BP" in surge.cells[9]
    assert surge.cells[3:8] == ("88", "96", "–", "11", "4")


def test_voided_reading_stays_struck_with_reason_and_who(report):
    voided = row_with(only_table(report, "Readings"), "96/58")
    assert voided.struck
    assert "VOIDED" in voided.cells[-1]
    assert VOID_REASON in voided.cells[-1]
    assert "Nora Nurse" in voided.cells[-1]


def test_amended_reading_shows_the_old_value_struck_and_the_amendment_with_reason(report):
    table = only_table(report, "Readings")
    old = next(r for r in table.rows if r.cells[1] == "+30" and r.struck)
    new = next(r for r in table.rows if r.cells[1] == "+30" and not r.struck)
    assert old.cells[6] == "4"
    assert new.cells[6] == "14"
    assert "AMENDED" in old.cells[-1]
    assert AMEND_REASON in old.cells[-1]
    assert "Cara Clinician" in old.cells[-1]
    assert "amendment" in new.cells[-1]
    assert AMEND_REASON in new.cells[-1]
    corrections = only_table(report, "Corrections")
    amend = row_with(corrections, AMEND_REASON)
    assert amend.cells[2] == "Amended"
    assert amend.cells[4] == "Cara Clinician"
    assert "CADSS-6 4" in amend.cells[1]
    assert "CADSS-6 14" in amend.cells[1]
    assert row_with(corrections, VOID_REASON).cells[2] == "Voided"


def test_flags_table_gives_tier_in_words_and_the_acknowledgement(report):
    flags = only_table(report, "Flags and acknowledgements")
    surge = row_with(flags, "186/112")
    assert surge.cells[1] == "WARNING"
    assert surge.cells[4].startswith("Acknowledged")
    assert "Nora Nurse: Clinician informed — seen at the chair" in surge.cells[4]
    item9 = next(r for r in flags.rows if r.cells[2] == "PHQ-9")
    assert "Acknowledged" in item9.cells[4]
    voided = row_with(flags, "SpO2 88")
    assert voided.cells[1] == "CRITICAL"
    assert "voided" in voided.cells[4]


def test_open_flag_reads_open(service, clock, nurse):
    patient = service.add_patient("MRN-301", by=nurse, name="Bo Open")
    session_id = service.start_session(patient.id, by=nurse, chair="Chair 1")
    service.record_reading(session_id, {"sbp": 150, "dbp": 80, "hr": 135, "spo2": 97},
                           by=nurse)
    report = build_report(service.load(session_id), generated_at=clock.now(), chain_head="")
    row = row_with(only_table(report, "Flags and acknowledgements"), "HR")
    assert row.cells[1] == "CRITICAL"
    assert row.cells[4] == "OPEN — not acknowledged"
    assert row.strong


def test_scores_section_has_cadss6_moaas_mood_scores_and_both_discharge_scores(report):
    scores = section(report, "Scores")
    fields = dict(next(b for b in scores.blocks if isinstance(b, Fields)).items)
    assert fields["CADSS-6 (0–24)"].startswith("baseline 0 · peak 14")
    assert "lowest 4" in fields["MOAA/S (0–5)"]
    assert fields["PHQ-9 (pre-infusion)"].startswith("10 of 27 (moderate)")
    assert "item 9 (thoughts of self-harm): 1 — ABOVE 0" in fields["PHQ-9 (pre-infusion)"]
    assert fields["GAD-7 (pre-infusion)"].startswith("7 of 21 (mild)")
    names = [b.columns[0] for b in scores.blocks if isinstance(b, Table)]
    assert names == ["modified Aldrete", "adapted PADSS"]
    aldrete = next(b for b in scores.blocks if isinstance(b, Table))
    assert aldrete.rows[-1].cells[0] == "Total"


def test_a_score_item_not_assessed_says_so_and_the_total_is_incomplete(report):
    """No pain score was taken after the stop: not "no pain", and PADSS does not pass."""
    padss = [b for b in section(report, "Scores").blocks if isinstance(b, Table)][1]
    pain = next(r for r in padss.rows if r.cells[0] == "pain")
    assert pain.cells[1:] == ("not assessed", "no pain score since infusion stop")
    assert pain.strong
    total = padss.rows[-1]
    assert total.cells[0] == "Total"
    assert total.cells[2].endswith("needed: NOT passed, incomplete: pain not assessed")
    assert total.strong


def test_events_table_lists_events_with_detail(report):
    events = only_table(report, "Events")
    med = row_with(events, "Ondansetron 4 mg IV")
    assert med.cells[2] == "Medication"
    assert med.cells[1] == "+32"
    assert row_with(events, "Discharge signed").cells[-1].startswith("Nora Nurse")


def test_discharge_section_gives_each_criterion_the_sign_off_and_the_signature(report, view):
    blocks = section(report, "Discharge").blocks
    assert isinstance(blocks[0], Paragraph)
    assert blocks[0].text.startswith("Discharge signed at ")
    assert "by Nora Nurse" in blocks[0].text
    criteria, signatures, *_others = (b for b in blocks if isinstance(b, Table))
    assert len(criteria.rows) == len(view.discharge.criteria)
    assert row_with(criteria, "Escort present").cells[1] == "Met"
    discharge = row_with(signatures, "discharge sign-off")
    assert discharge.cells[1] == "Nora Nurse (nurse)"
    assert discharge.cells[3] == "valid"


def test_a_void_signature_is_listed_by_its_meaning_apart_from_the_discharge_sign_off(
        view, clock):
    (sign_off,) = (s for s in view.signatures if s.meaning == "discharge sign-off")
    void = dataclasses.replace(sign_off, id=uuid.uuid4(), valid=False,
                               meaning="critical flag closed by voiding its reading")
    both = dataclasses.replace(view, signatures=(void, sign_off))
    blocks = section(build_report(both, generated_at=clock.now(), chain_head=CHAIN_HEAD),
                     "Discharge").blocks
    _criteria, discharge, others = (b for b in blocks if isinstance(b, Table))
    assert discharge.caption.startswith("Discharge e-signatures.")
    assert [r.cells[0] for r in discharge.rows] == ["discharge sign-off"]
    assert others.caption.startswith("Other e-signatures.")
    (row,) = others.rows
    assert row.cells[0] == "critical flag closed by voiding its reading"
    assert "SUPERSEDED" not in row.cells[3]
    assert row.cells[3] == "the record before it changed since"


def test_instructions_forbid_driving_even_when_the_clinic_text_does_not(view, clock):
    own = build_report(view, generated_at=clock.now(), chain_head="",
                       instructions="Rest today.\n\nCall us if unwell.")
    paragraphs = section(own, "Discharge instructions").blocks
    assert paragraphs[0] == Paragraph(NO_DRIVING, strong=True)
    assert [p.text for p in paragraphs[1:]] == ["Rest today.", "Call us if unwell."]


def test_default_instructions_are_the_clinic_file_with_no_driving_for_24_hours(report):
    paragraphs = section(report, "Discharge instructions").blocks
    assert "driving" in paragraphs[0].text
    assert "24 hours" in paragraphs[0].text
    assert paragraphs[0].strong


def test_record_section_and_footer_carry_the_chain_head_and_generation_time(report, clock):
    record = dict(next(b for b in section(report, "Record").blocks
                       if isinstance(b, Fields)).items)
    assert record["Audit chain head"] == CHAIN_HEAD
    assert record["Generated"].startswith(f"{clock.now():%Y-%m-%d %H:%M} UTC")
    assert CHAIN_HEAD in report.footer
    assert f"{clock.now():%Y-%m-%d %H:%M} UTC" in report.footer


def test_the_record_section_ends_with_its_fields_not_a_sentence_alone(report):
    (fields,) = section(report, "Record").blocks
    assert isinstance(fields, Fields)
    labels = [label for label, _ in fields.items]
    meaning = fields.items[labels.index("Audit chain head") + 1]
    assert meaning[0] == ""
    assert meaning[1].startswith("identifies the state of the audit trail")


def test_chart_comes_first_with_a_key_that_does_not_rely_on_colour(report):
    chart = report.sections[0]
    assert chart.title == "Chart"
    legend = chart.blocks[0]
    assert isinstance(legend, ChartPlace)
    for words in ("▼ systolic", "▲ diastolic", "◆ CADSS-6", "■ MOAA/S (dashed", "hollow"):
        assert words in legend.legend


def test_plain_text_holds_every_section(report):
    text = report_text(report)
    for title in ("READINGS", "FLAGS AND ACKNOWLEDGEMENTS", "SCORES", "EVENTS", "CORRECTIONS",
                  "DISCHARGE", "DISCHARGE INSTRUCTIONS", "RECORD"):
        assert f"\n{title}\n" in text
    assert "96/58" in text
    assert "[struck]" in text


def test_clinician_override_is_reported_with_its_reason_and_who(service, clock, nurse,
                                                                clinician):
    patient = service.add_patient("MRN-302", by=nurse, name="Cy Override")
    session_id = service.start_session(patient.id, by=nurse, chair="Chair 4")
    service.record_reading(session_id, {"sbp": 130, "dbp": 80, "hr": 70, "spo2": 98},
                           by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(timedelta(minutes=40))
    service.record_event(session_id, EventKind.INFUSION_STOP, by=nurse)
    clock.advance(timedelta(minutes=5))
    reason = "Patient insists on leaving; escort present, vitals stable"
    service.override_discharge(session_id, reason=reason, by=clinician, pin=TEST_PIN)
    report = build_report(service.load(session_id), generated_at=clock.now(), chain_head="")
    sign_off = section(report, "Discharge").blocks[0]
    assert sign_off.text.startswith("Discharged by clinician override at ")
    assert f"by Cara Clinician. Reason: {reason}" in sign_off.text
    assert "by clinician override (Cara Clinician)" in dict(report.header.items)["Status"]
    criteria = next(b for b in section(report, "Discharge").blocks if isinstance(b, Table))
    assert any(row.cells[1] == "NOT MET" for row in criteria.rows)


def test_a_reading_held_on_the_tablet_and_entered_on_time_is_not_a_late_entry(
    service, clock, nurse
):
    """The drain gives the tablet's save time (``entered_at``); the reading reached the
    server 90 s later and is not reported as a late entry; a held reading dated at receipt
    (an outbox entry from before entered times were kept) still is."""
    patient = service.add_patient("MRN-301", by=nurse, name="Kim Held", weight_kg=70)
    session_id = service.start_session(patient.id, by=nurse, chair="1", escort_name="Jo")
    clock.advance(timedelta(minutes=5))
    saved_at = clock.now()
    clock.advance(timedelta(seconds=90))
    service.record_reading(session_id, {"hr": "72"}, by=nurse, time=saved_at,
                           entered_at=saved_at)
    service.record_reading(session_id, {"hr": "81"}, by=nurse, time=saved_at)
    table = only_table(build_report(service.load(session_id), generated_at=clock.now(),
                                    chain_head=""), "Readings")
    assert not any("late entry" in cell for cell in row_with(table, "72").cells)
    assert any("late entry, entered" in cell for cell in row_with(table, "81").cells)
