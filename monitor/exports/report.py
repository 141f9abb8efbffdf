"""What the session report says, as plain data: titled sections of fields, tables and text.

:func:`build_report` turns a :class:`~monitor.service.views.SessionView` into a
:class:`SessionReport` — the header (patient, session, dose plan, lot, escort, staff), the
readings with voided and amended values kept and marked, the flags with what was done about
them, the scores, the events, the corrections, the discharge criteria and sign-off, the
discharge instructions, and the record's audit chain head. The blocks it is made of, and
their plain-text reading, are in :mod:`monitor.exports.report_blocks`. The Qt side
(``ui.review.report``) only lays this out on pages and draws the chart where
:class:`~monitor.exports.report_blocks.ChartPlace` stands. Which entry replaced which comes
from :mod:`monitor.clinical.lineage`, as on the session screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.clinical.domain import (
    Event,
    EventKind,
    Flag,
    Phase,
    Reading,
    Score,
    Severity,
)
from monitor.clinical.lineage import correction_word, lineage
from monitor.clinical.rules import baseline, infusion_started_at
from monitor.clinical.scores import GAD7, MOAAS_LEVELS, PHQ9
from monitor.clinical.wording import EVENT_NAMES, MEASURE_NAMES, criterion_name
from monitor.exports.report_blocks import (
    DASH,
    NOT_RECORDED,
    Block,
    ChartPlace,
    Fields,
    Paragraph,
    Row,
    Section,
    SessionReport,
    Table,
    clock_text,
    date_text,
    minutes_text,
    number_text,
    utc_text,
    value_text,
    zone_text,
)
from monitor.exports.signature_labels import (
    DISCHARGE_HEADING,
    OTHER_HEADING,
    split_signatures,
    validity,
)

if TYPE_CHECKING:
    from monitor.service.views import CorrectionInfo, SessionView

#: The clinic's own wording of the discharge instructions (shared with the discharge panel).
INSTRUCTIONS_FILE = (Path(__file__).resolve().parents[2] / "resources"
                     / "discharge_instructions.txt")

#: Said when the clinic's instructions file does not: the patient must not drive.
NO_DRIVING = "No driving for 24 hours after the infusion."

TITLE = "Ketamine infusion session report"

TIER_WORDS: dict[Severity, str] = {
    Severity.CRITICAL: "CRITICAL",
    Severity.WARNING: "WARNING",
    Severity.ADVISORY: "ADVISORY",
}


#: The check-in's concomitant-medication questions, by their key in the session record.
MEDICATION_NAMES: dict[str, str] = {
    "benzodiazepines": "Benzodiazepines",
    "non_benzodiazepine_sedative_hypnotics": "Non-benzodiazepine sedative hypnotics",
    "psychostimulants": "Psychostimulants",
    "maois": "MAOIs",
    "ssris_snris": "SSRIs / SNRIs",
}

READING_COLUMNS = ("Time", "Min", "BP mmHg", "HR /min", "SpO2 %", "RR /min", "CADSS-6",
                   "MOAA/S", "Naus/Anx/Pain", "Flags", "Entered by · notes")
#: Relative widths of the reading columns, for a layout that keeps the numbers narrow.
READING_WIDTHS = (6, 5, 9, 6, 7, 6, 7, 7, 9, 14, 24)



def load_instructions(path: Path = INSTRUCTIONS_FILE) -> str:
    """The discharge instructions the clinic wrote (plain text, paragraphs)."""
    return path.read_text(encoding="utf-8").strip()


def build_report(view: SessionView, *, generated_at: datetime, chain_head: str,
                 instructions: str | None = None) -> SessionReport:
    """The report of ``view``: everything the record holds about the session, in the order a
    clinician reads it. ``instructions`` defaults to the clinic's instructions file."""
    info = view.info
    patient = info.patient
    start = infusion_started_at(view.record)
    origin = start if start is not None else _first_time(view)
    sections = (
        Section("Chart", (ChartPlace(CHART_LEGEND),)),
        Section("Readings", (_readings_table(view, origin),)),
        Section("Flags and acknowledgements", (Paragraph(view.flag_counts.text()),
                                               _flags_table(view))),
        Section("Scores", _score_blocks(view)),
        Section("Events", (_events_table(view, origin),)),
        Section("Corrections", (_corrections_table(view),)),
        Section("Discharge", _discharge_blocks(view)),
        Section("Discharge instructions", _instruction_blocks(instructions)),
        Section("Record", _record_blocks(view, generated_at, chain_head)),
    )
    name = patient.name or "Name not recorded"
    running = f"{name} · MRN {patient.mrn} · session {date_text(info.time)} · {info.chair}"
    return SessionReport(TITLE, running, _header(view), sections, generated_at, chain_head)


