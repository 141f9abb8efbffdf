"""The built-in numeric keypad: what each key types, and that it types nothing but ASCII.

Keys are pressed with ``qtbot.mouseClick`` on the key buttons, never with synthesized key
events (a non-ASCII key event aborts Qt); the fuzzing drives the keypad's own API.
"""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from ui.common.keypad import BACKSPACE, CLEAR, ENTER, NumericKeypad
from ui.common.style import KEY_MIN, apply_theme
from ui.common.theme import DIM, LIGHT

KEYS = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "/", BACKSPACE, CLEAR)


@pytest.fixture
def keypad(qtbot):
    pad = NumericKeypad(DIM)
    qtbot.addWidget(pad)
    apply_theme(pad, DIM)
    pad.resize(320, 380)
    pad.show()
    qtbot.waitExposed(pad)
    return pad


@pytest.fixture
def bp_keypad(keypad):
    keypad.set_target(None, slash=True)
    return keypad


def tap(qtbot, pad, keys):
    for key in keys:
        qtbot.mouseClick(pad.button(key), Qt.MouseButton.LeftButton)


def test_digits_are_typed_in_order_and_reported(qtbot, keypad):
    seen = []
    keypad.valueChanged.connect(seen.append)
    tap(qtbot, keypad, "128")
    assert keypad.text() == "128"
    assert seen == ["1", "12", "128"]


def test_digit_keys_are_in_phone_order(keypad):
    top = [keypad.button(d).geometry() for d in "123"]
    bottom = [keypad.button(d).geometry() for d in "789"]
    assert all(t.top() < b.top() for t, b in zip(top, bottom, strict=True))
    assert top[0].left() < top[1].left() < top[2].left()
    assert keypad.button("0").geometry().top() > bottom[0].top()


def test_blood_pressure_is_typed_as_one_entry(qtbot, bp_keypad):
    tap(qtbot, bp_keypad, "128/82")
    assert bp_keypad.text() == "128/82"


def test_slash_is_only_accepted_once_and_after_a_digit(qtbot, bp_keypad):
    tap(qtbot, bp_keypad, "/128//82/")
    assert bp_keypad.text() == "128/82"


def test_slash_key_is_disabled_where_no_slash_is_meant(qtbot, keypad):
    assert not keypad.button("/").isEnabled()
    tap(qtbot, keypad, "7")
    keypad.button("/").click()
    assert keypad.text() == "7"


def test_decimal_point_key_types_one_point_after_a_digit(qtbot, keypad):
    keypad.set_target(None, decimal=True)
    assert keypad.button(".").text() == "."
    tap(qtbot, keypad, ".70..5")
    assert keypad.text() == "70.5"


def test_backspace_removes_the_last_character_and_clear_everything(qtbot, bp_keypad):
    tap(qtbot, bp_keypad, "128/8")
    tap(qtbot, bp_keypad, [BACKSPACE, BACKSPACE])
    assert bp_keypad.text() == "128"
    tap(qtbot, bp_keypad, [CLEAR])
    assert bp_keypad.text() == ""


def test_enter_submits_the_text(qtbot, keypad):
    tap(qtbot, keypad, "72")
    with qtbot.waitSignal(keypad.submitted) as blocker:
        qtbot.mouseClick(keypad.button(ENTER), Qt.MouseButton.LeftButton)
    assert blocker.args == ["72"]


def test_text_stops_at_the_maximum_length_and_says_so(qtbot, keypad):
    keypad.set_target(None, max_length=3)
    with qtbot.waitSignal(keypad.refused) as refused:
        tap(qtbot, keypad, "12345")
    assert keypad.text() == "123"
    assert "at most 3 characters" in refused.args[0]


def test_a_loaded_value_is_replaced_by_the_first_digit(qtbot, bp_keypad):
    bp_keypad.set_text("128/82", replace_on_type=True)
    assert bp_keypad.target().selectedText() == "128/82"
    tap(qtbot, bp_keypad, "13")
    assert bp_keypad.text() == "13"


def test_enter_on_a_loaded_value_submits_it_unchanged(qtbot, keypad):
    keypad.set_text("72", replace_on_type=True)
    with qtbot.waitSignal(keypad.submitted) as blocker:
        qtbot.mouseClick(keypad.button(ENTER), Qt.MouseButton.LeftButton)
    assert blocker.args == ["72"]


def test_backspace_on_a_loaded_value_removes_it_whole(qtbot, keypad):
    # The value shows selected; like any text field, Backspace removes the selection.
    keypad.set_text("72", replace_on_type=True)
    tap(qtbot, keypad, [BACKSPACE])
    assert keypad.text() == ""
    tap(qtbot, keypad, ["6", "8", BACKSPACE, "5"])
    assert keypad.text() == "65"


