"""The optional soft chime: off by default; switched on from the overview header, one chime
each time a chair's next reading turns overdue (not while it stays overdue, again after a
new reading is missed); a device that cannot play says so instead of failing."""

from __future__ import annotations

import sys
import types
import wave
from array import array
from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt

from monitor.clinical.domain import EventKind
from monitor.service.board import ChairTile, tile_for
from tests.ui.touch import small_touch_targets
from ui.app.chime import CHIME_WAV, UNAVAILABLE, Chime, ChimeUnavailableError, sound_effect_player
from ui.app.main_window import MainWindow

SECOND = timedelta(seconds=1)
BASELINE = {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98", "cadss6": "0", "moaas": "5"}
VITALS = {"sbp": "124", "dbp": "76", "hr": "70", "spo2": "98"}
#: Idle locking is not what these tests are about; the clock moves by minutes.
NO_IDLE_LOCK = 24 * 3600.0


class FakePlayer:
    def __init__(self) -> None:
        self.plays = 0

    def play(self) -> None:
        self.plays += 1


def _infusing(service, nurse, chair: str, mrn: str):
    patient = service.add_patient(mrn, by=nurse, name="Ada Byrne", date_of_birth=date(1980, 4, 2),
                                  weight_kg=70)
    session_id = service.start_session(patient.id, by=nurse, chair=chair,
                                       escort_name="Sam Escort")
    service.record_reading(session_id, BASELINE, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    return session_id


def _due_in(service, session_id) -> timedelta:
    due = tile_for("?", service.load(session_id)).due_in
    assert due is not None
    return due


def _until_overdue(window: MainWindow, service, clock, session_id) -> None:
    """Tick once a second of the injected clock until ``session_id``'s reading is overdue
    (every tick in between is one the chime could wrongly sound on)."""
    clock.advance(_due_in(service, session_id) - 3 * SECOND)
    window.tick()
    for _ in range(4):
        clock.advance(SECOND)
        window.tick()
    assert _due_in(service, session_id) < timedelta(0)


@pytest.fixture
def player() -> FakePlayer:
    return FakePlayer()


def _window(qtbot, service, clock, staff, chime: Chime, size=(1280, 800)) -> MainWindow:
    window = MainWindow(service, clock, staff=staff, tick_ms=3_600_000,
                        idle_lock_s=NO_IDLE_LOCK, chime=chime)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def window(qtbot, service, clock, nurse, player) -> MainWindow:
    return _window(qtbot, service, clock, (nurse, "Nora Nurse"), Chime(lambda: player))


def _switch(qtbot, window: MainWindow) -> None:
    qtbot.mouseClick(window.overview.chime_button, Qt.MouseButton.LeftButton)


def test_off_by_default_no_chime_when_a_chair_goes_overdue(window, service, clock, nurse,
                                                           player):
    session_id = _infusing(service, nurse, "2", "MRN-000200")
    window.refresh_overview()
    assert window.overview.chime_button.text() == "Chime: off"
    _until_overdue(window, service, clock, session_id)
    assert window.overview.tile("2").due.text().startswith("OVERDUE")
    assert player.plays == 0


def test_on_one_chime_per_overdue_turn_per_chair_none_while_it_stays(qtbot, window, service,
                                                                   clock, nurse, player):
    first = _infusing(service, nurse, "2", "MRN-000200")
    clock.advance(90 * SECOND)
    second = _infusing(service, nurse, "3", "MRN-000300")
    _switch(qtbot, window)
    assert window.overview.chime_button.text() == "Chime: on"

    _until_overdue(window, service, clock, first)
    assert player.plays == 1
    for _ in range(30):  # chair 2 stays overdue: no more chimes
        clock.advance(SECOND)
        window.tick()
    assert player.plays == 1

    _until_overdue(window, service, clock, second)  # chair 3's own turn
    assert player.plays == 2

    service.record_reading(first, VITALS, by=nurse)  # the overdue reading is taken
    window.tick()
    assert not window.overview.tile("2").tile().overdue
    assert player.plays == 2
    _until_overdue(window, service, clock, first)  # and the next one is missed
    assert player.plays == 3


def test_it_chimes_while_a_session_screen_is_shown(qtbot, window, service, clock, nurse,
                                                  player):
    open_chair = _infusing(service, nurse, "1", "MRN-000100")
    clock.advance(60 * SECOND)
    other = _infusing(service, nurse, "2", "MRN-000200")
    window.refresh_overview()
    _switch(qtbot, window)
    window.show_session("1", open_chair)
    service.record_reading(open_chair, VITALS, by=nurse)  # chair 1 keeps up to date
    _until_overdue(window, service, clock, other)
    assert window.current_session() is not None
    assert player.plays == 1


def test_switched_off_again_it_stays_silent(qtbot, window, service, clock, nurse, player):
    session_id = _infusing(service, nurse, "2", "MRN-000200")
    _switch(qtbot, window)
    _switch(qtbot, window)
    assert window.overview.chime_button.text() == "Chime: off"
    _until_overdue(window, service, clock, session_id)
    assert player.plays == 0


def test_a_reading_already_overdue_when_switched_on_does_not_chime(qtbot, window, service,
                                                                   clock, nurse, player):
    session_id = _infusing(service, nurse, "2", "MRN-000200")
    _until_overdue(window, service, clock, session_id)
    _switch(qtbot, window)
    clock.advance(SECOND)
    window.tick()
    assert player.plays == 0


def test_chairs_turning_overdue_in_the_same_second_chime_once():
    player = FakePlayer()
    chime = Chime(lambda: player)
    chime.set_enabled(True)
    assert not chime.observe([ChairTile(chair=c, due_in=SECOND) for c in ("1", "2")])
    late = [ChairTile(chair=c, due_in=-SECOND) for c in ("1", "2")]
    assert chime.observe(late)
    assert player.plays == 1


def test_without_qt_multimedia_the_real_player_is_unavailable(monkeypatch):
    monkeypatch.setitem(sys.modules, "PySide6.QtMultimedia", None)  # import fails
    with pytest.raises(ChimeUnavailableError):
        sound_effect_player()
    chime = Chime()
    assert chime.set_enabled(True) is False
    assert chime.unavailable == UNAVAILABLE


def test_without_an_audio_output_the_real_player_is_unavailable(monkeypatch):
    class NoDevice:
        def isNull(self) -> bool:
            return True

    fake = types.ModuleType("PySide6.QtMultimedia")
    fake.QMediaDevices = types.SimpleNamespace(defaultAudioOutput=NoDevice)
    fake.QSoundEffect = object
    monkeypatch.setitem(sys.modules, "PySide6.QtMultimedia", fake)
    with pytest.raises(ChimeUnavailableError, match="no audio output"):
        sound_effect_player()


def test_the_switch_says_when_the_device_cannot_chime(qtbot, service, clock, nurse,
                                                      monkeypatch):
    monkeypatch.setitem(sys.modules, "PySide6.QtMultimedia", None)
    window = _window(qtbot, service, clock, (nurse, "Nora Nurse"), Chime())
    _switch(qtbot, window)
    button = window.overview.chime_button
    assert button.text() == "Chime: unavailable"
    assert button.toolTip() == UNAVAILABLE
    assert window.statusBar().currentMessage() == UNAVAILABLE
    assert not window.chime.enabled
    window.tick()  # and nothing fails afterwards


def test_the_chime_sound_is_short_soft_and_small():
    with wave.open(str(CHIME_WAV)) as sound:
        assert (sound.getnchannels(), sound.getsampwidth(), sound.getframerate()) == \
            (1, 2, 22_050)
        seconds = sound.getnframes() / sound.getframerate()
        samples = array("h", sound.readframes(sound.getnframes()))
    assert 0.25 <= seconds <= 0.4
    assert max(abs(s) for s in samples) <= 0.3 * 32767
    assert abs(samples[0]) < 200
    assert abs(samples[-1]) < 200
    assert CHIME_WAV.stat().st_size < 20_000


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
def test_the_switch_fits_the_header_as_a_touch_target(qtbot, service, clock, size):
    clinician = service.ensure_staff("Dr Lee", "clinician", pin="739104")
    window = _window(qtbot, service, clock, (clinician, "Dr Lee"), Chime(FakePlayer), size)
    overview = window.overview
    assert overview.review_button.isVisible()
    assert overview.audit_button.isVisible()
    button = overview.chime_button
    assert button.isVisible()
    assert small_touch_targets(overview) == []
    right = button.mapTo(overview, button.rect().topRight()).x()
    theme_right = overview.theme_button.mapTo(
        overview, overview.theme_button.rect().topRight()).x()
    assert window.width() == size[0]  # the header does not widen the window
    assert right < overview.width()
    assert theme_right < overview.width()
    assert button.width() >= button.fontMetrics().horizontalAdvance(button.text())