CHART_LEGEND = (
    "▼ systolic and ▲ diastolic BP joined by a bar · ● heart rate (line with dots) · "
    "● SpO2 (own pane) · ◆ CADSS-6 (left scale 0–24) · ■ MOAA/S (dashed line, right scale "
    "0–5) · a hollow marker at the edge is a value off the scale, its number printed beside "
    "it · grey hollow markers are voided or amended values · shaded: infusion running, "
    "hatched: paused · dashed horizontal lines: protocol limits · vertical lines: events. "
    "X axis: minutes since the infusion started.")


# -- header ------------------------------------------------------------------------------------


def _header(view: SessionView) -> Fields:
    info = view.info
    patient = info.patient
    return Fields((
        ("Patient", patient.name or NOT_RECORDED),
        ("MRN", patient.mrn),
        ("Date of birth", f"{patient.date_of_birth:%Y-%m-%d}" if patient.date_of_birth
         else NOT_RECORDED),
        ("Weight", f"{number_text(info.weight_kg)} kg" if info.weight_kg is not None
         else NOT_RECORDED),
        ("Session", f"{date_text(info.time)} {clock_text(info.time)} ({zone_text(info.time)})"),
        ("Chair", info.chair or NOT_RECORDED),
        ("Profile", f"{view.protocol.name} · {info.profile}, protocol version "
                    f"{view.protocol.version}{_hash_words(info.protocol_hash)}"),
        ("Dose plan", dose_plan(view)),
        ("Dose delivered", view.dose_delivered.words if view.dose_delivered is not None
         else "infusion not stopped"),
        ("Drug lot", info.lot_number or NOT_RECORDED),
        ("Escort / driver", info.escort_name or NOT_RECORDED),
        ("Concomitant medications", _medications(info.concomitant_medications)),
        ("Staff", ", ".join(staff_names(view)) or NOT_RECORDED),
        ("Status", _status(view)),
    ))


def _hash_words(digest: str) -> str:
    """The start of the stored version's SHA-256: enough to tell versions apart on paper."""
    return f" (SHA-256 {digest[:12]}…)" if digest else ""


def dose_plan(view: SessionView) -> str:
    """"0.5 mg/kg × 70 kg = 35 mg over 40 min (0.875 mg/min); 100 mL bag at 150 mL/h"."""
    info = view.info
    parts: list[str] = []
    if info.planned_mg_per_kg is not None:
        dose = f"{number_text(info.planned_mg_per_kg)} mg/kg"
        if info.weight_kg is not None:
            dose += f" × {number_text(info.weight_kg)} kg"
        if info.dose_mg is not None:
            dose += f" = {number_text(info.dose_mg)} mg"
        parts.append(dose)
    elif info.dose_mg is not None:
        parts.append(f"{number_text(info.dose_mg)} mg")
    if info.infusion_minutes is not None:
        rate = (f" ({number_text(info.rate_mg_per_min)} mg/min)" if info.rate_mg_per_min is not None
                else "")
        parts.append(f"over {info.infusion_minutes} min{rate}")
    plan = " ".join(parts)
    if info.bag_volume_ml is not None:
        pump = (f" at {number_text(info.pump_ml_per_h)} mL/h"
                if info.pump_ml_per_h is not None else "")
        plan += f"; {number_text(info.bag_volume_ml)} mL bag{pump}"
    return plan or NOT_RECORDED


def _medications(answers: Mapping[str, Any]) -> str:
    if not answers:
        return NOT_RECORDED
    words = []
    for key, answer in answers.items():
        name = MEDICATION_NAMES.get(key, key.replace("_", " ").capitalize())
        if answer is None:
            value = "not asked"
        elif isinstance(answer, bool):
            value = "yes" if answer else "no"
        else:
            value = str(answer)
        words.append(f"{name}: {value}")
    return "; ".join(words)


