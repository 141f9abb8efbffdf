"""Sign-in: name buttons, the PIN on the keypad or the keys, refusals, the first admin."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt

from monitor.service.auth import StaffInfo
from tests.ui.background import settle
from tests.ui.touch import small_touch_targets
from ui.common.style import apply_theme
from ui.common.theme import DIM
from ui.staff.login import FirstAdminScreen, LoginScreen

NORA = StaffInfo(uuid.uuid4(), "Nora Nurse", "nurse", True, None)
LEE = StaffInfo(uuid.uuid4(), "Dr Lee", "clinician", True, None)
GONE = StaffInfo(uuid.uuid4(), "Left Long Ago", "nurse", False, None)


def click(qtbot, widget):
    """Tap ``widget`` once what the window reads is shown, and wait for what the tap asks."""
    settle(qtbot)
    assert widget.isVisible(), widget
    assert widget.isEnabled(), widget
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
    settle(qtbot)


def type_pin(qtbot, keypad, digits):
    for digit in digits:
        click(qtbot, keypad.button(digit))


@pytest.fixture
def login(qtbot):
    screen = LoginScreen(DIM)
    apply_theme(screen, DIM)
    qtbot.addWidget(screen)
    screen.show_staff([NORA, LEE, GONE])
    screen.resize(1280, 800)
    screen.show()
    qtbot.waitExposed(screen)
    return screen


def test_a_name_then_the_pin_on_the_keypad_asks_to_sign_in(qtbot, login):
    assert set(login.name_buttons) == {NORA.id, LEE.id}, "a disabled account has no button"
    assert not login.pin_panel.isEnabled()
    click(qtbot, login.name_buttons[NORA.id])
    assert "Nora Nurse" in login.who.text()
    type_pin(qtbot, login.entry.keypad, "314159")
    assert login.pin.text() == "314159"
    with qtbot.waitSignal(login.loginRequested) as asked:
        click(qtbot, login.sign_in)
    assert asked.args == [NORA.id, "314159"]


def test_hardware_keys_type_the_pin_and_return_signs_in(qtbot, login):
    click(qtbot, login.name_buttons[LEE.id])
    qtbot.keyClicks(login.pin, "271828")
    with qtbot.waitSignal(login.loginRequested) as asked:
        qtbot.keyClick(login.pin, Qt.Key.Key_Return)
    assert asked.args == [LEE.id, "271828"]


def test_a_refusal_is_shown_and_the_pin_cleared(qtbot, login):
    click(qtbot, login.name_buttons[NORA.id])
    type_pin(qtbot, login.entry.keypad, "000001")
    login.show_error("Wrong PIN — 4 tries left before a 15-minute lock.")
    assert login.message.text().startswith("Wrong PIN — 4 tries left")
    assert login.pin.text() == ""


def test_an_empty_pin_is_not_sent(qtbot, login):
    click(qtbot, login.name_buttons[NORA.id])
    with qtbot.assertNotEmitted(login.loginRequested):
        click(qtbot, login.sign_in)
    assert "PIN" in login.message.text()


def test_a_locked_account_says_until_when_on_its_button(qtbot, login):
    until = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)
    locked = StaffInfo(NORA.id, NORA.name, NORA.role, True, until)
    login.show_staff([locked], at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    assert "locked until 09:15" in login.name_buttons[NORA.id].text()


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
def test_login_has_only_fingertip_targets(qtbot, login, size):
    login.set_orientation(Qt.Orientation.Vertical if size[1] > size[0]
                          else Qt.Orientation.Horizontal)
    login.resize(*size)
    click(qtbot, login.name_buttons[NORA.id])
    qtbot.waitUntil(lambda: login.width() == size[0])
    assert small_touch_targets(login) == []


@pytest.fixture
def first(qtbot):
    screen = FirstAdminScreen(DIM)
    apply_theme(screen, DIM)
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    qtbot.waitExposed(screen)
    return screen


def test_first_admin_types_the_pin_twice(qtbot, first):
    first.name.setText("Sam Admin")
    type_pin(qtbot, first.entry.keypad, "918273")
    click(qtbot, first.entry.keypad.button("enter"))  # Enter moves to the second field
    assert first.entry.keypad.target() is first.repeat
    type_pin(qtbot, first.entry.keypad, "918273")
    with qtbot.waitSignal(first.created) as created:
        click(qtbot, first.create_button)
    assert created.args == ["Sam Admin", "918273"]


def test_first_admin_refuses_a_short_or_different_pin_naming_the_field(qtbot, first):
    first.name.setText("Sam Admin")
    first.pin.setText("1234")
    first.repeat.setText("1234")
    with qtbot.assertNotEmitted(first.created):
        click(qtbot, first.create_button)
    assert first.message.text().startswith("PIN: at least 6 digits")
    first.pin.setText("918273")
    first.repeat.setText("918274")
    with qtbot.assertNotEmitted(first.created):
        click(qtbot, first.create_button)
    assert "not the same" in first.message.text()
    first.name.setText("")
    with qtbot.assertNotEmitted(first.created):
        click(qtbot, first.create_button)
    assert "name" in first.message.text().lower()


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
def test_first_admin_has_only_fingertip_targets(qtbot, first, size):
    first.set_orientation(Qt.Orientation.Vertical if size[1] > size[0]
                          else Qt.Orientation.Horizontal)
    first.resize(*size)
    qtbot.waitUntil(lambda: first.width() == size[0])
    assert small_touch_targets(first) == []


# -- through the window, the service and the database --------------------------------------


@pytest.fixture
def window_for(qtbot, service, clock, window_worker):
    def build(**kwargs):
        from ui.app.main_window import MainWindow  # noqa: PLC0415 - only these tests need it

        shown = MainWindow(service, clock, tick_ms=3_600_000, worker=window_worker, **kwargs)
        qtbot.addWidget(shown)
        shown.resize(1280, 800)
        shown.show()
        qtbot.waitExposed(shown)
        settle(qtbot)
        return shown
    return build


def sign_in(qtbot, screen, staff_id, pin):
    click(qtbot, screen.name_buttons[staff_id])
    type_pin(qtbot, screen.entry.keypad, pin)
    click(qtbot, screen.sign_in)


def test_the_first_start_creates_an_administrator_who_lands_on_staff_admin(
        qtbot, window_for, service):
    window = window_for()
    assert window.stack.currentWidget() is window.first_admin
    assert window.focusWidget() is window.first_admin.name, "the name is asked first"
    window.first_admin.name.setText("Sam Admin")
    window.first_admin.pin.setText("918273")
    window.first_admin.repeat.setText("918273")
    click(qtbot, window.first_admin.create_button)
    assert window.stack.currentWidget() is window.staff_admin
    assert (window.staff_name, window.staff_role) == ("Sam Admin", "admin")
    assert not service.needs_first_admin()
    window.show_overview()  # an administrator is never shown the chairs
    assert window.stack.currentWidget() is window.staff_admin


def test_an_administrator_adds_a_nurse_who_then_signs_in(qtbot, window_for, service):
    admin = service.create_first_admin("Sam Admin", "918273")
    window = window_for()
    sign_in(qtbot, window.login_screen, admin, "918273")
    screen = window.staff_admin
    assert window.stack.currentWidget() is screen
    screen.name.setText("Pat Night")
    screen.pin.setText("582917")
    screen.repeat.setText("582917")
    click(qtbot, screen.save)
    assert screen.message.text().startswith("Added Pat Night")
    pat = next(s for s in service.staff_list() if s.name == "Pat Night")
    assert pat.role == "nurse"
    click(qtbot, screen.lock_button)
    sign_in(qtbot, window.lock_screen.login, pat.id, "582917")
    assert window.stack.currentWidget() is window.overview
    assert window.overview.user.text() == "Signed in: Pat Night (nurse)"


def test_login_success_failure_and_lockout_say_what_happened(qtbot, window_for, service, nurse):
    service.create_first_admin("Sam Admin", "918273")
    window = window_for()
    screen = window.login_screen
    assert window.stack.currentWidget() is screen
    sign_in(qtbot, screen, nurse, "000001")
    assert screen.message.text().startswith("Wrong PIN — 4 tries left")
    for _ in range(4):
        sign_in(qtbot, screen, nurse, "000001")
    assert "Locked" in screen.message.text()
    assert "until" in screen.message.text()
    assert "locked until" in screen.name_buttons[nurse].text()
    assert window.stack.currentWidget() is screen


def test_the_right_pin_opens_the_overview_with_name_and_role(qtbot, window_for, service, nurse):
    from tests.conftest import TEST_PIN  # noqa: PLC0415

    service.create_first_admin("Sam Admin", "918273")
    window = window_for()
    sign_in(qtbot, window.login_screen, nurse, TEST_PIN)
    assert window.stack.currentWidget() is window.overview
    assert (window.staff_name, window.staff_role) == ("Nora Nurse", "nurse")
    assert window.overview.user.text() == "Signed in: Nora Nurse (nurse)"


def test_the_demo_hint_shows_on_the_login_screen(window_for, service, nurse):
    service.create_first_admin("Sam Admin", "918273")
    window = window_for(login_hint="Demo database: every PIN is 135790")
    assert window.login_screen.demo_hint.text() == "Demo database: every PIN is 135790"
    assert window.login_screen.demo_hint.isVisible()
