"""The PIN entry shared by sign-in, the lock screen, the signature dialog and staff
administration: the tapped field is the one the keypad types into, Enter submits, and a new
PIN is checked by the service's rule before it is sent."""

import pytest
from PySide6.QtCore import Qt

from ui.common.labels import role_word
from ui.common.pin import MAX_PIN, PinEntry, PinField, pin_problem
from ui.common.style import apply_theme
from ui.common.theme import DIM


@pytest.fixture
def entry(qtbot):
    pins = PinEntry(DIM, [PinField("pin", "PIN"), PinField("pin-repeat", "Again")])
    qtbot.addWidget(pins)
    apply_theme(pins, DIM)
    pins.show()
    qtbot.waitExposed(pins)
    return pins


def tap(qtbot, widget):
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def test_the_keypad_types_into_the_field_tapped_and_only_that_one_is_outlined(qtbot, entry):
    first, second = entry.fields
    assert entry.keypad.target() is first
    tap(qtbot, second)
    for key in "2468":
        tap(qtbot, entry.keypad.button(key))
    assert (first.text(), second.text()) == ("", "2468")
    assert second.property("active") is True
    assert first.property("active") is False


def test_enter_submits_and_clear_empties_every_field(qtbot, entry):
    tap(qtbot, entry.keypad.button("1"))
    with qtbot.waitSignal(entry.submitted):
        tap(qtbot, entry.keypad.button("enter"))
    entry.clear()
    assert [field.text() for field in entry.fields] == ["", ""]
    assert entry.keypad.target() is entry.fields[0]


def test_a_pin_field_is_masked_and_takes_a_password(entry):
    field = entry.fields[0]
    assert field.echoMode() == field.EchoMode.Password
    assert field.maxLength() == MAX_PIN


def test_pin_problem_says_why_a_new_pin_is_refused():
    assert pin_problem("482913") is None
    assert pin_problem("4829") == "PIN: at least 6 digits (got 4)"
    assert "repeated" in (pin_problem("111111") or "")


def test_roles_read_as_words():
    assert [role_word(r) for r in ("nurse", "clinician", "admin", "pharmacist")] == [
        "Nurse", "Clinician", "Administrator", "Pharmacist"]