def staff_names(view: SessionView) -> list[str]:
    """Everyone who entered, acknowledged, corrected or signed something, in order of first
    appearance."""
    record = view.record
    names: list[str] = []
    names += [r.by for r in sorted((*record.readings, *view.superseded_readings),
                                   key=lambda r: r.time)]
    names += [e.by for e in sorted((*record.events, *view.superseded_events),
                                   key=lambda e: e.time)]
    names += [a.by for a in record.acknowledgements]
    names += [c.by for c in view.corrections]
    names += [s.signer_name for s in view.signatures]
    return [name for name in dict.fromkeys(names) if name]


def _status(view: SessionView) -> str:
    signed = _last_event(view, EventKind.DISCHARGE_SIGNED)
    override = _last_event(view, EventKind.DISCHARGE_OVERRIDE)
    if override is not None and (signed is None or override.time >= signed.time):
        return (f"Discharged {clock_text(override.time)} by clinician override "
                f"({override.by or 'name not recorded'})")
    if signed is not None:
        return f"Discharged {clock_text(signed.time)}, signed by {signed.by or 'name not recorded'}"
    return f"Not discharged; record as of {date_text(view.at)} {clock_text(view.at)} ({view.phase})"


# -- readings ----------------------------------------------------------------------------------


def _readings_table(view: SessionView, origin: datetime) -> Table:
    lines = lineage(view.corrections)
    flags_by_reading: dict[Any, list[Flag]] = {}
    for flag in (*view.flags, *view.superseded_flags):
        if flag.reading_id is not None:
            flags_by_reading.setdefault(flag.reading_id, []).append(flag)
    entries = [(r, False) for r in view.record.readings]
    entries += [(r, True) for r in view.superseded_readings]
    # A voided value sits just before what replaced it at the same time.
    entries.sort(key=lambda entry: (entry[0].time, not entry[1]))
    rows = []
    for reading, superseded in entries:
        flags = sorted(flags_by_reading.get(reading.id, ()), key=lambda f: -f.severity)
        notes = [reading.by or "name not recorded"]
        if superseded:
            notes.insert(0, _correction_words(lines.correction(reading.id)))
        amendment = lines.amendment(reading.id)
        if amendment is not None:
            notes.append(f"amendment ({amendment.reason}; {amendment.by})")
        if view.after_signoff(reading) and reading.recorded_at is not None:
            notes.append(f"AFTER SIGN-OFF, entered {clock_text(reading.recorded_at)}")
        elif reading.is_late_entry and reading.recorded_at is not None:
            notes.append(f"late entry, entered {clock_text(reading.recorded_at)}")
        if reading.note:
            notes.append(reading.note)
        rows.append(Row(
            cells=(
                clock_text(reading.time),
                minutes_text(origin, reading.time),
                _bp(reading),
                value_text(reading.hr),
                value_text(reading.spo2) + (" on O2" if reading.on_oxygen else ""),
                value_text(reading.rr),
                value_text(reading.cadss6),
                value_text(reading.moaas),
                _comfort(reading),
                "; ".join(f"{f.severity.label.capitalize()} {MEASURE_NAMES[f.measure]}"
                          for f in flags),
                " · ".join(notes),
            ),
            struck=superseded,
            strong=not superseded and any(f.severity is Severity.CRITICAL for f in flags),
        ))
    return Table(READING_COLUMNS, tuple(rows), READING_WIDTHS, empty="No readings recorded.",
                 caption="Min: minutes since the infusion started. Struck-through rows were "
                         "voided or amended; they stay in the record with the reason.")


def _correction_words(correction: CorrectionInfo | None) -> str:
    if correction is None:
        return "SUPERSEDED"
    word = correction_word(correction.action)
    return f"{word} {clock_text(correction.time)} by {correction.by}: {correction.reason}"


def _bp(reading: Reading) -> str:
    if reading.sbp is None and reading.dbp is None:
        return DASH
    return f"{value_text(reading.sbp)}/{value_text(reading.dbp)}"


def _comfort(reading: Reading) -> str:
    values = (reading.nausea, reading.anxiety, reading.pain)
    if all(v is None for v in values):
        return DASH
    return "/".join(value_text(v) for v in values)


# -- flags -------------------------------------------------------------------------------------


