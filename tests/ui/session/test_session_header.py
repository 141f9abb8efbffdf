"""The session header keeps its height whatever its notice says: nothing below it moves."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from monitor.clinical.domain import EventKind
from tests.ui.geometry import control_places, moved, settle
from tests.ui.sessions import host, patient_session
from ui.common.style import apply_theme
from ui.common.theme import DIM
from ui.session.presenter import SessionPresenter
from ui.session.screen import SessionScreen

#: Set to a directory to keep the renders (for looking at them).
SHOTS = os.environ.get("CHAIRSIDE_TEST_SHOTS")
LONG_NOTICE = ("A nurse cannot add an entry after the discharge is signed; a clinician can, "
               "with a reason. Nothing was recorded: ask the clinician on duty to sign in and "
               "enter it, or note it on the paper record until then.")


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
def test_a_long_notice_moves_nothing_below_the_header(qtbot, qapp, service, clock, nurse,
                                                      size):
    apply_theme(qapp, DIM)
    session_id = patient_session(service, nurse)
    presenter = SessionPresenter(service, clock, session_id, nurse)
    screen = SessionScreen(DIM, clock, presenter, ())
    screen.set_orientation(Qt.Orientation.Horizontal if size[0] > size[1]
                           else Qt.Orientation.Vertical)
    window = host(qtbot, screen, *size)
    presenter.refresh()
    before = control_places(screen)
    header_height = screen.header.height()
    screen.header.show_notice(LONG_NOTICE, problem=True, at=clock.now())
    settle()
    assert moved(before, control_places(screen)) == []
    assert screen.header.height() == header_height
    # Elided on screen, whole in the tooltip and for whoever reads the notice.
    assert screen.header.notice.toolTip().endswith(LONG_NOTICE)
    assert screen.header.notice_text().endswith(LONG_NOTICE)
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        window.grab().save(str(Path(SHOTS) / f"session-notice-{size[0]}x{size[1]}.png"))
    screen.header.clear_notice()
    settle()
    assert moved(before, control_places(screen)) == []
    window.close()


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
def test_the_tablets_name_is_small_under_the_back_button_and_squeezes_nothing(
    qtbot, qapp, service, clock, nurse, size
):
    apply_theme(qapp, DIM)
    session_id = patient_session(service, nurse)
    # Infusing: the header shows its controls and the countdown, as at most chairs.
    service.record_reading(session_id, {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98"},
                           by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    orientation = (Qt.Orientation.Horizontal if size[0] > size[1]
                   else Qt.Orientation.Vertical)
    places = {}
    name = "Infusion room 2, window side (B)"  # the longest a name may be: 32 characters
    for shown in ("", name):
        presenter = SessionPresenter(service, clock, session_id, nurse)
        screen = SessionScreen(DIM, clock, presenter, ())
        screen.header.set_tablet(shown)  # as the window does: before the screen shows
        screen.set_orientation(orientation)
        window = host(qtbot, screen, *size)
        presenter.refresh()
        settle()
        assert screen.header.controls[EventKind.INFUSION_STOP].isVisible()
        places[shown] = (screen.header.height(), screen.rail.geometry())
        if not shown:
            window.close()
    header_height, rail = places[""]
    tablet = screen.header.tablet
    assert tablet.isVisible()
    assert tablet.toolTip() == f"Tablet {name}", "whole in the tooltip when elided"
    assert screen.header.height() == header_height
    assert screen.rail.geometry() == rail, "the value tiles keep their size and place"
    button = screen.header.back_button.geometry()
    assert tablet.geometry().top() >= button.bottom(), "under the back button"
    assert tablet.width() <= button.width() + 1
    assert screen.header.contentsRect().contains(tablet.geometry()), "not cut off"
    assert tablet.height() >= tablet.fontMetrics().height()
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        window.grab().save(str(Path(SHOTS) / f"session-tablet-{size[0]}x{size[1]}.png"))
    screen.header.set_tablet("Demo tablet")
    assert tablet.text() == "Demo tablet", "a name that says it is a tablet is shown as it is"
    screen.header.set_tablet("")
    assert not tablet.isVisible()
    window.close()
