"""The first start asks once for the tablet's name, in a touch-sized dialog in the theme, and
keeps it; --tablet (and $CHAIRSIDE_TABLET) go before what is kept."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from monitor.storage.settings import TABLET_ENV, default_tablet_name, kept_tablet_name
from tests.ui.touch import small_touch_targets
from ui.app.tablet_name import TabletNameDialog, tablet_name_at_start
from ui.common.ask import ConfirmDialog
from ui.common.theme import DIM, LIGHT

#: Set to a directory to keep the renders (for looking at them).
SHOTS = os.environ.get("CHAIRSIDE_TEST_SHOTS")


class Nurse:
    """Answers the dialogs the way a nurse would: types ``name`` (None keeps what is offered)
    and taps "Use this name"; counts how often she was asked."""

    def __init__(self, qtbot, name: str | None = None, *, close: bool = False) -> None:
        self.qtbot = qtbot
        self.name = name
        self.close = close
        self.asked: list[str] = []
        self.told: list[str] = []

    def __call__(self, dialog: QDialog) -> int:
        self.qtbot.addWidget(dialog)
        dialog.show()
        if isinstance(dialog, ConfirmDialog):
            self.told.append(dialog.question.text())
            self.qtbot.mouseClick(dialog.act, Qt.MouseButton.LeftButton)
            return dialog.result()
        assert isinstance(dialog, TabletNameDialog)
        self.asked.append(dialog.field.text())
        assert small_touch_targets(dialog) == []
        if self.close:
            self.qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
            return dialog.result()
        if self.name is not None:
            dialog.field.clear()
            self.qtbot.keyClicks(dialog.field, self.name)
        self.qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
        return dialog.result()


def never(_dialog: QDialog) -> int:
    raise AssertionError("the tablet's name was asked for again")


def test_the_first_start_asks_once_offering_the_host_name_and_keeps_the_answer(qtbot,
                                                                               tmp_path):
    settings = tmp_path / "settings.json"
    nurse = Nurse(qtbot, "Room-2")
    assert tablet_name_at_start(settings, DIM, environ={}, run=nurse) == "Room-2"
    assert nurse.asked == [default_tablet_name()]
    assert kept_tablet_name(settings) == "Room-2"
    assert tablet_name_at_start(settings, DIM, environ={}, run=never) == "Room-2"


def test_the_host_name_is_taken_with_one_tap(qtbot, tmp_path):
    settings = tmp_path / "settings.json"
    assert tablet_name_at_start(settings, DIM, environ={}, run=Nurse(qtbot)) == \
        default_tablet_name()


def test_the_given_name_wins_over_the_kept_one_and_nothing_is_asked(qtbot, tmp_path):
    settings = tmp_path / "settings.json"
    tablet_name_at_start(settings, DIM, environ={}, run=Nurse(qtbot, "Room-2"))
    assert tablet_name_at_start(settings, DIM, given="Room-5", environ={}, run=never) == "Room-5"
    assert kept_tablet_name(settings) == "Room-5"
    assert tablet_name_at_start(settings, DIM, environ={TABLET_ENV: "Kiosk"}, run=never) == \
        "Kiosk"


def test_closing_instead_keeps_nothing(qtbot, tmp_path):
    settings = tmp_path / "settings.json"
    assert tablet_name_at_start(settings, DIM, environ={}, run=Nurse(qtbot, close=True)) is None
    assert not settings.exists()


@pytest.mark.parametrize(("typed", "problem"), [
    ("", "Tablet name: 1 to 32 characters; it is empty"),
    ("R" * 33, "Tablet name: 1 to 32 characters, not 33"),
])
def test_a_name_that_is_not_one_is_refused_naming_the_field_and_range(qtbot, typed, problem):
    dialog = TabletNameDialog(DIM, "Room-2")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.field.clear()
    qtbot.keyClicks(dialog.field, typed)
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible(), "still asking"
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.message.isVisible()
    assert dialog.message.text() == problem
    qtbot.keyClicks(dialog.field, "x")
    assert not dialog.message.isVisible(), "typing again clears the refusal"


def test_a_name_that_cannot_be_kept_is_used_and_the_nurse_is_told(qtbot, tmp_path):
    not_a_folder = tmp_path / "config"
    not_a_folder.write_text("a file where the settings folder should be")
    nurse = Nurse(qtbot, "Room-2")
    assert tablet_name_at_start(not_a_folder / "settings.json", DIM, environ={},
                                run=nurse) == "Room-2"
    (told,) = nurse.told
    assert told.startswith("This tablet is called Room-2 until ChairSide closes")
    assert "asked again at the next start" in told


@pytest.mark.parametrize("theme", [DIM, LIGHT], ids=["dim", "light"])
def test_the_dialog_is_in_the_theme_and_fits_a_portrait_screen(qtbot, theme):
    dialog = TabletNameDialog(theme, "chairside-tablet-07")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.palette().color(dialog.backgroundRole()).name() == theme.background
    assert dialog.width() <= 800, "fits the portrait tablet"
    assert small_touch_targets(dialog) == []
    explanation_height = dialog.explanation.height()
    assert explanation_height >= dialog.explanation.heightForWidth(dialog.explanation.width())
    dialog.field.clear()
    dialog.accept()  # a refusal shows, and squeezes nothing
    assert dialog.message.isVisible()
    assert dialog.explanation.height() == explanation_height
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        dialog.grab().save(str(Path(SHOTS) / f"tablet-name-{theme.name}.png"))
