"""The session header's countdown is whole with the Undo button and the infusion controls
shown, at 1280 x 800 and 800 x 1280: "Next reading in 9:58 min (due 20:43)" and "Repeat
SpO2 in 4:56 min (due 23:05)" were cut to "Next reading in 9:…" beside them."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from monitor.clinical.domain import EventKind, Measure
from tests.conftest import TEST_PIN
from tests.ui.geometry import settle
from tests.ui.session.test_rail_fits import TABLET, _clipped
from tests.ui.sessions import patient_session
from ui.common.banner import UnreachableBanner
from ui.common.style import apply_theme
from ui.common.theme import DIM
from ui.session.presenter import SessionPresenter
from ui.session.screen import SessionScreen

#: Set to a directory to keep the renders (for looking at them).
SHOTS = os.environ.get("CHAIRSIDE_TEST_SHOTS")


def _infusing(service, clock, nurse, *, repeat: bool):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 118, "dbp": 76, "hr": 72, "spo2": 98,
                                        "cadss6": 2, "moaas": 5}, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    if repeat:  # SpO2 90: critical, acknowledged; the next reading is a repeat for SpO2
        clock.advance(timedelta(minutes=1))
        service.record_reading(session_id, {"spo2": 90}, by=nurse, confirmed=("spo2",))
        for flag in service.load(session_id).open_flags:
            if flag.measure is Measure.SPO2:
                service.acknowledge(session_id, flag, action="Repeated reading", by=nurse,
                                    pin=TEST_PIN)
    return session_id


@pytest.mark.parametrize("repeat", [False, True], ids=["next-reading", "repeat-spo2"])
@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
def test_the_countdown_is_whole_beside_undo_and_the_infusion_controls(
        qtbot, qapp, service, clock, nurse, size, repeat):
    apply_theme(qapp, DIM)
    session_id = _infusing(service, clock, nurse, repeat=repeat)
    window = QWidget()
    qtbot.addWidget(window)
    column = QVBoxLayout(window)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(0)
    banner = UnreachableBanner(DIM)
    banner.show_since(clock.now() - timedelta(minutes=12))
    presenter = SessionPresenter(service, clock, session_id, nurse)
    screen = SessionScreen(DIM, clock, presenter, ())
    header = screen.header
    header.set_tablet(TABLET)
    screen.set_orientation(Qt.Orientation.Horizontal if size[0] > size[1]
                           else Qt.Orientation.Vertical)
    column.addWidget(banner)
    column.addWidget(screen, 1)
    window.setFixedSize(*size)
    window.show()
    qtbot.waitExposed(window)
    presenter.refresh()
    header.show_undo("infusion start")  # the longest undo label
    header.show_notice("Saved infusion start 22:59", problem=False, at=clock.now())
    settle()
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        name = f"header-{'repeat' if repeat else 'next'}-{size[0]}x{size[1]}.png"
        window.grab().save(str(Path(SHOTS) / name))

    due = header.due
    expected = "Repeat SpO2 in " if repeat else "Next reading in "
    assert due.text().startswith(expected)
    assert "(due " in due.text()
    assert _clipped(due) is None
    assert due.height() < 2 * due.fontMetrics().lineSpacing()  # one line
    shown = [header.undo_button, header.back_button,
             *(b for b in header.controls.values() if b.isVisible())]
    assert header.undo_button.isVisible()
    assert header.undo_button.text() == "Undo infusion start"
    places = [QRect(b.mapTo(window, b.rect().topLeft()), b.size()) for b in shown]
    for button, place in zip(shown, places, strict=True):
        assert window.rect().contains(place), button.text()
        assert button.width() >= button.sizeHint().width(), button.text()  # not squeezed
    for index, place in enumerate(places):  # nothing drawn over anything else
        assert not any(place.intersects(other) for other in places[index + 1:])
    due_place = QRect(due.mapTo(window, due.rect().topLeft()), due.size())
    assert not any(due_place.intersects(place) for place in places)
    # The values below stay whole: the chart gives way, never them.
    assert screen.minimumSizeHint().height() <= screen.height()
    window.close()
