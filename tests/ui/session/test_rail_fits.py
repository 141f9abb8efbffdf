"""Every latest value on the rail stays whole on the session screen, whatever the header
holds: an infusing session's countdown, the tablet's name, the outage banner above it and a
critical value acknowledged (its badge on two lines). The chart gives way, never the values."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from monitor.clinical.domain import EventKind, Measure
from tests.conftest import TEST_PIN
from tests.ui.geometry import settle
from tests.ui.sessions import patient_session
from ui.common.banner import UnreachableBanner
from ui.common.style import apply_theme
from ui.common.theme import DIM
from ui.session.presenter import SessionPresenter
from ui.session.screen import SessionScreen

#: Set to a directory to keep the renders (for looking at them).
SHOTS = os.environ.get("CHAIRSIDE_TEST_SHOTS")
TABLET = "Infusion room 2, window side (B)"  # the longest a name may be: 32 characters


def _clipped(label: QLabel) -> str | None:
    """Why ``label``'s text is not whole inside its contents rectangle (None: it is)."""
    lines = label.text().splitlines() or [""]
    metrics = label.fontMetrics()
    rect = label.contentsRect()
    width = max(metrics.horizontalAdvance(line) for line in lines)
    height = len(lines) * metrics.lineSpacing()
    if width > rect.width() or height > rect.height() + 1:
        return f"{label.text()!r}: needs {width}x{height}, has {rect.width()}x{rect.height()}"
    return None


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
def test_every_value_is_whole_while_infusing_with_the_banner_and_an_acknowledged_critical(
        qtbot, qapp, service, clock, nurse, size):
    apply_theme(qapp, DIM)
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 118, "dbp": 76, "hr": 72, "spo2": 98,
                                        "cadss6": 2, "moaas": 5}, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(timedelta(minutes=5))
    service.record_reading(session_id, {"sbp": 210, "dbp": 125}, by=nurse,
                           confirmed=("sbp", "dbp"))
    for flag in service.load(session_id).open_flags:
        if flag.measure is Measure.BP:
            service.acknowledge(session_id, flag, action="Repeated reading", by=nurse,
                                pin=TEST_PIN)

    window = QWidget()
    qtbot.addWidget(window)
    column = QVBoxLayout(window)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(0)
    banner = UnreachableBanner(DIM)
    banner.show_since(clock.now() - timedelta(minutes=12))
    presenter = SessionPresenter(service, clock, session_id, nurse)
    screen = SessionScreen(DIM, clock, presenter, ())
    screen.header.set_tablet(TABLET)
    screen.set_orientation(Qt.Orientation.Horizontal if size[0] > size[1]
                           else Qt.Orientation.Vertical)
    column.addWidget(banner)
    column.addWidget(screen, 1)
    window.setFixedSize(*size)
    window.show()
    qtbot.waitExposed(window)
    presenter.refresh()
    settle()
    # Nothing is squeezed below what it needs: the screen fits under the banner.
    assert screen.minimumSizeHint().height() <= screen.height()
    bp = screen.rail.tiles[Measure.BP]
    assert bp.value.text() == "210/125"
    assert bp.flag_word.text() == "CRITICAL\nacknowledged"
    assert "(due " in screen.header.due.text()
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        window.grab().save(str(Path(SHOTS) / f"session-rail-{size[0]}x{size[1]}.png"))

    # The countdown keeps to one line (elided, whole in its tooltip).
    due = screen.header.due
    assert due.height() < 2 * due.fontMetrics().lineSpacing()
    assert due.toolTip().endswith(due.text()) or _clipped(due) is None
    problems = [
        f"{tile.shown.measure.name}.{name}: {why}"
        for tile in screen.rail.tiles.values() if tile.isVisible()
        for name in ("value", "unit", "name", "flag_word")
        if (why := _clipped(getattr(tile, name))) is not None
    ]
    assert problems == []
    for tile in screen.rail.tiles.values():
        if tile.isVisible():
            assert tile.height() >= tile.minimumSizeHint().height()
            assert screen.rect().contains(tile.geometry().translated(screen.rail.pos()))
    window.close()
