"""The e-signature dialog: name, role, time and meaning shown; the PIN required again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt

from tests.ui.touch import small_touch_targets
from ui.signature import DISCHARGE_MEANING, SignatureDialog, SignatureRequest
from ui.style import apply_theme
from ui.theme import DIM

AT = datetime(2026, 3, 2, 10, 42, tzinfo=UTC)


def click(qtbot, widget):
    assert widget.isVisible() and widget.isEnabled(), widget
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


@pytest.fixture
def tried():
    return []


@pytest.fixture
def dialog(qtbot, tried):
    def submit(pin):
        tried.append(pin)
        return None if pin == "314159" else "Wrong PIN — 4 tries left before a 15-minute lock."

    shown = SignatureDialog(DIM, SignatureRequest("Sign discharge", DISCHARGE_MEANING, submit),
                            signer="Nora Nurse", role="nurse", at=AT)
    apply_theme(shown, DIM)
    qtbot.addWidget(shown)
    shown.open()
    qtbot.waitExposed(shown)
    return shown


def test_the_dialog_shows_the_printed_name_time_and_meaning(dialog):
    assert dialog.signer.text() == "Nora Nurse · Nurse"
    assert "10:42" in dialog.time.text()
    assert dialog.meaning.text() == DISCHARGE_MEANING


def test_signing_requires_the_pin(qtbot, dialog, tried):
    with qtbot.assertNotEmitted(dialog.signed):
        click(qtbot, dialog.sign_button)
    assert tried == []
    assert dialog.message.text().startswith("PIN:")
    assert dialog.isVisible()


def test_a_wrong_pin_refuses_and_the_dialog_stays_open(qtbot, dialog, tried):
    for digit in "000001":
        click(qtbot, dialog.entry.keypad.button(digit))
    with qtbot.assertNotEmitted(dialog.signed):
        click(qtbot, dialog.sign_button)
    assert tried == ["000001"]
    assert dialog.message.text().startswith("Wrong PIN — 4 tries left")
    assert dialog.pin.text() == ""
    assert dialog.isVisible()


def test_the_right_pin_signs_and_closes(qtbot, dialog, tried):
    for digit in "314159":
        click(qtbot, dialog.entry.keypad.button(digit))
    with qtbot.waitSignal(dialog.signed):
        click(qtbot, dialog.entry.keypad.button("enter"))
    assert tried == ["314159"]
    assert not dialog.isVisible()


def test_the_dialog_has_only_fingertip_targets(dialog):
    assert small_touch_targets(dialog) == []
