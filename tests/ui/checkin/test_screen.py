"""The check-in screen: the dose computed live by the core's calculator, refusals naming the
field and range, the required escort, PHQ-9 item 9, the CheckIn it emits, and a layout that
fits a tablet in both orientations with fingertip-sized targets. The patient search runs on
the inline worker in the dim theme and on the thread worker in the light one."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScroller

from monitor.service.worker import ThreadWorker
from tests.support.stall import WAIT_S
from tests.ui.geometry import control_places, moved
from tests.ui.sessions import host
from tests.ui.touch import small_touch_targets
from ui.checkin.screen import CheckInScreen
from ui.checkin.values import MEDICATIONS, CheckIn, NewPatient, number_text
from ui.common.background import Background
from ui.common.style import apply_theme
from ui.common.theme import DIM, LIGHT

LANDSCAPE, PORTRAIT = (1280, 800), (800, 1280)
SHOTS = os.environ.get("CHAIRSIDE_SHOTS")  # a folder: the screens are also saved there


@pytest.fixture
def ada(service, nurse):
    return service.add_patient("MRN-004211", by=nurse, name="Ada Byrne",
                               date_of_birth=date(1980, 4, 2), weight_kg=70)


@pytest.fixture(params=[(DIM, False), (LIGHT, True)], ids=["dim-inline", "light-thread"])
def screen(qtbot, request, service, clock):
    theme, threaded = request.param
    worker = ThreadWorker() if threaded else None
    widget = CheckInScreen(theme, service, clock, "2",
                           background=Background(worker) if worker is not None else None)
    window = host(qtbot, widget, *LANDSCAPE)
    apply_theme(window, theme)
    qtbot.waitUntil(lambda: widget.dose_card.protocol() is not None, timeout=int(WAIT_S * 1000))
    # The window owns the widget, so it is held (and closed) around the test.
    yield widget
    searched(qtbot, widget)
    window.close()
    if worker is not None:
        worker.close(WAIT_S)


def searched(qtbot, screen):
    """The newest search answered (at once with the inline worker)."""
    qtbot.waitUntil(lambda: not screen.patient_card.searching, timeout=int(WAIT_S * 1000))


def search(qtbot, screen, text):
    screen.patient_card.search.setText(text)
    searched(qtbot, screen)


def click(qtbot, widget):
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def type_on_keypad(qtbot, screen, field, digits: str):
    click(qtbot, field)
    assert screen.keypad.isVisible()
    assert screen.keypad.target() is field
    click(qtbot, screen.keypad.button("clear"))
    for key in digits:
        click(qtbot, screen.keypad.button(key))


def answer_medications(qtbot, screen, yes=()):
    for key, _question, _note in MEDICATIONS:
        click(qtbot, screen.medications[key].button(key in yes))


def choose_ada(qtbot, screen):
    search(qtbot, screen, "byr")
    item = screen.patient_card.results.item(0)
    qtbot.mouseClick(screen.patient_card.results.viewport(), Qt.MouseButton.LeftButton,
                     pos=screen.patient_card.results.visualItemRect(item).center())


def resize(qtbot, screen, size):
    screen.set_orientation(Qt.Orientation.Horizontal if size[0] > size[1]
                           else Qt.Orientation.Vertical)
    screen.window().resize(*size)
    screen.setGeometry(0, 0, *size)
    qtbot.waitUntil(lambda: screen.form_scroll.viewport().width() < size[0] - 24)


def test_the_dose_is_computed_live_from_weight_plan_and_bag(qtbot, screen):
    assert screen.dose_card.mg_per_kg.value() == 0.5
    assert screen.dose_card.minutes.value() == 40
    assert screen.dose_card.bag.text() == "100"
    type_on_keypad(qtbot, screen, screen.dose_card.weight, "70")
    assert screen.dose_card.weight.text() == "70"
    assert screen.dose_card.dose_texts() == {"dose": "35", "rate": "0.875", "pump": "150"}
    click(qtbot, screen.dose_card.mg_per_kg.button(1.0))
    click(qtbot, screen.dose_card.minutes.button(60))
    assert screen.dose_card.dose_texts() == {"dose": "70", "rate": "1.167", "pump": "100"}


def test_the_dose_choices_lie_in_the_profile_range(screen):
    dose = screen.dose_card.protocol().dose
    assert screen.dose_card.mg_per_kg.values() == [0.5, 0.75, 1.0]
    assert all(dose.mg_per_kg_min <= v <= dose.mg_per_kg_max
               for v in screen.dose_card.mg_per_kg.values())
    assert screen.dose_card.minutes.values() == [40, 50, 60]


def test_an_impossible_weight_is_refused_naming_the_field_and_range(qtbot, screen, ada):
    choose_ada(qtbot, screen)
    answer_medications(qtbot, screen)
    screen.escort.setText("Sam Escort")
    screen.dose_card.weight.setText("500")
    assert screen.dose_card.dose_texts()["dose"] == "–"
    with qtbot.assertNotEmitted(screen.checkInRequested):
        click(qtbot, screen.submit_button)
    message = screen.messages["weight"].text()
    assert "Weight" in message
    assert "20 to 300 kg" in message
    assert "Weight" in screen.summary.text()
    assert screen.dose_card.weight.property("problem") is True


def test_an_empty_bag_is_refused_under_its_field(qtbot, screen, ada):
    choose_ada(qtbot, screen)
    screen.dose_card.bag.setText("0")
    with qtbot.assertNotEmitted(screen.checkInRequested):
        click(qtbot, screen.submit_button)
    assert screen.messages["bag_volume_ml"].text() == "Bag volume: 0 must be a number above 0"
    screen.dose_card.bag.setText("1e3")
    click(qtbot, screen.submit_button)
    assert screen.messages["bag_volume_ml"].text().startswith("Bag volume must be a whole number")


def test_an_unusual_weight_is_kept_only_after_confirmation(qtbot, screen, ada):
    choose_ada(qtbot, screen)
    answer_medications(qtbot, screen)
    screen.escort.setText("Sam Escort")
    screen.dose_card.weight.setText("25")
    with qtbot.assertNotEmitted(screen.checkInRequested):
        click(qtbot, screen.submit_button)
    confirm = screen.messages["weight"].confirm_button()
    assert confirm.isVisible()
    assert confirm.text() == "Confirm 25 kg"
    click(qtbot, confirm)
    with qtbot.waitSignal(screen.checkInRequested) as blocker:
        click(qtbot, screen.submit_button)
    assert blocker.args[0].weight_kg == 25.0


def test_the_escort_is_required_because_the_patient_must_not_drive(qtbot, screen, ada):
    choose_ada(qtbot, screen)
    answer_medications(qtbot, screen)
    assert "must not drive for 24 hours" in screen.escort_card.findChildren(
        type(screen.summary))[2].text()
    with qtbot.assertNotEmitted(screen.checkInRequested):
        click(qtbot, screen.submit_button)
    message = screen.messages["escort"].text()
    assert "escort name" in message.lower()
    assert "drive" in message
    assert screen.summary.text() == "Check: Escort"


def test_every_medication_question_needs_an_answer(qtbot, screen, ada):
    choose_ada(qtbot, screen)
    screen.escort.setText("Sam Escort")
    click(qtbot, screen.medications["maois"].button(False))
    with qtbot.assertNotEmitted(screen.checkInRequested):
        click(qtbot, screen.submit_button)
    message = screen.messages["medications"].text()
    assert "Benzodiazepines" in message
    assert "MAOIs" not in message


def test_a_yes_to_ssris_says_closer_bp_watch(qtbot, screen):
    note = screen.medication_notes["ssris_snris"]
    assert not note.isVisible()
    click(qtbot, screen.medications["ssris_snris"].button(True))
    assert note.isVisible()
    assert "closer BP watch" in note.text()


def test_a_patient_on_file_is_found_and_checked_in(qtbot, screen, ada):
    choose_ada(qtbot, screen)
    assert screen.patient_card.selected_patient() == ada
    assert screen.dose_card.weight.text() == "70"
    assert "Ada Byrne" in screen.patient_card.selected.text()
    answer_medications(qtbot, screen, yes={"ssris_snris"})
    screen.escort.setText("Sam Escort")
    screen.dose_card.lot.setText("KX-2291")
    screen.phq9.set_answers([1, 2, 1, 2, 1, 0, 1, 0, 0])
    with qtbot.waitSignal(screen.checkInRequested) as blocker:
        click(qtbot, screen.submit_button)
    data = blocker.args[0]
    assert isinstance(data, CheckIn)
    assert data.patient == ada.id
    assert (data.chair, data.profile) == ("2", "iv_ketamine")
    assert (data.weight_kg, data.mg_per_kg, data.minutes, data.bag_volume_ml) == (
        70.0, 0.5, 40, 100.0)
    assert (data.plan.dose_mg, data.plan.rate_mg_per_min, data.plan.pump_ml_per_h) == (
        35.0, 0.875, 150.0)
    assert data.lot_number == "KX-2291"
    assert dict(data.medications) == {key: key == "ssris_snris" for key, _, _ in MEDICATIONS}
    assert data.escort_name == "Sam Escort"
    assert data.phq9_items == (1, 2, 1, 2, 1, 0, 1, 0, 0)
    assert data.gad7_items is None
    with pytest.raises(TypeError):
        data.medications["maois"] = True


def test_search_results_are_large_rows_that_scroll_kinetically(qtbot, screen, ada):
    search(qtbot, screen, "MRN")
    item = screen.patient_card.results.item(0)
    assert screen.patient_card.results.visualItemRect(item).height() >= 56
    assert QScroller.hasScroller(screen.patient_card.results.viewport())
    assert QScroller.hasScroller(screen.form_scroll.viewport())
    search(qtbot, screen, "nobody")
    assert screen.patient_card.results.count() == 0
    assert "New patient" in screen.patient_card.no_results.text()


def test_the_search_field_takes_a_keyboard_or_the_keypad(qtbot, screen, ada):
    click(qtbot, screen.patient_card.search)
    assert not screen.keypad.isVisible()  # names come from a keyboard
    qtbot.keyClicks(screen.patient_card.search, "Byr")
    searched(qtbot, screen)
    assert screen.patient_card.results.count() == 1
    click(qtbot, screen.patient_card.search_keypad)
    assert screen.keypad.target() is screen.patient_card.search
    for key in ("clear", "4", "2", "1", "1"):
        click(qtbot, screen.keypad.button(key))
    assert screen.patient_card.search.text() == "4211"
    searched(qtbot, screen)
    assert screen.patient_card.results.count() == 1


def test_a_new_patient_is_entered_and_validated(qtbot, screen):
    click(qtbot, screen.patient_card.mode.button("new"))
    assert screen.patient_card.new_box.isVisible()
    assert not screen.patient_card.find_box.isVisible()
    screen.patient_card.mrn.setText("MRN-009001")
    screen.patient_card.name.setText("Cara Dunne")
    type_on_keypad(qtbot, screen, screen.patient_card.dob_year, "1990")
    screen.patient_card.dob_month.setText("07")
    screen.patient_card.dob_day.setText("15")
    screen.dose_card.weight.setText("64.5")
    answer_medications(qtbot, screen)
    screen.escort.setText("Dan Dunne")
    with qtbot.waitSignal(screen.checkInRequested) as blocker:
        click(qtbot, screen.submit_button)
    data = blocker.args[0]
    assert data.patient == NewPatient("MRN-009001", "Cara Dunne", date(1990, 7, 15))
    assert data.plan.dose_mg == pytest.approx(32.25)


def test_new_patient_fields_are_refused_under_their_field(qtbot, screen, ada):
    click(qtbot, screen.patient_card.mode.button("new"))
    screen.patient_card.mrn.setText("MRN-004211")
    screen.patient_card.name.setText("=cmd")
    screen.patient_card.dob_year.setText("2090")
    screen.patient_card.dob_month.setText("01")
    screen.patient_card.dob_day.setText("01")
    with qtbot.assertNotEmitted(screen.checkInRequested):
        click(qtbot, screen.submit_button)
        qtbot.waitUntil(lambda: not screen.checking, timeout=int(WAIT_S * 1000))
    assert "already on file" in screen.messages["mrn"].text()
    assert "Name must be" in screen.messages["name"].text()
    assert "in the future" in screen.messages["dob"].text()


def _fill_new_patient(qtbot, screen, year: str, month: str, day: str) -> None:
    click(qtbot, screen.patient_card.mode.button("new"))
    screen.patient_card.mrn.setText("MRN-009002")
    screen.patient_card.name.setText("Cara Dunne")
    screen.patient_card.dob_year.setText(year)
    screen.patient_card.dob_month.setText(month)
    screen.patient_card.dob_day.setText(day)
    screen.dose_card.weight.setText("64.5")
    answer_medications(qtbot, screen)
    screen.escort.setText("Dan Dunne")


def test_date_of_birth_takes_one_digit_month_and_day(qtbot, screen):
    _fill_new_patient(qtbot, screen, "1980", "5", "14")
    with qtbot.waitSignal(screen.checkInRequested) as blocker:
        click(qtbot, screen.submit_button)
    assert blocker.args[0].patient == NewPatient("MRN-009002", "Cara Dunne", date(1980, 5, 14))


@pytest.mark.parametrize(
    ("month", "day", "message"),
    [
        ("4", "31", "Date of birth: day 31 does not exist in April"),
        ("13", "1", "Date of birth: month must be 1–12, not “13”"),
    ],
)
def test_impossible_date_of_birth_is_refused_naming_the_box(qtbot, screen, month, day,
                                                            message):
    _fill_new_patient(qtbot, screen, "1980", month, day)
    with qtbot.assertNotEmitted(screen.checkInRequested):
        click(qtbot, screen.submit_button)
        qtbot.waitUntil(lambda: not screen.checking, timeout=int(WAIT_S * 1000))
    assert screen.messages["dob"].text() == message
    who = screen.patient_card
    assert (who.dob_year.text(), who.dob_month.text(), who.dob_day.text()) == (
        "1980", month, day)


def test_phq9_item_9_above_zero_warns_that_the_clinician_will_be_told(qtbot, screen):
    click(qtbot, screen.phq9.toggle)
    warning = screen.phq9.item9_warning
    assert not warning.isVisible()
    click(qtbot, screen.phq9.items[8].button(1))
    assert warning.isVisible()
    assert "clinician will be told" in screen.phq9.item9_text.text()
    click(qtbot, screen.phq9.items[8].button(0))
    assert not warning.isVisible()


def test_mood_scores_show_total_and_band_and_must_be_complete(qtbot, screen, ada):
    screen.phq9.set_answers([2, 2, 2, 2, 2, 1, 1, 0, None])
    assert screen.phq9.total.text() == "8 of 9 items answered"
    choose_ada(qtbot, screen)
    answer_medications(qtbot, screen)
    screen.escort.setText("Sam Escort")
    with qtbot.assertNotEmitted(screen.checkInRequested):
        click(qtbot, screen.submit_button)
    assert "PHQ-9" in screen.messages["phq9_items"].text()
    click(qtbot, screen.phq9.items[8].button(0))
    assert screen.phq9.total.text() == "Total 12 of 27 — moderate"
    screen.gad7.set_answers([3, 3, 3, 3, 3, 0, 0])
    assert screen.gad7.total.text() == "Total 15 of 21 — severe"
    with qtbot.waitSignal(screen.checkInRequested) as blocker:
        click(qtbot, screen.submit_button)
    assert blocker.args[0].gad7_items == (3, 3, 3, 3, 3, 0, 0)


def test_the_esketamine_profile_can_be_chosen(qtbot, screen, ada):
    choose_ada(qtbot, screen)
    answer_medications(qtbot, screen)
    screen.escort.setText("Sam Escort")
    click(qtbot, screen.dose_card.profile.button("esketamine_rems"))
    qtbot.waitUntil(lambda: screen.dose_card.protocol() is not None, timeout=int(WAIT_S * 1000))
    with qtbot.waitSignal(screen.checkInRequested) as blocker:
        click(qtbot, screen.submit_button)
    assert blocker.args[0].profile == "esketamine_rems"


def test_errors_from_the_service_are_shown_under_their_field(screen):
    from monitor.clinical.validation import FieldError  # noqa: PLC0415 - only this test needs it

    screen.show_errors([FieldError("mrn", "MRN MRN-1 already belongs to a patient"),
                        FieldError("store", "NOT saved: disk full")])
    assert screen.messages["mrn"].text() == "MRN MRN-1 already belongs to a patient"
    assert "NOT saved: disk full" in screen.summary.text()


def test_cancel_emits_cancelled(qtbot, screen):
    with qtbot.waitSignal(screen.cancelled):
        click(qtbot, screen.cancel_button)


def test_two_columns_in_landscape_and_one_in_portrait_never_scrolling_sideways(qtbot, screen):
    screen.phq9.set_included(True)
    screen.gad7.set_included(True)
    for size in (LANDSCAPE, PORTRAIT):
        resize(qtbot, screen, size)
        for keypad in (False, True):
            if keypad:
                screen.show_keypad(screen.dose_card.weight)
            else:
                screen.hide_keypad()
            qtbot.waitUntil(lambda: screen.form_scroll.widget().width()
                            <= screen.form_scroll.viewport().width())
            assert screen.form_scroll.widget().minimumSizeHint().width() \
                <= screen.form_scroll.viewport().width()
        same_column = screen.dose_card.x() == screen.patient_card.x()
        assert same_column is (size == PORTRAIT)


@pytest.mark.parametrize("size", [LANDSCAPE, PORTRAIT], ids=["landscape", "portrait"])
def test_every_visible_button_and_field_is_at_least_48_px(qtbot, screen, ada, size):
    resize(qtbot, screen, size)
    search(qtbot, screen, "byr")
    screen.phq9.set_included(True)
    screen.gad7.set_included(True)
    screen.show_keypad(screen.dose_card.bag)
    qtbot.waitUntil(screen.keypad.isVisible)
    assert small_touch_targets(screen) == []
    click(qtbot, screen.patient_card.mode.button("new"))
    assert small_touch_targets(screen) == []


def test_number_text():
    assert number_text(35.0) == "35"
    assert number_text(0.875) == "0.875"
    assert number_text(100.0, 0) == "100"
    assert number_text(1.3125) == "1.312"


@pytest.mark.parametrize("size", [LANDSCAPE, PORTRAIT], ids=["landscape", "portrait"])
def test_a_refusal_under_a_field_never_overlaps_the_card_below(qtbot, screen, size):
    resize(qtbot, screen, size)
    screen.submit()
    message = screen.messages["escort"]
    qtbot.waitUntil(message.isVisible)
    # The card holding the escort field grows to hold the message, whatever the column.
    cards = (screen.patient_card, screen.dose_card, screen.medications_card,
             screen.escort_card, screen.mood_card)
    qtbot.waitUntil(lambda: screen.escort_card.height()
                    >= screen.escort_card.layout().totalHeightForWidth(
                        screen.escort_card.width()))
    inside = message.geometry()
    assert inside.bottom() < screen.escort_card.height()
    assert screen.escort.geometry().bottom() < inside.top()
    escort = screen.escort_card.geometry()
    others = [c.geometry() for c in cards if c is not screen.escort_card]
    assert not any(g.intersects(escort) for g in others)


def test_the_summary_names_only_fields_still_to_fix(qtbot, screen, ada):
    choose_ada(qtbot, screen)
    answer_medications(qtbot, screen)
    screen.submit()
    assert screen.summary.isVisible()
    assert screen.summary.text() == "Check: Escort"
    screen.escort.setText("Sam Byrne")
    assert screen.messages["escort"].text() == ""
    assert not screen.summary.isVisible()


def test_a_fixed_field_leaves_the_others_in_the_summary(qtbot, screen):
    screen.submit()
    assert "Escort" in screen.summary.text()
    screen.escort.setText("Sam Byrne")
    assert screen.summary.isVisible()
    assert screen.summary.text().startswith("Check: ")
    assert "Escort" not in screen.summary.text()
    assert "Patient" in screen.summary.text()


# -- controls keep their place ------------------------------------------------------------------


def assert_nothing_moves(screen, change):
    before = control_places(screen)
    change()
    assert moved(before, control_places(screen)) == []


@pytest.mark.parametrize("size", [LANDSCAPE, PORTRAIT], ids=["landscape", "portrait"])
def test_opening_the_keypad_moves_no_control(qtbot, screen, ada, size):
    resize(qtbot, screen, size)
    choose_ada(qtbot, screen)
    assert_nothing_moves(screen, lambda: click(qtbot, screen.dose_card.weight))
    assert screen.keypad.isVisible()
    assert_nothing_moves(screen, lambda: click(qtbot, screen.keypad.button("enter")))
    assert not screen.keypad.isVisible()
    click(qtbot, screen.patient_card.mode.button("new"))
    screen.form_scroll.ensureWidgetVisible(screen.patient_card.dob_day, 0, 24)
    assert_nothing_moves(screen, lambda: click(qtbot, screen.patient_card.dob_month))
    assert screen.keypad.target() is screen.patient_card.dob_month


@pytest.mark.parametrize("size", [LANDSCAPE, PORTRAIT], ids=["landscape", "portrait"])
def test_answering_medications_after_a_refusal_moves_no_control(qtbot, screen, ada, size):
    resize(qtbot, screen, size)
    choose_ada(qtbot, screen)
    screen.escort.setText("Sam Escort")
    with qtbot.assertNotEmitted(screen.checkInRequested):
        click(qtbot, screen.submit_button)
    assert "Answer yes or no" in screen.messages["medications"].text()
    # Scrolled as far as it goes: a form that shrank would pull the rows down under the finger.
    screen.form_scroll.ensureWidgetVisible(screen.messages["medications"], 0, 0)
    bar = screen.form_scroll.verticalScrollBar()
    bar.setValue(bar.maximum())
    for key, _question, _note in MEDICATIONS:
        yes = key in ("psychostimulants", "maois")
        assert_nothing_moves(screen, lambda k=key, y=yes: click(
            qtbot, screen.medications[k].button(y)))
        assert screen.medication_notes[key].isVisible() is yes
    assert screen.messages["medications"].text() == ""
    with qtbot.waitSignal(screen.checkInRequested) as blocker:
        click(qtbot, screen.submit_button)
    assert blocker.args[0].medications["maois"] is True
    assert blocker.args[0].medications["ssris_snris"] is False


def test_a_phq9_item_9_warning_moves_no_control(qtbot, screen):
    screen.phq9.set_included(True)
    item9 = screen.phq9.items[8]
    screen.form_scroll.ensureWidgetVisible(item9, 0, 24)
    assert_nothing_moves(screen, lambda: click(qtbot, item9.button(2)))
    assert screen.phq9.item9_warning.isVisible()


def test_keypad_enter_moves_to_the_next_date_of_birth_field_and_stays_open(qtbot, screen):
    click(qtbot, screen.patient_card.mode.button("new"))
    type_on_keypad(qtbot, screen, screen.patient_card.dob_month, "7")
    click(qtbot, screen.keypad.button("enter"))
    assert screen.keypad.target() is screen.patient_card.dob_day
    assert screen.keypad.isVisible()
    click(qtbot, screen.keypad.button("1"))
    assert screen.patient_card.dob_day.text() == "1"


@pytest.mark.parametrize("size", [LANDSCAPE, PORTRAIT], ids=["landscape", "portrait"])
def test_the_first_refusal_is_scrolled_whole_into_view(qtbot, screen, ada, size):
    resize(qtbot, screen, size)
    choose_ada(qtbot, screen)
    screen.escort.setText("Sam Escort")
    screen.dose_card.lot.setText("K-2231")
    click(qtbot, screen.medications["maois"].button(False))
    with qtbot.assertNotEmitted(screen.checkInRequested):
        screen.submit()
    assert screen.summary.text() == "Check: Medications"
    message = screen.messages["medications"]
    viewport = screen.form_scroll.viewport()

    def whole() -> bool:
        top_left = message.mapTo(viewport, message.rect().topLeft())
        bottom_right = message.mapTo(viewport, message.rect().bottomRight())
        words = message._text
        needed = words.heightForWidth(words.width())
        return (message.isVisible() and words.height() >= needed
                and viewport.rect().contains(top_left) and viewport.rect().contains(bottom_right))

    # Scrolled at once, the message only just shown and not laid out, left it cut at the
    # viewport's edge beside "Check: Medications".
    qtbot.waitUntil(whole)
    if SHOTS:
        screen.window().grab().save(str(Path(SHOTS) / f"checkin-refusal-{size[0]}x{size[1]}.png"))
