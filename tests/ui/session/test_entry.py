"""The entry forms: typing on the keypad, inline refusals and confirmations, late entries,
and the save states the caller drives.

Numbers are typed by clicking keypad buttons (ASCII only, never key events: non-ASCII key
events abort Qt). Time comes from a ManualClock; nothing waits on the wall clock.
"""

import uuid
from datetime import timedelta

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QScroller, QWidget

from monitor.clinical.domain import EventKind, Reading
from monitor.clinical.protocol import Medication
from monitor.clinical.scores import MOAAS_LEVELS
from monitor.clinical.validation import FieldError
from tests.ui.geometry import control_places, moved
from ui.common.keypad import ENTER
from ui.common.labels import clock_time
from ui.common.style import apply_theme
from ui.common.theme import DIM, LIGHT, TOUCH_MIN
from ui.session.entry import (
    CadssEntry,
    ComfortEntry,
    EntryTime,
    EventEntry,
    MoaasEntry,
    VitalsEntry,
)
from ui.session.entry.feedback import FeedbackMessage

LEFT = Qt.MouseButton.LeftButton
MEDICATIONS = (
    Medication("Ondansetron", "4 mg", "IV"),
    Medication("Labetalol", "10 mg", "IV"),
    Medication("Midazolam", "1 mg", "IV"),
)


def show(qtbot, form, theme=DIM, size=(640, 720)):
    qtbot.addWidget(form)
    apply_theme(form, theme)
    form.resize(*size)
    form.show()
    qtbot.waitExposed(form)
    return form


@pytest.fixture
def vitals(qtbot, clock):
    return show(qtbot, VitalsEntry(DIM, clock))


@pytest.fixture
def last_reading(clock):
    return Reading(
        uuid.uuid4(), clock.now() - timedelta(minutes=10), sbp=128, dbp=82, hr=72, spo2=97, rr=14
    )


def tap(qtbot, widget):
    qtbot.mouseClick(widget, LEFT)


def type_keys(qtbot, form, keys):
    for key in keys:
        tap(qtbot, form.keypad.button(key))


def enter_value(qtbot, form, field, text):
    """Tap the field, clear whatever it opened on, type ``text``."""
    tap(qtbot, form.field(field))
    tap(qtbot, form.keypad.button("clear"))
    type_keys(qtbot, form, text)


def save(qtbot, form):
    """Tap Save and return (raw, when, confirmed) from the ``submitted`` signal."""
    with qtbot.waitSignal(form.submitted) as blocker:
        tap(qtbot, form.save_button())
    return blocker.args


def save_refused(qtbot, form):
    with qtbot.assertNotEmitted(form.submitted):
        tap(qtbot, form.save_button())


# -- vitals: typing ----------------------------------------------------------------------------


def test_bp_is_typed_as_one_entry_and_given_as_systolic_and_diastolic(qtbot, vitals):
    tap(qtbot, vitals.field("bp"))
    type_keys(qtbot, vitals, "128/82")
    assert vitals.field("bp").text() == "128/82"
    raw, _when, confirmed = save(qtbot, vitals)
    assert (raw["sbp"], raw["dbp"]) == ("128", "82")
    assert raw["hr"] == raw["spo2"] == raw["rr"] == ""
    assert confirmed == frozenset()


def test_enter_moves_to_the_next_field_without_filling_it(qtbot, vitals, last_reading):
    vitals.set_last(last_reading)
    tap(qtbot, vitals.field("bp"))
    tap(qtbot, vitals.keypad.button(ENTER))
    assert vitals.active_field() == "hr"
    assert vitals.field("hr").text() == ""
    type_keys(qtbot, vitals, "80")
    tap(qtbot, vitals.keypad.button(ENTER))
    type_keys(qtbot, vitals, "95")
    save_refused(qtbot, vitals)  # BP still stands as copied from the last reading
    tap(qtbot, vitals.confirm_button("sbp"))
    raw, _when, _confirmed = save(qtbot, vitals)
    assert (raw["sbp"], raw["dbp"], raw["hr"], raw["spo2"], raw["rr"]) == (
        "128", "82", "80", "95", ""
    )


def test_a_hardware_keyboard_types_into_the_tapped_field(qtbot, vitals):
    tap(qtbot, vitals.field("bp"))
    qtbot.keyClicks(vitals, "128/82")
    qtbot.keyClick(vitals, Qt.Key.Key_Return)
    assert vitals.active_field() == "hr"
    qtbot.keyClicks(vitals, "73")
    qtbot.keyClick(vitals, Qt.Key.Key_Backspace)
    qtbot.keyClicks(vitals, "4")
    raw, _when, _confirmed = save(qtbot, vitals)
    assert (raw["sbp"], raw["dbp"], raw["hr"]) == ("128", "82", "74")


