"""The flags model and panel: order, texts, the per-row Acknowledge button and the dialog."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QPushButton, QScroller

from monitor.clinical.domain import EventKind, Measure, Phase, Severity
from tests.conftest import TEST_PIN
from tests.ui.sessions import host, incident_session, patient_session
from ui.common.labels import clock_time
from ui.common.signature import SignatureDialog
from ui.common.style import apply_theme
from ui.common.theme import DIM, LIGHT, TOUCH_MIN
from ui.session.acknowledge import ACKNOWLEDGE_ACTIONS, NO_ACTION
from ui.session.flags import (
    FlagRole,
    FlagsModel,
    FlagsPanel,
    flag_status,
    row_height,
)
from ui.session.presenter import SessionPresenter
from ui.session.screen import SessionScreen

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


def choices_of(dialog) -> dict[str, QPushButton]:
    return {b.text(): b for b in dialog.choices.buttons()}


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
    # Closed: the escalated BP warning, the acknowledged one, and the repeat the SpO2 93 at
    # 85 min asked for by 90 min, taken (late) at 100 min.
    assert [f.open for f in shown] == [True] * 4 + [False] * 3
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
    # The open critical's BP has a later reading: the card names it after the message.
    assert cell(0, FlagsModel.MESSAGE) == f"{critical.message} — {critical.latest}"
    assert critical.latest.startswith("latest ")
    assert cell(0, FlagsModel.STATUS) == "open"
    assert cell(0, 0, FlagRole) is critical
    last = next(row for row, flag in enumerate(model.flags_shown()) if flag.acknowledged)
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


def test_the_summary_counts_every_open_flag_by_tier_advisories_too(panel, view):
    panel.show_view(view)
    open_flags = [f for f in view.flags if f.open]
    assert Severity.ADVISORY in {f.severity for f in open_flags}
    counts = [(sum(f.severity is s for f in open_flags), s.label.upper())
              for s in (Severity.CRITICAL, Severity.WARNING, Severity.ADVISORY)]
    tiers = " · ".join(f"{n} {word}" for n, word in counts if n)
    assert panel.summary.text() == f"Flags: {len(open_flags)} open · {tiers}"


def test_two_open_flags_are_seen_whole_beside_the_chart_at_1280_by_800(
        qtbot, service, clock, nurse):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 130, "dbp": 80, "hr": 70, "spo2": 98}, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(timedelta(minutes=10))
    service.record_reading(session_id, {"sbp": 120, "dbp": 75, "hr": 125, "spo2": 90}, by=nurse,
                           confirmed=("hr", "spo2"))
    presenter = SessionPresenter(service, clock, session_id, nurse)
    screen = SessionScreen(DIM, clock, presenter, ())
    window = host(qtbot, screen, 1280, 800)
    apply_theme(window, DIM)
    screen.set_orientation(Qt.Orientation.Horizontal)
    presenter.refresh()
    assert len(presenter.view.open_flags) >= 2
    listed = screen.flags.list
    qtbot.waitUntil(lambda: listed.viewport().height() > 100)
    viewport = listed.viewport().rect()
    for row in (0, 1):
        rect = listed.visualRect(screen.flags.model.index(row, FlagsModel.MESSAGE))
        assert rect.top() >= 0, (row, rect)
        assert rect.bottom() <= viewport.bottom(), (row, rect, viewport)
    window.close()


def test_the_panel_summarises_and_lists_big_rows(panel, view):
    panel.show_view(view)
    assert panel.summary.text().startswith("Flags: 4 open · 1 CRITICAL")
    rows = [panel.list.visualRect(panel.model.index(r, FlagsModel.MESSAGE)).height()
            for r in range(panel.model.rowCount())]
    assert min(rows) >= 56
    # The critical row leads, with room for two lines even when its message needs one.
    assert rows[0] >= row_height(Severity.CRITICAL, 2) > row_height(Severity.WARNING, 2)
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
    choices = choices_of(dialog)
    assert list(choices) == list(ACKNOWLEDGE_ACTIONS)
    qtbot.mouseClick(choices["Informed clinician"], Qt.MouseButton.LeftButton)
    assert dialog.ok.isEnabled()
    qtbot.keyClicks(dialog.note, "  Dr Lee on the way ")
    with qtbot.waitSignal(panel.acknowledgeRequested) as signal:
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert signal.args == [flag, "Informed clinician", "Dr Lee on the way", False]
    assert not dialog.isVisible()


@dialog_window
def test_several_actions_can_be_chosen_and_are_stored_together(qtbot, panel, view):
    panel.show_view(view)
    flag = panel.model.flags_shown()[0]
    dialog = panel.acknowledge(flag)
    choices = choices_of(dialog)
    qtbot.mouseClick(choices["Informed clinician"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(choices["Repeated reading"], Qt.MouseButton.LeftButton)
    assert dialog.chosen_actions() == ["Repeated reading", "Informed clinician"]
    # Chosen in words as well as colour.
    assert choices["Informed clinician"].text() == "✓ Informed clinician"
    assert choices["Other"].text() == "Other"
    qtbot.keyClicks(dialog.note, "Dr Kim aware")
    with qtbot.waitSignal(panel.acknowledgeRequested) as signal:
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert signal.args == [flag, "Repeated reading; Informed clinician", "Dr Kim aware", False]


@dialog_window
def test_a_second_tap_unchooses_an_action(qtbot, panel, view):
    panel.show_view(view)
    dialog = panel.acknowledge(panel.model.flags_shown()[0])
    choice = choices_of(dialog)["Repeated reading"]
    qtbot.mouseClick(choice, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(choice, Qt.MouseButton.LeftButton)
    assert dialog.chosen_actions() == []
    assert not dialog.ok.isEnabled()


@dialog_window
def test_no_action_needed_is_not_combined_with_an_action(qtbot, panel, view):
    panel.show_view(view)
    dialog = panel.acknowledge(panel.model.flags_shown()[0])
    choices = choices_of(dialog)
    qtbot.mouseClick(choices["Repeated reading"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(choices[NO_ACTION], Qt.MouseButton.LeftButton)
    assert dialog.chosen_actions() == [NO_ACTION]
    qtbot.mouseClick(choices["Informed clinician"], Qt.MouseButton.LeftButton)
    assert dialog.chosen_actions() == ["Informed clinician"]


def infusing(view):
    return dataclasses.replace(view, phase=Phase.INFUSING)


@dialog_window
def test_infusion_paused_offers_to_record_the_pause_while_infusing(qtbot, panel, view):
    panel.show_view(infusing(view))
    flag = panel.model.flags_shown()[0]
    dialog = panel.acknowledge(flag)
    assert not dialog.record_pause.isVisible()
    qtbot.mouseClick(choices_of(dialog)["Infusion paused"], Qt.MouseButton.LeftButton)
    assert dialog.record_pause.isVisible()
    assert dialog.record_pause.isChecked()
    assert "pause" in dialog.ok.text()
    with qtbot.waitSignal(panel.acknowledgeRequested) as signal:
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert signal.args == [flag, "Infusion paused", "", True]


@dialog_window
def test_the_pause_is_not_recorded_when_the_nurse_turns_it_off(qtbot, panel, view):
    panel.show_view(infusing(view))
    flag = panel.model.flags_shown()[0]
    dialog = panel.acknowledge(flag)
    qtbot.mouseClick(choices_of(dialog)["Infusion paused"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.record_pause, Qt.MouseButton.LeftButton)
    assert dialog.ok.text() == "Acknowledge"
    with qtbot.waitSignal(panel.acknowledgeRequested) as signal:
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert signal.args == [flag, "Infusion paused", "", False]


@dialog_window
@pytest.mark.parametrize("phase", [Phase.PAUSED, Phase.RECOVERY])
def test_no_pause_is_offered_when_the_infusion_is_not_running(qtbot, panel, view, phase):
    panel.show_view(dataclasses.replace(view, phase=phase))
    flag = panel.model.flags_shown()[0]
    dialog = panel.acknowledge(flag)
    qtbot.mouseClick(choices_of(dialog)["Infusion paused"], Qt.MouseButton.LeftButton)
    assert not dialog.record_pause.isVisible()
    assert dialog.pause_note.isVisible() is (phase is Phase.PAUSED)
    with qtbot.waitSignal(panel.acknowledgeRequested) as signal:
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert signal.args == [flag, "Infusion paused", "", False]


@dialog_window
def test_acknowledging_with_the_pause_records_the_pause_on_the_session(
        qtbot, service, clock, nurse):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 130, "dbp": 80, "hr": 70, "spo2": 98}, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(timedelta(minutes=10))
    service.record_reading(session_id, {"sbp": 120, "dbp": 75, "hr": 125, "spo2": 97}, by=nurse,
                           confirmed=("hr",))
    presenter = SessionPresenter(service, clock, session_id, nurse)
    screen = SessionScreen(DIM, clock, presenter, ())
    window = host(qtbot, screen, 1280, 800)
    presenter.refresh()
    flag = next(f for f in presenter.view.open_flags if f.severity is not Severity.CRITICAL)
    dialog = screen.flags.acknowledge(flag)
    choices = choices_of(dialog)
    qtbot.mouseClick(choices["Infusion paused"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(choices["Informed clinician"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    after = service.load(session_id)
    assert after.phase is Phase.PAUSED
    assert [e.kind for e in after.record.events][-1] is EventKind.INFUSION_PAUSE
    acknowledged = next(f for f in after.flags if f.id == flag.id)
    assert acknowledged.acknowledgement.action == "Informed clinician; Infusion paused"
    assert screen.header.controls[EventKind.INFUSION_RESUME].isVisibleTo(screen)
    window.close()


@dialog_window
def test_acknowledging_without_the_pause_records_no_event(qtbot, service, clock, nurse):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 130, "dbp": 80, "hr": 70, "spo2": 98}, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(timedelta(minutes=10))
    service.record_reading(session_id, {"sbp": 120, "dbp": 75, "hr": 125, "spo2": 97}, by=nurse,
                           confirmed=("hr",))
    presenter = SessionPresenter(service, clock, session_id, nurse)
    screen = SessionScreen(DIM, clock, presenter, ())
    window = host(qtbot, screen, 1280, 800)
    presenter.refresh()
    flag = next(f for f in presenter.view.open_flags if f.severity is not Severity.CRITICAL)
    dialog = screen.flags.acknowledge(flag)
    qtbot.mouseClick(choices_of(dialog)["Repeated reading"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    after = service.load(session_id)
    assert after.phase is Phase.INFUSING
    assert [e.kind for e in after.record.events] == [EventKind.INFUSION_START]
    window.close()


def test_a_new_flag_brings_the_list_back_to_the_top(qtbot, service, clock, nurse):
    session_id = patient_session(service, nurse)
    widget = FlagsPanel(DIM)
    window = host(qtbot, widget, 520, 260)
    service.record_reading(session_id, {"sbp": 120, "dbp": 70, "hr": 125, "spo2": 92,
                                        "cadss6": 18, "moaas": 2}, by=nurse,
                           confirmed=("hr", "spo2", "cadss6", "moaas"))
    widget.show_view(service.load(session_id))
    bar = widget.list.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    bar.setValue(bar.maximum())
    widget.show_view(service.load(session_id))
    assert bar.value() == bar.maximum()  # nothing new: the nurse's place is kept
    clock.advance(timedelta(minutes=5))
    service.record_reading(session_id, {"sbp": 85, "dbp": 50}, by=nurse, confirmed=("sbp",))
    widget.show_view(service.load(session_id))
    assert bar.value() == 0
    window.close()


@pytest.mark.parametrize("width", [360, 520, 760])
def test_a_long_message_is_shown_on_up_to_three_lines(qtbot, view, width):
    widget = FlagsPanel(DIM)
    window = host(qtbot, widget, width, 600)
    widget.show_view(view)
    shown = widget.model.flags_shown()
    flag = next(f for f in shown if f.open and f.severity is not Severity.CRITICAL)
    long = dataclasses.replace(flag, message=" ".join([flag.message] * 6))
    widget.model.set_flags([long if f is flag else f for f in shown])
    widget.list.doItemsLayout()
    row = widget.model.flags_shown().index(long)
    tall = widget.list.visualRect(widget.model.index(row, FlagsModel.MESSAGE)).height()
    assert tall > row_height(flag.severity, 2)
    window.close()


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


def test_the_portrait_flags_tab_shows_the_worst_tier_and_every_tab_name_whole(
        qtbot, service, clock, nurse):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 130, "dbp": 80, "hr": 70, "spo2": 98}, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(timedelta(minutes=10))
    service.record_reading(session_id, {"sbp": 120, "dbp": 75, "hr": 125, "spo2": 90}, by=nurse,
                           confirmed=("hr", "spo2"))
    presenter = SessionPresenter(service, clock, session_id, nurse)
    screen = SessionScreen(DIM, clock, presenter, ())
    window = host(qtbot, screen, 800, 1280)
    apply_theme(window, DIM)  # the app's tab padding and type size decide what fits
    screen.set_orientation(Qt.Orientation.Vertical)
    presenter.refresh()
    screen.tabs.setCurrentWidget(screen.vitals)
    index = screen.tabs.indexOf(screen.flags)
    open_flags = presenter.view.open_flags
    assert max(f.severity for f in open_flags) is Severity.CRITICAL
    assert screen.tabs.tabText(index) == f"Flags {len(open_flags)}"
    assert not screen.tabs.tabIcon(index).isNull()
    assert "critical" in screen.tabs.tabToolTip(index)
    # Every tab's name stays whole: the bar holds all their natural widths.
    bar = screen.tabs.tabBar()
    assert sum(bar.tabSizeHint(i).width() for i in range(bar.count())) <= bar.width()
    window.close()


def test_the_flags_tab_has_no_tier_once_nothing_is_open(qtbot, service, clock, nurse):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 130, "dbp": 80, "hr": 70, "spo2": 98}, by=nurse)
    presenter = SessionPresenter(service, clock, session_id, nurse)
    screen = SessionScreen(DIM, clock, presenter, ())
    window = host(qtbot, screen, 800, 1280)
    screen.set_orientation(Qt.Orientation.Vertical)
    presenter.refresh()
    index = screen.tabs.indexOf(screen.flags)
    assert screen.tabs.tabText(index) == "Flags"
    assert screen.tabs.tabIcon(index).isNull()
    window.close()


@dialog_window
def test_a_cancelled_signature_records_no_pause_and_the_signed_one_records_both(
        qtbot, service, clock, nurse):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 130, "dbp": 80, "hr": 70, "spo2": 98}, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(timedelta(minutes=10))
    service.record_reading(session_id, {"sbp": 120, "dbp": 75, "hr": 70, "spo2": 88}, by=nurse,
                           confirmed=("spo2",))
    presenter = SessionPresenter(service, clock, session_id, nurse)
    screen = SessionScreen(DIM, clock, presenter, ())
    window = host(qtbot, screen, 1280, 800)
    presenter.refresh()
    flag = next(f for f in presenter.view.open_flags if f.severity is Severity.CRITICAL)
    dialog = screen.flags.acknowledge(flag)
    choices = choices_of(dialog)
    qtbot.mouseClick(choices["Infusion paused"], Qt.MouseButton.LeftButton)
    assert dialog.will_record_pause()
    with qtbot.waitSignal(presenter.signatureNeeded) as asked:
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    # The PIN is asked for and the nurse cancels: nothing is recorded.
    after = service.load(session_id)
    assert after.phase is Phase.INFUSING
    assert [e.kind for e in after.record.events] == [EventKind.INFUSION_START]
    assert next(f for f in after.flags if f.id == flag.id).open
    # A wrong PIN records nothing either; the right one records both.
    request = asked.args[0]
    assert request.submit("0000") is not None
    assert service.load(session_id).phase is Phase.INFUSING
    assert request.submit(TEST_PIN) is None
    after = service.load(session_id)
    assert after.phase is Phase.PAUSED
    assert next(f for f in after.flags if f.id == flag.id).acknowledged
    window.close()


@dialog_window
def test_a_signature_refused_as_acknowledged_on_another_tablet_shows_why_with_close(
        qtbot, service, clock, nurse):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 120, "dbp": 75, "hr": 70, "spo2": 84}, by=nurse,
                           confirmed=("spo2",))
    here = SessionPresenter(service, clock, session_id, nurse)
    other = SessionPresenter(service, clock, session_id, nurse)  # a second tablet
    here.refresh()
    flag = next(f for f in here.view.open_flags if f.severity is Severity.CRITICAL)
    with qtbot.waitSignal(here.signatureNeeded) as asked:
        assert not here.acknowledge(flag, "Repeated reading")
    assert other.acknowledge(flag, "Informed clinician", pin=TEST_PIN)
    request = asked.args[0]
    dialog = SignatureDialog(DIM, request, signer="Nora Nurse", role="nurse", at=clock.now())
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    dialog.pin.setText(TEST_PIN)
    with qtbot.assertNotEmitted(dialog.signed):
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    assert dialog.message.text().startswith("Already acknowledged by ")
    assert not dialog.sign_button.isVisible()  # nothing left to sign
    assert not dialog.entry.isVisible()
    assert dialog.cancel.text() == "Close"
    qtbot.mouseClick(dialog.cancel, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    acks = service.load(session_id).record.acknowledgements
    assert [a.action for a in acks] == ["Informed clinician"]  # recorded once, by the other


@dialog_window
def test_a_wrong_pin_keeps_the_signature_open_to_try_again(qtbot, service, clock, nurse):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": 120, "dbp": 75, "hr": 70, "spo2": 84}, by=nurse,
                           confirmed=("spo2",))
    presenter = SessionPresenter(service, clock, session_id, nurse)
    presenter.refresh()
    flag = next(f for f in presenter.view.open_flags if f.severity is Severity.CRITICAL)
    with qtbot.waitSignal(presenter.signatureNeeded) as asked:
        presenter.acknowledge(flag, "Repeated reading")
    dialog = SignatureDialog(DIM, asked.args[0], signer="Nora Nurse", role="nurse",
                             at=clock.now())
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    dialog.pin.setText("000000")
    qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    assert dialog.message.text()
    assert dialog.sign_button.isVisible()
    assert dialog.cancel.text() == "Cancel"