FLAG_COLUMNS = ("Time", "Tier", "Measure", "What", "Acknowledged / outcome")
FLAG_WIDTHS = (7, 10, 9, 34, 40)


def _flags_table(view: SessionView) -> Table:
    superseded = {f.id for f in view.withdrawn_flags}
    flags = sorted((*view.flags, *view.superseded_flags), key=lambda f: (f.time, -f.severity))
    rows = tuple(
        Row(cells=(clock_text(flag.time), TIER_WORDS[flag.severity], MEASURE_NAMES[flag.measure],
                   flag.message, flag_outcome(flag, superseded=flag.id in superseded)),
            strong=flag.id not in superseded and (flag.severity is Severity.CRITICAL
                                                  or flag.open))
        for flag in flags)
    return Table(FLAG_COLUMNS, rows, FLAG_WIDTHS, empty="No flags were raised.")


def flag_outcome(flag: Flag, *, superseded: bool = False) -> str:
    """What became of a flag, in words: who acknowledged it with which action, what resolved
    it, or that it is still open."""
    parts: list[str] = []
    ack = flag.acknowledgement
    if ack is not None:
        text = (f"Acknowledged {clock_text(ack.time)} by {ack.by or 'name not recorded'}: "
                f"{ack.action}")
        if ack.note:
            text += f" — {ack.note}"
        parts.append(text)
    if flag.resolved_at is not None:
        word = "Withdrawn" if superseded else "Resolved"
        parts.append(f"{word} {clock_text(flag.resolved_at)}: {flag.resolution or 'resolved'}")
    if superseded and flag.resolved_at is None:
        parts.append("Reading corrected")
    if not parts:
        parts.append("OPEN — not acknowledged")
    return ". ".join(parts)


# -- scores ------------------------------------------------------------------------------------


def _score_blocks(view: SessionView) -> tuple[Block, ...]:
    readings = sorted(view.record.readings, key=lambda r: r.time)
    base = baseline(view.record)
    cadss = [(r.time, r.cadss6) for r in readings if r.cadss6 is not None]
    moaas = [(r.time, r.moaas) for r in readings if r.moaas is not None]
    items: list[tuple[str, str]] = []
    if cadss:
        peak = max(cadss, key=lambda p: p[1])
        items.append(("CADSS-6 (0–24)", (
            f"baseline {value_text(base.cadss6 if base else None)} · peak {peak[1]} at "
            f"{clock_text(peak[0])} · last {cadss[-1][1]} at {clock_text(cadss[-1][0])}")))
    else:
        items.append(("CADSS-6 (0–24)", NOT_RECORDED))
    if moaas:
        low = min(moaas, key=lambda p: p[1])
        items.append(("MOAA/S (0–5)", (
            f"baseline {value_text(base.moaas if base else None)} · lowest {low[1]} "
            f"({MOAAS_LEVELS[low[1]]}) at {clock_text(low[0])} · last {moaas[-1][1]} at "
            f"{clock_text(moaas[-1][0])}")))
    else:
        items.append(("MOAA/S (0–5)", NOT_RECORDED))
    items.append(("PHQ-9 (pre-infusion)", _phq9(readings)))
    items.append(("GAD-7 (pre-infusion)", _gad7(readings)))
    at = _assessed_words(view)
    return (Fields(tuple(items)),
            _score_table(view.discharge.aldrete, at),
            _score_table(view.discharge.padss, at))


def _phq9(readings: Sequence[Reading]) -> str:
    scored = [r for r in readings if r.phq9 is not None]
    if not scored:
        return NOT_RECORDED
    last = scored[-1]
    assert last.phq9 is not None
    text = f"{last.phq9} of {PHQ9.max_total} ({PHQ9.band(last.phq9)}) at {clock_text(last.time)}"
    item9 = last.phq9_item9
    if item9 is not None:
        text += f"; item 9 (thoughts of self-harm): {item9}"
        if item9 > 0:
            text += " — ABOVE 0, for the clinician"
    return text


def _gad7(readings: Sequence[Reading]) -> str:
    scored = [r for r in readings if r.gad7 is not None]
    if not scored:
        return NOT_RECORDED
    last = scored[-1]
    assert last.gad7 is not None
    return f"{last.gad7} of {GAD7.max_total} ({GAD7.band(last.gad7)}) at {clock_text(last.time)}"


