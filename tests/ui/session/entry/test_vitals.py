"""The vitals form: typing on the keypad, copies of the last reading, inline refusals and
confirmations, and keys that block Save until corrected."""

import uuid
from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLineEdit

from monitor.clinical.domain import Reading
from monitor.clinical.validation import FieldError
from tests.ui.session.entry.forms import enter_value, save, save_refused, tap, type_keys
from ui.common.keypad import ENTER
from ui.common.labels import clock_time

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


def test_the_missing_vitals_refusal_waits_for_a_save_attempt(qtbot, vitals):
    # Opened, a field tapped, Enter through every field: no red before Save is tapped.
    assert vitals.message_for("vitals") == ""
    tap(qtbot, vitals.field("bp"))
    for _ in range(4):
        tap(qtbot, vitals.keypad.button(ENTER))
    assert vitals.message_for("vitals") == ""
    assert vitals.banner_text() == ""
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