def test_tapping_a_field_gives_the_keypad_the_keyboard(qtbot, vitals):
    vitals.activateWindow()
    qtbot.waitUntil(vitals.isActiveWindow)
    tap(qtbot, vitals.field("spo2"))
    assert vitals.keypad.hasFocus()
    qtbot.keyClicks(vitals.keypad, "97")
    assert vitals.field("spo2").text() == "97"


def test_tapping_a_field_opens_the_keypad_on_the_last_value(qtbot, vitals, last_reading):
    vitals.set_last(last_reading)
    tap(qtbot, vitals.field("hr"))
    assert vitals.active_field() == "hr"
    assert vitals.keypad.text() == "72"
    assert vitals.field("hr").text() == "72"


def test_an_unchanged_copy_of_the_last_value_is_saved_only_as_same_as_last(
    qtbot, vitals, last_reading
):
    vitals.set_last(last_reading)
    tap(qtbot, vitals.field("hr"))
    save_refused(qtbot, vitals)  # one tap on HR, then Save: the copy is no reading
    assert "last reading" in vitals.message_for("hr")
    same = vitals.confirm_button("hr")
    assert same.isVisible()
    assert same.text() == "Same as last: 72"
    tap(qtbot, same)
    raw, _when, confirmed = save(qtbot, vitals)
    assert raw["hr"] == "72"
    assert confirmed == frozenset()  # "same as last" is not a confirmed unusual value


def test_a_copy_typed_over_is_a_reading(qtbot, vitals, last_reading):
    vitals.set_last(last_reading)
    tap(qtbot, vitals.field("hr"))
    type_keys(qtbot, vitals, "72")  # typed, even if the same number
    raw, _when, _confirmed = save(qtbot, vitals)
    assert raw["hr"] == "72"


def test_letters_typed_over_a_copied_bp_are_refused_and_nothing_is_saved(
    qtbot, vitals, last_reading
):
    vitals.set_last(last_reading)
    tap(qtbot, vitals.field("bp"))
    qtbot.keyClicks(vitals.keypad, "abc/xy")
    message = vitals.message_for("sbp")
    assert "Blood pressure takes digits 0-9 and one '/'" in message
    save_refused(qtbot, vitals)
    assert "Blood pressure" in vitals.message_for("sbp")
    assert vitals.field("bp").text() == "128/82"


def test_a_bp_typed_into_heart_rate_is_refused_never_cut(qtbot, vitals):
    tap(qtbot, vitals.field("hr"))
    qtbot.keyClicks(vitals.keypad, "130/80")
    assert "Heart rate takes digits 0-9 only" in vitals.message_for("hr")
    save_refused(qtbot, vitals)  # never saved as HR 130
    assert "Heart rate" in vitals.message_for("hr")
    qtbot.keyClick(vitals.keypad, Qt.Key.Key_Delete)
    assert vitals.message_for("hr") == ""
    type_keys(qtbot, vitals, "72")
    raw, _when, _confirmed = save(qtbot, vitals)
    assert raw["hr"] == "72"


def test_a_refusal_stands_while_digits_are_added_after_it(qtbot, vitals):
    tap(qtbot, vitals.field("hr"))
    qtbot.keyClicks(vitals.keypad, "13/0")  # "130" on screen, but "/" was refused
    assert vitals.field("hr").text() == "130"
    save_refused(qtbot, vitals)
    qtbot.keyClick(vitals.keypad, Qt.Key.Key_Backspace)
    assert vitals.message_for("hr") == ""


def test_typing_over_the_last_value_replaces_it(qtbot, vitals, last_reading):
    vitals.set_last(last_reading)
    tap(qtbot, vitals.field("bp"))
    assert vitals.field("bp").text() == "128/82"
    type_keys(qtbot, vitals, "14")
    assert vitals.field("bp").text() == "14"


def test_only_the_field_being_typed_in_shows_a_selection(qtbot, vitals, last_reading):
    vitals.set_last(last_reading)
    tap(qtbot, vitals.field("bp"))
    assert vitals.field("bp").hasSelectedText()
    tap(qtbot, vitals.field("hr"))
    assert not vitals.field("bp").hasSelectedText()
    assert vitals.field("bp").text() == "128/82"


def test_the_slash_key_works_only_in_the_bp_field(qtbot, vitals):
    tap(qtbot, vitals.field("bp"))
    assert vitals.keypad.button("/").isEnabled()
    tap(qtbot, vitals.field("spo2"))
    assert not vitals.keypad.button("/").isEnabled()


def test_fields_show_the_last_reading_but_record_nothing_untapped(qtbot, vitals, last_reading):
    vitals.set_last(last_reading)
    assert "last 128/82" in vitals.field_hint("bp")
    assert "last 72" in vitals.field_hint("hr")
    assert vitals.field("hr").text() == ""
    assert "Last reading " + clock_time(last_reading.time) in vitals.last_reading_text()


