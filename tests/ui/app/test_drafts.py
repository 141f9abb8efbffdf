"""Entries typed but not saved survive a closed window or a crash, and closing asks first."""

from __future__ import annotations

import gc
import stat
import weakref
from datetime import date

import pytest
from PySide6.QtCore import Qt

from monitor.storage.drafts import DraftKey, DraftStore
from ui.app.main_window import MainWindow

LANDSCAPE = (1280, 800)
dialog_window = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture
def store(tmp_path):
    return DraftStore(tmp_path / "drafts")


@pytest.fixture
def session_id(service, nurse):
    return service.check_in(
        by=nurse, chair="2",
        new_patient={"mrn": "MRN-77", "name": "Ida Moss", "date_of_birth": date(1984, 2, 9)},
        weight_kg=70, planned_mg_per_kg=0.5, infusion_minutes=40, bag_volume_ml=100,
        lot_number="L7", concomitant_medications={}, escort_name="Al Moss")


def open_window(qtbot, service, clock, nurse, store, worker=None):
    window = MainWindow(service, clock, chairs=("1", "2"), staff=(nurse, "Nora Nurse"),
                        tick_ms=3_600_000, drafts=store, draft_delay_ms=5, worker=worker)
    qtbot.addWidget(window)
    window.resize(*LANDSCAPE)
    window.show()
    qtbot.waitExposed(window)
    return window


def click(qtbot, widget):
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def type_vitals(qtbot, session, bp, hr):
    vitals = session.vitals
    session.tabs.setCurrentWidget(vitals)
    for key, value in (("bp", bp), ("hr", hr)):
        click(qtbot, vitals.field(key))
        click(qtbot, vitals.keypad.button("clear"))
        for digit in value:
            click(qtbot, vitals.keypad.button(digit))


def key(session_id, nurse):
    return DraftKey("session", str(session_id), str(nurse))


def test_typed_vitals_are_kept_once_typing_pauses_and_come_back_after_a_crash(
        qtbot, service, clock, nurse, store, session_id, tmp_path):
    window = open_window(qtbot, service, clock, nurse, store)
    window.open_chair("2")
    type_vitals(qtbot, window.sessions["2"], "128/7", "72")
    qtbot.waitUntil(lambda: store.load(key(session_id, nurse)) is not None)
    draft = store.load(key(session_id, nurse))
    assert draft.forms["vitals"]["sbp"] == "128"
    assert draft.forms["vitals"]["hr"] == "72"
    path = tmp_path / "drafts" / key(session_id, nurse).file_name()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    # The app dies without asking; a new start opens the chair again.
    window.hide()
    again = open_window(qtbot, service, clock, nurse, store)
    again.open_chair("2")
    vitals = again.sessions["2"].vitals
    assert vitals.field("bp").text() == "128/7"
    assert vitals.field("hr").text() == "72"
    assert "Draft restored" in vitals.banner_text()
    assert again.sessions["2"].tabs.currentWidget() is vitals


def test_a_saved_entry_leaves_no_draft(qtbot, service, clock, nurse, store, session_id):
    window = open_window(qtbot, service, clock, nurse, store)
    window.open_chair("2")
    session = window.sessions["2"]
    type_vitals(qtbot, session, "128/78", "72")
    qtbot.waitUntil(lambda: store.load(key(session_id, nurse)) is not None)
    with qtbot.waitSignal(session.presenter.saved):
        click(qtbot, session.vitals.save_button())
    assert store.load(key(session_id, nurse)) is None


def opened_check_in(qtbot, window, chair):
    """The chair's check-in, its protocol read and a draft's patient found (at once with
    the inline worker)."""
    window.open_chair(chair)
    qtbot.waitUntil(lambda: window.checkin is not None
                    and window.checkin.dose_card.protocol() is not None
                    and not window.checkin.patient_card.finding)
    return window.checkin


