"""The latest-value rail shows each measure's last value, its age and its open flag's tier."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from monitor.clinical.domain import Measure
from tests.conftest import TEST_PIN
from tests.ui.geometry import settle
from tests.ui.sessions import host, incident_session, patient_session
from ui.common.labels import clock_time
from ui.common.style import apply_theme
from ui.common.theme import DIM, LIGHT, TOUCH_MIN, VALUE_PX
from ui.session.presenter import SessionPresenter
from ui.session.rail import ValueRail
from ui.session.screen import SessionScreen

SHOTS = os.environ.get("CHAIRSIDE_SHOTS")  # a folder: the screens are also saved there


@pytest.fixture(params=[DIM, LIGHT], ids=["dim", "light"])
def rail(qtbot, request):
    widget = ValueRail(request.param)
    window = host(qtbot, widget, 260, 720)
    apply_theme(window, request.param)
    yield widget
    window.close()


def test_each_tile_shows_the_latest_value_and_its_age(rail, service, clock, nurse):
    built = incident_session(service, clock, nurse)
    view = service.load(built.session_id)
    rail.show_view(view)
    last = built.start + timedelta(minutes=100)
    bp = rail.tiles[Measure.BP]
    assert bp.value.text() == "130/82"
    assert bp.age.text() == f"{clock_time(last)} · 4 min ago"
    assert rail.tiles[Measure.HR].value.text() == "72"
    assert rail.tiles[Measure.SPO2].value.text() == "97"
    assert rail.tiles[Measure.CADSS6].value.text() == "1"
    assert rail.tiles[Measure.MOAAS].value.text() == "5"
    # RR was last recorded at 70 min: its own age, not that of the last reading.
    assert rail.tiles[Measure.RR].value.text() == "16"
    assert rail.tiles[Measure.RR].age.text().endswith("34 min ago")


def test_an_open_flag_on_an_earlier_reading_shows_its_tier_and_time_not_on_the_value(
        rail, service, clock, nurse):
    built = incident_session(service, clock, nurse)
    rail.show_view(service.load(built.session_id))
    bp = rail.tiles[Measure.BP]
    surge = built.start + timedelta(minutes=35)
    assert bp.flag_word.text() == f"CRITICAL · {clock_time(surge)}"
    assert not bp.flag_icon.pixmap().isNull()
    assert rail.theme.critical in bp.flag_word.styleSheet()
    assert bp.value.styleSheet() == ""
    assert rail.theme.critical in bp.styleSheet()
    assert rail.tiles[Measure.HR].flag_word.text() == ""
    assert rail.tiles[Measure.HR].flag_icon.pixmap().isNull()


def test_a_flag_raised_by_the_value_shown_colours_the_value(rail, service, clock, nurse):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 120, "dbp": 80, "hr": 72, "spo2": 91},
                           by=nurse)
    rail.show_view(service.load(session_id))
    spo2 = rail.tiles[Measure.SPO2]
    assert spo2.flag_word.text() == "CRITICAL"
    assert rail.theme.critical in spo2.value.styleSheet()


def test_an_acknowledged_value_that_is_still_abnormal_never_looks_normal(
        rail, service, clock, nurse):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 120, "dbp": 80, "hr": 72, "spo2": 93},
                           by=nurse)
    view = service.load(session_id)
    rail.show_view(view)
    spo2 = rail.tiles[Measure.SPO2]
    assert spo2.flag_word.text() == "WARNING"
    service.acknowledge(session_id, view.open_flags[0], action="Repeated reading", by=nurse)
    rail.show_view(service.load(session_id))
    assert spo2.flag_word.text() == "WARNING\nacknowledged"
    assert not spo2.flag_icon.pixmap().isNull()
    assert rail.theme.warning in spo2.value.styleSheet()
    clock.advance(timedelta(minutes=2))
    service.record_reading(session_id, {"spo2": 97}, by=nurse)
    rail.show_view(service.load(session_id))
    assert spo2.flag_word.text() == ""
    assert spo2.styleSheet() == ""


@pytest.mark.parametrize("eased", [False, True], ids=["critical", "warning-after-critical"])
@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
def test_an_acknowledged_tier_is_shown_whole_on_the_session_screen(
        qtbot, service, clock, nurse, size, eased):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 120, "dbp": 80, "hr": 72, "spo2": 90,
                                        "cadss6": 2, "moaas": 5}, by=nurse, confirmed=("spo2",))
    flag = next(f for f in service.load(session_id).open_flags if f.measure is Measure.SPO2)
    service.acknowledge(session_id, flag, action="Repeated reading", by=nurse, pin=TEST_PIN)
    if eased:  # a warning value the acknowledged critical covers, on three lines
        clock.advance(timedelta(minutes=4))
        service.record_reading(session_id, {"spo2": 92}, by=nurse)
    presenter = SessionPresenter(service, clock, session_id, nurse)
    screen = SessionScreen(DIM, clock, presenter, ())
    window = host(qtbot, screen, *size)
    apply_theme(window, DIM)
    screen.set_orientation(Qt.Orientation.Horizontal if size[0] > size[1]
                           else Qt.Orientation.Vertical)
    presenter.refresh()
    tile = screen.rail.tiles[Measure.SPO2]
    word = tile.flag_word
    if eased:
        assert word.text().startswith("WARNING\ncovered by the\nacknowledged\ncritical ")
    else:
        assert word.text().endswith("acknowledged")
    metrics = word.fontMetrics()
    lines = word.text().splitlines()
    # Laid out, every line of the word is whole inside its tile, and the tile on screen.
    qtbot.waitUntil(lambda: len(lines) * metrics.lineSpacing() <= word.height() + 2)
    left = word.mapTo(tile, word.rect().topLeft()).x()
    assert left + max(metrics.horizontalAdvance(line) for line in lines) <= tile.width()
    assert tile.mapTo(window, tile.rect().topRight()).x() <= window.width()
    if SHOTS:
        settle()
        name = f"rail-{'covered' if eased else 'acknowledged'}-{size[0]}x{size[1]}.png"
        window.grab().save(str(Path(SHOTS) / name))
    window.close()


def test_the_age_is_relative_to_the_view_not_the_wall_clock(rail, service, clock, nurse):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"hr": 72}, by=nurse)
    clock.advance(timedelta(minutes=75))
    rail.show_view(service.load(session_id))
    assert rail.tiles[Measure.HR].age.text().endswith("1 h 15 min ago")
    rail.show_view(service.load(session_id, at=clock.now() - timedelta(minutes=75)))
    assert rail.tiles[Measure.HR].age.text().endswith("just now")


def test_measures_not_recorded_yet_show_a_dash_and_rr_appears_once_recorded(
        rail, service, clock, nurse):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"hr": 72}, by=nurse)
    rail.show_view(service.load(session_id))
    assert rail.tiles[Measure.BP].value.text() == "–"
    assert rail.tiles[Measure.BP].age.text() == "no reading"
    assert not rail.tiles[Measure.RR].isVisible()
    clock.advance(timedelta(minutes=1))
    service.record_reading(session_id, {"rr": 14}, by=nurse)
    rail.show_view(service.load(session_id))
    assert rail.tiles[Measure.RR].isVisible()
    assert rail.tiles[Measure.RR].value.text() == "14"


def test_orientation_lays_tiles_in_a_column_or_in_rows(rail, service, clock, nurse):
    built = incident_session(service, clock, nurse)
    rail.show_view(service.load(built.session_id))

    def columns() -> set[int]:
        grid = rail.layout()
        return {grid.getItemPosition(grid.indexOf(tile))[1] for tile in rail.tiles.values()}

    assert rail.orientation() == Qt.Orientation.Vertical
    assert columns() == {0}
    rail.set_orientation(Qt.Orientation.Horizontal)
    assert columns() == {0, 1, 2}
    rail.set_orientation(Qt.Orientation.Vertical)
    assert columns() == {0}


def test_values_are_large_and_tiles_touch_sized(rail, service, clock, nurse):
    built = incident_session(service, clock, nurse)
    rail.show_view(service.load(built.session_id))
    settle()  # the tiles' sizes come from their layout, laid out on the next event loop pass
    for tile in rail.tiles.values():
        assert tile.value.fontInfo().pixelSize() >= max(24, VALUE_PX - 1)
        assert tile.height() >= TOUCH_MIN