def test_on_oxygen_and_note_are_given_beside_the_reading(qtbot, vitals, last_reading):
    vitals.set_last(Reading(last_reading.id, last_reading.time, spo2=95, on_oxygen=True))
    enter_value(qtbot, vitals, "spo2", "96")
    qtbot.keyClicks(vitals.findChild(QLineEdit, "note"), "nasal cannula 2 L")
    raw, _when, _confirmed = save(qtbot, vitals)
    assert raw["on_oxygen"] is True  # carried over from the last reading
    assert raw["note"] == "nasal cannula 2 L"
    tap(qtbot, vitals.findChild(QAbstractButton, "oxygen-False"))
    assert vitals.raw()["on_oxygen"] is False


# -- vitals: refusals and confirmations ----------------------------------------------------------


def test_hr_300_is_refused_next_to_the_field_with_its_range(qtbot, vitals):
    enter_value(qtbot, vitals, "hr", "300")
    save_refused(qtbot, vitals)
    message = vitals.message_for("hr")
    assert "Heart rate" in message
    assert "20 to 250" in message
    assert vitals.field("hr").text() == "300"  # kept on screen to be corrected


def test_correcting_a_refused_value_clears_its_message(qtbot, vitals):
    enter_value(qtbot, vitals, "hr", "300")
    save_refused(qtbot, vitals)
    enter_value(qtbot, vitals, "hr", "72")
    assert vitals.message_for("hr") == ""
    raw, _when, _confirmed = save(qtbot, vitals)
    assert raw["hr"] == "72"


def test_half_a_blood_pressure_is_refused_at_the_bp_field(qtbot, vitals):
    enter_value(qtbot, vitals, "bp", "128")
    save_refused(qtbot, vitals)
    assert "systolic and diastolic" in vitals.message_for("dbp")
    assert vitals.message_for("sbp") == vitals.message_for("dbp")


def test_an_empty_vitals_form_is_refused(qtbot, vitals):
    save_refused(qtbot, vitals)
    assert "at least one vital sign" in vitals.message_for("vitals")


def test_sbp_230_needs_the_confirm_tap_then_submits_it_confirmed(qtbot, vitals):
    enter_value(qtbot, vitals, "bp", "230/90")
    save_refused(qtbot, vitals)
    assert "unusually high" in vitals.message_for("sbp")
    confirm = vitals.confirm_button("sbp")
    assert confirm.isVisible()
    assert confirm.text() == "Confirm 230/90"
    tap(qtbot, confirm)
    raw, _when, confirmed = save(qtbot, vitals)
    assert "sbp" in confirmed
    assert raw["sbp"] == "230"


def test_a_changed_value_must_be_confirmed_again(qtbot, vitals):
    enter_value(qtbot, vitals, "bp", "230/90")
    save_refused(qtbot, vitals)
    tap(qtbot, vitals.confirm_button("sbp"))
    enter_value(qtbot, vitals, "bp", "235/90")
    save_refused(qtbot, vitals)
    assert vitals.confirm_button("sbp").text() == "Confirm 235/90"


def test_refusals_from_the_service_are_shown_at_their_fields(qtbot, vitals):
    enter_value(qtbot, vitals, "hr", "72")
    save(qtbot, vitals)
    vitals.show_errors([FieldError("hr", "Heart rate must be a whole number from 20 to 250 /min")])
    assert vitals.banner_text() == (
        "NOT saved: Heart rate must be a whole number from 20 to 250 /min")
    assert vitals.field("hr").property("problem")  # outlined
    assert vitals.field("hr").text() == "72"


def test_confirmation_asked_by_the_service_is_offered_inline(qtbot, vitals):
    enter_value(qtbot, vitals, "spo2", "78")
    vitals.show_errors([], [FieldError("spo2", "SpO2 78 % is unusually low: confirm")])
    assert vitals.confirm_button("spo2").text() == "Confirm 78"


# -- CADSS-6, MOAA/S, comfort ----------------------------------------------------------------


def test_cadss_total_runs_as_items_are_scored(qtbot, clock):
    form = show(qtbot, CadssEntry(DIM, clock))
    assert form.total_text().startswith("CADSS-6 total 0 / 24")
    for number, score in zip(range(1, 7), (2, 1, 0, 3, 1, 0), strict=True):
        tap(qtbot, form.item(number).button(score))
    assert form.total_text() == "CADSS-6 total 7 / 24"