def test_a_half_filled_check_in_comes_back(qtbot, service, clock, nurse, store, window_worker):
    window = open_window(qtbot, service, clock, nurse, store, window_worker)
    checkin = opened_check_in(qtbot, window, "1")
    click(qtbot, checkin.patient_card.mode.button("new"))
    checkin.patient_card.mrn.setText("MRN-9001")
    checkin.patient_card.name.setText("Ada Byrne")
    checkin.escort.setText("Sam Byrne")
    click(qtbot, checkin.phq9.toggle)
    window.drafts.flush()
    assert store.load(DraftKey("checkin", "1", str(nurse))) is not None

    window.hide()
    again = open_window(qtbot, service, clock, nurse, store, window_worker)
    restored = opened_check_in(qtbot, again, "1")
    assert restored.patient_card.mode.value() == "new"
    who = restored.patient_card
    assert (who.mrn.text(), who.name.text(), restored.escort.text()) == (
        "MRN-9001", "Ada Byrne", "Sam Byrne")
    assert restored.phq9.included()


def test_an_untouched_check_in_is_no_draft(qtbot, service, clock, nurse, store, window_worker):
    window = open_window(qtbot, service, clock, nurse, store, window_worker)
    opened_check_in(qtbot, window, "1")
    window.drafts.flush()
    assert store.load(DraftKey("checkin", "1", str(nurse))) is None
    assert window.unsaved_entries() == []


@dialog_window
def test_closing_with_an_unsaved_entry_asks_and_keep_working_keeps_the_window(
        qtbot, service, clock, nurse, store, session_id):
    window = open_window(qtbot, service, clock, nurse, store)
    window.open_chair("2")
    type_vitals(qtbot, window.sessions["2"], "128/78", "72")
    window.close()
    assert window.isVisible()
    dialog = window.close_dialog
    assert dialog is not None
    assert dialog.isVisible()
    assert "Chair 2: vitals" in dialog.question.text()
    assert dialog.keep.height() >= 48
    assert dialog.act.height() >= 48
    click(qtbot, dialog.keep)
    assert window.isVisible()
    assert window.sessions["2"].vitals.field("hr").text() == "72"

    window.close()
    click(qtbot, window.close_dialog.act)
    assert not window.isVisible()
    assert store.load(key(session_id, nurse)) is not None  # kept for the next start


def test_closing_with_nothing_typed_does_not_ask(qtbot, service, clock, nurse, store,
                                                 session_id):
    window = open_window(qtbot, service, clock, nurse, store)
    window.open_chair("2")
    window.close()
    assert not window.isVisible()
    assert window.close_dialog is None


def test_a_closed_window_keeping_drafts_is_freed_at_once(qtbot, service, clock, nurse, store):
    """Nothing the drafts add holds the window: once closed and dropped it goes, without
    waiting for the cycle collector (its tick would otherwise run on a closed database)."""
    window = MainWindow(service, clock, staff=(nurse, "Nora Nurse"), tick_ms=3_600_000,
                        drafts=store)
    window.show()
    qtbot.waitExposed(window)
    window.close()
    gc.disable()
    try:
        gone = weakref.ref(window)
        del window
        assert gone() is None
    finally:
        gc.enable()


def test_a_completed_check_in_leaves_no_draft_for_the_next_patient(qtbot, service, clock,
                                                                    nurse, store):
    """Once a patient is checked in, nothing of their check-in is kept: later typing
    anywhere (which writes every screen's drafts) cannot bring their details back into the
    next check-in on that chair."""
    from tests.ui.app.test_workflow import check_in  # noqa: PLC0415

    window = open_window(qtbot, service, clock, nurse, store)
    session = check_in(qtbot, window)
    assert window.checkin is None
    type_vitals(qtbot, session, "12", "7")  # typing on the session screen saves drafts
    window.drafts.edited()
    window.drafts.flush()
    assert store.load(DraftKey("checkin", "1", str(nurse))) is None
    assert store.load(key(session.presenter.session_id, nurse)) is not None