def _score_table(score: Score, at: str) -> Table:
    rows = [Row((item.name, f"{item.points} of {item.max_points}" if item.assessed
                 else "not assessed", item.detail), strong=not item.assessed)
            for item in score.items]
    verdict = "passed" if score.passed else "NOT passed"
    if not score.complete:
        verdict = f"NOT passed, {score.verdict}"
    rows.append(Row(("Total", f"{score.total} of {score.max_total}",
                     f"≥ {score.passing} needed: {verdict}"), strong=not score.passed))
    return Table((score.name, "Points", "Why"), tuple(rows), (30, 14, 56),
                 caption=f"{score.name}, {at}.")


# -- events and corrections --------------------------------------------------------------------


EVENT_COLUMNS = ("Time", "Min", "Event", "Detail", "Entered by · notes")
EVENT_WIDTHS = (7, 6, 20, 37, 30)


def _events_table(view: SessionView, origin: datetime) -> Table:
    lines = lineage(view.corrections)
    entries: list[tuple[Event, bool]] = [(e, False) for e in view.record.events]
    entries += [(e, True) for e in view.superseded_events]
    entries.sort(key=lambda entry: entry[0].time)
    rows = []
    for event, superseded in entries:
        notes = [event.by or "name not recorded"]
        if superseded:
            notes.insert(0, _correction_words(lines.correction(event.id)))
        if view.after_signoff(event) and event.recorded_at is not None:
            notes.append(f"AFTER SIGN-OFF, entered {clock_text(event.recorded_at)}")
        elif (event.recorded_at is not None
              and (event.recorded_at - event.time).total_seconds() > 60):
            notes.append(f"late entry, entered {clock_text(event.recorded_at)}")
        rows.append(Row((clock_text(event.time), minutes_text(origin, event.time),
                         EVENT_NAMES.get(event.kind, str(event.kind)), event.detail,
                         " · ".join(notes)), struck=superseded))
    return Table(EVENT_COLUMNS, tuple(rows), EVENT_WIDTHS, empty="No events recorded.")


CORRECTION_COLUMNS = ("Time", "Entry corrected", "Action", "Reason", "By")
CORRECTION_WIDTHS = (7, 33, 10, 32, 18)


def _corrections_table(view: SessionView) -> Table:
    readings = {r.id: r for r in (*view.record.readings, *view.superseded_readings)}
    events = {e.id: e for e in (*view.record.events, *view.superseded_events)}
    rows = []
    for correction in sorted(view.corrections, key=lambda c: c.time):
        target = _describe_target(correction, readings, events)
        action = correction_word(correction.action).capitalize()
        replacement = (readings.get(correction.replacement_id)
                       if correction.replacement_id is not None else None)
        if replacement is not None:
            target += f" → {_reading_summary(replacement)}"
        rows.append(Row((clock_text(correction.time), target, action, correction.reason,
                         correction.by)))
    return Table(CORRECTION_COLUMNS, tuple(rows), CORRECTION_WIDTHS,
                 empty="No entries were voided or amended.")


def _describe_target(correction: CorrectionInfo, readings: Mapping[Any, Reading],
                     events: Mapping[Any, Event]) -> str:
    reading = readings.get(correction.target_id)
    if reading is not None:
        return f"Reading {clock_text(reading.time)}: {_reading_summary(reading)}"
    event = events.get(correction.target_id)
    if event is not None:
        name = EVENT_NAMES.get(event.kind, str(event.kind))
        return f"Event {clock_text(event.time)}: {name}" + (f" ({event.detail})" if event.detail
                                                        else "")
    return f"{correction.target_kind.capitalize()} {correction.target_id}"


def _reading_summary(reading: Reading) -> str:
    parts = []
    if reading.sbp is not None or reading.dbp is not None:
        parts.append(f"BP {_bp(reading)}")
    for label, value in (("HR", reading.hr), ("SpO2", reading.spo2), ("RR", reading.rr),
                         ("CADSS-6", reading.cadss6), ("MOAA/S", reading.moaas),
                         ("nausea", reading.nausea)):
        if value is not None:
            parts.append(f"{label} {value}")
    return ", ".join(parts) or "no values"


# -- discharge ---------------------------------------------------------------------------------


