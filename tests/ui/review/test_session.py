"""The session chart in review: chart and tables of one session, replayed minute by minute."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import Qt

from monitor.clinical.domain import EventKind, Reading
from tests.conftest import TEST_PIN
from tests.ui.touch import small_touch_targets
from ui.common.theme import DIM
from ui.review.session import SessionReviewScreen, replay_loader, session_end, session_start
from ui.review.session_tables import ActivityModel, ReadingsModel, activities

MIN = timedelta(minutes=1)


@dataclass(frozen=True)
class Replay:
    session_id: uuid.UUID
    checked_in: datetime
    #: Reading ids by the minute (after check-in) each was taken and entered.
    readings: dict[int, uuid.UUID]


#: Minutes after check-in of each reading, its values; the one at 20 is voided at 30.
READINGS = {5: {"sbp": "128", "dbp": "80", "hr": "72", "spo2": "98"},
            15: {"sbp": "150", "dbp": "95", "hr": "80", "spo2": "97"},
            20: {"sbp": "96", "dbp": "58", "hr": "64", "spo2": "88"},
            25: {"sbp": "184", "dbp": "112", "hr": "88", "spo2": "96"}}
VOIDED, VOID_MINUTE, ACK_MINUTE = 20, 30, 27


def replayed_session(service, clock, nurse) -> Replay:
    """A session entered as it happened: the clock moves to each entry's minute."""
    patient = service.add_patient("MRN-555", by=nurse, name="Ada Byrne", weight_kg=70)
    checked_in = clock.now()
    session_id = service.start_session(patient.id, by=nurse, chair="2", escort_name="Sam")
    readings = {}
    for minute in sorted({*READINGS, 10}):
        clock.set_wall(checked_in + minute * MIN)
        if minute == 10:
            service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
            continue
        readings[minute] = service.record_reading(session_id, READINGS[minute], by=nurse,
                                                  confirmed=("sbp",)).id
    clock.set_wall(checked_in + ACK_MINUTE * MIN)
    flag = next(f for f in service.load(session_id).flags if f.reading_id == readings[25])
    service.acknowledge(session_id, flag, action="Repeated reading", by=nurse)
    clock.set_wall(checked_in + VOID_MINUTE * MIN)
    service.void(session_id, "reading", readings[VOIDED], reason="probe slipped", by=nurse,
                 pin=TEST_PIN)
    clock.set_wall(checked_in + 90 * MIN)
    return Replay(session_id, checked_in, readings)


@pytest.fixture
def replay(service, clock, nurse) -> Replay:
    return replayed_session(service, clock, nurse)


@pytest.fixture
def screen(qtbot, service, replay) -> SessionReviewScreen:
    screen = SessionReviewScreen(DIM, replay_loader(service.loading))
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    screen.open_session(replay.session_id)
    return screen


def shown(screen: SessionReviewScreen) -> dict[uuid.UUID, bool]:
    """Readings in the table: id → still valid (not voided or amended) at that moment."""
    return {reading.id: effective for reading, effective in screen.readings.readings()}


def test_opening_a_session_shows_its_chart_and_readings(screen, replay):
    assert screen.title.text() == "Ada Byrne · MRN MRN-555"
    assert shown(screen) == {rid: minute != VOIDED for minute, rid in replay.readings.items()}
    drawn = {reading.id for _, reading, _voided in screen.chart._points}
    assert drawn == set(replay.readings.values())
    assert screen.view is screen.full_view


def test_the_scrubber_runs_from_check_in_to_the_last_entry(screen, replay):
    assert screen.start == replay.checked_in
    assert screen.end == replay.checked_in + VOID_MINUTE * MIN
    assert screen.minutes() == VOID_MINUTE
    assert screen.slider.value() == VOID_MINUTE
    assert "(end)" in screen.scrub_label.text()


@pytest.mark.parametrize("minute", [0, 5, 14, 15, 24, 25])
def test_at_minute_m_only_readings_entered_by_then_are_shown(screen, replay, minute):
    screen.set_minute(minute)
    expected = {rid for m, rid in replay.readings.items() if m <= minute}
    assert set(shown(screen)) == expected
    assert screen.view.at == replay.checked_in + minute * MIN
    assert f"{minute} min after check-in" in screen.scrub_label.text()


