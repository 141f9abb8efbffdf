"""A flag only a clinician acknowledges says so before anything is chosen, and every choice
in the acknowledgement dialog shows its whole text."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics

from tests.ui.sessions import host
from ui.common.style import apply_theme
from ui.common.theme import DIM
from ui.session.acknowledge import CLINICIAN_ONLY_BUTTON, CLINICIAN_ONLY_REASON
from ui.session.presenter import SessionPresenter
from ui.session.screen import SessionScreen

#: A chosen choice's border (4 px) and padding (12 px) on each side, from the style sheet.
CHECKED_FRAME_PX = 2 * (4 + 12)

dialog_window = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def item9_session(service, nurse):
    return service.check_in(
        by=nurse, chair="2",
        new_patient={"mrn": "MRN-56", "name": "Ida Moss", "date_of_birth": date(1984, 2, 9)},
        weight_kg=70, planned_mg_per_kg=0.5, infusion_minutes=40, bag_volume_ml=100,
        lot_number="L7", concomitant_medications={}, escort_name="Al Moss",
        phq9_items=(1,) * 9)


def screen_for(qtbot, service, clock, staff, session_id, size=(1280, 800)):
    presenter = SessionPresenter(service, clock, session_id, staff)
    screen = SessionScreen(DIM, clock, presenter, ())
    window = host(qtbot, screen, *size)
    presenter.refresh()
    return screen, window


@dialog_window
def test_a_nurse_is_told_up_front_that_a_clinician_acknowledges_phq9_item9(
        qtbot, service, clock, nurse):
    session_id = item9_session(service, nurse)
    screen, _window = screen_for(qtbot, service, clock, nurse, session_id)
    (flag,) = screen.view.open_flags
    assert screen.flags.delegate.button_text(flag) == CLINICIAN_ONLY_BUTTON
    dialog = screen.flags.acknowledge(flag)
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.refusal.isVisible()
    assert dialog.refusal.text() == CLINICIAN_ONLY_REASON
    assert not any(button.isEnabled() for button in dialog.choices.buttons())
    qtbot.mouseClick(dialog.choices.buttons()[0], Qt.MouseButton.LeftButton)
    assert dialog.chosen_actions() == []
    assert not dialog.ok.isEnabled()
    assert dialog.ok.toolTip() == CLINICIAN_ONLY_REASON


@dialog_window
def test_a_clinician_acknowledges_phq9_item9_without_the_refusal(
        qtbot, service, clock, nurse, clinician):
    session_id = item9_session(service, nurse)
    screen, _window = screen_for(qtbot, service, clock, clinician, session_id)
    (flag,) = screen.view.open_flags
    assert screen.flags.delegate.button_text(flag) == "Acknowledge"
    dialog = screen.flags.acknowledge(flag)
    qtbot.waitUntil(dialog.isVisible)
    assert not dialog.refusal.isVisible()
    assert all(button.isEnabled() for button in dialog.choices.buttons())


@dialog_window
@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
@pytest.mark.parametrize("item9", [True, False], ids=["phq9-item9", "vital-sign"])
def test_a_chosen_choice_shows_its_whole_text(qtbot, service, clock, nurse, clinician,
                                              size, item9):
    session_id = item9_session(service, nurse)
    screen, _window = screen_for(qtbot, service, clock, clinician, session_id, size)
    apply_theme(screen.window(), DIM)  # the app's padding, border and bold decide what fits
    (flag,) = screen.view.open_flags
    if not item9:
        flag = dataclasses.replace(flag, key="spo2-low")
    dialog = screen.flags.acknowledge(flag)
    qtbot.waitUntil(dialog.isVisible)
    for button in dialog.choices.buttons():
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert button.isChecked()
        bold = QFont(button.font())
        bold.setBold(True)  # a chosen choice is drawn bold, with a thicker border
        needed = QFontMetrics(bold).horizontalAdvance(button.text()) + CHECKED_FRAME_PX
        assert needed <= button.width(), f"{button.text()!r} clipped: {needed} > {button.width()}"
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
