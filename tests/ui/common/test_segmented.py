"""The segmented choice shared by check-in and the entry forms: one tap chooses, at most one
value is chosen, and a second tap takes the choice back only where that is allowed."""

import pytest
from PySide6.QtCore import Qt

from ui.common.segmented import SEGMENT_MIN, Segmented
from ui.common.style import apply_theme
from ui.common.theme import DIM, TOUCH_MIN


def shown(qtbot, segmented):
    qtbot.addWidget(segmented)
    apply_theme(segmented, DIM)
    segmented.resize(400, 200)
    segmented.show()
    qtbot.waitExposed(segmented)
    return segmented


def tap(qtbot, button):
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_a_tap_chooses_one_value_and_says_so(qtbot):
    score = shown(qtbot, Segmented("score", range(5)))
    with qtbot.waitSignal(score.changed) as changed:
        tap(qtbot, score.button(3))
    assert changed.args == [3]
    assert score.value() == 3
    tap(qtbot, score.button(1))
    assert [v for v in score.values() if score.button(v).isChecked()] == [1]


@pytest.mark.parametrize(("allow_none", "after"), [(True, None), (False, 2)])
def test_a_second_tap_takes_the_choice_back_only_when_allowed(qtbot, allow_none, after):
    score = shown(qtbot, Segmented("pain", range(11), allow_none=allow_none))
    tap(qtbot, score.button(2))
    with qtbot.waitSignal(score.changed) as changed:
        tap(qtbot, score.button(2))
    assert changed.args == [after]
    assert score.value() == after
    assert score.button(2).isChecked() is (after == 2)


def test_set_value_shows_the_choice_without_a_signal(qtbot):
    answer = shown(qtbot, Segmented("med", [False, True], ["No", "Yes"]))
    with qtbot.assertNotEmitted(answer.changed):
        answer.set_value(True)
    assert answer.button(True).isChecked()
    assert not answer.button(False).isChecked()
    assert answer.button(True).objectName() == "med-True"


def test_buttons_are_touch_sized_and_keep_no_focus_from_a_tap(qtbot):
    score = shown(qtbot, Segmented("score", range(5)))
    for value in score.values():
        button = score.button(value)
        assert button.height() >= SEGMENT_MIN >= TOUCH_MIN
        assert button.focusPolicy() == Qt.FocusPolicy.TabFocus
        assert button.property("segment") is True


def test_long_labels_stand_in_a_grid_of_choices(qtbot):
    kinds = shown(qtbot, Segmented("adverse", ["a", "b", "c"], ["Nausea", "Headache", "Other"],
                                   columns=2))
    a, b, c = (kinds.button(v) for v in ("a", "b", "c"))
    assert a.property("choice") is True
    assert a.y() == b.y() < c.y()  # two to a row
    assert a.x() == c.x()