def test_it_edits_a_line_edit_it_is_given(qtbot):
    field = QLineEdit()
    pad = NumericKeypad(LIGHT, target=field)
    qtbot.addWidget(pad)
    qtbot.addWidget(field)
    pad.show()
    qtbot.waitExposed(pad)
    tap(qtbot, pad, "98")
    assert field.text() == "98"
    assert pad.target() is field
    assert not pad.findChild(QLineEdit, "keypad-display").isVisible()


def test_switching_target_keeps_each_fields_text(qtbot, keypad):
    first, second = QLineEdit(), QLineEdit()
    qtbot.addWidget(first)
    qtbot.addWidget(second)
    keypad.set_target(first)
    tap(qtbot, keypad, "72")
    keypad.set_target(second)
    tap(qtbot, keypad, "97")
    assert (first.text(), second.text()) == ("72", "97")


@pytest.mark.parametrize("size", [(300, 300), (320, 380), (500, 700)])
def test_every_key_is_at_least_64_px(qtbot, keypad, size):
    keypad.set_target(None, slash=True)
    keypad.resize(*size)
    qtbot.waitUntil(lambda: keypad.button("0").height() >= KEY_MIN)
    for key in (*KEYS, ENTER):
        button = keypad.button(key)
        assert button.width() >= KEY_MIN, key
        assert button.height() >= KEY_MIN, key


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=200)
@given(text=st.text(max_size=30), slash=st.booleans(), decimal=st.booleans())
def test_loaded_text_keeps_only_what_the_keys_could_type(keypad, text, slash, decimal):
    keypad.set_target(None, slash=slash, decimal=decimal, max_length=7)
    keypad.set_text(text)
    result = keypad.text()
    assert result.isascii()
    assert set(result) <= set("0123456789" + ("/" if slash else "") + ("." if decimal else ""))
    assert len(result) <= 7
    remaining = iter(text)
    assert all(char in remaining for char in result)  # a subsequence of what was given


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=200)
@given(keys=st.lists(st.sampled_from(KEYS), max_size=20))
def test_any_key_sequence_gives_a_well_formed_ascii_entry(keypad, keys):
    keypad.set_target(None, slash=True, max_length=7)
    keypad.clear()
    for key in keys:
        keypad.button(key).click()
    assert re.fullmatch(r"([0-9]+(/[0-9]*)?)?", keypad.text())
    assert len(keypad.text()) <= 7


def test_hardware_digit_keys_type_like_the_keys(qtbot, bp_keypad):
    for key in (Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_8, Qt.Key.Key_Slash, Qt.Key.Key_8,
                Qt.Key.Key_2):
        qtbot.keyClick(bp_keypad, key)
    assert bp_keypad.text() == "128/82"


def test_hardware_backspace_delete_and_enter_work(qtbot, bp_keypad):
    qtbot.keyClicks(bp_keypad, "130/8")
    qtbot.keyClick(bp_keypad, Qt.Key.Key_Backspace)
    assert bp_keypad.text() == "130/"
    qtbot.keyClicks(bp_keypad, "85")
    with qtbot.waitSignal(bp_keypad.submitted) as submitted:
        qtbot.keyClick(bp_keypad, Qt.Key.Key_Return)
    assert submitted.args == ["130/85"]
    qtbot.keyClick(bp_keypad, Qt.Key.Key_Delete)
    assert bp_keypad.text() == ""


def test_hardware_keys_the_field_does_not_take_type_nothing_and_are_refused(qtbot, keypad):
    refusals = []
    keypad.refused.connect(refusals.append)
    qtbot.keyClicks(keypad, "9/a.")
    assert keypad.text() == "9"
    assert [r[:3] for r in refusals] == ["“/”", "“a”", "“.”"]
    assert all("digits 0-9" in r for r in refusals)
    keypad.set_target(None, decimal=True)
    qtbot.keyClicks(keypad, ".5")
    assert keypad.text() == "9.5"


def test_a_fields_own_check_words_the_refusal_and_stops_the_key(qtbot, keypad):
    keypad.set_target(None, check=lambda text, key: None if key != "7" else f"no 7 after {text}")
    with qtbot.waitSignal(keypad.refused) as refused:
        tap(qtbot, keypad, "17")
    assert keypad.text() == "1"
    assert refused.args == ["no 7 after 1"]


def test_a_refused_key_leaves_a_loaded_value_as_it_stands(qtbot, keypad):
    keypad.set_text("72", replace_on_type=True)
    qtbot.keyClicks(keypad, "x")
    assert keypad.text() == "72"
    tap(qtbot, keypad, "8")
    assert keypad.text() == "8"  # still typed over: the refusal changed nothing


def test_space_tab_and_enter_are_not_refusals(qtbot, keypad):
    with qtbot.assertNotEmitted(keypad.refused):
        qtbot.keyClick(keypad, Qt.Key.Key_Space)
        qtbot.keyClick(keypad, Qt.Key.Key_Tab)


def test_shortcut_chords_are_left_alone(qtbot, keypad):
    qtbot.keyClick(keypad, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert keypad.text() == ""