def _discharge_blocks(view: SessionView) -> tuple[Block, ...]:
    assessment = view.discharge
    blocks: list[Block] = [Paragraph(_sign_off(view), strong=True)]
    rows = tuple(Row((criterion_name(c.id, view.protocol), "Met" if c.met else "NOT MET",
                      c.detail), strong=not c.met) for c in assessment.criteria)
    ready = ("all criteria met" if assessment.ready
             else f"{sum(not c.met for c in assessment.criteria)} criteria not met")
    blocks.append(Table(("Criterion", "Status", "Why"), rows, (36, 12, 52),
                        caption=f"Discharge criteria {_assessed_words(view)}: {ready}."))
    would = assessment.would_have_been_ready_at
    blocks.append(Fields((("Could have left at",
                           f"{clock_text(would)} (had there been no minimum stay)"
                           if would is not None else "not reached"),)))
    # The discharge's own signatures apart from the others (a critical flag acknowledged,
    # or closed by a void or an amendment), each table saying which it lists.
    for heading, signatures in zip((DISCHARGE_HEADING, OTHER_HEADING),
                                   split_signatures(view.signatures), strict=True):
        if signatures:
            blocks.append(Table(
                ("Meaning", "Signed by", "Signed at", "Valid", "Content hash"),
                tuple(Row((s.meaning, f"{s.signer_name} ({s.signer_role})",
                           f"{date_text(s.signed_at)} {clock_text(s.signed_at)}", validity(s),
                           s.content_hash[:12]), strong=not s.valid) for s in signatures),
                (20, 24, 18, 22, 16), caption=f"{heading}. Content hash: the first 12 hex "
                                              "digits of what was signed."))
    return tuple(blocks)


def _assessed_words(view: SessionView) -> str:
    """"as signed at 12:21" once the discharge is signed (the criteria are kept as they
    stood then; later entries do not change them), else "as assessed at 12:40"."""
    if view.sign_off is not None:
        return f"as signed at {clock_text(view.assessed_at)}"
    return f"as assessed at {clock_text(view.at)}"


def _sign_off(view: SessionView) -> str:
    signed = _last_event(view, EventKind.DISCHARGE_SIGNED)
    override = _last_event(view, EventKind.DISCHARGE_OVERRIDE)
    if override is not None:
        return (f"Discharged by clinician override at {clock_text(override.time)} by "
                f"{override.by or 'name not recorded'}. Reason: {override.detail}")
    if signed is not None:
        return (f"Discharge signed at {clock_text(signed.time)} by "
                f"{signed.by or 'name not recorded'}.")
    if view.phase is Phase.DISCHARGED:
        return "Discharged."
    return f"Not signed off: the patient was not discharged as of {clock_text(view.at)}."


def _instruction_blocks(instructions: str | None) -> tuple[Block, ...]:
    text = load_instructions() if instructions is None else instructions.strip()
    paragraphs = [Paragraph(" ".join(p.split()), strong="driv" in p.lower())
                  for p in text.split("\n\n") if p.strip()]
    # The clinic words its own instructions; the ban on driving is never left out.
    if not any("driv" in p.text.lower() for p in paragraphs):
        paragraphs.insert(0, Paragraph(NO_DRIVING, strong=True))
    return tuple(paragraphs)


def _record_blocks(view: SessionView, generated_at: datetime,
                   chain_head: str) -> tuple[Block, ...]:
    return (Fields((
        ("Generated", f"{utc_text(generated_at)} ({date_text(generated_at)} "
                      f"{clock_text(generated_at)} local)"),
        ("Record as of", f"{utc_text(view.at)}"),
        ("Audit chain head", chain_head or NOT_RECORDED),
        # What the chain head means, beside it: as a paragraph of its own after the table,
        # it was the one sentence a page break could leave alone on the last page.
        ("", "identifies the state of the audit trail when this report was made; any "
             "later change to the record changes it"),
        ("Session id", str(view.info.id)),
        ("Times", f"local clock time, {zone_text(view.info.time)}; Min = minutes since the "
                  "infusion started"),
    )),)



def _first_time(view: SessionView) -> datetime:
    times = [r.time for r in (*view.record.readings, *view.superseded_readings)]
    return min(times) if times else view.at


def _last_event(view: SessionView, kind: EventKind) -> Event | None:
    return max((e for e in view.record.events if e.kind is kind), key=lambda e: e.time,
               default=None)
