"""The session chart shows a real SessionView: data, pinned and voided values, events,
limits, infusion shading, tap-to-read, and items created once however often it updates."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor

from monitor.clinical.domain import EventKind
from tests.ui.sessions import (
    INCIDENT_NOW,
    INCIDENT_READINGS,
    VOIDED_MINUTE,
    host,
    incident_session,
    long_session,
    patient_session,
)
from ui.common.style import apply_theme
from ui.common.theme import DIM, LIGHT
from ui.session.chart import SessionChart
from ui.session.chart_data import BP_HR_RANGE, MOAAS_SCALE, event_label
from ui.session.chart_panes import X_LABEL_NOT_STARTED, X_LABEL_STARTED


@pytest.fixture
def built(service, clock, nurse):
    return incident_session(service, clock, nurse)


@pytest.fixture
def view(service, built):
    return service.load(built.session_id)


@pytest.fixture(params=[DIM, LIGHT], ids=["dim", "light"])
def chart(qtbot, request):
    widget = SessionChart(request.param)
    window = host(qtbot, widget, 760, 520)
    apply_theme(window, request.param)
    yield widget
    window.close()


def minutes_with(name: str) -> tuple[list[float], list[float]]:
    pairs = [(m, v[name]) for m, v in INCIDENT_READINGS if v.get(name) is not None]
    return [float(m) for m, _ in pairs], [float(v) for _, v in pairs]


def data(item) -> tuple[list[float], list[float]]:
    x, y = item.getData()
    return ([] if x is None else list(x)), ([] if y is None else list(y))


def visible(pool) -> list:
    return [item for item in pool.items if item.isVisible()]


def test_series_hold_the_readings_at_minutes_since_the_infusion_start(chart, view):
    chart.show_view(view)
    x, sbp = minutes_with("sbp")
    on_scale = [(m, v) for m, v in zip(x, sbp, strict=True) if v <= BP_HR_RANGE[1]]
    assert data(chart.systolic) == ([m for m, _ in on_scale], [v for _, v in on_scale])
    assert data(chart.diastolic) == minutes_with("dbp")
    assert data(chart.heart_rate_dots) == minutes_with("hr")
    assert data(chart.heart_rate) == minutes_with("hr")
    assert data(chart.spo2_dots) == minutes_with("spo2")
    assert data(chart.cadss6) == minutes_with("cadss6")
    moaas_x, moaas = minutes_with("moaas")
    assert data(chart.moaas) == (moaas_x, [v * MOAAS_SCALE for v in moaas])
    assert chart.scores.plot.getAxis("bottom").labelText == X_LABEL_STARTED


def test_blood_pressure_bars_join_systolic_and_diastolic_per_reading(chart, view):
    chart.show_view(view)
    x, y = data(chart.bp_bars)
    assert chart.bp_bars.opts["connect"] == "pairs"
    assert x[:2] == [-15.0, -15.0]
    assert y[:2] == [82.0, 128.0]
    assert len(x) == 2 * len(INCIDENT_READINGS)


def test_markers_point_down_for_systolic_and_up_for_diastolic(chart):
    # pyqtgraph's 't' is a downward triangle and 't1' an upward one.
    assert chart.systolic.opts["symbol"] == "t"
    assert chart.diastolic.opts["symbol"] == "t1"


def test_an_off_scale_value_is_pinned_at_the_edge_hollow_with_its_number(chart, view):
    chart.show_view(view)
    assert data(chart.offscale["sbp"]) == ([35.0], [BP_HR_RANGE[1]])
    assert 35.0 not in data(chart.systolic)[0]
    brush = chart.offscale["sbp"].opts["brush"]
    assert brush.color() == QColor(chart.theme.surface)
    assert chart.offscale["sbp"].opts["pen"].color() == QColor(chart.theme.systolic)
    labels = [item.textItem.toPlainText() for item in visible(chart._offscale_labels[chart.top])]
    assert labels == ["228"]


def test_an_off_scale_heart_rate_and_spo2_are_pinned_too(service, clock, nurse, chart):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 120, "dbp": 80, "hr": 240, "spo2": 82},
                           by=nurse, confirmed=("hr",))
    chart.show_view(service.load(session_id))
    assert data(chart.offscale["hr"]) == ([0.0], [BP_HR_RANGE[1]])
    assert data(chart.heart_rate) == ([0.0], [BP_HR_RANGE[1]])
    assert data(chart.heart_rate_dots) == ([], [])
    assert data(chart.offscale["spo2"])[1] == [chart.oxygen.y_range[0]]


def test_a_voided_reading_stays_visible_grey_and_hollow(chart, view, built):
    chart.show_view(view)
    assert [r.id for r in view.superseded_readings] == [built.voided_id]
    assert data(chart.voided["sbp"]) == ([float(VOIDED_MINUTE)], [96.0])
    assert data(chart.voided["spo2"]) == ([float(VOIDED_MINUTE)], [88.0])
    assert float(VOIDED_MINUTE) not in data(chart.systolic)[0]
    assert chart.voided["sbp"].opts["pen"].color() == QColor(chart.theme.text_muted)
    assert chart.voided["sbp"].opts["brush"].color() == QColor(chart.theme.surface)


def test_events_are_labelled_vertical_lines(chart, view):
    chart.show_view(view)
    labels = [item.textItem.toPlainText() for item in visible(chart.event_labels)]
    assert labels == ["Start", "Pause", "AE: nausea", "Med: ondansetron", "Resume", "Stop",
                      "Note"]
    x, _ = data(chart.top.events)
    assert x[::2] == [0.0, 22.0, 22.5, 23.0, 27.0, 40.0, 75.0]


def test_event_labels_do_not_overlap(chart, view):
    chart.show_view(view)
    rects = [item.sceneBoundingRect() for item in visible(chart.event_labels)]
    for index, rect in enumerate(rects):
        for other in rects[index + 1:]:
            assert not rect.intersects(other)


@pytest.mark.parametrize(("kind", "detail", "label"), [
    (EventKind.INFUSION_START, "", "Start"),
    (EventKind.MEDICATION, "Ondansetron 4 mg IV", "Med: ondansetron"),
    (EventKind.ADVERSE_EVENT, "", "AE"),
    (EventKind.NOTE, "anything at all", "Note"),
    (EventKind.MEDICATION, "Hydroxyzinepamoateextended", "Med: hydroxyzinepa…"),
])
def test_event_labels_are_short(kind, detail, label):
    assert event_label(kind, detail) == label


def test_the_infusion_is_shaded_and_the_pause_hatched(chart, view):
    chart.show_view(view)
    for pane in chart.panes:
        assert [r.getRegion() for r in visible(pane.infusing)] == [(0.0, 22.0), (27.0, 40.0)]
        assert [r.getRegion() for r in visible(pane.paused)] == [(22.0, 27.0)]
        assert all(not r.movable for r in pane.infusing.items)
    hatch = visible(chart.top.paused)[0].brush.style()
    assert hatch == Qt.BrushStyle.BDiagPattern


def test_an_infusion_still_running_is_shaded_to_now(service, clock, nurse, chart):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 120, "dbp": 80}, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(timedelta(minutes=12))
    chart.show_view(service.load(session_id))
    assert [r.getRegion() for r in visible(chart.top.infusing)] == [(0.0, 12.0)]
    assert chart.top.now.value() == 12.0


def test_before_the_start_x_counts_from_the_first_reading(service, clock, nurse, chart):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 124, "dbp": 80, "hr": 70}, by=nurse)
    clock.advance(timedelta(minutes=5))
    service.record_reading(session_id, {"sbp": 126, "dbp": 82, "hr": 72}, by=nurse)
    chart.show_view(service.load(session_id))
    assert data(chart.systolic) == ([0.0, 5.0], [124.0, 126.0])
    assert chart.scores.plot.getAxis("bottom").labelText == X_LABEL_NOT_STARTED


def test_baseline_readings_fall_at_negative_minutes_and_x_spans_them_to_now(chart, view):
    chart.show_view(view)
    low, high = chart.top.plot.getViewBox().viewRange()[0]
    assert low < -15.0
    assert INCIDENT_NOW < high < INCIDENT_NOW + 10
    for pane in chart.panes[1:]:
        assert pane.plot.getViewBox().viewRange()[0] == pytest.approx([low, high])


def test_a_voided_reading_long_before_does_not_stretch_the_x_axis(chart, view):
    chart.show_view(view)
    low, high = chart.top.plot.getViewBox().viewRange()[0]
    stray = dataclasses.replace(view.superseded_readings[0],
                                time=view.record.readings[0].time - timedelta(minutes=45))
    chart.show_view(dataclasses.replace(view, superseded_readings=(stray,)))
    assert chart.top.plot.getViewBox().viewRange()[0] == pytest.approx([low, high])


def test_y_ranges_are_fixed_whatever_the_data(chart, view, service, built):
    ranges = []
    for at_minute in (0, 35, INCIDENT_NOW):
        chart.show_view(service.load(built.session_id,
                                     at=built.start + timedelta(minutes=at_minute)))
        ranges.append([pane.plot.getViewBox().viewRange()[1] for pane in chart.panes])
    assert ranges[0] == ranges[1] == ranges[2]
    assert ranges[0][1] == pytest.approx(list(chart.top.view_range))


def test_protocol_limits_are_drawn_from_the_view_protocol(chart, view):
    chart.show_view(view)
    limits = chart.limit_lines
    assert limits["sbp_high"].value() == view.protocol.bp.high_warning_sbp_at_or_above == 180
    assert limits["sbp_low"].value() == 90
    assert limits["hr_high"].value() == 111
    assert limits["hr_low"].value() == 50
    assert limits["spo2_discharge"].value() == 94
    assert limits["spo2_warning"].value() == 93
    assert limits["sbp_high"].label.textItem.toPlainText() == "SBP 180"
    assert limits["spo2_warning"].label.textItem.toPlainText() == "SpO2 93"
    assert limits["spo2_discharge"].label.textItem.toPlainText() == "Discharge ≥ 94"
    overridden = dataclasses.replace(
        view, protocol=view.protocol.with_overrides({"hr.high_warning_at_or_above": 120}))
    chart.show_view(overridden)
    assert limits["hr_high"].value() == 120
    assert limits["hr_high"].label.textItem.toPlainText() == "HR 120"


def test_limit_labels_sit_left_of_every_reading(chart, view):
    chart.show_view(view)
    first_reading = chart.top.plot.getViewBox().mapViewToScene(QPointF(-15, 0)).x()
    for line in chart.limit_lines.values():
        assert line.label.sceneBoundingRect().right() < first_reading


def test_selecting_a_time_point_shows_its_values(chart, view):
    chart.show_view(view)
    reading = chart.select_at(35.4)
    assert reading is not None
    assert reading.sbp == 228
    text = chart.point_label.text()
    assert "228/118 mmHg" in text
    assert "98 /min" in text
    assert chart.point_label.isVisible()
    assert all(pane.cursor.isVisible() and pane.cursor.value() == 35.0
               for pane in chart.panes)
    assert chart.select_at(60.0, tolerance=1.0) is None
    assert not chart.point_label.isVisible()


def test_a_tap_on_the_chart_selects_the_nearest_time_point(qtbot, chart, view):
    chart.show_view(view)
    box = chart.top.plot.getViewBox()
    scene = box.mapViewToScene(QPointF(55.5, 120))
    pos = chart.graphics.mapFromScene(scene)
    qtbot.mouseClick(chart.graphics.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert chart.point_label.isVisible()
    assert "150/92 mmHg" in chart.point_label.text()
    qtbot.mouseClick(chart.graphics.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(chart.graphics.mapFromScene(
                         box.mapViewToScene(QPointF(90, 120)))))
    assert "132/84 mmHg" in chart.point_label.text()


def test_a_voided_time_point_reads_as_voided_with_the_reason(chart, view):
    chart.show_view(view)
    chart.select_at(float(VOIDED_MINUTE), tolerance=0.5)
    text = chart.point_label.text()
    assert "VOIDED" in text
    assert "probe slipped off finger" in text
    assert "96/58 mmHg" in text


def test_the_selection_follows_updates_and_goes_when_its_reading_does(chart, view, service,
                                                                        built):
    chart.show_view(view)
    chart.select_at(100.0)
    chart.show_view(service.load(built.session_id))
    assert chart.point_label.isVisible()
    chart.show_view(service.load(built.session_id, at=built.start + timedelta(minutes=50)))
    assert not chart.point_label.isVisible()


def test_items_are_created_once_and_updates_do_not_grow_the_scene(qtbot, chart, view,
                                                                  service, built):
    chart.show_view(view)
    items = (chart.systolic, chart.diastolic, chart.bp_bars, chart.heart_rate, chart.spo2,
             chart.cadss6, chart.moaas, *chart.offscale.values(), *chart.voided.values(),
             *chart.limit_lines.values(), chart.top.events, chart.top.now)
    ids = [id(item) for item in items]
    scene = chart.graphics.scene()
    count = len(scene.items())
    for minute in range(-15, INCIDENT_NOW + 1):
        chart.show_view(service.load(built.session_id,
                                     at=built.start + timedelta(minutes=minute)))
        chart.graphics.viewport().repaint()
    chart.show_view(view)
    assert [id(item) for item in items] == ids
    assert len(scene.items()) == count
    assert all(item.scene() is scene for item in items)


def test_axis_text_is_at_least_14_px(chart):
    for pane in chart.panes:
        for side in ("left", "right", "bottom"):
            assert pane.plot.getAxis(side).style["tickFont"].pixelSize() >= 14


def test_a_two_hour_session_shows_every_reading(service, clock, nurse, chart):
    view = service.load(long_session(service, clock, nurse))
    chart.show_view(view)
    assert len(data(chart.systolic)[0]) == len(view.record.readings) == 28
    x = np.array(data(chart.systolic)[0])
    assert x[0] == -15.0
    assert x[-1] == 120.0


#: The chart's size on the session screen at 1280 × 800 and at 800 × 1280.
CHART_SIZES = [(560, 370), (790, 300)]


def plot_height(pane) -> float:
    return pane.plot.getViewBox().height()


@pytest.mark.parametrize("size", CHART_SIZES, ids=["landscape", "portrait"])
def test_blood_pressure_gets_the_largest_pane_and_the_event_lane_stays_compact(
        qtbot, view, size):
    chart = SessionChart(DIM)
    window = host(qtbot, chart, *size)
    chart.show_view(view)
    qtbot.waitUntil(lambda: plot_height(chart.top) > 1)
    top, oxygen, scores = (plot_height(p) for p in (chart.top, chart.oxygen, chart.scores))
    assert top >= 0.5 * (top + oxygen + scores)
    assert top >= 80
    assert chart.lane.plot.geometry().height() <= 50
    window.close()


@pytest.mark.parametrize("size", CHART_SIZES, ids=["landscape", "portrait"])
def test_every_pane_fits_and_its_tick_labels_keep_apart(qtbot, view, size):
    chart = SessionChart(LIGHT)
    window = host(qtbot, chart, *size)
    chart.show_view(view)
    qtbot.waitUntil(lambda: plot_height(chart.top) > 1)
    bottom = chart.scores.plot.mapRectToScene(chart.scores.plot.boundingRect()).bottom()
    assert bottom <= chart.graphics.height()
    for pane in (chart.top, chart.oxygen, chart.scores):
        px_per_unit = plot_height(pane) / (pane.view_range[1] - pane.view_range[0])
        for side in ("left", "right"):
            labelled = [v for v, text in pane.plot.getAxis(side)._tickLevels[0] if text]
            assert len(labelled) >= 2
            assert min(np.diff(sorted(labelled))) * px_per_unit >= 18
    window.close()


def test_a_tall_chart_labels_every_tick(qtbot, view):
    chart = SessionChart(DIM)
    window = host(qtbot, chart, 800, 900)
    chart.show_view(view)
    qtbot.waitUntil(lambda: plot_height(chart.top) > 300)
    labelled = [v for v, text in chart.top.plot.getAxis("left")._tickLevels[0] if text]
    assert labelled == [40, 80, 120, 160, 200]
    window.close()


@pytest.mark.parametrize("size", CHART_SIZES, ids=["landscape", "portrait"])
def test_limit_labels_stay_whole_inside_their_pane_and_apart(qtbot, view, size):
    chart = SessionChart(DIM)
    window = host(qtbot, chart, *size)
    chart.show_view(view)
    qtbot.waitUntil(lambda: plot_height(chart.top) > 1)

    def placed(pane):
        box = pane.plot.getViewBox().sceneBoundingRect().adjusted(-1, -1, 1, 1)
        labels = [line.label.sceneBoundingRect() for line in chart.limit_lines.values()
                  if line.getViewBox() is pane.plot.getViewBox()]
        return box, labels

    # The labels follow the view once it is laid out.
    qtbot.waitUntil(lambda: all(placed(p)[0].contains(r) for p in chart.panes[1:]
                                for r in placed(p)[1]))
    for pane in (chart.top, chart.oxygen, chart.scores):
        _box, labels = placed(pane)
        assert len(labels) == (4 if pane is chart.top else 2)
        for index, rect in enumerate(labels):
            assert not any(rect.intersects(other) for other in labels[index + 1:])
    window.close()


def test_readings_from_the_monitor_are_framed_and_named_in_the_key(chart, view):
    from ui.session.chart_data import chart_origin, minutes_since  # noqa: PLC0415

    chart.show_view(view)
    assert data(chart.monitor_marks) == ([], [])  # every reading typed
    assert "monitor" not in chart.legend.text()
    readings = view.record.readings
    typed = next(r for r in readings if r.sbp is not None and r.sbp <= BP_HR_RANGE[1])
    device = dataclasses.replace(typed, device="0012A3FFFE4B5C6D")
    record = dataclasses.replace(view.record, readings=tuple(
        device if r is typed else r for r in readings))
    chart.show_view(dataclasses.replace(view, record=record))
    minute = minutes_since(chart_origin(view)[0], typed.time)
    assert data(chart.monitor_marks) == ([minute, minute], [float(typed.sbp), float(typed.dbp)])
    assert chart.monitor_marks.opts["symbol"] == "s"
    assert "from monitor" in chart.legend.text()