def test_cadss_needs_all_six_items(qtbot, clock):
    form = show(qtbot, CadssEntry(DIM, clock))
    for number in range(1, 6):
        tap(qtbot, form.item(number).button(2))
    assert "5 of 6 scored" in form.total_text()
    save_refused(qtbot, form)
    assert "item 6 not scored" in form.message_for("cadss6_items")
    tap(qtbot, form.item(6).button(4))
    raw, _when, _confirmed = save(qtbot, form)
    assert raw == {"cadss6_items": (2, 2, 2, 2, 2, 4)}


def drag(viewport, start, distance):
    """A finger dragged ``distance`` px up from ``start`` over ``viewport``, fed to its
    scroller with explicit timestamps (10 ms apart), so the test does not hang on timing."""
    scroller = QScroller.scroller(viewport)
    at = QPointF(start)
    scroller.handleInput(QScroller.Input.InputPress, at, 0)
    for step in range(1, 11):
        at = QPointF(start.x(), start.y() - distance * step / 10)
        scroller.handleInput(QScroller.Input.InputMove, at, step * 10)
    scroller.handleInput(QScroller.Input.InputRelease, at, 110)


def test_a_finger_dragged_over_the_cadss_items_scrolls_them(qtbot, clock):
    form = show(qtbot, CadssEntry(DIM, clock), size=(640, 420))
    viewport = form._scroll.viewport()
    assert QScroller.hasScroller(viewport)
    bar = form._scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    # The drag starts where a score button is, as a nurse's finger does.
    button = form.item(2).button(2)
    drag(viewport, button.mapTo(viewport, button.rect().center()), 200)
    qtbot.waitUntil(lambda: bar.value() > 0)


def test_a_tap_on_a_cadss_score_still_chooses_it_with_kinetic_scrolling(qtbot, clock):
    form = show(qtbot, CadssEntry(DIM, clock), size=(640, 420))
    tap(qtbot, form.item(1).button(3))
    assert form.item(1).value() == 3


def test_cadss_rows_show_the_short_labels(qtbot, clock):
    form = show(qtbot, CadssEntry(DIM, clock))
    assert form.item_label(1) == "1. Time slowed"
    assert form.item_label(6) == "6. Observer: appears detached"


def test_moaas_choice_is_submitted(qtbot, clock):
    form = show(qtbot, MoaasEntry(DIM, clock))
    assert "name called loudly/repeatedly" in form.choice(3).accessibleName().lower()
    tap(qtbot, form.choice(3))
    assert form.choice(3).isChecked()
    raw, _when, _confirmed = save(qtbot, form)
    assert raw == {"moaas": 3}


def test_moaas_offers_all_six_levels_with_their_definitions(qtbot, clock):
    form = show(qtbot, MoaasEntry(DIM, clock))
    for level, definition in MOAAS_LEVELS.items():
        assert form.choice(level).accessibleName().lower() == f"{level}: {definition}".lower()


def test_moaas_must_be_chosen(qtbot, clock):
    form = show(qtbot, MoaasEntry(DIM, clock))
    save_refused(qtbot, form)
    assert "MOAA/S" in form.message_for("moaas")


def test_comfort_scores_are_optional_each_but_not_all(qtbot, clock):
    form = show(qtbot, ComfortEntry(DIM, clock))
    save_refused(qtbot, form)
    tap(qtbot, form.row("nausea").button(7))
    tap(qtbot, form.row("pain").button(2))
    tap(qtbot, form.row("pain").button(2))  # a second tap takes the choice back
    raw, _when, _confirmed = save(qtbot, form)
    assert raw == {"nausea": 7, "anxiety": None, "pain": None}


# -- events ----------------------------------------------------------------------------------


def test_medication_is_chosen_from_the_protocol_list(qtbot, clock):
    form = show(qtbot, EventEntry(DIM, clock, MEDICATIONS))
    tap(qtbot, form.kind().button(EventKind.MEDICATION.value))
    assert form.medication_button(0).text() == "Ondansetron 4 mg IV"
    save_refused(qtbot, form)
    assert "medication" in form.message_for("medication")
    tap(qtbot, form.medication_button(1))
    raw, _when, _confirmed = save(qtbot, form)
    assert raw["kind"] == EventKind.MEDICATION
    assert raw["medication"] == MEDICATIONS[1]


def test_other_adverse_event_needs_a_note(qtbot, clock):
    form = show(qtbot, EventEntry(DIM, clock, MEDICATIONS))
    tap(qtbot, form.kind().button(EventKind.ADVERSE_EVENT.value))
    assert not form.medication_button(0).isVisible()
    tap(qtbot, form.adverse_button("other"))
    save_refused(qtbot, form)
    assert "note" in form.message_for("note").lower()
    qtbot.keyClicks(form.note_field(), "tingling lips")
    raw, _when, _confirmed = save(qtbot, form)
    assert (raw["adverse_event"], raw["note"]) == ("other", "tingling lips")


