"""Sign-in, the lock, staff administration and the audit trail with the database worker on
its own thread and a server that holds the call: the screen says "Checking…", "Saving…" or
"Loading…", the window's own timer goes on ticking (the lock's countdowns move on from the
clock) and other controls answer; a second tap sends nothing; the server's answer is shown
when it comes, and an unreachable or busy server is said without losing what was typed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import shiboken6
from PySide6.QtCore import Qt, QTimer

from monitor.service.worker import ThreadWorker
from monitor.storage.store import NotSavedError, StoreUnavailableError
from tests.conftest import TEST_PIN
from tests.support.stall import WAIT_S, StalledService
from tests.ui.app.test_live import two_chairs
from tests.ui.background import settle
from ui.app.main_window import MainWindow
from ui.common.keypad import ENTER

WAIT_MS = int(WAIT_S * 1000)
#: The window's tick here: fast, so that the test sees its own timer fire while a call is held.
TICK_MS = 20
BUSY_TEXT = "the database is busy (another device holds a lock, or the server is overloaded)"
#: As the store words them (monitor.storage.store): a read, and a write.
UNREACHABLE = StoreUnavailableError("unreachable",
                                    "Could not read: the database cannot be reached.")
BUSY = StoreUnavailableError("busy", f"Could not read: {BUSY_TEXT}.")
UNREACHABLE_SAVE = NotSavedError("unreachable", "NOT saved: the database cannot be reached.")
BUSY_SAVE = NotSavedError("busy", f"NOT saved: {BUSY_TEXT}.")


def click(qtbot, widget):
    assert widget.isVisible(), widget
    assert widget.isEnabled(), widget
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def event_loop_runs(qtbot) -> None:
    """A timer fires: the GUI thread is free."""
    timer = QTimer()
    timer.setSingleShot(True)
    with qtbot.waitSignal(timer.timeout, timeout=WAIT_MS):
        timer.start(0)


@pytest.fixture
def worker():
    worker = ThreadWorker()
    yield worker
    worker.close(WAIT_S)


@pytest.fixture
def gated(service):
    return StalledService(service)


@pytest.fixture
def build(qtbot, gated, clock, worker):
    built: list[MainWindow] = []

    def make(staff=None, tick_ms=None):
        """The window, its first reads answered; ``tick_ms``: its tick from then on (the
        test then waits for what it names, never for the worker to be idle: the tick keeps
        asking)."""
        window = MainWindow(gated, clock, staff=staff, tick_ms=3_600_000,
                            idle_lock_s=600, worker=worker)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        settle(qtbot)
        if tick_ms is not None:
            window.timer.start(tick_ms)
        built.append(window)
        return window

    yield make
    # The tick stops first: nothing more is asked of the worker, and every answer is in
    # before it closes (a call it cancelled would be answered as cancelled). The windows
    # may be closed already (pytest-qt closes what the test showed): their answers are
    # waited for all the same.
    backgrounds = [window.board.background for window in built]
    for window in built:
        if shiboken6.isValid(window):
            window.timer.stop()
    gated.release()
    qtbot.waitUntil(lambda: all(b.in_flight == 0 for b in backgrounds), timeout=WAIT_MS)


def type_pin(qtbot, login, staff_id, pin):
    click(qtbot, login.name_buttons[staff_id])
    for digit in pin:
        click(qtbot, login.entry.keypad.button(digit))


# -- sign-in and unlock ----------------------------------------------------------------------


def test_unlock_says_checking_sends_once_and_the_tick_runs_on_until_the_answer(
        qtbot, build, gated, service, clock, nurse):
    two_chairs(service, clock, nurse)
    window = build(staff=(nurse, "Nora Nurse"), tick_ms=TICK_MS)
    window.lock("manual")
    login = window.lock_screen.login
    qtbot.waitUntil(lambda: nurse in login.name_buttons, timeout=WAIT_MS)
    before = window.lock_screen.chair_texts()
    assert any("reading due in" in text for text in before)
    gated.stall("login")
    type_pin(qtbot, login, nurse, TEST_PIN)
    click(qtbot, login.sign_in)
    assert gated.entered.wait(WAIT_S)
    assert login.message.text() == "Checking…"
    assert not login.sign_in.isEnabled()
    assert not login.entry.keypad.button(ENTER).isEnabled()
    login.submit()  # Return on a keyboard, a second tap: nothing more is sent
    qtbot.keyClick(login.pin, Qt.Key.Key_Return)
    # The window's own timer ticks on: the lock's countdown moves with the clock.
    clock.advance(timedelta(minutes=1))
    qtbot.waitUntil(lambda: window.lock_screen.chair_texts() != before, timeout=WAIT_MS)
    assert window.locked
    gated.release()
    qtbot.waitUntil(lambda: not window.locked, timeout=WAIT_MS)
    assert gated.calls["login"] == 1
    assert window.stack.currentWidget() is window.overview
    assert window.staff_name == "Nora Nurse"


@pytest.mark.parametrize("failure", [UNREACHABLE_SAVE, BUSY], ids=["unreachable", "busy"])
def test_sign_in_on_a_server_that_fails_says_so_and_keeps_the_pin(
        qtbot, build, gated, service, nurse, failure):
    service.create_first_admin("Sam Admin", "918273")
    window = build()
    login = window.login_screen
    gated.stall("login")
    type_pin(qtbot, login, nurse, TEST_PIN)
    click(qtbot, login.sign_in)
    assert gated.entered.wait(WAIT_S)
    assert login.message.text() == "Checking…"
    event_loop_runs(qtbot)
    gated.release(fail=failure)
    qtbot.waitUntil(lambda: login.message.text() != "Checking…", timeout=WAIT_MS)
    assert failure.message in login.message.text()
    assert login.pin.text() == TEST_PIN, "nothing was checked: the PIN stays for the next tap"
    assert login.sign_in.isEnabled()
    assert window.stack.currentWidget() is login
    assert window.banner.isVisible() == (failure.reason == "unreachable")
    # The server answers again: the same PIN, tapped again, signs in.
    gated.stall()
    click(qtbot, login.sign_in)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.overview, timeout=WAIT_MS)


def test_the_names_say_loading_until_they_are_read(qtbot, gated, clock, worker, service,
                                                   nurse):
    service.create_first_admin("Sam Admin", "918273")
    gated.stall("staff_list")
    window = MainWindow(gated, clock, tick_ms=3_600_000, worker=worker)
    qtbot.addWidget(window)
    window.show()
    assert gated.entered.wait(WAIT_S)
    login = window.login_screen
    assert login.empty.text() == "Loading…"
    assert login.empty.isVisible()
    assert login.name_buttons == {}
    gated.release()
    qtbot.waitUntil(lambda: nurse in login.name_buttons, timeout=WAIT_MS)
    assert login.empty.isHidden()


# -- staff administration ---------------------------------------------------------------------


@pytest.fixture
def admin(service):
    return service.create_first_admin("Sam Admin", "918273")


def fill_new(screen, name, pin):
    screen.name.setText(name)
    screen.pin.setText(pin)
    screen.repeat.setText(pin)


def test_adding_staff_says_saving_sends_once_and_the_screen_answers_meanwhile(
        qtbot, build, gated, service, admin):
    window = build(staff=(admin, "Sam Admin"))
    screen = window.staff_admin
    gated.stall("add_staff")
    fill_new(screen, "Pat Night", "582917")
    click(qtbot, screen.save)
    assert gated.entered.wait(WAIT_S)
    assert screen.message.text() == "Saving…"
    assert not screen.save.isEnabled()
    screen.submit()  # a second tap: nothing more is sent
    # The screen answers while the server holds the save: a role tapped is chosen.
    click(qtbot, screen.role_buttons["clinician"])
    assert screen.role == "clinician"
    event_loop_runs(qtbot)
    gated.release()
    qtbot.waitUntil(lambda: screen.message.text().startswith("Added Pat Night"),
                    timeout=WAIT_MS)
    settle(qtbot)
    assert gated.calls["add_staff"] == 1
    assert any(s.name == "Pat Night" for s in screen.staff), "the list is read again"
    assert screen.name.text() == "", "added: the form is ready for the next"
    assert screen.list_state.isHidden()


def test_the_idle_lock_comes_on_time_while_the_server_holds_a_staff_change(
        qtbot, build, gated, service, admin):
    window = build(staff=(admin, "Sam Admin"), tick_ms=TICK_MS)
    screen = window.staff_admin
    gated.stall("add_staff")
    fill_new(screen, "Pat Night", "582917")
    click(qtbot, screen.save)
    assert gated.entered.wait(WAIT_S)
    window.clock.advance(timedelta(seconds=600))
    # The window's own timer finds the idle time over: the lock covers the screen at once.
    qtbot.waitUntil(lambda: window.locked, timeout=WAIT_MS)
    assert window.stack.currentWidget() is window.lock_screen
    assert window.lock_screen.login.empty.text() == "Loading…", "the names wait their turn"
    gated.release()
    qtbot.waitUntil(lambda: "Sam Admin" in {
        s.name for s in window.lock_screen.login.staff}, timeout=WAIT_MS)
    assert screen.message.text().startswith("Added Pat Night"), "answered beneath the lock"
    assert [e.staff_name for e in service.audit_entries(by=admin, action="screen_lock")] == [
        "Sam Admin"]


@pytest.mark.parametrize("failure", [UNREACHABLE_SAVE, BUSY_SAVE],
                         ids=["unreachable", "busy"])
def test_a_staff_change_the_server_cannot_take_is_said_and_the_form_kept(
        qtbot, build, gated, service, admin, failure):
    window = build(staff=(admin, "Sam Admin"))
    screen = window.staff_admin
    gated.stall("add_staff")
    fill_new(screen, "Pat Night", "582917")
    click(qtbot, screen.save)
    assert gated.entered.wait(WAIT_S)
    gated.release(fail=failure)
    qtbot.waitUntil(lambda: screen.message.text() != "Saving…", timeout=WAIT_MS)
    assert screen.message.text() == failure.message
    assert (screen.name.text(), screen.pin.text(), screen.repeat.text()) == (
        "Pat Night", "582917", "582917")
    assert screen.save.isEnabled()
    assert not any(s.name == "Pat Night" for s in service.staff_list())


def test_disable_and_reset_pin_wait_for_the_server_then_show_its_answer(
        qtbot, build, gated, service, admin, nurse):
    window = build(staff=(admin, "Sam Admin"))
    screen = window.staff_admin
    gated.stall("disable_staff")
    click(qtbot, screen.row_buttons[nurse]["disable"])
    click(qtbot, screen.row_buttons[nurse]["disable"])
    assert gated.entered.wait(WAIT_S)
    assert screen.message.text() == "Saving…"
    assert not screen.row_buttons[nurse]["reset"].isEnabled()
    gated.release()
    qtbot.waitUntil(lambda: screen.message.text().startswith("Disabled"), timeout=WAIT_MS)
    settle(qtbot)
    assert not screen.row_buttons[nurse]["disable"].isEnabled()
    assert gated.calls["disable_staff"] == 1


def test_the_staff_list_says_loading_then_the_staff_or_why_not(
        qtbot, build, gated, admin, nurse):
    window = build(staff=(admin, "Sam Admin"))
    screen = window.staff_admin
    gated.stall("staff_list")
    window._refresh_admin()
    assert gated.entered.wait(WAIT_S)
    assert screen.list_state.text() == "Loading…"
    assert screen.list_state.isVisible()
    gated.release(fail=UNREACHABLE)
    qtbot.waitUntil(lambda: screen.list_state.text() != "Loading…", timeout=WAIT_MS)
    assert "cannot be reached" in screen.list_state.text()
    assert nurse in screen.row_buttons, "the rows last read stay"
    assert window.banner.isVisible()


# -- the audit trail -----------------------------------------------------------------------------


@pytest.fixture
def clinician(service):
    return service.ensure_staff("Dr Lee", "clinician", pin="739104")


def rows(screen):
    return [screen.model.entry(r) for r in range(screen.model.rowCount())]


def test_the_audit_trail_says_loading_and_the_filter_can_be_typed_meanwhile(
        qtbot, build, gated, service, clock, nurse, clinician):
    two_chairs(service, clock, nurse)
    window = build(staff=(clinician, "Dr Lee"))
    gated.stall("audit_entries")
    click(qtbot, window.overview.audit_button)
    assert gated.entered.wait(WAIT_S)
    screen = window.audit
    assert window.stack.currentWidget() is screen
    assert screen.count.text() == "Loading…"
    qtbot.keyClicks(screen.mrn, "MRN-007730")  # the GUI takes keys while the read is held
    assert screen.mrn.text() == "MRN-007730"
    gated.release()
    qtbot.waitUntil(lambda: screen.count.text().endswith("entries"), timeout=WAIT_MS)
    assert len(rows(screen)) > 4


def test_only_the_newest_filters_answer_is_shown(
        qtbot, build, gated, service, clock, nurse, clinician):
    two_chairs(service, clock, nurse)
    window = build(staff=(clinician, "Dr Lee"))
    click(qtbot, window.overview.audit_button)
    settle(qtbot)
    screen = window.audit
    shown: list[int] = []
    real = screen.show_entries
    screen.show_entries = lambda entries, **kw: (shown.append(len(entries)),
                                                 real(entries, **kw))
    gated.stall("audit_entries")
    click(qtbot, screen.apply_button)  # the whole trail: held
    assert gated.entered.wait(WAIT_S)
    screen.mrn.setText("MRN-007730")
    click(qtbot, screen.apply_button)  # a narrower filter, asked before the first answers
    gated.release()
    settle(qtbot)
    assert gated.calls["audit_entries"] == 2
    assert len(shown) == 1, "the older answer, arriving first, was dropped"
    patient = service.find_patient("MRN-007730")
    assert rows(screen)
    assert {e.patient_id for e in rows(screen)} == {patient.id}


@pytest.mark.parametrize("failure", [UNREACHABLE, BUSY], ids=["unreachable", "busy"])
def test_an_audit_read_the_server_cannot_answer_is_said_and_the_filter_kept(
        qtbot, build, gated, service, clock, nurse, clinician, failure):
    two_chairs(service, clock, nurse)
    window = build(staff=(clinician, "Dr Lee"))
    click(qtbot, window.overview.audit_button)
    settle(qtbot)
    screen = window.audit
    before = screen.count.text()
    gated.stall("audit_entries")
    screen.mrn.setText("MRN-007730")
    click(qtbot, screen.apply_button)
    assert gated.entered.wait(WAIT_S)
    gated.release(fail=failure)
    qtbot.waitUntil(screen.message.isVisible, timeout=WAIT_MS)
    assert screen.message.text() == failure.message
    assert screen.mrn.text() == "MRN-007730"
    assert screen.count.text() == before, "the entries shown, and their count, stay"


def test_calls_cancelled_as_the_app_closes_are_dropped_quietly(
        qtbot, build, gated, worker, service, nurse):
    service.create_first_admin("Sam Admin", "918273")
    window = build()
    login = window.login_screen
    gated.stall("login")
    type_pin(qtbot, login, nurse, TEST_PIN)
    click(qtbot, login.sign_in)
    assert gated.entered.wait(WAIT_S)
    buttons = dict(login.name_buttons)
    window._load_names(login)  # waits behind the held check
    assert window.board.background.in_flight == 2
    worker.close(0)  # the app quits: what waits is cancelled
    qtbot.waitUntil(lambda: window.board.background.in_flight == 1, timeout=WAIT_MS)
    assert login.name_buttons == buttons, "nothing was shown for the cancelled read"
    gated.release()
    settle(qtbot)
    assert window.staff_name == "Nora Nurse", "the check that ran is answered"