def test_a_late_entry_appears_from_the_minute_it_was_entered(qtbot, service, clock, nurse,
                                                             replay):
    # At minute 90 the nurse enters a reading she took at minute 28.
    late = service.record_reading(replay.session_id, {"hr": "76"}, by=nurse,
                                  time=replay.checked_in + 28 * MIN).id
    screen = SessionReviewScreen(DIM, replay_loader(service.loading))
    qtbot.addWidget(screen)
    screen.open_session(replay.session_id)
    assert screen.minutes() == 90
    screen.set_minute(89)
    assert late not in shown(screen)
    screen.set_minute(90)
    assert shown(screen)[late] is True
    assert screen.readings.index(4, ReadingsModel.TIME).data().endswith("(late)")


def test_a_voided_entry_before_the_check_in_does_not_start_the_replay(service, replay):
    # An entry at a wrong time (an import, or entered before times were checked) and voided.
    view = service.load(replay.session_id)
    stray = Reading(uuid.uuid4(), replay.checked_in - 45 * MIN, hr=70)
    voided = replace(view, superseded_readings=(*view.superseded_readings, stray))
    assert session_start(voided) == replay.checked_in


def test_a_later_voided_reading_is_still_valid_before_its_void(screen, replay):
    voided = replay.readings[VOIDED]
    screen.set_minute(VOID_MINUTE - 1)
    assert shown(screen)[voided] is True
    assert screen.readings.index(2, ReadingsModel.STATUS).data() == ""
    screen.set_minute(VOID_MINUTE)
    assert shown(screen)[voided] is False
    status = screen.readings.index(2, ReadingsModel.STATUS).data()
    assert status.startswith("VOID — probe slipped")


def test_a_flag_is_open_before_its_acknowledgement_and_acknowledged_after(screen):
    acknowledged = next(f for f in screen.flags.flags_shown() if f.acknowledgement)
    screen.set_minute(ACK_MINUTE - 1)
    before = {f.id: f for f in screen.flags.flags_shown()}
    assert before[acknowledged.id].open
    screen.set_minute(ACK_MINUTE)
    after = {f.id: f for f in screen.flags.flags_shown()}
    assert after[acknowledged.id].acknowledgement.action == "Repeated reading"


def test_who_did_what_lists_entries_acknowledgements_and_voids_by_name(screen, replay):
    done = [(a.time - replay.checked_in, a.who, a.what) for a in screen.activity.activities()]
    assert (5 * MIN, "Nora Nurse", "Reading BP 128/80 · HR 72 · SpO2 98") in done
    assert (10 * MIN, "Nora Nurse", "Infusion start") in done
    assert any(when == ACK_MINUTE * MIN and what.endswith(": Repeated reading")
               for when, _who, what in done)
    assert (VOID_MINUTE * MIN, "Nora Nurse", "Voided reading: probe slipped") in done
    assert [d[0] for d in done] == sorted(d[0] for d in done)


def test_the_discharge_record_says_each_criterion_and_that_it_is_not_signed(screen):
    text = screen.discharge.text()
    assert "Not ready for discharge" in text
    assert "NOT met" in text
    assert "Not discharged" in text


def test_the_discharge_record_names_a_score_item_not_assessed(screen):
    # The infusion has not stopped: nothing since the stop is measured, so neither score
    # can pass, and each says which items are not assessed rather than scoring them.
    assert ("<b>adapted PADSS</b> 0 of 8 (does not pass, incomplete: vital signs, "
            "ambulation/orientation, nausea/vomiting, pain not assessed; 7 needed)"
            in screen.discharge.text())


def test_session_end_counts_corrections_and_acknowledgements(service, replay):
    view = service.load(replay.session_id)
    assert session_end(view) == replay.checked_in + VOID_MINUTE * MIN
    assert activities(view)[0].what.startswith("Reading BP 128/80")


def test_course_button_asks_for_the_patients_course(qtbot, screen, service, replay):
    patient = service.session_info(replay.session_id).patient.id
    with qtbot.waitSignal(screen.openCourse) as asked:
        qtbot.mouseClick(screen.course_button, Qt.MouseButton.LeftButton)
    assert asked.args == [patient]