def test_headache_needs_no_note(qtbot, clock):
    form = show(qtbot, EventEntry(DIM, clock, MEDICATIONS))
    tap(qtbot, form.kind().button(EventKind.ADVERSE_EVENT.value))
    tap(qtbot, form.adverse_button("headache"))
    raw, _when, _confirmed = save(qtbot, form)
    assert raw == {"kind": "adverse_event", "medication": None, "adverse_event": "headache",
                   "note": ""}


def test_an_event_kind_must_be_chosen(qtbot, clock):
    form = show(qtbot, EventEntry(DIM, clock, MEDICATIONS))
    save_refused(qtbot, form)
    assert "Choose what happened" in form.message_for("kind")


# -- entry time --------------------------------------------------------------------------------


def test_an_entry_describes_now_by_default(qtbot, vitals, clock):
    enter_value(qtbot, vitals, "hr", "72")
    _raw, when, _confirmed = save(qtbot, vitals)
    assert when == clock.now()
    assert not vitals.time.is_late()


def test_late_entry_steps_back_from_the_current_minute(qtbot, vitals, clock):
    clock.advance(timedelta(minutes=41, seconds=37))
    entered = clock.now()
    vitals.time.refresh()
    tap(qtbot, vitals.findChild(QAbstractButton, "time-back-5"))
    tap(qtbot, vitals.findChild(QAbstractButton, "time-back-1"))
    described = entered.replace(second=0) - timedelta(minutes=6)
    assert vitals.time.when() == described
    assert vitals.time.late_text() == (
        f"late entry: describes {clock_time(described)}, entered {clock_time(entered)}"
    )
    enter_value(qtbot, vitals, "hr", "72")
    _raw, when, _confirmed = save(qtbot, vitals)
    assert when == described


def test_a_late_time_stays_put_while_the_clock_moves(qtbot, clock):
    time = EntryTime(LIGHT, clock)
    qtbot.addWidget(time)
    time.step_back(15)
    described = time.when()
    clock.advance(timedelta(minutes=3))
    time.refresh()
    assert time.when() == described
    assert time.is_late()


def test_now_resets_a_late_entry(qtbot, vitals, clock):
    tap(qtbot, vitals.findChild(QAbstractButton, "time-back-15"))
    assert vitals.time.is_late()
    tap(qtbot, vitals.findChild(QAbstractButton, "time-now"))
    assert vitals.time.when() == clock.now()
    assert not vitals.time.is_late()
    assert vitals.time.late_text() == ""


def test_entry_time_is_never_later_than_now(qtbot, clock):
    time = EntryTime(DIM, clock)
    qtbot.addWidget(time)
    time.set_time(clock.now() + timedelta(minutes=10))
    assert time.when() == clock.now()
    time.step_back(1)
    clock.set_wall(clock.now() - timedelta(minutes=5))  # the wall clock is set back
    time.refresh()
    assert time.when() <= clock.now()
    assert not time.is_late()


def test_submitted_time_is_never_in_the_future(qtbot, vitals, clock):
    vitals.time.set_time(clock.now() + timedelta(hours=1))
    enter_value(qtbot, vitals, "hr", "72")
    _raw, when, _confirmed = save(qtbot, vitals)
    assert when <= clock.now()


# -- save state --------------------------------------------------------------------------------


def test_saved_appears_only_after_show_saved(qtbot, vitals):
    enter_value(qtbot, vitals, "hr", "72")
    save(qtbot, vitals)
    assert "Saved" not in vitals.banner_text()
    vitals.show_saving()
    assert vitals.banner_text() == "Saving…"
    assert not vitals.save_button().isEnabled()
    vitals.show_saved("Saved 10:42")
    assert vitals.banner_text() == "Saved 10:42"
    assert vitals.save_button().isEnabled()


def test_clear_after_success_empties_the_form_but_keeps_the_saved_note(qtbot, vitals):
    enter_value(qtbot, vitals, "bp", "128/82")
    save(qtbot, vitals)
    vitals.show_saved("Saved 10:42")
    vitals.clear()
    assert vitals.field("bp").text() == ""
    assert vitals.banner_text() == "Saved 10:42"
    enter_value(qtbot, vitals, "hr", "70")  # the next entry begins
    assert vitals.banner_text() == ""


def test_a_refused_save_after_a_saved_one_takes_the_saved_note_away(qtbot, vitals):
    enter_value(qtbot, vitals, "hr", "72")
    save(qtbot, vitals)
    vitals.show_saved("Saved 10:42")
    vitals.clear()
    tap(qtbot, vitals.save_button())  # nothing entered this time
    assert "Enter at least one vital sign" in vitals.message_for("vitals")
    assert vitals.banner_text() == ""


