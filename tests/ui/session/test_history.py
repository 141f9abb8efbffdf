"""The chart history: entries with their corrections, and voiding or amending from the panel.

Nothing is deleted: a voided or amended entry stays listed, says so in words and is struck
through; only effective entries can be corrected; a correction needs a reason; amended
values are checked like any entry before anything is emitted.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import QModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QAbstractButton, QLineEdit, QScroller

from monitor.clinical.domain import EventKind
from monitor.service.clinic import ClinicService
from tests.conftest import TEST_PIN, TEST_SECRET
from tests.ui.sessions import host, incident_session, patient_session
from ui.common.labels import clock_time
from ui.common.style import apply_theme
from ui.common.theme import DIM, LIGHT, TOUCH_MIN
from ui.session.history.amend import AmendDialog
from ui.session.history.dialogs import AMEND_REASONS, DIALOG_MAX, VOID_REASONS, VoidDialog
from ui.session.history.model import ROW_MIN_PX, EntriesModel
from ui.session.history.panel import HistoryPanel
from ui.session.presenter import SessionPresenter

SCREENS = {"landscape": (1280, 800), "portrait": (800, 1280)}


@pytest.fixture
def local_service(sqlite_store, clock):
    return ClinicService(sqlite_store, clock, secret=TEST_SECRET)


@pytest.fixture
def nurse(local_service):
    return local_service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)


@pytest.fixture
def built(local_service, clock, nurse):
    """The incident session (one reading voided at 32 min), with the 55-min reading
    amended and the last note voided."""
    built = incident_session(local_service, clock, nurse)
    # Amending is a clinician's correction.
    local_service.amend_reading(
        built.session_id, built.readings[55],
        {"sbp": "150", "dbp": "94", "hr": "82", "spo2": "97", "cadss6": "8", "moaas": "4"},
        reason="Entered in error: typed 92 for 94",
        by=local_service.ensure_staff("Dr Lee", "clinician"),
    )
    note = local_service.load(built.session_id).record.events[-1]
    assert note.kind is EventKind.NOTE
    local_service.void(built.session_id, "event", note.id, reason="Duplicate entry", by=nurse)
    return built


@pytest.fixture
def view(local_service, built):
    return local_service.load(built.session_id)


@pytest.fixture(params=[DIM, LIGHT], ids=["dim", "light"])
def panel(qtbot, request):
    # A clinician at the chair: amending and voiding are both theirs to do.
    widget = HistoryPanel(request.param, is_clinician=lambda: True)
    window = host(qtbot, widget, 640, 720)
    apply_theme(window, request.param)
    yield widget
    if widget.dialog is not None:
        widget.dialog.close()
    window.close()


def row_where(model: EntriesModel, **wanted) -> int:
    for row, entry in enumerate(model.entries()):
        if all(getattr(entry, key) == value for key, value in wanted.items()):
            return row
    raise AssertionError(f"no row with {wanted}")


def text(model: EntriesModel, row: int, column: int) -> str:
    return model.data(model.index(row, column))


def font(model: EntriesModel, row: int, column: int) -> QFont:
    return model.data(model.index(row, column), Qt.ItemDataRole.FontRole)


def effective_reading_row(panel: HistoryPanel, **more) -> int:
    return next(
        row for row, e in enumerate(panel.model.entries())
        if e.kind == "reading" and e.effective and e.action == ""
        and not e.status and all(getattr(e.reading, k) is not None for k in more)
    )


# -- the model ---------------------------------------------------------------------------


def test_the_model_passes_qtmodeltester(qapp, qtmodeltester, view):
    model = EntriesModel(DIM)
    qtmodeltester.check(model)
    model.set_view(view)
    qtmodeltester.check(model)


def test_every_reading_and_event_is_listed_newest_first(view):
    model = EntriesModel(DIM)
    model.set_view(view)
    entries = model.entries()
    readings = len(view.record.readings) + len(view.superseded_readings)
    events = len(view.record.events) + 1  # the voided note
    assert len(entries) == model.rowCount(QModelIndex()) == readings + events
    times = [e.sort_time for e in entries]
    assert times == sorted(times, reverse=True)
    assert [model.entry_at(row)[0] for row in range(len(entries))].count("event") == events


def test_columns_read_time_what_values_and_status(view, built):
    model = EntriesModel(DIM)
    model.set_view(view)
    row = row_where(model, id=built.readings[-15])
    baseline = view.record.readings[0]
    assert text(model, row, EntriesModel.TIME) == clock_time(baseline.time)
    assert text(model, row, EntriesModel.WHAT) == "Vitals + CADSS-6 + MOAA/S"
    assert text(model, row, EntriesModel.VALUES) == (
        "BP 128/82 · HR 72 · SpO2 98 · RR 14 · CADSS-6 0 · MOAA/S 5")
    assert text(model, row, EntriesModel.STATUS) == ""
    assert model.entry_at(row) == ("reading", built.readings[-15], True)
    medication = row_where(model, what="Medication")
    assert text(model, medication, EntriesModel.VALUES) == "Ondansetron 4 mg IV"


def test_a_voided_reading_says_void_with_reason_and_is_struck_through(view, built):
    model = EntriesModel(DIM)
    model.set_view(view)
    row = row_where(model, id=built.voided_id)
    assert model.entry_at(row) == ("reading", built.voided_id, False)
    correction = next(c for c in view.corrections if c.target_id == built.voided_id)
    assert text(model, row, EntriesModel.STATUS) == (
        f"VOID — probe slipped off finger (N. Nurse, {clock_time(correction.time)})")
    # The old values stay visible, struck through and muted; the status stays readable.
    assert text(model, row, EntriesModel.VALUES) == "BP 96/58 · HR 64 · SpO2 88"
    for column in (EntriesModel.TIME, EntriesModel.WHAT, EntriesModel.VALUES):
        assert font(model, row, column).strikeOut()
        assert model.data(model.index(row, column), Qt.ItemDataRole.ForegroundRole) == QColor(
            DIM.text_muted)
    assert not font(model, row, EntriesModel.STATUS).strikeOut()
    effective = row_where(model, id=built.readings[-15])
    assert not font(model, effective, EntriesModel.VALUES).strikeOut()


def test_an_amended_reading_says_amended_with_the_new_values_below_them(view, built):
    model = EntriesModel(DIM)
    model.set_view(view)
    original = row_where(model, id=built.readings[55])
    assert model.entry_at(original)[2] is False
    status = text(model, original, EntriesModel.STATUS)
    assert status.startswith("AMENDED → BP 150/94 · HR 82 · SpO2 97 · CADSS-6 8 · MOAA/S 4 — "
                             "Entered in error: typed 92 for 94 (D. Lee, ")
    assert text(model, original, EntriesModel.VALUES).startswith("BP 150/92")
    assert font(model, original, EntriesModel.VALUES).strikeOut()
    # The amendment is effective and sits right above the entry it replaced.
    kind, replacement_id, effective = model.entry_at(original - 1)
    assert (kind, effective) == ("reading", True)
    assert replacement_id in {r.id for r in view.record.readings}
    assert text(model, original - 1, EntriesModel.STATUS).startswith("amendment of an earlier")


def test_a_voided_event_is_still_listed_with_its_reason(view):
    model = EntriesModel(DIM)
    model.set_view(view)
    row = row_where(model, kind="event", effective=False)
    assert text(model, row, EntriesModel.STATUS).startswith("VOID — Duplicate entry (N. Nurse")
    assert font(model, row, EntriesModel.WHAT).strikeOut()


# -- the panel ---------------------------------------------------------------------------


def test_rows_are_big_and_the_list_scrolls_by_dragging(panel, view):
    panel.show_view(view)
    assert QScroller.hasScroller(panel.list.viewport())
    assert ROW_MIN_PX >= 56
    heights = [panel.list.visualRect(panel.model.index(row, EntriesModel.VALUES)).height()
               for row in range(panel.model.rowCount(QModelIndex()))]
    assert min(heights) >= 56
    assert panel.summary.text() == f"{len(heights)} entries, newest first  ·  3 corrected"


def test_a_tap_selects_an_entry(qtbot, panel, view):
    panel.show_view(view)
    assert panel.selected_entry() is None
    assert not panel.void_button.isEnabled()
    rect = panel.list.visualRect(panel.model.index(0, EntriesModel.VALUES))
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.selected_entry() == panel.model.entry(0)


def test_a_nurse_is_not_offered_amend_and_is_told_why(qtbot, view, built):
    panel = HistoryPanel(DIM, is_clinician=lambda: False)
    window = host(qtbot, panel, 640, 720)
    panel.show_view(view)
    panel.select_row(row_where(panel.model, id=built.readings[-15]))
    assert panel.void_button.isEnabled()
    assert not panel.amend_button.isEnabled()
    assert "A nurse cannot amend entries; a clinician can." in panel.hint.text()
    assert panel.open_amend() is None
    window.close()


def test_void_and_amend_are_offered_only_for_effective_entries(panel, view, built):
    panel.show_view(view)
    model = panel.model
    panel.select_row(row_where(model, id=built.readings[-15]))
    assert panel.void_button.isEnabled()
    assert panel.amend_button.isEnabled()

    panel.select_row(row_where(model, what="Medication"))
    assert panel.void_button.isEnabled()
    assert not panel.amend_button.isEnabled()
    assert "cannot be amended" in panel.hint.text()
    assert panel.open_amend() is None

    for superseded in (row_where(model, id=built.voided_id),
                       row_where(model, id=built.readings[55]),
                       row_where(model, kind="event", effective=False)):
        panel.select_row(superseded)
        assert not panel.void_button.isEnabled()
        assert not panel.amend_button.isEnabled()
        assert "stays in the record" in panel.hint.text()
        assert panel.open_void() is None
        assert panel.open_amend() is None


def test_a_new_view_keeps_the_selection_and_the_scroll_position(panel, view, built):
    panel.show_view(view)
    panel.select_row(row_where(panel.model, id=built.readings[40]))
    bar = panel.list.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    scrolled = bar.value()
    assert scrolled > 0
    panel.show_view(view)
    assert panel.selected_entry().id == built.readings[40]
    assert bar.value() == scrolled


# -- voiding -----------------------------------------------------------------------------


def test_void_needs_a_reason_and_emits_kind_id_and_reason(qtbot, panel, view):
    panel.show_view(view)
    row = row_where(panel.model, what="Medication")
    panel.select_row(row)
    qtbot.mouseClick(panel.void_button, Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    assert isinstance(dialog, VoidDialog)
    assert "Ondansetron 4 mg IV" in dialog.entry.summary()
    assert not dialog.ok.isEnabled()
    with qtbot.assertNotEmitted(panel.voidRequested):
        dialog.accept()
    qtbot.mouseClick(dialog.reasons.button("Duplicate entry"), Qt.MouseButton.LeftButton)
    dialog.reasons.note.setText("  also entered at 10:08 ")
    assert dialog.ok.isEnabled()
    with qtbot.waitSignal(panel.voidRequested) as blocker:
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    entry = panel.model.entry(row)
    assert blocker.args == ["event", entry.id, "Duplicate entry: also entered at 10:08"]
    assert not dialog.isVisible()


@pytest.mark.parametrize("opener", ["open_void", "open_amend"])
def test_other_needs_a_note(qtbot, panel, view, opener):
    panel.show_view(view)
    panel.select_row(effective_reading_row(panel, hr=True))
    dialog = getattr(panel, opener)()
    qtbot.mouseClick(dialog.reasons.button("Other"), Qt.MouseButton.LeftButton)
    assert not dialog.ok.isEnabled()
    dialog.reasons.note.setText("   ")
    assert not dialog.ok.isEnabled()
    dialog.reasons.note.setText("patient moved")
    assert dialog.ok.isEnabled()
    assert dialog.reason() == "Other: patient moved"


def test_amend_offers_the_void_reasons_that_keep_the_entry(panel, view):
    panel.show_view(view)
    panel.select_row(effective_reading_row(panel))
    offered = {button.text() for button in panel.open_void().reasons.choices.buttons()}
    assert offered == set(VOID_REASONS)
    offered = {button.text() for button in panel.open_amend().reasons.choices.buttons()}
    assert offered == set(AMEND_REASONS) == set(VOID_REASONS) - {"Wrong patient",
                                                                 "Duplicate entry"}


def test_cancel_emits_nothing(qtbot, panel, view):
    panel.show_view(view)
    panel.select_row(effective_reading_row(panel))
    dialog = panel.open_void()
    qtbot.mouseClick(dialog.reasons.button("Entered in error"), Qt.MouseButton.LeftButton)
    with qtbot.assertNotEmitted(panel.voidRequested):
        qtbot.mouseClick(dialog.cancel, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()


# -- amending ------------------------------------------------------------------------------


def type_into(qtbot, dialog: AmendDialog, key: str, digits: str) -> None:
    dialog.activate(key)
    for char in digits:
        qtbot.mouseClick(dialog.keypad.button(char), Qt.MouseButton.LeftButton)


def open_amend(qtbot, panel, view, built, minute=-15) -> AmendDialog:
    panel.show_view(view)
    panel.select_row(row_where(panel.model, id=built.readings[minute]))
    qtbot.mouseClick(panel.amend_button, Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    assert isinstance(dialog, AmendDialog)
    return dialog


def test_amend_shows_only_the_measures_the_reading_has_prefilled(qtbot, panel, view, built):
    dialog = open_amend(qtbot, panel, view, built, minute=35)  # BP, HR, SpO2 only
    assert dialog.fields() == ["bp", "hr", "spo2"]
    assert [dialog.field(k).text() for k in dialog.fields()] == ["228/118", "98", "96"]
    dialog = open_amend(qtbot, panel, view, built)
    assert dialog.fields() == ["bp", "hr", "spo2", "rr", "cadss6", "moaas"]


def test_amend_needs_a_reason_before_save(qtbot, panel, view, built):
    dialog = open_amend(qtbot, panel, view, built)
    type_into(qtbot, dialog, "hr", "80")
    assert not dialog.ok.isEnabled()
    qtbot.mouseClick(dialog.reasons.button("Entered in error"), Qt.MouseButton.LeftButton)
    assert dialog.ok.isEnabled()


def test_amend_refuses_hr_300_naming_the_field_and_range(qtbot, panel, view, built):
    dialog = open_amend(qtbot, panel, view, built)
    type_into(qtbot, dialog, "hr", "300")
    assert dialog.field("hr").text() == "300"
    qtbot.mouseClick(dialog.reasons.button("Entered in error"), Qt.MouseButton.LeftButton)
    with qtbot.assertNotEmitted(panel.amendRequested):
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.message_for("hr") == "Heart rate must be a whole number from 20 to 250 /min"
    assert dialog.field("hr").property("problem") is True
    assert dialog.isVisible()
    # Typing again takes the refusal away.
    type_into(qtbot, dialog, "hr", "8")
    assert dialog.message_for("hr") == ""


def test_amend_emits_the_raw_values_and_the_reason(qtbot, panel, view, built):
    dialog = open_amend(qtbot, panel, view, built)
    type_into(qtbot, dialog, "hr", "80")
    qtbot.mouseClick(dialog.reasons.button("Equipment artefact"), Qt.MouseButton.LeftButton)
    dialog.reasons.note.setText("cuff on the wrong arm")
    with qtbot.waitSignal(panel.amendRequested) as blocker:
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    target, raw, reason, confirmed = blocker.args
    assert target == built.readings[-15]
    assert raw == {"sbp": "128", "dbp": "82", "hr": "80", "spo2": "98", "rr": "14",
                   "cadss6": "0", "moaas": "5"}
    assert reason == "Equipment artefact: cuff on the wrong arm"
    assert confirmed == frozenset()
    assert not dialog.isVisible()


def test_an_unusual_value_needs_a_confirm_tap(qtbot, panel, view, built):
    dialog = open_amend(qtbot, panel, view, built)
    type_into(qtbot, dialog, "bp", "230/100")
    qtbot.mouseClick(dialog.reasons.button("Entered in error"), Qt.MouseButton.LeftButton)
    with qtbot.assertNotEmitted(panel.amendRequested):
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert "Systolic BP 230 mmHg is unusually high" in dialog.message_for("bp")
    confirm = dialog.confirm_button("bp")
    assert confirm.isVisible()
    assert confirm.text() == "Confirm 230/100"
    qtbot.mouseClick(confirm, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(panel.amendRequested) as blocker:
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert blocker.args[1]["sbp"] == "230"
    assert blocker.args[3] == frozenset({"sbp"})


def test_an_unusual_value_kept_as_it_was_needs_no_new_confirmation(qtbot, panel, view, built):
    dialog = open_amend(qtbot, panel, view, built, minute=35)  # BP 228/118, confirmed then
    type_into(qtbot, dialog, "hr", "96")
    qtbot.mouseClick(dialog.reasons.button("Entered in error"), Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(panel.amendRequested) as blocker:
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert blocker.args[1]["sbp"] == "228"
    assert blocker.args[3] == frozenset({"sbp"})


def test_amend_refuses_no_change_and_an_empty_reading(qtbot, panel, view, built):
    dialog = open_amend(qtbot, panel, view, built, minute=35)
    qtbot.mouseClick(dialog.reasons.button("Entered in error"), Qt.MouseButton.LeftButton)
    with qtbot.assertNotEmitted(panel.amendRequested):
        dialog.accept()
        assert dialog.general_message().startswith("Nothing changed")
        for key in dialog.fields():
            dialog.activate(key)
            qtbot.mouseClick(dialog.keypad.button("clear"), Qt.MouseButton.LeftButton)
        dialog.accept()
        assert "void it instead" in dialog.general_message()


def test_unchanged_cadss_items_are_passed_on_with_the_amendment(
        qtbot, panel, local_service, clock, nurse):
    session_id = patient_session(local_service, nurse, mrn="MRN-300")
    local_service.record_reading(session_id, {"cadss6_items": (1, 2, 0, 0, 1, 0), "hr": 70},
                                 by=nurse)
    panel.show_view(local_service.load(session_id))
    panel.select_row(0)
    dialog = panel.open_amend()
    assert dialog.field("cadss6").text() == "4"
    type_into(qtbot, dialog, "hr", "74")
    qtbot.mouseClick(dialog.reasons.button("Entered in error"), Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(panel.amendRequested) as blocker:
        dialog.accept()
    assert blocker.args[1]["cadss6_items"] == (1, 2, 0, 0, 1, 0)


# -- through the real presenter ----------------------------------------------------------


@pytest.fixture
def wired(qtbot, local_service, clock, nurse):
    session_id = patient_session(local_service, nurse, mrn="MRN-400")
    # A clinician at the chair: amending and voiding are both theirs to do.
    clinician = local_service.ensure_staff("Dr Lee", "clinician")
    presenter = SessionPresenter(local_service, clock, session_id, clinician)
    panel = HistoryPanel(DIM, is_clinician=presenter.is_clinician)
    window = host(qtbot, panel, 640, 720)
    panel.voidRequested.connect(presenter.void)
    panel.amendRequested.connect(presenter.amend_reading)
    presenter.viewChanged.connect(panel.show_view)
    presenter.save_reading({"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98"})
    clock.advance(timedelta(minutes=5))
    yield presenter, panel
    if panel.dialog is not None:
        panel.dialog.close()
    window.close()


def test_a_void_from_the_panel_reaches_the_record_and_the_list(qtbot, wired):
    presenter, panel = wired
    (reading,) = presenter.view.record.readings
    panel.select_row(panel.model.row_of("reading", reading.id))
    dialog = panel.open_void()
    qtbot.mouseClick(dialog.reasons.button("Wrong patient"), Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(presenter.saved):
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    view = presenter.view
    assert view.record.readings == ()
    assert [r.id for r in view.superseded_readings] == [reading.id]
    row = panel.model.row_of("reading", reading.id)
    assert panel.model.entry_at(row) == ("reading", reading.id, False)
    assert panel.model.data(panel.model.index(row, EntriesModel.STATUS)).startswith(
        "VOID — Wrong patient (D. Lee, ")
    # Still selected, and no longer correctable.
    assert panel.selected_entry().id == reading.id
    assert not panel.void_button.isEnabled()


def test_an_amendment_from_the_panel_reaches_the_record_and_the_list(qtbot, wired):
    presenter, panel = wired
    (reading,) = presenter.view.record.readings
    panel.select_row(panel.model.row_of("reading", reading.id))
    dialog = panel.open_amend()
    type_into(qtbot, dialog, "bp", "128/88")
    qtbot.mouseClick(dialog.reasons.button("Entered in error"), Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(presenter.saved):
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    (amended,) = presenter.view.record.readings
    assert (amended.sbp, amended.dbp, amended.hr, amended.spo2) == (128, 88, 72, 98)
    assert panel.model.entry_at(0) == ("reading", amended.id, True)
    assert panel.model.data(panel.model.index(1, EntriesModel.STATUS)).startswith(
        "AMENDED → BP 128/88 · HR 72 · SpO2 98 — Entered in error")


# -- sizes -------------------------------------------------------------------------------


def small_controls(widget) -> list[str]:
    controls = [w for w in [*widget.findChildren(QAbstractButton),
                            *widget.findChildren(QLineEdit)] if w.isVisible()]
    assert controls
    return [f"{w.objectName() or w.text()!r} {w.width()}x{w.height()}" for w in controls
            if w.width() < TOUCH_MIN or w.height() < TOUCH_MIN]


@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
@pytest.mark.parametrize("theme", [DIM, LIGHT], ids=["dim", "light"])
def test_every_control_is_touch_sized_and_dialogs_fit_the_screen(
        qtbot, view, built, theme, screen):
    panel = HistoryPanel(theme, is_clinician=lambda: True)
    window = host(qtbot, panel, *screen)
    apply_theme(window, theme)
    panel.show_view(view)
    panel.select_row(row_where(panel.model, id=built.readings[-15]))
    assert not small_controls(panel)
    screen_size = QSize(*screen)
    for opener in (panel.open_void, panel.open_amend):
        dialog = opener()
        qtbot.waitExposed(dialog)
        if isinstance(dialog, AmendDialog):
            # A busy dialog: a refusal and a confirmation request under the fields.
            type_into(qtbot, dialog, "bp", "230/100")
            type_into(qtbot, dialog, "hr", "300")
            qtbot.mouseClick(dialog.reasons.button("Other"), Qt.MouseButton.LeftButton)
            dialog.reasons.note.setText("x")
            dialog.accept()
            assert dialog.confirm_button("bp").isVisible()
        assert dialog.width() <= min(DIALOG_MAX.width(), screen_size.width())
        assert dialog.height() <= min(DIALOG_MAX.height(), screen_size.height())
        assert not small_controls(dialog)
        # Nothing is cut off at the bottom: the footer lies inside the dialog.
        ok_bottom = dialog.ok.mapTo(dialog, dialog.ok.rect().bottomRight())
        assert dialog.rect().contains(ok_bottom)
        dialog.close()
    window.close()


def test_a_reading_from_the_monitor_says_so(view):
    import dataclasses  # noqa: PLC0415

    from ui.session.history.entries import reading_what  # noqa: PLC0415

    baseline = view.record.readings[0]
    assert reading_what(baseline) == "Vitals + CADSS-6 + MOAA/S"
    filed = dataclasses.replace(baseline, cadss6=None, moaas=None, device="0012A3FFFE4B5C6D")
    assert reading_what(filed) == "Vitals from monitor"