def test_review_models_pass_the_model_tester(screen, qtmodeltester):
    qtmodeltester.check(screen.readings)
    qtmodeltester.check(screen.activity)
    assert isinstance(screen.activity, ActivityModel)


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)])
def test_touch_targets_are_large_enough(qtbot, screen, size):
    screen.set_orientation(Qt.Orientation.Vertical if size[1] > size[0]
                           else Qt.Orientation.Horizontal)
    screen.resize(*size)
    qtbot.waitExposed(screen)
    assert small_touch_targets(screen) == []


def test_an_override_shows_its_reason_escaped_and_its_signature(qtbot, service, clinician,
                                                                replay):
    service.override_discharge(replay.session_id, reason="BP <b>fine</b> on repeat, escort here",
                               by=clinician, pin=TEST_PIN)
    screen = SessionReviewScreen(DIM, replay_loader(service.loading))
    qtbot.addWidget(screen)
    screen.open_session(replay.session_id)
    text = screen.discharge.text()
    assert "Reason: BP &lt;b&gt;fine&lt;/b&gt; on repeat, escort here" in text
    assert "<h3>Signatures</h3>" in text
    assert "Cleo Clinician (clinician)" in text
    signed = [a for a in screen.activity.activities() if a.what.startswith("Signed: ")]
    # The void of the reading behind a critical flag was signed first.
    assert [a.who for a in signed] == ["Nora Nurse (nurse)", "Cleo Clinician (clinician)"]


def _print_dialogs():
    from PySide6.QtPrintSupport import QPrintDialog  # noqa: PLC0415
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415
    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, QPrintDialog) and w.isVisible()]


def test_print_opens_the_print_dialog_and_prints_when_it_is_accepted(qtbot, screen,
                                                                      monkeypatch):
    printed = []
    monkeypatch.setattr(screen, "print_to", printed.append)
    qtbot.mouseClick(screen.print_button, Qt.MouseButton.LeftButton)
    dialogs = _print_dialogs()
    assert len(dialogs) == 1
    assert printed == []
    dialogs[0].accept()
    assert printed == [dialogs[0].printer()]
    assert not screen.print_message.isVisible()
    dialogs[0].close()


def test_a_printing_failure_is_shown_to_the_clinician(qtbot, screen, monkeypatch):
    def fail(_printer):
        raise OSError("printer offline")

    monkeypatch.setattr(screen, "print_to", fail)
    dialog = screen.open_print()
    assert dialog is not None
    dialog.accept()
    assert screen.print_message.isVisible()
    assert "printer offline" in screen.print_message.text()
    dialog.close()


def test_the_subtitle_reads_date_chair_treatment_and_dose_in_words(qtbot, service, clock,
                                                                   nurse):
    patient = service.add_patient("MRN-556", by=nurse, name="Bo Ray", weight_kg=70)
    session_id = service.start_session(patient.id, by=nurse, chair="1", escort_name="Sam",
                                       planned_mg_per_kg=0.75)
    screen = SessionReviewScreen(DIM, replay_loader(service.loading))
    qtbot.addWidget(screen)
    screen.open_session(session_id)
    when = service.load(session_id).info.time.astimezone()
    assert screen.subtitle.text() == (
        f"{when.day} {when:%b %Y %H:%M} · Chair 1 · IV ketamine · 0.75 mg/kg")
    assert "iv_ketamine" not in screen.subtitle.text()