def test_not_saved_keeps_the_values_and_retry_sends_them_again(qtbot, vitals, clock):
    enter_value(qtbot, vitals, "bp", "230/90")
    save_refused(qtbot, vitals)
    tap(qtbot, vitals.confirm_button("sbp"))
    tap(qtbot, vitals.findChild(QAbstractButton, "time-back-5"))
    enter_value(qtbot, vitals, "hr", "72")
    first = save(qtbot, vitals)
    vitals.show_saving()
    vitals.show_not_saved("the database could not be written")
    assert vitals.banner_text() == "NOT saved: the database could not be written"
    assert vitals.field("bp").text() == "230/90"
    assert vitals.field("hr").text() == "72"
    retry = vitals.retry_button()
    assert retry.isVisible()
    clock.advance(timedelta(minutes=2))
    with qtbot.waitSignal(vitals.submitted) as blocker:
        tap(qtbot, retry)
    assert blocker.args == first
    assert "sbp" in blocker.args[2]


def test_retry_goes_once_the_values_change(qtbot, vitals):
    enter_value(qtbot, vitals, "hr", "72")
    save(qtbot, vitals)
    vitals.show_not_saved("server unreachable")
    enter_value(qtbot, vitals, "hr", "74")
    assert not vitals.retry_button().isVisible()
    assert vitals.banner_text().startswith("NOT saved")
    raw, _when, _confirmed = save(qtbot, vitals)
    assert raw["hr"] == "74"


@pytest.mark.parametrize(
    "make", [
        lambda clock: CadssEntry(DIM, clock),
        lambda clock: MoaasEntry(DIM, clock),
        lambda clock: ComfortEntry(DIM, clock),
        lambda clock: EventEntry(DIM, clock, MEDICATIONS),
    ],
    ids=["cadss", "moaas", "comfort", "event"],
)
def test_every_form_has_the_same_save_states(qtbot, clock, make):
    form = show(qtbot, make(clock))
    form.show_not_saved("disk full")
    assert form.banner_text() == "NOT saved: disk full"
    assert not form.retry_button().isVisible()  # nothing was submitted yet
    form.show_saved("Saved 09:00")
    assert form.banner_text() == "Saved 09:00"


# -- sizes -------------------------------------------------------------------------------------


def fill_with_problems(qtbot, form):
    """Put a form in its busiest state: messages, confirm buttons, late entry, Retry."""
    tap(qtbot, form.findChild(QAbstractButton, "time-back-5"))
    if isinstance(form, VitalsEntry):
        enter_value(qtbot, form, "bp", "230/90")
        enter_value(qtbot, form, "hr", "300")
        save_refused(qtbot, form)
    elif isinstance(form, EventEntry):
        tap(qtbot, form.kind().button(EventKind.MEDICATION.value))
        tap(qtbot, form.medication_button(0))
        save(qtbot, form)
        form.show_not_saved("disk full")
    else:
        save_refused(qtbot, form)


FORMS = {
    "vitals": VitalsEntry,
    "cadss": CadssEntry,
    "moaas": MoaasEntry,
    "comfort": ComfortEntry,
    "event": lambda theme, clock: EventEntry(theme, clock, MEDICATIONS),
}
SIZES = {
    "landscape-screen": (1280, 800),
    "portrait-screen": (800, 1280),
    "landscape-panel": (640, 720),
    "portrait-panel": (800, 640),
}


@pytest.mark.parametrize("busy", [False, True], ids=["fresh", "busy"])
@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("theme", [DIM, LIGHT], ids=["dim", "light"])
@pytest.mark.parametrize("name", FORMS)
def test_every_touch_target_is_at_least_48_px(qtbot, clock, name, theme, size, busy):
    form = show(qtbot, FORMS[name](theme, clock), theme, size)
    if busy:
        fill_with_problems(qtbot, form)
    qtbot.waitUntil(lambda: form.save_button().height() >= TOUCH_MIN)
    targets = [
        w for w in [*form.findChildren(QAbstractButton), *form.findChildren(QLineEdit)]
        if w.isVisible()
    ]
    assert targets
    small = [
        f"{w.objectName() or w.text()!r} {w.width()}x{w.height()}"
        for w in targets
        if w.width() < TOUCH_MIN or w.height() < TOUCH_MIN
    ]
    assert not small, small
    assert form.minimumSizeHint().width() <= size[0]  # nothing cut off at the side


@pytest.mark.parametrize("theme", [DIM, LIGHT], ids=["dim", "light"])
def test_vital_values_are_at_least_24_px(qtbot, clock, theme):
    form = show(qtbot, VitalsEntry(theme, clock), theme)
    for key in ("bp", "hr", "spo2", "rr"):
        assert form.field(key).font().pixelSize() >= 24, key



# -- controls keep their place ------------------------------------------------------------------

