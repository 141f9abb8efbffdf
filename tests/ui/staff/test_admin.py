"""Staff administration: add with role and initial PIN, disable with a second tap, reset PIN."""

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
from ui.staff.admin import StaffAdminScreen

NORA = StaffInfo(uuid.uuid4(), "Nora Nurse", "nurse", True, None)
LOCKED = StaffInfo(uuid.uuid4(), "Dr Lee", "clinician", True,
                   datetime(2026, 3, 2, 9, 15, tzinfo=UTC))
GONE = StaffInfo(uuid.uuid4(), "Left Long Ago", "nurse", False, None)


def click(qtbot, widget):
    """Tap ``widget`` once what the window reads is shown, and wait for what the tap asks."""
    settle(qtbot)
    assert widget.isVisible(), widget
    assert widget.isEnabled(), widget
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
    settle(qtbot)


@pytest.fixture
def admin(qtbot):
    screen = StaffAdminScreen(DIM)
    apply_theme(screen, DIM)
    qtbot.addWidget(screen)
    screen.show_staff([NORA, LOCKED, GONE], at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    screen.resize(1280, 800)
    screen.show()
    qtbot.waitExposed(screen)
    return screen


def test_each_staff_member_shows_role_and_state(admin):
    texts = [admin.findChild(type(admin.message), f"admin-row-{n}").text() for n in range(3)]
    assert texts == ["Nora Nurse\nNurse · active", "Dr Lee\nClinician · locked until 09:15",
                     "Left Long Ago\nNurse · disabled"]
    assert not admin.row_buttons[GONE.id]["disable"].isEnabled()


def test_adding_names_the_role_and_the_initial_pin(qtbot, admin):
    admin.name.setText("Pat Night")
    click(qtbot, admin.role_buttons["clinician"])
    for digit in "582917":
        click(qtbot, admin.entry.keypad.button(digit))
    click(qtbot, admin.entry.keypad.button("enter"))
    for digit in "582917":
        click(qtbot, admin.entry.keypad.button(digit))
    with qtbot.waitSignal(admin.addRequested) as asked:
        click(qtbot, admin.save)
    assert asked.args == ["Pat Night", "clinician", "582917"]


def test_adding_refuses_a_short_pin_naming_the_field(qtbot, admin):
    admin.name.setText("Pat Night")
    admin.pin.setText("123")
    admin.repeat.setText("123")
    with qtbot.assertNotEmitted(admin.addRequested):
        click(qtbot, admin.save)
    assert admin.message.text().startswith("PIN: at least 6 digits")


def test_disabling_takes_a_second_tap(qtbot, admin):
    button = admin.row_buttons[NORA.id]["disable"]
    with qtbot.assertNotEmitted(admin.disableRequested):
        click(qtbot, button)
    assert button.text() == "Tap again to disable"
    with qtbot.waitSignal(admin.disableRequested) as asked:
        click(qtbot, button)
    assert asked.args == [NORA.id]


def test_reset_pin_sets_a_new_pin_for_that_person(qtbot, admin):
    click(qtbot, admin.row_buttons[NORA.id]["reset"])
    assert admin.form_title.text() == "New PIN for Nora Nurse"
    assert not admin.name.isVisible()
    admin.pin.setText("640213")
    admin.repeat.setText("640213")
    with qtbot.waitSignal(admin.resetPinRequested) as asked:
        click(qtbot, admin.save)
    assert asked.args == [NORA.id, "640213"]
    click(qtbot, admin.cancel)
    assert admin.form_title.text() == "Add a staff member"


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
def test_staff_admin_has_only_fingertip_targets(qtbot, admin, size):
    admin.set_orientation(Qt.Orientation.Vertical if size[1] > size[0]
                          else Qt.Orientation.Horizontal)
    admin.resize(*size)
    qtbot.waitUntil(lambda: admin.width() == size[0])
    assert small_touch_targets(admin) == []


def test_through_the_window_a_reset_pin_signs_in_and_a_disabled_account_cannot(
        qtbot, service, clock, nurse, window_worker):
    from ui.app.main_window import MainWindow  # noqa: PLC0415 - only this test needs the window

    admin = service.create_first_admin("Sam Admin", "918273")
    window = MainWindow(service, clock, staff=(admin, "Sam Admin"), tick_ms=3_600_000,
                        worker=window_worker)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    settle(qtbot)
    screen = window.staff_admin
    assert window.stack.currentWidget() is screen
    click(qtbot, screen.row_buttons[nurse]["reset"])
    screen.pin.setText("640213")
    screen.repeat.setText("640213")
    click(qtbot, screen.save)
    assert screen.message.text() == "New PIN saved"
    assert service.login(nurse, "640213").name == "Nora Nurse"
    click(qtbot, screen.row_buttons[nurse]["disable"])
    click(qtbot, screen.row_buttons[nurse]["disable"])
    assert screen.message.text().startswith("Disabled")
    assert nurse not in {s.id for s in service.staff_list()}
    assert not screen.row_buttons[nurse]["disable"].isEnabled()
