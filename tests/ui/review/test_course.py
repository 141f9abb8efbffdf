"""The course of treatment: the table and the charts across sessions follow the Course rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt

from monitor.service.review import Course, CourseRow
from monitor.service.views import PatientInfo
from tests.ui.touch import small_touch_targets
from ui.common.theme import DIM
from ui.review.course import CourseModel, CourseScreen

T0 = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
PATIENT = PatientInfo(id=uuid.UUID(int=99), mrn="MRN-555", name="Ada Byrne",
                      date_of_birth=None, weight_kg=70.0)


def course_row(number: int, **changes) -> CourseRow:
    values = {
        "session_id": uuid.UUID(int=number + 1), "time": T0 + timedelta(days=3 * number),
        "dose_mg_per_kg": 0.5 + 0.05 * number, "peak_sbp": 150 + number,
        "peak_dbp": 90 + number, "sbp_rise": 20 + number, "dbp_rise": 8,
        "peak_cadss6": 12 - number, "lowest_moaas": 4, "flags_by_tier": {2: 1} if number else {},
        "minutes_to_ready": 35.0 + number, "minutes_to_discharge": 40.0 + number,
        "phq9": 22 - 3 * number, "gad7": 16 - 2 * number,
    }
    values.update(changes)
    return CourseRow(**values)


#: Six sessions: PHQ-9 from 22 (severe) down to 7 (mild); the third has no GAD-7 and no BP.
COURSE = Course(PATIENT, [
    course_row(0), course_row(1),
    course_row(2, gad7=None, peak_sbp=None, peak_dbp=None, sbp_rise=None, dbp_rise=None),
    course_row(3), course_row(4), course_row(5),
])


@pytest.fixture
def screen(qtbot) -> CourseScreen:
    screen = CourseScreen(DIM)
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    screen.show_course(COURSE)
    return screen


def cell(screen: CourseScreen, row: int, column: int) -> str:
    return screen.model.index(row, column).data()


def test_table_has_one_row_per_session_with_its_values(screen):
    assert screen.model.rowCount() == 6
    assert cell(screen, 0, CourseModel.NUMBER) == "1"
    assert cell(screen, 0, CourseModel.DATE).startswith("2026-02-02")
    assert cell(screen, 1, CourseModel.DOSE) == "0.55"
    assert cell(screen, 1, CourseModel.PEAK_BP) == "151/91"
    assert cell(screen, 1, CourseModel.RISE) == "+21/+8"
    assert cell(screen, 1, CourseModel.CADSS6) == "11"
    assert cell(screen, 1, CourseModel.MOAAS) == "4"
    assert cell(screen, 1, CourseModel.FLAGS) == "1 warning"
    assert cell(screen, 0, CourseModel.FLAGS) == "none"
    assert cell(screen, 1, CourseModel.READY) == "36"
    assert cell(screen, 1, CourseModel.LEFT) == "41"
    assert cell(screen, 2, CourseModel.PEAK_BP) == ""
    assert cell(screen, 2, CourseModel.GAD7) == ""


def test_the_ready_column_says_what_it_counts_beside_when_the_patient_left(screen):
    def header(column):
        return screen.model.headerData(column, Qt.Orientation.Horizontal)

    assert header(CourseModel.READY) == "Would be\nready (min\nafter stop)"
    assert header(CourseModel.LEFT) == "Left (min\nafter stop)"


def test_mood_scores_show_their_severity_band(screen):
    assert cell(screen, 0, CourseModel.PHQ9) == "22 severe"
    assert cell(screen, 2, CourseModel.PHQ9) == "16 moderately\nsevere"
    assert cell(screen, 5, CourseModel.PHQ9) == "7 mild"
    assert cell(screen, 0, CourseModel.GAD7) == "16 severe"


def test_chart_series_match_the_course_rows(screen):
    for name in ("peak_sbp", "peak_dbp", "peak_cadss6", "lowest_moaas", "phq9", "gad7"):
        field = CourseScreen.SERIES[name][0]
        expected = [(n + 1.0, float(getattr(r, field))) for n, r in enumerate(COURSE.rows)
                    if getattr(r, field) is not None]
        x, y = screen.series(name)
        assert list(zip(x, y, strict=True)) == expected, name
    assert screen.series("gad7")[0] == [1.0, 2.0, 4.0, 5.0, 6.0]


def test_x_axis_names_each_session_by_number_and_date(screen):
    ticks = screen.plots["phq9"].getAxis("bottom")._tickLevels[0]
    assert ticks[0] == (1, "1\n02-02")
    assert len(ticks) == 6


def test_tapping_a_row_opens_that_session(qtbot, screen):
    rect = screen.table.visualRect(screen.model.index(3, CourseModel.DATE))
    with qtbot.waitSignal(screen.openSession) as opened:
        qtbot.mouseClick(screen.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args == [COURSE.rows[3].session_id]


def test_an_empty_course_says_so(qtbot):
    screen = CourseScreen(DIM)
    qtbot.addWidget(screen)
    screen.show_course(Course(PATIENT, []))
    assert screen.model.rowCount() == 0
    assert not screen.empty.isHidden()
    assert screen.series("phq9") == ([], [])


def test_course_model_passes_the_model_tester(screen, qtmodeltester):
    qtmodeltester.check(screen.model)


def test_real_course_from_the_service(qtbot, service, nurse, clock):
    clinician = service.ensure_staff("Cleo Clinician", "clinician")
    patient = service.add_patient("MRN-1", by=nurse, name="Ada Byrne", weight_kg=70)
    first = service.start_session(patient.id, by=nurse, time=clock.now() - timedelta(days=7))
    service.record_reading(first, {"phq9_items": (2,) * 9, "gad7_items": (1,) * 7}, by=nurse,
                           time=clock.now() - timedelta(days=7))
    service.start_session(patient.id, by=nurse, time=clock.now() - timedelta(days=1))
    screen = CourseScreen(DIM)
    qtbot.addWidget(screen)
    screen.show_course(service.course(patient.id, by=clinician))
    assert screen.model.rowCount() == 2
    assert cell(screen, 0, CourseModel.PHQ9) == "18 moderately\nsevere"
    assert screen.series("phq9") == ([1.0], [18.0])


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)])
def test_touch_targets_are_large_enough(qtbot, screen, size):
    screen.resize(*size)
    qtbot.waitExposed(screen)
    assert small_touch_targets(screen) == []


#: A session as the trial left it: started, no stop recorded, no mood scores, two flags.
RUNNING = course_row(0, phq9=None, gad7=None, flags_by_tier={3: 1, 2: 1},
                     minutes_to_ready=None, minutes_to_discharge=None,
                     dose_planned_mg=35.0, infusion_started=True)


def test_a_started_session_without_a_stop_shows_its_planned_dose_not_a_blank(screen):
    screen.show_course(Course(PATIENT, [
        RUNNING, course_row(1, dose_given_mg=35.0, dose_planned_mg=35.0,
                            infusion_started=True),
        course_row(2, dose_given_mg=11.4, stopped_early=True, infusion_started=True),
        course_row(3)]))
    assert cell(screen, 0, CourseModel.GIVEN) == "35 planned,\nno stop\nrecorded"
    assert cell(screen, 1, CourseModel.GIVEN) == "35"
    assert cell(screen, 2, CourseModel.GIVEN) == "11.4 early"
    assert cell(screen, 3, CourseModel.GIVEN) == ""


def test_mood_charts_without_a_score_say_not_recorded(screen):
    assert not screen.not_recorded["phq9"].isVisible()
    assert screen.not_recorded["gad7"].isVisible() is False
    screen.show_course(Course(PATIENT, [RUNNING]))
    for key in ("phq9", "gad7"):
        note = screen.not_recorded[key]
        assert note.isVisible()
        assert note.textItem.toPlainText() == "Not recorded in these sessions"
    screen.show_course(Course(PATIENT, [RUNNING, course_row(1, gad7=None)]))
    assert not screen.not_recorded["phq9"].isVisible()
    assert screen.not_recorded["gad7"].isVisible()


def _text_clipped(screen: CourseScreen) -> list[str]:
    """Headers and cells whose widest line is wider (or whose lines are taller) than their
    section: text Qt would cut with "…"."""
    table = screen.table
    header = table.horizontalHeader()
    metrics = header.fontMetrics()
    cut = []
    for column in range(screen.model.columnCount()):
        room = header.sectionSize(column) - 6  # the style's text margins
        lines = str(screen.model.headerData(column, Qt.Orientation.Horizontal)).splitlines()
        if max(metrics.horizontalAdvance(line) for line in lines) > room:
            cut.append(f"header {lines}: {room}px")
        if len(lines) * metrics.lineSpacing() > header.height():
            cut.append(f"header {lines}: {header.height()}px high")
        for row in range(screen.model.rowCount()):
            text = cell(screen, row, column) or ""
            cell_lines = text.splitlines() or [""]
            cell_metrics = table.fontMetrics()
            if max(cell_metrics.horizontalAdvance(line) for line in cell_lines) > room:
                cut.append(f"cell {text!r}: {room}px")
            if len(cell_lines) * cell_metrics.lineSpacing() > table.rowHeight(row):
                cut.append(f"cell {text!r}: {table.rowHeight(row)}px high")
    return cut


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
def test_no_header_or_cell_is_cut_and_landscape_shows_every_column(qtbot, qapp, size):
    from ui.common.style import apply_theme  # noqa: PLC0415

    apply_theme(qapp, DIM)
    screen = CourseScreen(DIM)
    qtbot.addWidget(screen)
    screen.set_orientation(Qt.Orientation.Horizontal if size[0] > size[1]
                           else Qt.Orientation.Vertical)
    screen.resize(*size)
    screen.show()
    qtbot.waitExposed(screen)
    screen.show_course(Course(PATIENT, [RUNNING, course_row(1, phq9=16, gad7=14)]))
    qapp.processEvents()
    assert _text_clipped(screen) == []
    header = screen.table.horizontalHeader()
    total = sum(header.sectionSize(c) for c in range(header.count()))
    if size[0] > size[1]:
        assert total <= screen.table.viewport().width()
    else:  # 13 columns are wider than a portrait tablet: the table scrolls to the rest
        assert screen.table.horizontalScrollBar().maximum() >= total - \
            screen.table.viewport().width()