#: The entry panel as a 1280 × 800 and an 800 × 1280 session screen give it room.
PANELS = {"landscape": (700, 520), "portrait": (788, 470)}


@pytest.fixture(params=PANELS.values(), ids=PANELS.keys())
def panel(qtbot, clock, request, last_reading):
    form = show(qtbot, VitalsEntry(DIM, clock), DIM, request.param)
    form.set_last(last_reading)
    return form


def assert_nothing_moves(form, change):
    before, minimum = control_places(form), form.minimumSizeHint()
    change()
    after = control_places(form)
    assert moved(before, after) == []
    # A form that needs more height would take it from the screen around it (the tiles);
    # a wider minimum is harmless while it fits the panel.
    assert form.minimumSizeHint().height() == minimum.height()
    assert form.minimumSizeHint().width() <= form.width()


def test_a_late_entry_step_moves_no_control(qtbot, panel):
    tap(qtbot, panel.field("bp"))
    assert_nothing_moves(panel, lambda: tap(qtbot, panel.findChild(QAbstractButton,
                                                                     "time-back-15")))
    assert panel.time.is_late()
    assert "late entry for" in panel.save_button().text()
    assert_nothing_moves(panel, lambda: tap(qtbot, panel.findChild(QAbstractButton, "time-now")))
    assert panel.save_button().text() == "Save vitals"


def test_a_refused_key_moves_no_control(qtbot, panel):
    tap(qtbot, panel.field("hr"))
    assert_nothing_moves(panel, lambda: qtbot.keyClicks(panel.keypad, "1x"))
    assert "Heart rate" in panel.message_for("hr")
    assert_nothing_moves(panel, lambda: qtbot.keyClick(panel.keypad, Qt.Key.Key_Backspace))
    assert panel.message_for("hr") == ""


def test_messages_appearing_and_clearing_on_save_move_no_control(qtbot, panel):
    enter_value(qtbot, panel, "hr", "300")
    enter_value(qtbot, panel, "bp", "230/90")
    assert_nothing_moves(panel, lambda: save_refused(qtbot, panel))
    assert "Heart rate" in panel.message_for("hr")
    assert panel.confirm_button("sbp").isVisible()
    assert_nothing_moves(panel, lambda: tap(qtbot, panel.confirm_button("sbp")))
    assert_nothing_moves(panel, lambda: enter_value(qtbot, panel, "hr", "72"))
    assert panel.message_for("hr") == ""


def test_the_save_states_move_no_control(qtbot, panel):
    enter_value(qtbot, panel, "hr", "72")
    assert_nothing_moves(panel, lambda: save(qtbot, panel))
    assert_nothing_moves(panel, panel.show_saving)
    assert_nothing_moves(panel, lambda: panel.show_not_saved("the database is not reachable"))
    assert_nothing_moves(panel, lambda: panel.show_saved("Saved 09:00"))
    assert_nothing_moves(panel, lambda: enter_value(qtbot, panel, "spo2", "97"))


@pytest.mark.parametrize("name", ["cadss", "moaas", "comfort", "event"])
def test_refusals_in_the_score_and_event_forms_move_no_control(qtbot, clock, name):
    form = show(qtbot, FORMS[name](DIM, clock), DIM, PANELS["landscape"])
    assert_nothing_moves(form, lambda: save_refused(qtbot, form))
    assert form.findChildren(FeedbackMessage)  # the refusals showed in the strip
    assert any(m.text() for m in form.findChildren(FeedbackMessage))


def test_the_strip_shows_a_refusal_before_a_question(qtbot, panel):
    enter_value(qtbot, panel, "bp", "230/90")
    enter_value(qtbot, panel, "hr", "300")
    save_refused(qtbot, panel)
    strip = panel.findChild(QWidget, "feedback").parentWidget()  # the strip's viewport
    hr = next(m for m in panel.findChildren(FeedbackMessage) if "hr" in m.fields)
    top = hr.mapTo(strip, QPoint(0, 0)).y()
    assert 0 <= top < strip.height()


# -- save always answers --------------------------------------------------------------------------


def test_save_names_the_field_a_refused_key_still_blocks(qtbot, vitals):
    tap(qtbot, vitals.field("bp"))
    qtbot.keyClicks(vitals.keypad, "abc")  # refused with nothing typed: nothing cut short
    tap(qtbot, vitals.field("hr"))
    qtbot.keyClicks(vitals.keypad, "130/80")  # "130" kept, "/" refused
    tap(qtbot, vitals.field("bp"))
    type_keys(qtbot, vitals, "128/82")
    save_refused(qtbot, vitals)
    assert vitals.message_for("sbp") == ""  # the letters blocked nothing
    assert vitals.message_for("hr") == (
        "Heart rate: '130' came with a refused '/', tap Clear or correct it")


