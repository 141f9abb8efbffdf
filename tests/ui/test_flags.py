"""The flags model and panel: order, texts, the per-row Acknowledge button and the dialog."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QPushButton, QScroller

from monitor.domain import EventKind, Measure, Severity
from tests.ui.sessions import host, incident_session, patient_session
from ui.flags import (
    ACKNOWLEDGE_ACTIONS,
    FlagRole,
    FlagsModel,
    FlagsPanel,
    flag_status,
)
from ui.labels import clock_time
from ui.style import apply_theme
from ui.theme import DIM, LIGHT, TOUCH_MIN

#: The acknowledgement dialog is a window of its own; the offscreen platform answers its
#: size constraints with this warning, which a real window system does not give.
dialog_window = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture
def view(service, clock, nurse):
    return service.load(incident_session(service, clock, nurse).session_id)


@pytest.fixture(params=[DIM, LIGHT], ids=["dim", "light"])
def panel(qtbot, request):
    widget = FlagsPanel(request.param)
    window = host(qtbot, widget, 520, 600)
    apply_theme(window, request.param)
    yield widget
    window.close()


def test_the_model_passes_qtmodeltester(qapp, qtmodeltester, view):
    model = FlagsModel(DIM)
    qtmodeltester.check(model)
    model.set_flags(view.flags)
    qtmodeltester.check(model)
    model.set_flags(())
    qtmodeltester.check(model)


def test_open_flags_come_first_worst_tier_first(qapp, view):
    model = FlagsModel(DIM)
    model.set_flags(tuple(reversed(view.flags)))
    shown = model.flags_shown()
    assert [f.open for f in shown] == [True] * 4 + [False] * 2
    open_tiers = [f.severity for f in shown[:4]]
    assert open_tiers[0] is Severity.CRITICAL
    assert open_tiers == sorted(open_tiers, reverse=True)
    times = [f.time for f in shown[1:3]]
    assert times == sorted(times)


def test_columns_show_tier_time_measure_message_and_status(qapp, view):
    model = FlagsModel(DIM)
    model.set_flags(view.flags)
    critical = model.flags_shown()[0]

    def cell(row: int, column: int, role=Qt.ItemDataRole.DisplayRole):
        return model.data(model.index(row, column), role)

    assert cell(0, FlagsModel.TIER) == "CRITICAL"
    icon = cell(0, FlagsModel.TIER, Qt.ItemDataRole.DecorationRole)
    assert isinstance(icon, QIcon)
    assert not icon.isNull()
    assert cell(0, FlagsModel.TIER, Qt.ItemDataRole.ForegroundRole).name() == DIM.critical
    assert cell(0, FlagsModel.TIME) == clock_time(critical.time)
    assert cell(0, FlagsModel.MEASURE) == "BP"
    assert cell(0, FlagsModel.MESSAGE) == critical.message
    assert cell(0, FlagsModel.STATUS) == "open"
    assert cell(0, 0, FlagRole) is critical
    last = model.rowCount() - 1
    acknowledged = model.flags_shown()[last]
    ack = acknowledged.acknowledgement
    # The note is on the row itself: a tooltip is out of reach on a touch screen.
    assert cell(last, FlagsModel.STATUS) == (
        f"acknowledged {clock_time(ack.time)} by N. Nurse: Repeated reading — repeat in 5 min")
    assert cell(last, FlagsModel.STATUS, Qt.ItemDataRole.ToolTipRole).endswith(
        "— repeat in 5 min")
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(5)] == [
        "Tier", "Time", "Measure", "Message", "Status"]


def test_a_resolved_flag_says_what_resolved_it(service, clock, nurse):
    session_id = patient_session(service, nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(timedelta(minutes=15))
    service.record_reading(session_id, {"sbp": 184, "dbp": 100, "hr": 72}, by=nurse)
    taken = clock.now()
    overdue = next(f for f in service.load(session_id).flags if f.measure is Measure.OVERDUE)
    assert flag_status(overdue) == f"reading taken {clock_time(taken)}"
    clock.advance(timedelta(minutes=5))
    service.record_reading(session_id, {"sbp": 186, "dbp": 104}, by=nurse)
    warning = next(f for f in service.load(session_id).flags
                   if f.key == "bp-high" and f.severity is Severity.WARNING)
    assert flag_status(warning) == f"escalated {clock_time(clock.now())}"


def test_the_panel_summarises_and_lists_big_rows(panel, view):
    panel.show_view(view)
    assert panel.summary.text() == "Flags: 4 open  ·  1 CRITICAL"
    rows = [panel.list.visualRect(panel.model.index(r, FlagsModel.MESSAGE)).height()
            for r in range(panel.model.rowCount())]
    assert min(rows) >= 56
    assert rows[0] > rows[1]  # the critical row is the tallest
    assert QScroller.hasScroller(panel.list.viewport())


@dialog_window
def test_the_acknowledge_button_of_a_row_opens_the_dialog(qtbot, panel, view):
    panel.show_view(view)
    rect = panel.list.visualRect(panel.model.index(1, FlagsModel.MESSAGE))
    button = panel.delegate.button_rect(rect.adjusted(0, 2, 0, -2))
    assert button.height() >= TOUCH_MIN
    assert button.width() >= TOUCH_MIN
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=button.center())
    qtbot.waitUntil(lambda: panel.dialog is not None and panel.dialog.isVisible())
    assert panel.dialog.flag is panel.model.flags_shown()[1]


def test_a_tap_beside_the_button_opens_nothing(qtbot, panel, view):
    panel.show_view(view)
    rect = panel.list.visualRect(panel.model.index(0, FlagsModel.MESSAGE))
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(rect.left() + 60, rect.center().y()))
    assert panel.dialog is None


@dialog_window
def test_the_dialog_needs_an_action_and_emits_it_with_the_note(qtbot, panel, view):
    panel.show_view(view)
    flag = panel.model.flags_shown()[0]
    dialog = panel.acknowledge(flag)
    assert not dialog.ok.isEnabled()
    choices = {b.text(): b for b in dialog.findChildren(QPushButton) if b.isCheckable()}
    assert list(choices) == list(ACKNOWLEDGE_ACTIONS)
    qtbot.mouseClick(choices["Informed clinician"], Qt.MouseButton.LeftButton)
    assert dialog.ok.isEnabled()
    qtbot.keyClicks(dialog.note, "  Dr Lee on the way ")
    with qtbot.waitSignal(panel.acknowledgeRequested) as signal:
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert signal.args == [flag, "Informed clinician", "Dr Lee on the way"]
    assert not dialog.isVisible()


@dialog_window
def test_the_dialog_does_not_open_on_the_text_field(qtbot, panel, view):
    panel.show_view(view)
    dialog = panel.acknowledge(panel.model.flags_shown()[0])
    qtbot.waitExposed(dialog)
    assert dialog.focusWidget() is dialog.cancel


@dialog_window
def test_other_needs_a_note(qtbot, panel, view):
    panel.show_view(view)
    dialog = panel.acknowledge(panel.model.flags_shown()[0])
    other = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Other")
    qtbot.mouseClick(other, Qt.MouseButton.LeftButton)
    assert not dialog.ok.isEnabled()
    qtbot.keyClicks(dialog.note, "cuff resized")
    assert dialog.ok.isEnabled()


@dialog_window
def test_cancel_emits_nothing(qtbot, panel, view):
    panel.show_view(view)
    dialog = panel.acknowledge(panel.model.flags_shown()[0])
    received = []
    panel.acknowledgeRequested.connect(lambda *args: received.append(args))
    qtbot.mouseClick(dialog.cancel, Qt.MouseButton.LeftButton)
    assert received == []
    assert not dialog.isVisible()


@dialog_window
def test_every_dialog_control_is_touch_sized(panel, view):
    panel.show_view(view)
    dialog = panel.acknowledge(panel.model.flags_shown()[0])
    for button in dialog.findChildren(QPushButton):
        assert button.height() >= TOUCH_MIN
        assert button.width() >= TOUCH_MIN
    assert dialog.note.height() >= TOUCH_MIN


def test_an_empty_list_says_so(panel, view):
    panel.show_view(view.__class__(**{**view.__dict__, "flags": (), "superseded_flags": ()}))
    assert panel.summary.text() == "No flags"
    assert panel.model.rowCount(QModelIndex()) == 0
