"""The chair overview draws real sessions: texts, countdown and overdue marking, the worst
flag with its icon and word, and taps that open a chair or start a check-in."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QWidget

from monitor.clinical.domain import EventKind, Severity
from monitor.clock import ManualClock
from monitor.service.board import tile_for
from monitor.service.clinic import ClinicService
from tests.ui.sessions import host
from tests.ui.touch import small_touch_targets
from ui.common.style import apply_theme
from ui.common.theme import DIM, LIGHT
from ui.overview.screen import ChairTileWidget, OverviewScreen, countdown_text

MIN = timedelta(minutes=1)
CHAIRS = ("1", "2", "3", "4")


BASELINE = {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98", "cadss6": "0", "moaas": "5"}


def _session(service: ClinicService, nurse, chair: str, mrn: str, name: str):
    patient = service.add_patient(mrn, by=nurse, name=name, date_of_birth=date(1980, 4, 2),
                                  weight_kg=70)
    return service.start_session(patient.id, by=nurse, chair=chair, escort_name="Sam Escort")


def build_room(service: ClinicService, clock: ManualClock, nurse) -> dict[str, object]:
    """Four chairs as a morning looks: chair 4 discharged, chairs 1 and 2 infusing (2 with
    a reading overdue, 1 with two open warnings and their repeat due), chair 3 free. The
    clock ends at "now"."""
    discharged = _session(service, nurse, "4", "MRN-000400", "Dora Ellis")
    service.record_reading(discharged, BASELINE, by=nurse)
    service.record_event(discharged, EventKind.INFUSION_START, by=nurse)
    clock.advance(40 * MIN)
    service.record_event(discharged, EventKind.INFUSION_STOP, by=nurse)
    clock.advance(5 * MIN)
    service.record_reading(discharged, BASELINE, by=nurse)
    service.override_discharge(discharged, reason="Clinician reviewed, escort waiting",
                               by=service.ensure_staff("Dr Lee", "clinician", pin="739104"),
                               pin="739104")
    clock.advance(10 * MIN)

    flagged = _session(service, nurse, "1", "MRN-004211", "Ada Byrne")
    overdue = _session(service, nurse, "2", "MRN-007730", "Ben Okafor")
    for session_id in (flagged, overdue):
        service.record_reading(session_id, BASELINE, by=nurse)
        service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(10 * MIN)
    service.record_reading(flagged, {"sbp": "150", "dbp": "90", "hr": "112", "spo2": "93"},
                           by=nurse)
    clock.advance(3 * MIN + timedelta(seconds=10))
    return {"1": flagged, "2": overdue, "4": discharged}


def room_tiles(service: ClinicService, sessions: dict[str, object]):
    return [tile_for(chair, service.load(sessions[chair]) if chair in sessions else None)
            for chair in CHAIRS]


@pytest.fixture
def room(service, clock, nurse):
    return build_room(service, clock, nurse)


@pytest.fixture(params=[DIM, LIGHT], ids=["dim", "light"])
def screen(qtbot, request):
    widget = OverviewScreen(request.param, CHAIRS)
    window = host(qtbot, widget, 1280, 800)
    apply_theme(window, request.param)
    # The window owns the widget, so it is held (and closed) around the test.
    yield widget
    window.close()


def test_an_infusing_tile_shows_chair_patient_phase_and_latest_vitals(screen, service, room):
    screen.show_tiles(room_tiles(service, room))
    texts = screen.tile("1").texts()
    assert texts[:3] == ["Chair 1", "AB · …4211", "Infusing 13:10 min elapsed"]
    values = {key: label.text() for key, label in screen.tile("1").values.items()}
    assert values == {"bp": "150/90", "hr": "112", "spo2": "93"}
    # HR 112 and SpO2 93 are warnings: repeated 5 min after the reading, not 10.
    assert "repeat HR, SpO2 in 1:50 min" in texts


def test_vital_values_are_at_least_24_px(screen, service, room):
    screen.show_tiles(room_tiles(service, room))
    for label in screen.tile("1").values.values():
        assert label.fontInfo().pixelSize() >= 24


def test_an_overdue_reading_is_marked_with_icon_word_and_colour(screen, service, room):
    screen.show_tiles(room_tiles(service, room))
    tile = screen.tile("2")
    assert tile.due.text() == "OVERDUE 3:10 min"
    assert tile.due_icon.isVisibleTo(tile)
    assert not tile.due_icon.pixmap().isNull()
    assert screen.theme.advisory in tile.due.styleSheet()
    assert not screen.tile("1").due_icon.isVisibleTo(screen.tile("1"))


def test_the_worst_open_flag_shows_icon_word_colour_and_the_count_of_others(
    screen, service, room
):
    tiles = room_tiles(service, room)
    assert tiles[0].worst_flag.severity is Severity.WARNING
    screen.show_tiles(tiles)
    tile = screen.tile("1")
    assert tile.flag_word.text() == "WARNING"
    assert not tile.flag_icon.pixmap().isNull()
    assert screen.theme.warning in tile.flag_word.styleSheet()
    assert tile.flag_message.text().startswith(("HR ", "SpO2 "))
    assert tile.more_flags.text() == "+1 more open"


def test_each_value_badge_shows_icon_word_and_colour(screen, service, room):
    screen.show_tiles(room_tiles(service, room))
    tile = screen.tile("1")
    for key in ("hr", "spo2"):  # HR 112 and SpO2 93: warnings
        assert tile.badges[key].text() == "WARNING"
        assert tile.badge_icons[key].isVisibleTo(tile)
        assert not tile.badge_icons[key].pixmap().isNull()
        assert screen.theme.warning in tile.badges[key].styleSheet()
    assert not tile.badge_icons["bp"].isVisibleTo(tile)  # BP 150/90: no badge, no icon


def test_a_free_chair_invites_a_check_in_and_tapping_it_emits_check_in(qtbot, screen):
    screen.show_tiles([])
    tile = screen.tile("3")
    assert tile.texts() == ["Chair 3 — free", "Tap to check in"]
    with qtbot.waitSignal(screen.checkInChair) as blocker:
        qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)
    assert blocker.args == ["3"]


def test_tapping_an_occupied_chair_opens_it(qtbot, screen, service, room):
    screen.show_tiles(room_tiles(service, room))
    with qtbot.waitSignal(screen.openChair) as blocker:
        qtbot.mouseClick(screen.tile("2").flag_message, Qt.MouseButton.LeftButton)
    assert blocker.args == ["2"]


def test_a_discharged_chair_offers_the_next_check_in(qtbot, screen, service, room):
    screen.show_tiles(room_tiles(service, room))
    tile = screen.tile("4")
    assert "Discharged" in tile.texts()
    assert tile.texts()[-1] == "Check in next patient"
    assert not tile.vitals.isVisibleTo(tile)
    with qtbot.assertNotEmitted(screen.openChair), \
            qtbot.waitSignal(screen.checkInChair) as blocker:
        qtbot.mouseClick(tile.check_in_next, Qt.MouseButton.LeftButton)
    assert blocker.args == ["4"]
    with qtbot.waitSignal(screen.openChair) as opened:
        qtbot.mouseClick(tile.title, Qt.MouseButton.LeftButton)
    assert opened.args == ["4"]


def test_four_chairs_stay_two_by_two_in_both_orientations(qtbot, screen):
    for orientation, size in ((Qt.Orientation.Horizontal, (1280, 800)),
                              (Qt.Orientation.Vertical, (800, 1280))):
        screen.set_orientation(orientation)
        screen.window().resize(*size)
        screen.setGeometry(0, 0, *size)
        qtbot.waitUntil(lambda s=size: screen.tile("4").geometry().bottom() > s[1] / 2)
        positions = {(w.geometry().x(), w.geometry().y()) for w in screen.tiles.values()}
        assert len({x for x, _ in positions}) == 2
        assert len({y for _, y in positions}) == 2


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
def test_every_visible_button_is_at_least_48_px(qtbot, screen, service, room, size):
    screen.show_tiles(room_tiles(service, room))
    screen.set_orientation(Qt.Orientation.Horizontal if size[0] > size[1]
                           else Qt.Orientation.Vertical)
    screen.window().resize(*size)
    screen.setGeometry(0, 0, *size)
    qtbot.waitUntil(lambda: screen.tile("4").geometry().bottom() > size[1] / 2)
    assert screen.tile("4").check_in_next.isVisible()
    assert small_touch_targets(screen) == []


def test_the_theme_button_emits_theme_toggled(qtbot, screen):
    assert screen.theme_button.text().startswith("Theme:")
    with qtbot.waitSignal(screen.themeToggled):
        qtbot.mouseClick(screen.theme_button, Qt.MouseButton.LeftButton)


def test_the_theme_button_names_the_theme_in_force_like_the_chime_button(screen):
    current, other = ("dim", "light") if screen.theme.name == "dim" else ("light", "dim")
    assert screen.theme_button.text() == f"Theme: {current} room"
    assert screen.theme_button.toolTip() == f"Tap to switch to the {other} room theme"


def test_a_tile_for_a_chair_not_on_the_overview_is_refused(screen):
    with pytest.raises(ValueError, match="no chair 9"):
        screen.show_tiles([tile_for("9", None)])


def test_countdown_text():
    assert countdown_text(timedelta(minutes=4, seconds=12)) == "next in 4:12 min"
    assert countdown_text(timedelta(minutes=4, seconds=12), "BP") == "repeat BP in 4:12 min"
    assert countdown_text(-timedelta(minutes=2, seconds=10)) == "OVERDUE 2:10 min"
    assert countdown_text(None) == ""


def test_a_tile_redraws_in_another_theme(qtbot, service, room):
    tile = ChairTileWidget(DIM, room_tiles(service, room)[0])
    window = host(qtbot, tile, 600, 380)
    assert DIM.warning in tile.flag_word.styleSheet()
    tile.set_theme(LIGHT)
    assert LIGHT.warning in tile.flag_word.styleSheet()
    assert window.isVisible()


class _StyleChanges(QObject):
    """Counts the style changes (a style sheet set) of the widgets it watches."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.StyleChange:
            self.count += 1
        return False


def test_a_tile_shown_again_unchanged_is_not_restyled(screen, service, room, clock):
    """The tiles are redrawn every second and on every change from another tablet: a tile
    whose look did not change keeps its style sheets (setting one re-polishes the widget)."""
    screen.show_tiles(room_tiles(service, room))
    tile = screen.tile("1")
    changes = _StyleChanges()
    for widget in (tile, *tile.findChildren(QWidget)):
        widget.installEventFilter(changes)
    clock.advance(timedelta(seconds=1))
    screen.show_tiles(room_tiles(service, room))
    assert changes.count == 0
    assert tile.due.text() == "repeat HR, SpO2 in 1:49 min"  # the tile was drawn again
    # A changed look is still applied: the reading turns overdue.
    clock.advance(2 * MIN)
    screen.show_tiles(room_tiles(service, room))
    assert changes.count > 0
    assert screen.theme.advisory in tile.due.styleSheet()