def test_save_goes_through_once_the_blocking_field_is_retyped(qtbot, vitals):
    tap(qtbot, vitals.field("bp"))
    qtbot.keyClicks(vitals.keypad, "abc")
    type_keys(qtbot, vitals, "128/82")
    tap(qtbot, vitals.field("hr"))
    qtbot.keyClicks(vitals.keypad, "130/80")
    tap(qtbot, vitals.field("hr"))  # the whole value selected: typing replaces it
    type_keys(qtbot, vitals, "72")
    raw, _when, _confirmed = save(qtbot, vitals)
    assert (raw["sbp"], raw["dbp"], raw["hr"]) == ("128", "82", "72")


def test_backspace_on_a_selected_value_removes_all_of_it(qtbot, vitals):
    tap(qtbot, vitals.field("hr"))
    type_keys(qtbot, vitals, "130")
    tap(qtbot, vitals.field("hr"))
    assert vitals.field("hr").selectedText() == "130"
    tap(qtbot, vitals.keypad.button("back"))
    type_keys(qtbot, vitals, "72")
    assert vitals.field("hr").text() == "72"


def test_ctrl_a_selects_the_whole_value_so_typing_replaces_it(qtbot, vitals):
    tap(qtbot, vitals.field("hr"))
    type_keys(qtbot, vitals, "130")
    qtbot.keyClick(vitals.keypad, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert vitals.field("hr").selectedText() == "130"
    qtbot.keyClicks(vitals.keypad, "72")
    assert vitals.field("hr").text() == "72"


def test_a_saved_late_entry_says_the_time_it_describes(qtbot, vitals, clock):
    tap(qtbot, vitals.findChild(QAbstractButton, "time-back-5"))
    described = vitals.time.text()
    enter_value(qtbot, vitals, "hr", "72")
    save(qtbot, vitals)
    vitals.clear()  # as the session screen does once the reading is committed
    vitals.show_saved(f"Saved vitals {clock_time(clock.now())}")
    assert vitals.banner_text() == f"Saved vitals for {described} (late entry)"


def test_a_reading_without_vitals_offers_no_last_vitals(qtbot, vitals, clock):
    scores_only = Reading(uuid.uuid4(), clock.now() - timedelta(minutes=3), nausea=2)
    vitals.set_last(scores_only)
    assert "tap a field" not in vitals.last_reading_text()
    assert vitals.last_reading_text() == "No reading yet"
    vitals.set_last(None)
    assert vitals.last_reading_text() == "No reading yet"


# -- the feedback strip shows one whole message -----------------------------------------------


def strip_viewport(form):
    return form.findChild(QWidget, "feedback").parentWidget()


def wholly_in_strip(form, widget):
    viewport = strip_viewport(form)
    top_left = widget.mapTo(viewport, QPoint(0, 0))
    return (widget.isVisible() and top_left.y() >= 0
            and top_left.y() + widget.height() <= viewport.height())


def text_fits(label):
    """Whether the label's whole text shows in the height it was given."""
    needed = label.fontMetrics().boundingRect(
        0, 0, label.width(), 10_000, int(Qt.TextFlag.TextWordWrap), label.text()).height()
    return needed <= label.height()


def test_the_same_as_last_question_shows_whole_with_its_button(qtbot, panel):
    tap(qtbot, panel.field("bp"))  # opens on the last reading's 128/82, copied
    save_refused(qtbot, panel)
    button = panel.confirm_button("same:bp")
    assert button.text() == "Same as last: 128/82"
    assert button.height() >= TOUCH_MIN
    assert wholly_in_strip(panel, button)
    message = next(m for m in panel.findChildren(FeedbackMessage) if "sbp" in m.fields)
    assert wholly_in_strip(panel, message)
    assert text_fits(next(label for label in message.findChildren(QLabel) if label.text()))


def test_a_refusal_from_the_service_shows_whole_and_names_no_unmarked_fields(qtbot, panel):
    tap(qtbot, panel.findChild(QAbstractButton, "time-back-15"))
    enter_value(qtbot, panel, "hr", "72")
    save(qtbot, panel)
    late = ("Time 2026-03-02 13:55 UTC is before the check-in at 14:00 UTC; an entry can "
            "describe only a time during the session")
    assert_nothing_moves(panel, lambda: panel.show_errors([FieldError("time", late)]))
    assert panel.banner_text() == f"NOT saved: {late}"
    assert "marked" not in panel.banner_text()
    banner = panel.findChild(QWidget, "save-banner")
    assert wholly_in_strip(panel, banner)
    assert text_fits(banner.findChild(QLabel, "save-state"))
    shown = [m for m in panel.findChildren(FeedbackMessage) if m.isVisible()]
    assert shown == []  # one message in the strip, not two sharing its height