def _not_whole(table, columns) -> list[str]:
    """Headers and cells of ``columns`` whose lines are wider than the column or taller than
    the row, or that lie past the table's right edge (off screen)."""
    header = table.horizontalHeader()
    metrics = table.fontMetrics()
    model = table.model()
    cut = []
    for column in columns:
        width = header.sectionSize(column)
        right = header.sectionViewportPosition(column) + width
        title = model.headerData(column, Qt.Orientation.Horizontal)
        if right > table.viewport().width():
            cut.append(f"{title!r} ends at {right}, past {table.viewport().width()}")
        texts = [title] + [model.index(row, column).data() or ""
                           for row in range(model.rowCount())]
        for row, text in enumerate(texts):
            lines = text.splitlines() or [""]
            need = max(metrics.horizontalAdvance(line) for line in lines) + 6
            if need > width:
                cut.append(f"{title}: {text!r} needs {need}px, has {width}")
            if row and len(lines) * metrics.lineSpacing() > table.rowHeight(row - 1):
                cut.append(f"{title}: {text!r} taller than its row")
    return cut


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
def test_every_value_column_to_moaas_and_the_flag_status_are_whole(
        qtbot, qapp, service, clock, nurse, size):
    import os  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    from ui.common.style import apply_theme  # noqa: PLC0415
    from ui.session.flags import FlagsModel  # noqa: PLC0415

    apply_theme(qapp, DIM)
    replay = replayed_session(service, clock, nurse)
    # A late reading on oxygen, and a MOAA/S and CADSS-6 alone on their rows.
    clock.set_wall(replay.checked_in + 95 * MIN)
    service.record_reading(replay.session_id, {"spo2": "100", "hr": "70"},
                           on_oxygen=True, by=nurse, time=replay.checked_in + 80 * MIN)
    service.record_reading(replay.session_id, {"cadss6": "12"}, by=nurse)
    service.record_reading(replay.session_id, {"moaas": "3"}, by=nurse)
    screen = SessionReviewScreen(DIM, replay_loader(service.loading))
    qtbot.addWidget(screen)
    screen.set_orientation(Qt.Orientation.Vertical if size[0] < size[1]
                           else Qt.Orientation.Horizontal)
    screen.resize(*size)
    screen.show()
    qtbot.waitExposed(screen)
    screen.open_session(replay.session_id)
    qtbot.waitUntil(lambda: screen.readings.rowCount() == 7)
    model = screen.readings
    texts = [[model.index(r, c).data() for c in range(model.columnCount())]
             for r in range(model.rowCount())]
    assert any(row[ReadingsModel.MOAAS] == "3" for row in texts)
    assert any(row[ReadingsModel.SPO2] == "100\non O2" for row in texts)
    assert _not_whole(screen.readings_table, range(ReadingsModel.MOAAS + 1)) == []
    screen.tabs.setCurrentWidget(screen.flags_table)
    qapp.processEvents()
    flags = screen.flags_table
    assert screen.flags.rowCount() >= 1
    status = [screen.flags.index(r, FlagsModel.STATUS).data()
              for r in range(screen.flags.rowCount())]
    assert any(text.startswith("acknowledged") for text in status)
    word = flags.fontMetrics().horizontalAdvance("acknowledged") + 6
    assert flags.horizontalHeader().sectionSize(FlagsModel.STATUS) >= word
    widths = [flags.columnWidth(c) for c in range(screen.flags.columnCount())
              if not flags.isColumnHidden(c)]
    assert sum(widths) <= flags.viewport().width(), widths
    assert flags.horizontalScrollBar().maximum() == 0, "the status ends on screen"
    from PySide6.QtCore import QRect  # noqa: PLC0415

    for row in range(screen.flags.rowCount()):
        for column in (FlagsModel.MESSAGE, FlagsModel.STATUS):
            text = screen.flags.index(row, column).data()
            need = flags.fontMetrics().boundingRect(
                QRect(0, 0, flags.columnWidth(column) - 6, 10_000),
                int(Qt.TextFlag.TextWordWrap), text)
            assert need.height() <= flags.rowHeight(row), (text, need, flags.rowHeight(row))
            for word in text.replace("/", "/ ").split():
                assert flags.fontMetrics().horizontalAdvance(word) + 6 <= \
                    flags.columnWidth(column), (word, flags.columnWidth(column))
    assert _not_whole(flags, [FlagsModel.TIME]) == []
    shots = os.environ.get("CHAIRSIDE_TEST_SHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        screen.grab().save(str(Path(shots) / f"review-flags-{size[0]}x{size[1]}.png"))
        screen.tabs.setCurrentWidget(screen.readings_table)
        qapp.processEvents()
        screen.grab().save(str(Path(shots) / f"review-readings-{size[0]}x{size[1]}.png"))
